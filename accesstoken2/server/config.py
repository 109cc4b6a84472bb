"""The token server's settings, read from the environment and checked before it starts.

Neither the app certificate nor any key ever appears in a repr or an error message, and every
error message is one line however long the offending value is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..errors import InvalidParameterError

__all__ = [
    "AGORA_MAX_EXPIRE",
    "ENV_ADMIN_API_KEY",
    "ENV_API_KEY",
    "ENV_APP_CERTIFICATE",
    "ENV_APP_ID",
    "ENV_BODY_TIMEOUT",
    "ENV_CORS_ORIGINS",
    "ENV_DEFAULT_EXPIRE",
    "ENV_HEADER_TIMEOUT",
    "ENV_INSPECT_CONCURRENCY",
    "ENV_MAX_CONNECTIONS",
    "ENV_MAX_EXPIRE",
    "ENV_PUBLIC_CHAT_APP_TOKEN",
    "MIN_API_KEY_CHARS",
    "ConfigurationError",
    "Settings",
]

ENV_APP_ID = "AGORA_APP_ID"
ENV_APP_CERTIFICATE = "AGORA_APP_CERTIFICATE"
ENV_DEFAULT_EXPIRE = "ACCESSTOKEN2_DEFAULT_EXPIRE"
ENV_MAX_EXPIRE = "ACCESSTOKEN2_MAX_EXPIRE"
ENV_CORS_ORIGINS = "ACCESSTOKEN2_CORS_ORIGINS"
ENV_API_KEY = "ACCESSTOKEN2_API_KEY"
ENV_ADMIN_API_KEY = "ACCESSTOKEN2_ADMIN_API_KEY"
ENV_PUBLIC_CHAT_APP_TOKEN = "ACCESSTOKEN2_PUBLIC_CHAT_APP_TOKEN"
ENV_BODY_TIMEOUT = "ACCESSTOKEN2_BODY_TIMEOUT"
ENV_HEADER_TIMEOUT = "ACCESSTOKEN2_HEADER_TIMEOUT"
ENV_MAX_CONNECTIONS = "ACCESSTOKEN2_MAX_CONNECTIONS"
ENV_INSPECT_CONCURRENCY = "ACCESSTOKEN2_INSPECT_CONCURRENCY"
ENV_JWT_SECRET_FILE = "ACCESSTOKEN2_JWT_SECRET_FILE"
ENV_JWT_PUBLIC_KEY_FILE = "ACCESSTOKEN2_JWT_PUBLIC_KEY_FILE"
ENV_JWT_AUDIENCE = "ACCESSTOKEN2_JWT_AUDIENCE"
ENV_JWT_ISSUER = "ACCESSTOKEN2_JWT_ISSUER"
ENV_JWT_IDENTITY_CLAIM = "ACCESSTOKEN2_JWT_IDENTITY_CLAIM"
ENV_AUTHORIZER = "ACCESSTOKEN2_AUTHORIZER"
ENV_LOG_FORMAT = "ACCESSTOKEN2_LOG_FORMAT"
ENV_METRICS = "ACCESSTOKEN2_METRICS"

#: Agora's services accept tokens of at most 24 hours.
AGORA_MAX_EXPIRE = 86400
DEFAULT_EXPIRE = 3600
MIN_API_KEY_CHARS = 16
MAX_BODY_TIMEOUT = 300
MAX_CONNECTIONS = 100_000
MAX_INSPECT_CONCURRENCY = 64
MAX_SECRET_FILE_BYTES = 64 * 1024
MIN_JWT_SECRET_BYTES = 32

_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
# Longest text read as a number: more is refused before int() (which is slow on long input and
# refuses more than 4300 digits).
_MAX_NUMBER_CHARS = 12


class ConfigurationError(InvalidParameterError):
    """A setting is missing or malformed; ``parameter`` names it (the environment variable when read from there)."""


@dataclass(frozen=True)
class Settings:
    """What the token server needs: the Agora credentials, lifetimes, CORS origins, keys and limits.

    ``default_expire`` is the token lifetime when a request gives none; requests may ask for
    1..``max_expire`` seconds (at most 86400, Agora's limit).  ``cors_origins`` empty means no
    CORS headers at all.  With ``api_key`` set, the token endpoints require
    ``Authorization: Bearer <api_key>``.  The Chat app token (full access to the Chat REST API) is
    served only to ``admin_api_key``, or to anyone allowed a user token when
    ``public_chat_app_token`` is True.  ``body_timeout`` (seconds) bounds the time to receive a
    request body, ``header_timeout`` the time a connection has to send a complete request head
    (from its start, or from the previous answer), ``max_connections`` the concurrent connections of a worker, and
    ``inspect_concurrency`` the ``/inspect`` requests worked on at once.  ``port`` is where
    :func:`~accesstoken2.server.serve` listens unless told otherwise.

    JWT mode: with ``jwt_secret`` (HS256) or ``jwt_public_key`` (PEM, RS256 or ES256), a bearer
    credential that is not a key must be a JWT that verifies (signature, ``exp``/``nbf``,
    ``jwt_audience``, ``jwt_issuer``), and its ``jwt_identity_claim`` is the only uid or user
    id it gets tokens for.  ``authorizer`` (``package.module:function``) is a hook that may
    refuse or narrow every request (see :mod:`accesstoken2.server.authorize`).

    ``log_format`` is ``text`` (one escaped line per request) or ``json`` (one JSON object per
    request); ``metrics`` serves Prometheus ``/metrics``, only behind ``admin_api_key`` (required then).
    """

    app_id: str
    app_certificate: str = field(repr=False)
    default_expire: int = DEFAULT_EXPIRE
    max_expire: int = AGORA_MAX_EXPIRE
    cors_origins: tuple[str, ...] = ()
    api_key: str | None = field(default=None, repr=False)
    admin_api_key: str | None = field(default=None, repr=False)
    public_chat_app_token: bool = False
    body_timeout: float = 10.0
    max_connections: int = 1000
    inspect_concurrency: int = 2
    port: int = 8080
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_public_key: str | None = field(default=None, repr=False)
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_identity_claim: str = "sub"
    authorizer: str | None = None
    log_format: str = "text"
    metrics: bool = False
    header_timeout: float = 10.0

    @property
    def jwt_mode(self) -> bool:
        """Whether bearer JWTs are verified (``jwt_secret`` or ``jwt_public_key`` is set)."""
        return self.jwt_secret is not None or self.jwt_public_key is not None

    def __post_init__(self) -> None:
        _check(self.__dict__, _FIELD_NAMES)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, env_file: str | None = ".env") -> Settings:
        """Read the settings from ``environ``, or else from the process environment and the
        ``env_file`` (``.env`` in the working directory, when present; the environment wins).

        Each setting has our variable name and, for some, agora-token-service's as a fallback
        (``APP_ID``, ``APP_CERTIFICATE``, ``CORS_ALLOW_ORIGIN``, ``SERVER_PORT``/``PORT``).
        Raises :class:`ConfigurationError` naming the variable that is missing or malformed.
        """
        env = _environment(env_file) if environ is None else environ
        values: dict[str, Any] = {}
        used: dict[str, str] = {}
        for name, (env_names, read) in _READERS.items():
            found = next(
                ((env_name, env[env_name].strip()) for env_name in env_names if env.get(env_name, "").strip()), None
            )
            secret_file = _SECRET_FILES.get(name)
            if secret_file is not None and env.get(secret_file, "").strip():
                if found:
                    raise ConfigurationError(secret_file, f"give {found[0]} or {secret_file}, not both")
                found = (secret_file, _file_text(secret_file, env[secret_file].strip()))
            used[name] = found[0] if found else env_names[0]
            if found:
                values[name] = read(*found)
            elif name in ("app_id", "app_certificate"):
                what = "App ID" if name == "app_id" else "App Certificate"
                first = env_names[0]
                raise ConfigurationError(
                    first,
                    f"{first} is not set: give the {what} of your Agora project (32 hexadecimal characters)",
                )
        _check({**_DEFAULTS, **values}, used)
        return cls(**values)


def _text(name: str, text: str) -> str:
    return text


def _whole(low: int, high: int, unit: str) -> Callable[[str, str], int]:
    def read(name: str, text: str) -> int:
        if not (text.isascii() and text.isdigit()) or len(text) > _MAX_NUMBER_CHARS:
            shown = repr(text[:20]) + ("..." if len(text) > 20 else "")
            raise ConfigurationError(
                name, f"{name} must be a whole number of {unit} from {low} to {high} (got {shown})"
            )
        return int(text)

    return read


def _seconds_fraction(name: str, text: str) -> float:
    if not re.fullmatch(r"[0-9]{1,6}(\.[0-9]{1,3})?", text):
        shown = repr(text[:20]) + ("..." if len(text) > 20 else "")
        raise ConfigurationError(
            name, f"{name} must be a number of seconds from 0.1 to {MAX_BODY_TIMEOUT} (got {shown})"
        )
    return float(text)


def _flag(name: str, text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(name, f"{name} must be 1 or 0 (true or false)")


def _file_text(name: str, path: str) -> str:
    """The contents of the file ``path`` (a mounted secret), stripped; never echoed."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SECRET_FILE_BYTES + 1)
    except OSError as error:
        raise ConfigurationError(name, f"{name}: cannot read the file ({error.strerror})") from None
    if len(data) > MAX_SECRET_FILE_BYTES:
        raise ConfigurationError(name, f"{name}: the file is larger than {MAX_SECRET_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigurationError(name, f"{name}: the file is not UTF-8 text") from None


def _origins(name: str, text: str) -> tuple[str, ...]:
    return tuple(origin.strip() for origin in text.split(",") if origin.strip())


# Each setting: its environment variables, ours first, then agora-token-service's; and its reader.
_READERS: dict[str, tuple[tuple[str, ...], Callable[[str, str], Any]]] = {
    "app_id": ((ENV_APP_ID, "APP_ID"), _text),
    "app_certificate": ((ENV_APP_CERTIFICATE, "APP_CERTIFICATE"), _text),
    "default_expire": ((ENV_DEFAULT_EXPIRE,), _whole(1, AGORA_MAX_EXPIRE, "seconds")),
    "max_expire": ((ENV_MAX_EXPIRE,), _whole(1, AGORA_MAX_EXPIRE, "seconds")),
    "cors_origins": ((ENV_CORS_ORIGINS, "CORS_ALLOW_ORIGIN"), _origins),
    "api_key": ((ENV_API_KEY,), _text),
    "admin_api_key": ((ENV_ADMIN_API_KEY,), _text),
    "public_chat_app_token": ((ENV_PUBLIC_CHAT_APP_TOKEN,), _flag),
    "body_timeout": ((ENV_BODY_TIMEOUT,), _seconds_fraction),
    "header_timeout": ((ENV_HEADER_TIMEOUT,), _seconds_fraction),
    "max_connections": ((ENV_MAX_CONNECTIONS,), _whole(1, MAX_CONNECTIONS, "connections")),
    "inspect_concurrency": ((ENV_INSPECT_CONCURRENCY,), _whole(1, MAX_INSPECT_CONCURRENCY, "requests")),
    "port": (("SERVER_PORT", "PORT"), _whole(0, 65535, "port")),
    "jwt_secret": ((ENV_JWT_SECRET_FILE,), _file_text),
    "jwt_public_key": ((ENV_JWT_PUBLIC_KEY_FILE,), _file_text),
    "jwt_audience": ((ENV_JWT_AUDIENCE,), _text),
    "jwt_issuer": ((ENV_JWT_ISSUER,), _text),
    "jwt_identity_claim": ((ENV_JWT_IDENTITY_CLAIM,), _text),
    "authorizer": ((ENV_AUTHORIZER,), _text),
    "log_format": ((ENV_LOG_FORMAT,), _text),
    "metrics": ((ENV_METRICS,), _flag),
}
#: Secrets may instead be read from a file (as Docker and Kubernetes mount them).
_SECRET_FILES = {
    "app_certificate": "AGORA_APP_CERTIFICATE_FILE",
    "api_key": "ACCESSTOKEN2_API_KEY_FILE",
    "admin_api_key": "ACCESSTOKEN2_ADMIN_API_KEY_FILE",
}
_FIELD_NAMES = {name: name for name in _READERS}
#: Every environment variable the settings are read from.
ENV_NAMES = tuple(env_name for env_names, _ in _READERS.values() for env_name in env_names) + tuple(
    _SECRET_FILES.values()
)


# What each setting is, and its default, for ``accesstoken2 serve --help``.
_HELP: dict[str, tuple[str, str]] = {
    "app_id": ("required", "the App ID of your Agora project (32 hex characters)"),
    "app_certificate": ("required", "its App Certificate; never logged or returned"),
    "default_expire": ("3600", "token lifetime in seconds when a request gives none (or 0)"),
    "max_expire": ("86400", "longest lifetime a request may ask for (Agora's limit: 86400)"),
    "cors_origins": ("none", "comma-separated origins allowed by CORS, or *"),
    "api_key": ("none", "the user key: token endpoints then need 'Authorization: Bearer <key>'"),
    "admin_api_key": ("none", "the admin key: the only one that gets the Chat app token and /metrics"),
    "public_chat_app_token": ("0", "1 serves the Chat app token to every caller (full Chat REST access)"),
    "body_timeout": ("10", "seconds to receive a request body, else 408"),
    "header_timeout": ("10", "seconds a connection has to send a complete request head, else it is closed"),
    "max_connections": ("1000", "concurrent connections per worker, else 503"),
    "inspect_concurrency": ("2", "/inspect requests worked on at once per worker"),
    "port": ("8080", "port to listen on when --port is not given"),
    "jwt_secret": ("none", "file holding the HS256 secret of user JWTs (JWT mode)"),
    "jwt_public_key": ("none", "file holding the RS256/ES256 public key (PEM) of user JWTs (JWT mode)"),
    "jwt_audience": ("none", "required 'aud' of user JWTs"),
    "jwt_issuer": ("none", "required 'iss' of user JWTs"),
    "jwt_identity_claim": ("sub", "claim holding the caller's uid / user id"),
    "authorizer": ("none", "package.module:function called to allow, deny or narrow each request"),
    "log_format": ("text", "text (one escaped line per request) or json (one object per request)"),
    "metrics": ("0", "1 serves Prometheus /metrics, only behind the admin key (which it then requires)"),
}


def environment_help() -> str:
    """Every environment variable the server reads, with its default and meaning (for --help)."""
    lines = ["environment variables (also read from ./.env; the environment wins):"]
    for name, (env_names, _) in _READERS.items():
        default, meaning = _HELP[name]
        names = " or ".join(env_names)
        secret_file = _SECRET_FILES.get(name)
        if secret_file is not None:
            names += f" (or {secret_file}: a file holding it)"
        lines.append(f"  {names}\n      default: {default}; {meaning}")
    return "\n".join(lines)


def _environment(env_file: str | None) -> Mapping[str, str]:
    """The variables of :data:`ENV_NAMES` from the process environment and ``env_file``, read
    with pydantic-settings (which gives the environment precedence over the file)."""
    from pydantic import create_model
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class _Base(BaseSettings):
        model_config = SettingsConfigDict(env_file=env_file, case_sensitive=True, extra="ignore")

    fields: dict[str, Any] = {name: (Optional[str], None) for name in ENV_NAMES}
    source = create_model("Environment", __base__=_Base, **fields)
    try:
        loaded = source()
    except OSError as error:  # an unreadable .env file
        raise ConfigurationError("env_file", f"cannot read {env_file}: {error.strerror}") from None
    return {name: value for name, value in loaded.model_dump().items() if isinstance(value, str)}


_DEFAULTS: dict[str, Any] = {
    "default_expire": DEFAULT_EXPIRE,
    "max_expire": AGORA_MAX_EXPIRE,
    "cors_origins": (),
    "api_key": None,
    "admin_api_key": None,
    "public_chat_app_token": False,
    "body_timeout": 10.0,
    "header_timeout": 10.0,
    "max_connections": 1000,
    "inspect_concurrency": 2,
    "port": 8080,
    "jwt_secret": None,
    "jwt_public_key": None,
    "jwt_audience": None,
    "jwt_issuer": None,
    "jwt_identity_claim": "sub",
    "authorizer": None,
    "log_format": "text",
    "metrics": False,
}


def _type_name(value: Any) -> str:
    return type(value).__name__


def _check_hex32(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ConfigurationError(name, f"{name} must be a str of 32 hexadecimal characters, not {_type_name(value)}")
    if not _HEX32.fullmatch(value):
        # never echo the value: it may be the certificate
        shown = f"{len(value)} characters" if len(value) != 32 else "32 characters, not all hexadecimal"
        raise ConfigurationError(name, f"{name} must be 32 hexadecimal characters (got {shown})")


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(name, f"{name} must be an integer from {low} to {high}, not {_type_name(value)}")
    if not low <= value <= high:
        shown = value if value.bit_length() < 64 else f"a number of {value.bit_length()} bits"
        raise ConfigurationError(name, f"{name} must be an integer from {low} to {high} (got {shown})")
    return value


def _check(values: Mapping[str, Any], names: Mapping[str, str]) -> None:
    _check_hex32(names["app_id"], values["app_id"])
    _check_hex32(names["app_certificate"], values["app_certificate"])
    if values["app_id"].lower() == values["app_certificate"].lower():
        raise ConfigurationError(
            names["app_certificate"],
            f"{names['app_certificate']} equals {names['app_id']}: every token would carry the certificate "
            "in clear; give the App Certificate from the Agora console, not the App ID",
        )
    max_expire = _check_int(names["max_expire"], values["max_expire"], 1, AGORA_MAX_EXPIRE)
    default_expire = values["default_expire"]
    if isinstance(default_expire, int) and not isinstance(default_expire, bool) and default_expire > max_expire:
        raise ConfigurationError(
            names["default_expire"],
            f"{names['default_expire']} ({default_expire}) must not exceed {names['max_expire']} ({max_expire})",
        )
    _check_int(names["default_expire"], default_expire, 1, max_expire)
    _check_origins(names["cors_origins"], values["cors_origins"])
    _check_api_key(names["api_key"], values["api_key"])
    _check_api_key(names["admin_api_key"], values["admin_api_key"])
    if values["api_key"] is not None and values["api_key"] == values["admin_api_key"]:
        raise ConfigurationError(
            names["admin_api_key"], f"{names['admin_api_key']} must differ from {names['api_key']}"
        )
    if not isinstance(values["public_chat_app_token"], bool):
        name = names["public_chat_app_token"]
        raise ConfigurationError(name, f"{name} must be a bool, not {_type_name(values['public_chat_app_token'])}")
    _check_timeout(names["body_timeout"], values["body_timeout"])
    _check_timeout(names["header_timeout"], values["header_timeout"])
    _check_int(names["max_connections"], values["max_connections"], 1, MAX_CONNECTIONS)
    _check_int(names["inspect_concurrency"], values["inspect_concurrency"], 1, MAX_INSPECT_CONCURRENCY)
    _check_int(names["port"], values["port"], 0, 65535)
    _check_jwt(values, names)
    _check_authorizer(names["authorizer"], values["authorizer"])
    if values["log_format"] not in ("text", "json"):
        raise ConfigurationError(names["log_format"], f"{names['log_format']} must be text or json")
    if not isinstance(values["metrics"], bool):
        raise ConfigurationError(names["metrics"], f"{names['metrics']} must be a bool")
    if values["metrics"] and values["admin_api_key"] is None:
        raise ConfigurationError(
            names["metrics"],
            f"{names['metrics']}=1 needs {names['admin_api_key']}: /metrics is served only behind the admin key",
        )


def _check_jwt(values: Mapping[str, Any], names: Mapping[str, str]) -> None:
    secret, public_key = values["jwt_secret"], values["jwt_public_key"]
    for name in ("jwt_secret", "jwt_public_key", "jwt_audience", "jwt_issuer", "jwt_identity_claim"):
        value = values[name]
        if value is not None and (not isinstance(value, str) or not value or len(value) > MAX_SECRET_FILE_BYTES):
            raise ConfigurationError(names[name], f"{names[name]} must be a non-empty str")
    if secret is not None and public_key is not None:
        raise ConfigurationError(
            names["jwt_public_key"], f"give {names['jwt_secret']} (HS256) or {names['jwt_public_key']}, not both"
        )
    if secret is not None and len(secret.encode("utf-8")) < MIN_JWT_SECRET_BYTES:
        raise ConfigurationError(
            names["jwt_secret"],
            f"{names['jwt_secret']}: the HS256 secret must be at least {MIN_JWT_SECRET_BYTES} bytes",
        )
    if public_key is not None:
        jwt_algorithm(public_key, names["jwt_public_key"])
    claim = values["jwt_identity_claim"]
    if len(claim) > 64 or not claim.isprintable():
        raise ConfigurationError(names["jwt_identity_claim"], f"{names['jwt_identity_claim']} must be a claim name")


def jwt_algorithm(public_key: str, name: str = "jwt_public_key") -> str:
    """RS256 for an RSA public key in PEM, ES256 for a P-256 one; anything else is refused."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(public_key.encode("utf-8"))
    except (ValueError, TypeError):
        raise ConfigurationError(name, f"{name}: not a PEM public key (RSA or EC P-256)") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    raise ConfigurationError(name, f"{name}: the key must be RSA of at least 2048 bits or EC P-256")


def _check_authorizer(name: str, path: Any) -> None:
    if path is None:
        return
    if not isinstance(path, str) or not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", path):
        raise ConfigurationError(name, f"{name} must be package.module:function")


def _check_timeout(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.1 <= value <= MAX_BODY_TIMEOUT:
        shown = value if isinstance(value, (int, float)) and abs(value) < 1e9 else _type_name(value)
        raise ConfigurationError(
            name, f"{name} must be a number of seconds from 0.1 to {MAX_BODY_TIMEOUT} (got {shown})"
        )


def _check_origins(name: str, origins: Any) -> None:
    if not isinstance(origins, tuple) or not all(isinstance(origin, str) for origin in origins):
        raise ConfigurationError(name, f"{name} must be a tuple of origin strings")
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            shown = repr(origin[:80]).encode("ascii", "backslashreplace").decode("ascii")
            raise ConfigurationError(
                name, f"{name}: each origin must be '*' or start with http:// or https:// (got {shown})"
            )


def _check_api_key(name: str, api_key: Any) -> None:
    if api_key is None:
        return
    if not isinstance(api_key, str):
        raise ConfigurationError(name, f"{name} must be a str or None, not {type(api_key).__name__}")
    if len(api_key) < MIN_API_KEY_CHARS:
        raise ConfigurationError(
            name, f"{name} must be at least {MIN_API_KEY_CHARS} characters long (got {len(api_key)})"
        )
    if len(api_key) > 4096:
        raise ConfigurationError(name, f"{name} must be at most 4096 characters long (got {len(api_key)})")
    if not (api_key.isascii() and api_key.isprintable()) or " " in api_key:
        raise ConfigurationError(name, f"{name} must hold printable ASCII characters without spaces")
