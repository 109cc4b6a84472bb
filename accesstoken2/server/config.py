"""The token server's settings, read from the environment and checked before it starts.

Neither the app certificate nor any key ever appears in a repr or an error message, and every
error message is one line however long the offending value is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

from ..configuration import (
    APP_CERTIFICATE_FILE_VARIABLE,
    APP_CERTIFICATE_VARIABLES,
    APP_ID_VARIABLES,
    ENV_FILE,
    MAX_SECRET_FILE_BYTES,
    SECONDARY_APP_CERTIFICATE_FILE_VARIABLE,
    SECONDARY_APP_CERTIFICATE_VARIABLES,
    ConfigurationError,
    Sources,
    check_hex32,
)

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
    "ENV_SECONDARY_APP_CERTIFICATE",
    "MIN_API_KEY_CHARS",
    "ConfigurationError",
    "Settings",
]

ENV_APP_ID = APP_ID_VARIABLES[0]
ENV_APP_CERTIFICATE = APP_CERTIFICATE_VARIABLES[0]
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
ENV_SECONDARY_APP_CERTIFICATE = SECONDARY_APP_CERTIFICATE_VARIABLES[0]
ENV_AUDIT_LOG = "ACCESSTOKEN2_AUDIT_LOG"

#: Agora's services accept tokens of at most 24 hours.
AGORA_MAX_EXPIRE = 86400
DEFAULT_EXPIRE = 3600
MIN_API_KEY_CHARS = 16
MAX_BODY_TIMEOUT = 300
MAX_CONNECTIONS = 100_000
MAX_INSPECT_CONCURRENCY = 64
MIN_JWT_SECRET_BYTES = 32

# Longest text read as a number: more is refused before int() (which is slow on long input and
# refuses more than 4300 digits).
_MAX_NUMBER_CHARS = 12


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

    Rotation: ``app_certificate`` is the certificate tokens are signed with;
    ``secondary_app_certificate``, when set, is also accepted wherever a token is checked
    (``/inspect``).  ``audit_log`` is a file (``-``: stderr) that gets one JSON line per issued
    token (:mod:`accesstoken2.server.audit`).
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
    secondary_app_certificate: str | None = field(default=None, repr=False)
    audit_log: str | None = None
    #: the settings read from a file: field name -> (variable, path)
    secret_files: Mapping[str, tuple[str, str]] = field(default_factory=dict, repr=False, compare=False)
    header_timeout: float = 10.0

    @property
    def jwt_mode(self) -> bool:
        """Whether bearer JWTs are verified (``jwt_secret`` or ``jwt_public_key`` is set)."""
        return self.jwt_secret is not None or self.jwt_public_key is not None

    def __post_init__(self) -> None:
        _check(self.__dict__, _FIELD_NAMES)

    @property
    def checking_certificates(self) -> tuple[str, ...]:
        """The certificates a token is checked against: the primary, then the secondary if set."""
        if self.secondary_app_certificate is None:
            return (self.app_certificate,)
        return (self.app_certificate, self.secondary_app_certificate)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, env_file: str | None = ENV_FILE) -> Settings:
        """Read the settings from ``environ``, or else from the process environment and the
        ``env_file`` (``.env`` in the working directory, when present; the environment wins).

        Each setting has our variable name and, for some, agora-token-service's as a fallback
        (``APP_ID``, ``APP_CERTIFICATE``, ``CORS_ALLOW_ORIGIN``, ``SERVER_PORT``/``PORT``); the
        order of the sources is :mod:`accesstoken2.configuration`'s, shared with the command line.
        Raises :class:`ConfigurationError` naming the variable that is missing or malformed.
        """
        sources = Sources.load(env_file=env_file) if environ is None else Sources(environ)
        return load_settings(sources)


def load_settings(sources: Sources) -> Settings:
    """The settings found in ``sources``; those read from a file are listed in ``secret_files``
    (what a reload reads again, :mod:`accesstoken2.server.rotation`)."""
    values: dict[str, Any] = {}
    used: dict[str, str] = {}
    secret_files: dict[str, tuple[str, str]] = {}
    for name, (env_names, read) in _READERS.items():
        secret_file = _SECRET_FILES.get(name)
        found = sources.find(env_names, secret_file)
        used[name] = found.variable if found else (env_names or (secret_file or name,))[0]
        if found:
            values[name] = read(found.variable, found.value)
            if found.path is not None:
                secret_files[name] = (found.variable, found.path)
        elif name in ("app_id", "app_certificate"):
            what = "App ID" if name == "app_id" else "App Certificate"
            first = env_names[0]
            raise ConfigurationError(
                first,
                f"{first} is not set: give the {what} of your Agora project (32 hexadecimal characters)",
            )
    _check({**_DEFAULTS, **values}, used)
    return Settings(**values, secret_files=secret_files)


def checked_settings(values: Mapping[str, Any], names: Mapping[str, str]) -> Settings:
    """``Settings(**values)`` after the startup checks, whose errors name the variables in
    ``names`` (by field name): how a reload checks a new secret."""
    _check({**_DEFAULTS, **values}, {**_VARIABLES, **names})
    return Settings(**values)


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


def _origins(name: str, text: str) -> tuple[str, ...]:
    return tuple(origin.strip() for origin in text.split(",") if origin.strip())


# Each setting: its environment variables, ours first, then agora-token-service's; and its reader.
_READERS: dict[str, tuple[tuple[str, ...], Callable[[str, str], Any]]] = {
    "app_id": (APP_ID_VARIABLES, _text),
    "app_certificate": (APP_CERTIFICATE_VARIABLES, _text),
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
    "jwt_secret": ((), _text),
    "jwt_public_key": ((), _text),
    "jwt_audience": ((ENV_JWT_AUDIENCE,), _text),
    "jwt_issuer": ((ENV_JWT_ISSUER,), _text),
    "jwt_identity_claim": ((ENV_JWT_IDENTITY_CLAIM,), _text),
    "authorizer": ((ENV_AUTHORIZER,), _text),
    "log_format": ((ENV_LOG_FORMAT,), _text),
    "metrics": ((ENV_METRICS,), _flag),
    "secondary_app_certificate": (SECONDARY_APP_CERTIFICATE_VARIABLES, _text),
    "audit_log": ((ENV_AUDIT_LOG,), _text),
}
#: Secrets may instead be read from a file (as Docker and Kubernetes mount them).
_SECRET_FILES = {
    "app_certificate": APP_CERTIFICATE_FILE_VARIABLE,
    "api_key": "ACCESSTOKEN2_API_KEY_FILE",
    "admin_api_key": "ACCESSTOKEN2_ADMIN_API_KEY_FILE",
    "jwt_secret": ENV_JWT_SECRET_FILE,
    "jwt_public_key": ENV_JWT_PUBLIC_KEY_FILE,
    "secondary_app_certificate": SECONDARY_APP_CERTIFICATE_FILE_VARIABLE,
}
_FIELD_NAMES = {name: name for name in _READERS}
#: The first variable of each setting, for messages about a setting not read from the environment.
_VARIABLES = {name: (env_names or (_SECRET_FILES.get(name, name),))[0] for name, (env_names, _) in _READERS.items()}
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
    "secondary_app_certificate": ("none", "a second App Certificate accepted when checking tokens (rotation)"),
    "audit_log": ("none", "file (or - for stderr) getting one JSON line per issued token"),
}


def environment_help() -> str:
    """Every environment variable the server reads, with its default and meaning (for --help)."""
    lines = ["environment variables (also read from ./.env; the environment wins; SIGHUP re-reads every *_FILE):"]
    for name, (env_names, _) in _READERS.items():
        default, meaning = _HELP[name]
        names = " or ".join(env_names)
        secret_file = _SECRET_FILES.get(name)
        if secret_file is not None and names:
            names += f" (or {secret_file}: a file holding it)"
        elif secret_file is not None:
            names = f"{secret_file} (a file holding it)"
        lines.append(f"  {names}\n      default: {default}; {meaning}")
    return "\n".join(lines)


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
    "secondary_app_certificate": None,
    "audit_log": None,
}


def _type_name(value: Any) -> str:
    return type(value).__name__


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(name, f"{name} must be an integer from {low} to {high}, not {_type_name(value)}")
    if not low <= value <= high:
        shown = value if value.bit_length() < 64 else f"a number of {value.bit_length()} bits"
        raise ConfigurationError(name, f"{name} must be an integer from {low} to {high} (got {shown})")
    return value


def _check(values: Mapping[str, Any], names: Mapping[str, str]) -> None:
    check_hex32(names["app_id"], values["app_id"])
    check_hex32(names["app_certificate"], values["app_certificate"])
    if values["app_id"].lower() == values["app_certificate"].lower():
        raise ConfigurationError(
            names["app_certificate"],
            f"{names['app_certificate']} equals {names['app_id']}: every token would carry the certificate "
            "in clear; give the App Certificate from the Agora console, not the App ID",
        )
    _check_secondary(values, names)
    _check_audit_log(names["audit_log"], values["audit_log"])
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


def _check_secondary(values: Mapping[str, Any], names: Mapping[str, str]) -> None:
    secondary, name = values["secondary_app_certificate"], names["secondary_app_certificate"]
    if secondary is None:
        return
    check_hex32(name, secondary)
    if secondary.lower() == values["app_id"].lower():
        raise ConfigurationError(name, f"{name} equals {names['app_id']}: give an App Certificate, not the App ID")
    if secondary.lower() == values["app_certificate"].lower():
        raise ConfigurationError(
            name, f"{name} equals {names['app_certificate']}: the secondary must be the other certificate"
        )


def _check_audit_log(name: str, path: Any) -> None:
    if path is None:
        return
    if not isinstance(path, str) or not path or len(path) > 4096 or "\x00" in path:
        raise ConfigurationError(name, f"{name} must be a file path, or - for stderr")


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
