"""A short, stable fingerprint of a token string, to find a leaked token in the audit log.

The fingerprint is the first 16 hexadecimal characters of SHA-256 of the token's UTF-8 bytes: enough to
tell tokens apart, useless for rebuilding one.  The token server writes it as ``token_sha256`` in every
audit line, and ``accesstoken2 fingerprint TOKEN`` prints it.
"""

from __future__ import annotations

import hashlib

from .errors import ParameterTypeError

__all__ = ["FINGERPRINT_CHARS", "token_fingerprint"]

#: how many hexadecimal characters of the SHA-256 are kept
FINGERPRINT_CHARS = 16


def token_fingerprint(token: str) -> str:
    """The first 16 hexadecimal characters of SHA-256 of ``token`` (surrounding whitespace removed)."""
    if not isinstance(token, str):
        raise ParameterTypeError("token", f"token must be a str, not {type(token).__name__}")
    return hashlib.sha256(token.strip().encode("utf-8", "surrogatepass")).hexdigest()[:FINGERPRINT_CHARS]
