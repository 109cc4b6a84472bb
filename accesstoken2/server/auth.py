"""Who is asking: the bearer credential of a request, checked before its body is parsed.

A request presents ``Authorization: Bearer <credential>``.  The credential is compared in
constant time with the user key (``ACCESSTOKEN2_API_KEY``) and the admin key
(``ACCESSTOKEN2_ADMIN_API_KEY``); with neither configured the token endpoints are open.  The
outcome is a :class:`Principal`; a missing or wrong credential is a 401 that never echoes it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Literal

from fastapi import HTTPException

from .config import ENV_ADMIN_API_KEY, ENV_PUBLIC_CHAT_APP_TOKEN, Settings

__all__ = ["Authenticator", "Principal", "bearer_credential"]

Kind = Literal["open", "user", "admin"]


@dataclass(frozen=True)
class Principal:
    """The caller: ``open`` (no key configured), ``user`` (the user key) or ``admin`` (the admin key)."""

    kind: Kind


#: The caller when no key is configured.
OPEN = Principal("open")


def bearer_credential(authorization: bytes | None) -> bytes | None:
    """The credential of an ``Authorization: Bearer <credential>`` header value, or None."""
    if not authorization:
        return None
    scheme, _, credential = authorization.strip().partition(b" ")
    credential = credential.strip()
    if scheme.lower() != b"bearer" or not credential:
        return None
    return credential


def _unauthorized(detail: str, error: str | None = None) -> HTTPException:
    challenge = f'Bearer error="{error}"' if error else "Bearer"
    return HTTPException(401, detail, {"WWW-Authenticate": challenge})


class Authenticator:
    """Turns a request's ``Authorization`` header into a :class:`Principal` (or a 401)."""

    def __init__(self, settings: Settings) -> None:
        self._user = settings.api_key.encode("ascii") if settings.api_key else None
        self._admin = settings.admin_api_key.encode("ascii") if settings.admin_api_key else None
        self._public_chat_app = settings.public_chat_app_token

    @property
    def required(self) -> bool:
        """Whether the token endpoints need a credential."""
        return self._user is not None or self._admin is not None

    def principal(self, authorization: bytes | None) -> Principal:
        if not self.required:
            return OPEN
        credential = bearer_credential(authorization)
        if credential is None:
            raise _unauthorized("missing 'Authorization: Bearer <api key>' header")
        # Compare with both keys every time, so the time taken does not say which one was close.
        is_user = self._user is not None and hmac.compare_digest(credential, self._user)
        is_admin = self._admin is not None and hmac.compare_digest(credential, self._admin)
        if is_admin:
            return Principal("admin")
        if is_user:
            return Principal("user")
        raise _unauthorized("invalid API key", "invalid_token")

    def allow_chat_app_token(self, principal: Principal) -> None:
        """Refuse (403) the Chat app token, which grants full access to the Chat REST API, unless
        the caller holds the admin key or the server makes it public."""
        if principal.kind == "admin" or self._public_chat_app:
            return
        if self._admin is not None:
            raise HTTPException(403, "the Chat app token needs the admin API key (ACCESSTOKEN2_ADMIN_API_KEY)")
        raise HTTPException(
            403,
            f"this server does not serve the Chat app token: set {ENV_ADMIN_API_KEY} and present it, or set "
            f"{ENV_PUBLIC_CHAT_APP_TOKEN}=1 to serve it to every caller (full Chat REST access for all)",
        )
