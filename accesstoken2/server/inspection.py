"""``POST /inspect``: decode a token and check it against the server's own credentials."""

from __future__ import annotations

from typing import Any

from ..token2 import AccessToken2
from .config import Settings

__all__ = ["inspect_token"]


def _finding(severity: str, code: str, message: str) -> dict[str, str]:
    return {"severity": severity, "code": code, "message": message}


def inspect_token(
    token: str,
    settings: Settings,
    *,
    channel: str | None = None,
    uid: int | str | None = None,
    user_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The token's content, whether its signature matches the server's certificate, and findings.

    A malformed token raises :class:`~accesstoken2.errors.MalformedTokenError`.  The certificate
    is used to verify, never returned.
    """
    parsed = AccessToken2.parse(token)
    valid = parsed.verify(settings.app_certificate)
    findings: list[dict[str, str]] = []
    if parsed.app_id != settings.app_id:
        findings.append(_finding("error", "app_id_mismatch", "the token was built for another App ID"))
    if not valid:
        findings.append(
            _finding("error", "signature_mismatch", "the signature does not match this server's App Certificate")
        )
    if now is not None and parsed.issue_ts + parsed.expire <= now:
        findings.append(_finding("error", "expired", "the token has expired"))
    content = parsed.to_dict()
    return {"content": content, "signature_valid": valid, "findings": findings}
