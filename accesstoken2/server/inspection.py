"""``POST /inspect``: decode a token and diagnose it against the server's own credentials."""

from __future__ import annotations

from typing import Any

from ..diagnosis import diagnose
from ..errors import MalformedTokenError
from ..explain import inspect
from .config import Settings

__all__ = ["inspect_token"]

# Findings that mean diagnose() read the token only after undoing a copy-and-paste accident.
_REPAIR_CODES = frozenset({"surrounding-whitespace", "quoted", "plus-became-space", "url-encoded"})


def inspect_token(
    token: str,
    settings: Settings,
    *,
    channel: str | None = None,
    uid: int | str | None = None,
    user_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The token's content (``info``), whether its signature matches the server's certificate
    (``signature_valid``: True, False, or None when it could not be checked) and ``findings``.

    A token that cannot be decoded raises :class:`~accesstoken2.errors.MalformedTokenError`
    (the HTTP layer answers 400), unless it is only wrapped in an accident that the findings
    name (whitespace, quotes, URL encoding): then ``info`` is None.  The certificate is used
    to verify, never returned.
    """
    findings = diagnose(
        token,
        app_certificate=settings.app_certificate,
        app_id=settings.app_id,
        channel_name=channel,
        uid=uid,
        user_id=user_id,
        now=now,
    )
    codes = {finding.code for finding in findings}
    try:
        info: dict[str, Any] | None = inspect(token, now=now).to_dict()
    except MalformedTokenError:
        if not codes & _REPAIR_CODES:
            raise
        info = None
    signature_valid = True if "signature-ok" in codes else False if "signature-mismatch" in codes else None
    return {
        "info": info,
        "signature_valid": signature_valid,
        "findings": [finding.to_dict() for finding in findings],
    }
