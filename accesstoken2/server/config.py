"""The token server's settings, read from the environment and checked before it starts.

Neither the app certificate nor the API key ever appears in a repr or an error message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._validate import check_hex32, check_int
from ..errors import InvalidParameterError

__all__ = [
    "AGORA_MAX_EXPIRE",
    "ENV_API_KEY",
    "ENV_APP_CERTIFICATE",
    "ENV_APP_ID",
    "ENV_CORS_ORIGINS",
    "ENV_DEFAULT_EXPIRE",
    "ENV_MAX_EXPIRE",
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

#: Agora's services accept tokens of at most 24 hours.
AGORA_MAX_EXPIRE = 86400
DEFAULT_EXPIRE = 3600
MIN_API_KEY_CHARS = 16

_FIELD_NAMES = {
    "app_id": "app_id",
    "app_certificate": "app_certificate",
    "default_expire": "default_expire",
    "max_expire": "max_expire",
    "cors_origins": "cors_origins",
    "api_key": "api_key",
}
_ENV_NAMES = {
    "app_id": ENV_APP_ID,
    "app_certificate": ENV_APP_CERTIFICATE,
    "default_expire": ENV_DEFAULT_EXPIRE,
    "max_expire": ENV_MAX_EXPIRE,
    "cors_origins": ENV_CORS_ORIGINS,
    "api_key": ENV_API_KEY,
}


class ConfigurationError(InvalidParameterError):
    """A setting is missing or malformed; ``parameter`` names it (the environment variable when read from there)."""


@dataclass(frozen=True)
class Settings:
    """What the token server needs: the Agora credentials, lifetimes, CORS origins and an optional API key.

    ``default_expire`` is the token lifetime when a request gives none; requests may ask for
    1..``max_expire`` seconds (at most 86400, Agora's limit).  ``cors_origins`` empty means no
    CORS headers at all.  With ``api_key`` set, the token endpoints require
    ``Authorization: Bearer <api_key>``.
    """

    app_id: str
    app_certificate: str = field(repr=False)
    default_expire: int = DEFAULT_EXPIRE
    max_expire: int = AGORA_MAX_EXPIRE
    cors_origins: tuple[str, ...] = ()
    api_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        _check(self.__dict__, _FIELD_NAMES)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default: ``os.environ``).

        Raises :class:`ConfigurationError` naming the variable that is missing or malformed.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "app_id": _required(env, ENV_APP_ID, "App ID"),
            "app_certificate": _required(env, ENV_APP_CERTIFICATE, "App Certificate"),
            "default_expire": _seconds(env, ENV_DEFAULT_EXPIRE, DEFAULT_EXPIRE),
            "max_expire": _seconds(env, ENV_MAX_EXPIRE, AGORA_MAX_EXPIRE),
            "cors_origins": tuple(
                origin.strip() for origin in env.get(ENV_CORS_ORIGINS, "").split(",") if origin.strip()
            ),
            "api_key": env.get(ENV_API_KEY, "").strip() or None,
        }
        _check(values, _ENV_NAMES)
        return cls(**values)


def _required(env: Mapping[str, str], name: str, what: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(
            name, f"{name} is not set: give the {what} of your Agora project (32 hexadecimal characters)"
        )
    return value


def _seconds(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()):
        raise ConfigurationError(
            name, f"{name} must be a whole number of seconds from 1 to {AGORA_MAX_EXPIRE} (got {text[:40]!r})"
        )
    return int(text)


def _check(values: Mapping[str, Any], names: Mapping[str, str]) -> None:
    try:
        check_hex32(names["app_id"], values["app_id"])
        check_hex32(names["app_certificate"], values["app_certificate"])
        max_expire = check_int(names["max_expire"], values["max_expire"], 1, AGORA_MAX_EXPIRE)
        default_expire = values["default_expire"]
        if isinstance(default_expire, int) and not isinstance(default_expire, bool) and default_expire > max_expire:
            raise InvalidParameterError(
                names["default_expire"],
                f"{names['default_expire']} ({default_expire}) must not exceed {names['max_expire']} ({max_expire})",
            )
        check_int(names["default_expire"], default_expire, 1, max_expire)
        _check_origins(names["cors_origins"], values["cors_origins"])
        _check_api_key(names["api_key"], values["api_key"])
    except ConfigurationError:
        raise
    except InvalidParameterError as error:
        raise ConfigurationError(error.parameter, str(error)) from None


def _check_origins(name: str, origins: Any) -> None:
    if not isinstance(origins, tuple) or not all(isinstance(origin, str) for origin in origins):
        raise ConfigurationError(name, f"{name} must be a tuple of origin strings")
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ConfigurationError(
                name, f"{name}: each origin must be '*' or start with http:// or https:// (got {origin[:80]!r})"
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
    if not (api_key.isascii() and api_key.isprintable()) or " " in api_key:
        raise ConfigurationError(name, f"{name} must hold printable ASCII characters without spaces")
