"""DynamicKey version 2 (deprecated by Agora), as the reference module ``DynamicKey2.py``.

``generate(app_id, app_certificate, channel_name, unix_ts, random_int, uid, expired_ts)`` returns
the 40-digit hex HMAC-SHA1 signature, the app id, ``unix_ts`` (10 digits), ``random_int`` (8 hex
digits), ``uid`` (10 digits) and ``expired_ts`` (10 digits).  ``uid`` and ``random_int`` are u32;
a negative int32 is read as unsigned, as the reference does.
"""

from __future__ import annotations

from .._wire.checks import check_u32
from ._dynamic_key_common import TextKeyInputs, ts10, u32_wrapped

__all__ = ["SIGNATURE_LENGTH", "generate", "generateSignature", "generateSignaure", "generate_signature"]

#: Hex digits of an HMAC-SHA1 signature.
SIGNATURE_LENGTH = 40


def checked_inputs(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    unix_ts: int,
    random_int: int,
    uid: int,
    expired_ts: int,
) -> tuple[TextKeyInputs, int, int]:
    """Checked inputs of the version 2, 3 and 4 keys: (common inputs, uid, expired_ts)."""
    inputs = TextKeyInputs.checked(app_id, app_certificate, channel_name, unix_ts, random_int)
    return inputs, u32_wrapped("uid", uid), check_u32("expired_ts", expired_ts)


def generate_signature(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    unix_ts: int,
    random_int: int,
    uid: int,
    expired_ts: int,
) -> str:
    """The lower-case hex HMAC-SHA1 signature of a version 2 (and 3) key: its first 40 characters."""
    return generate(app_id, app_certificate, channel_name, unix_ts, random_int, uid, expired_ts)[:SIGNATURE_LENGTH]


def generate(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    unix_ts: int,
    random_int: int,
    uid: int,
    expired_ts: int,
) -> str:
    """A version 2 dynamic key."""
    inputs, uid, expired_ts = checked_inputs(
        app_id, app_certificate, channel_name, unix_ts, random_int, uid, expired_ts
    )
    return inputs.signature("", uid, expired_ts) + inputs.head() + ts10(uid) + ts10(expired_ts)


generateSignature = generate_signature
# The reference spells it this way.
generateSignaure = generate_signature
