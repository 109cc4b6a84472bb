"""Where settings come from, for the command line and the token server alike: one order, one reader.

A setting is looked up in these sources, and the first one that gives it wins:

1. a flag of the command line (``--app-id``, ``--app-certificate-file``; the server has none);
2. the process environment (``AGORA_APP_ID`` then ``APP_ID``, ``AGORA_APP_CERTIFICATE`` then
   ``APP_CERTIFICATE``, and every ``AGORA_*``/``ACCESSTOKEN2_*`` variable);
3. a ``*_FILE`` variable of the process environment, naming a file that holds the secret
   (``AGORA_APP_CERTIFICATE_FILE``..., as Docker and Kubernetes mount secrets);
4. the ``.env`` file of the working directory: its variables, then its ``*_FILE`` variables.

A variable and its ``*_FILE`` twin both set in the same place (the environment, or ``.env``) is
an error rather than a silent choice.  This module needs nothing beyond the standard library, so
the command line reads the server's ``.env`` without the server's extra.  No message here ever
holds a value that was read: it names the variable or flag and says what is wrong.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidParameterError

__all__ = [
    "APP_CERTIFICATE_FILE_VARIABLE",
    "APP_CERTIFICATE_VARIABLES",
    "APP_ID_VARIABLES",
    "ENV_FILE",
    "MAX_ENV_FILE_BYTES",
    "MAX_SECRET_FILE_BYTES",
    "SECONDARY_APP_CERTIFICATE_FILE_VARIABLE",
    "SECONDARY_APP_CERTIFICATE_VARIABLES",
    "ConfigurationError",
    "Found",
    "Sources",
    "check_hex32",
    "read_env_file",
    "read_secret_file",
]

#: The App ID's variables: ours first, then agora-token-service's.
APP_ID_VARIABLES = ("AGORA_APP_ID", "APP_ID")
#: The App Certificate's variables, ours first, and the variable naming a file that holds it.
APP_CERTIFICATE_VARIABLES = ("AGORA_APP_CERTIFICATE", "APP_CERTIFICATE")
APP_CERTIFICATE_FILE_VARIABLE = "AGORA_APP_CERTIFICATE_FILE"
#: While a certificate is rotated: the other one, accepted when checking (never used to sign).
SECONDARY_APP_CERTIFICATE_VARIABLES = ("ACCESSTOKEN2_SECONDARY_APP_CERTIFICATE",)
SECONDARY_APP_CERTIFICATE_FILE_VARIABLE = "ACCESSTOKEN2_SECONDARY_APP_CERTIFICATE_FILE"
#: The file of variables read from the working directory, after the environment.
ENV_FILE = ".env"
MAX_SECRET_FILE_BYTES = 64 * 1024
MAX_ENV_FILE_BYTES = 1024 * 1024

_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


class ConfigurationError(InvalidParameterError):
    """A setting is missing or malformed; ``parameter`` names it (the flag, or the environment
    variable it was read from)."""


@dataclass(frozen=True)
class Found:
    """A setting's text and where it came from.

    ``source`` is ``flag``, ``environment``, ``file`` (a ``*_FILE`` variable of the environment)
    or ``.env``; ``variable`` the flag or variable that gave it; ``path`` the file it was read
    from, when it was one (a ``*_FILE`` variable or a flag naming a file).  :meth:`describe`
    says all of that in words, never the value.
    """

    value: str = field(repr=False)
    variable: str
    source: str
    path: str | None = None

    @property
    def label(self) -> str:
        """What a message calls the value: the variable, or the file it names."""
        return self.variable if self.path is None else f"the file named by {self.variable}"

    def describe(self) -> str:
        """Where the value came from, e.g. ``AGORA_APP_CERTIFICATE_FILE (a file named in the environment: /run/c)``."""
        where = {
            "flag": "the command line",
            "environment": "the environment",
            "file": "a file named in the environment",
            ".env": f"the {ENV_FILE} file",
        }[self.source]
        if self.path is not None:
            where += f": {_printable(self.path)}"
        return f"{self.variable} ({where})"


def _printable(text: str, limit: int = 200) -> str:
    shown = text[:limit].encode("ascii", "backslashreplace").decode("ascii")
    shown = "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in shown)
    return shown + ("..." if len(text) > limit else "")


def check_hex32(name: str, value: Any, label: str | None = None) -> str:
    """``value`` if it is 32 hexadecimal characters (an app id or certificate); else
    :class:`ConfigurationError` with parameter ``name`` and a message about ``label`` (default:
    ``name``), which never shows the value."""
    label = name if label is None else label
    if not isinstance(value, str):
        kind = type(value).__name__
        raise ConfigurationError(name, f"{label} must be a str of 32 hexadecimal characters, not {kind}")
    if not _HEX32.fullmatch(value):
        shown = f"{len(value)} characters" if len(value) != 32 else "32 characters, not all hexadecimal"
        raise ConfigurationError(name, f"{label} must be 32 hexadecimal characters (got {shown})")
    return value


def _read_bytes(name: str, path: str, limit: int, what: str) -> bytes:
    if not isinstance(path, str) or not path:
        raise ConfigurationError(name, f"{name} must name a file")
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConfigurationError(name, f"{name}: cannot read the file ({reason})") from None
    if len(data) > limit:
        raise ConfigurationError(name, f"{name}: the {what} is larger than {limit} bytes")
    return data


def read_secret_file(name: str, path: str, *, allow_empty: bool = False) -> str:
    """The text of the file ``path`` (a mounted secret), stripped of surrounding whitespace.

    ``name`` (the variable or flag that named the file) is what an error names; the contents
    are never shown.  Raises :class:`ConfigurationError` when the file cannot be read, is larger
    than :data:`MAX_SECRET_FILE_BYTES`, is not UTF-8 or (unless ``allow_empty``) holds only
    whitespace.
    """
    data = _read_bytes(name, path, MAX_SECRET_FILE_BYTES, "file")
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigurationError(name, f"{name}: the file is not UTF-8 text") from None
    if not text and not allow_empty:
        raise ConfigurationError(name, f"{name}: the file is empty")
    return text


def read_env_file(path: str = ENV_FILE) -> dict[str, str]:
    """The variables of a ``.env`` file; an absent file gives none.

    Each line is ``NAME=value`` or ``export NAME=value``; blank lines and lines starting with
    ``#`` are skipped.  A value may be in single quotes (taken as written) or double quotes
    (``\\n``, ``\\t``, ``\\"`` and ``\\\\`` escapes); an unquoted value ends at `` #`` (a comment).
    Raises :class:`ConfigurationError` (parameter ``env_file``) for a file that exists but cannot
    be read, is larger than :data:`MAX_ENV_FILE_BYTES` or not UTF-8, or has a line that is not
    of that form (named by its number, never shown).
    """
    if not os.path.exists(path):
        return {}
    shown = _printable(path)
    data = _read_bytes("env_file", path, MAX_ENV_FILE_BYTES, f"file {shown}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigurationError("env_file", f"{shown} is not UTF-8 text") from None
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        name, equals, rest = stripped.partition("=")
        name = name.strip()
        if not equals or not _NAME.fullmatch(name):
            raise ConfigurationError("env_file", f"{shown} line {number}: expected NAME=value")
        value = _env_value(rest.strip())
        if value is None:
            raise ConfigurationError("env_file", f"{shown} line {number} ({name}): the quoted value is not closed")
        variables[name] = value
    return variables


def _env_value(text: str) -> str | None:
    """The value of one ``.env`` assignment (None when a quote is not closed)."""
    if not text or text[0] not in "'\"":
        comment = re.search(r"\s#", text)
        return (text[: comment.start()] if comment else text).strip()
    quote = text[0]
    if quote == "'":
        end = text.find("'", 1)
        return None if end < 0 else text[1:end]
    value: list[str] = []
    index = 1
    while index < len(text):
        char = text[index]
        if char == '"':
            return "".join(value)
        if char == "\\" and index + 1 < len(text):
            following = text[index + 1]
            value.append(_ESCAPES.get(following, "\\" + following))
            index += 2
            continue
        value.append(char)
        index += 1
    return None


class Sources:
    """The places a setting is looked up in, in order: flags, the environment, its ``*_FILE``
    variables, the ``.env`` file.

    ``flags`` maps a flag (``--app-id``) to its text.  Build it with :meth:`load` to read the process
    environment and the ``.env`` file of the working directory.
    """

    def __init__(
        self,
        environ: Mapping[str, str],
        dotenv: Mapping[str, str] | None = None,
        flags: Mapping[str, str | None] | None = None,
    ) -> None:
        self._layers: tuple[tuple[str, Mapping[str, str]], ...] = (
            ("environment", environ),
            (".env", dotenv or {}),
        )
        self._flags = {name: value for name, value in (flags or {}).items() if value is not None}

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        env_file: str | None = ENV_FILE,
        flags: Mapping[str, str | None] | None = None,
    ) -> Sources:
        """The sources of this process: ``environ`` (default: ``os.environ``), the ``env_file``
        (None: no file) and the command line's ``flags``."""
        dotenv = read_env_file(env_file) if env_file is not None else {}
        return cls(dict(os.environ) if environ is None else environ, dotenv, flags)

    def find(
        self,
        names: Sequence[str],
        file_variable: str | None = None,
        *,
        flag: str | None = None,
    ) -> Found | None:
        """The first of: the ``flag``, then in the environment and then in ``.env``: the first
        non-blank of ``names``, else the file named by ``file_variable``.

        Raises :class:`ConfigurationError` when a file cannot be read, or when one of ``names``
        and ``file_variable`` are both set in the same place.
        """
        if flag is not None and self._flags.get(flag, "").strip():
            return Found(self._flags[flag].strip(), flag, "flag")
        for source, variables in self._layers:
            direct = next((name for name in names if variables.get(name, "").strip()), None)
            path = variables.get(file_variable, "").strip() if file_variable is not None else ""
            if direct is not None and path:
                raise ConfigurationError(file_variable or direct, f"give {direct} or {file_variable}, not both")
            if direct is not None:
                return Found(variables[direct].strip(), direct, source)
            if path and file_variable is not None:
                origin = "file" if source == "environment" else source
                return Found(read_secret_file(file_variable, path), file_variable, origin, path)
        return None
