"""DynamicKey version 3 (deprecated by Agora), as the reference module ``DynamicKey3.py``.

A version 3 key is ``"003"`` followed by the version 2 key of the same inputs;
:func:`generate_signature` is the version 2 signature (40 lower-case hex digits).
"""

from __future__ import annotations

from . import dynamic_key2
from .dynamic_key2 import generate_signature

__all__ = ["VERSION", "generate", "generateSignature", "generateSignaure", "generate_signature"]

VERSION = "003"


def generate(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    unix_ts: int,
    random_int: int,
    uid: int,
    expired_ts: int,
) -> str:
    """A version 3 dynamic key."""
    return VERSION + dynamic_key2.generate(app_id, app_certificate, channel_name, unix_ts, random_int, uid, expired_ts)


generateSignature = generate_signature
# The reference spells it this way.
generateSignaure = generate_signature
