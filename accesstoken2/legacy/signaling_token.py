"""SignalingToken (deprecated by Agora), as the reference module ``SignalingToken.py``.

``"1:" + app_id + ":" + expired_ts + ":" +`` the lower-case hex MD5 of account + app id +
certificate + expired_ts (decimal text).
"""

from __future__ import annotations

import hashlib

from .._wire.checks import check_ids, check_text, check_u32

__all__ = ["VERSION", "generateSignalingToken", "generate_signaling_token"]

VERSION = "1"


def generate_signaling_token(account: str, app_id: str, app_certificate: str, expired_ts_in_seconds: int) -> str:
    """A signaling token for ``account`` valid until ``expired_ts_in_seconds`` (absolute Unix time)."""
    account_bytes = check_text("account", account)
    app_id_bytes, certificate = check_ids(app_id, app_certificate)
    expired = str(check_u32("expired_ts_in_seconds", expired_ts_in_seconds))
    digest = hashlib.md5(account_bytes + app_id_bytes + certificate + expired.encode("ascii")).hexdigest()
    return f"{VERSION}:{app_id}:{expired}:{digest}"


generateSignalingToken = generate_signaling_token
