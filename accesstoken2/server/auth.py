"""Who is asking: the bearer credential of a request, checked before its body is parsed.

A request presents ``Authorization: Bearer <credential>``.  The credential is compared in
constant time with the user key (``ACCESSTOKEN2_API_KEY``) and the admin key
(``ACCESSTOKEN2_ADMIN_API_KEY``); in JWT mode any other credential must be a JWT that verifies
(PyJWT: signature with the configured algorithm only, ``exp`` required, ``nbf``, audience and
issuer).  With no key and no JWT mode the token endpoints are open.  The outcome is a
:class:`Principal`; a missing, wrong, expired or forged credential is a 401 that never echoes it.
"""

from __future__ import annotations

import hmac
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import HTTPException

from .config import Settings, jwt_algorithm

__all__ = ["OPEN", "Authenticator", "Principal", "Unauthorized", "bearer_credential"]

Kind = Literal["open", "user", "admin", "jwt"]
MAX_IDENTITY_CHARS = 255
MAX_CHANNELS = 1000
LEEWAY = 5
VERIFIED_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Principal:
    """The caller: ``open`` (no credential configured), ``user`` (the user key), ``admin`` (the
    admin key) or ``jwt`` (a verified JWT: ``identity`` and, from a ``channels`` claim, the
    channels it may join; None means any)."""

    kind: Kind
    identity: str | None = None
    channels: frozenset[str] | None = None


#: The caller when no credential is configured.
OPEN = Principal("open")


class Unauthorized(HTTPException):
    """A 401 with a short ``reason`` code (for the metrics)."""

    def __init__(self, reason: str, detail: str, error: str | None = None) -> None:
        challenge = f'Bearer error="{error}"' if error else "Bearer"
        super().__init__(401, detail, {"WWW-Authenticate": challenge})
        self.reason = reason


def bearer_credential(authorization: bytes | None) -> bytes | None:
    """The credential of an ``Authorization: Bearer <credential>`` header value, or None."""
    if not authorization:
        return None
    scheme, _, credential = authorization.strip().partition(b" ")
    credential = credential.strip()
    if scheme.lower() != b"bearer" or not credential:
        return None
    return credential


class _JwtVerifier:
    def __init__(self, settings: Settings) -> None:
        import jwt

        self._jwt = jwt
        if settings.jwt_public_key is not None:
            self._algorithm = jwt_algorithm(settings.jwt_public_key)
            self._key: Any = settings.jwt_public_key
        else:
            assert settings.jwt_secret is not None
            self._algorithm = "HS256"
            self._key = settings.jwt_secret
        self._audience = settings.jwt_audience
        self._issuer = settings.jwt_issuer
        self._claim = settings.jwt_identity_claim
        # JWTs that verified, with their validity window: a client sends the same JWT with many
        # requests, and verifying it again costs more than the rest of the request's checks.
        self._verified: OrderedDict[bytes, tuple[Principal, float, float]] = OrderedDict()

    def principal(self, credential: bytes) -> Principal:
        known = self._verified.get(credential)
        if known is not None:
            principal, not_before, expires = known
            now = time.time()
            if not_before - LEEWAY <= now < expires + LEEWAY:
                return principal
            del self._verified[credential]  # expired since: verify again, which says why
        principal, not_before, expires = self._verify(credential)
        self._verified[credential] = (principal, not_before, expires)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    def _verify(self, credential: bytes) -> tuple[Principal, float, float]:
        jwt = self._jwt
        required = ["exp", self._claim] + (["aud"] if self._audience else []) + (["iss"] if self._issuer else [])
        try:
            claims = jwt.decode(
                credential,
                self._key,
                algorithms=[self._algorithm],  # only this one: never "none", never HS256 with a public key
                audience=self._audience,
                issuer=self._issuer,
                options={"require": required, "verify_aud": self._audience is not None},
                leeway=LEEWAY,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("jwt-expired", "the bearer JWT has expired", "invalid_token") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("jwt-not-yet-valid", "the bearer JWT is not valid yet (nbf)", "invalid_token") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("jwt-audience", "the bearer JWT is for another audience", "invalid_token") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("jwt-issuer", "the bearer JWT is from another issuer", "invalid_token") from None
        except jwt.MissingRequiredClaimError as error:
            detail = f"the bearer JWT has no '{error.claim}' claim"
            raise Unauthorized("jwt-claims", detail, "invalid_token") from None
        except jwt.InvalidAlgorithmError:
            detail = f"the bearer JWT is not signed with {self._algorithm}"
            raise Unauthorized("jwt-algorithm", detail, "invalid_token") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized("jwt-signature", "the bearer JWT's signature does not verify", "invalid_token") from None
        except jwt.PyJWTError:
            raise Unauthorized("jwt-invalid", "invalid API key or JWT", "invalid_token") from None
        principal = Principal("jwt", self._identity(claims), self._channels(claims))
        not_before = claims.get("nbf", 0)
        not_before = not_before if isinstance(not_before, (int, float)) and not isinstance(not_before, bool) else 0
        return principal, float(not_before), float(claims["exp"])

    def _identity(self, claims: dict[str, Any]) -> str:
        identity = claims.get(self._claim)
        if isinstance(identity, int) and not isinstance(identity, bool) and 0 <= identity <= 0xFFFFFFFF:
            identity = str(identity)
        if not isinstance(identity, str) or not identity or len(identity) > MAX_IDENTITY_CHARS:
            detail = f"the bearer JWT's '{self._claim}' claim must be a non-empty string"
            raise Unauthorized("jwt-claims", detail, "invalid_token")
        return identity

    def _channels(self, claims: dict[str, Any]) -> frozenset[str] | None:
        channels = claims.get("channels")
        if channels is None:
            return None
        if (
            not isinstance(channels, list)
            or len(channels) > MAX_CHANNELS
            or not all(isinstance(item, str) for item in channels)
        ):
            raise Unauthorized("jwt-claims", "the bearer JWT's 'channels' claim must be a list of strings")
        return frozenset(channels)


class Authenticator:
    """Turns a request's ``Authorization`` header into a :class:`Principal` (or a 401)."""

    def __init__(self, settings: Settings) -> None:
        self._user = settings.api_key.encode("ascii") if settings.api_key else None
        self._admin = settings.admin_api_key.encode("ascii") if settings.admin_api_key else None
        self._jwt = _JwtVerifier(settings) if settings.jwt_mode else None

    @property
    def required(self) -> bool:
        """Whether the token endpoints need a credential."""
        return self._user is not None or self._admin is not None or self._jwt is not None

    def principal(self, authorization: bytes | None) -> Principal:
        if not self.required:
            return OPEN
        credential = bearer_credential(authorization)
        if credential is None:
            what = "api key or JWT" if self._jwt is not None else "api key"
            raise Unauthorized("missing", f"missing 'Authorization: Bearer <{what}>' header")
        # Compare with both keys every time, so the time taken does not say which one was close.
        is_user = self._user is not None and hmac.compare_digest(credential, self._user)
        is_admin = self._admin is not None and hmac.compare_digest(credential, self._admin)
        if is_admin:
            return Principal("admin")
        if is_user:
            return Principal("user")
        if self._jwt is not None:
            return self._jwt.principal(credential)
        raise Unauthorized("invalid-key", "invalid API key", "invalid_token")
