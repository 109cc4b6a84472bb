"""DynamicKey version 1 (deprecated by Agora), as the reference module ``DynamicKey.py``.

``generate(app_id, app_certificate, channel_name, unix_ts, random_int)`` returns the 40-digit
hex HMAC-SHA1 signature followed by the app id, ``unix_ts`` as 10 decimal digits and
``random_int`` as 8 hex digits.  The signature covers the same text plus the channel name.
"""

from __future__ import annotations

from ._dynamic_key_common import TextKeyInputs

__all__ = ["generate", "generateSignature", "generateSignaure", "generate_signature"]


def generate_signature(app_id: str, app_certificate: str, channel_name: str, unix_ts: int, random_int: int) -> str:
    """The lower-case hex HMAC-SHA1 signature of a version 1 key."""
    return TextKeyInputs.checked(app_id, app_certificate, channel_name, unix_ts, random_int).signature()


def generate(app_id: str, app_certificate: str, channel_name: str, unix_ts: int, random_int: int) -> str:
    """A version 1 dynamic key.  ``unix_ts`` is a u32; ``random_int`` a u32 (or negative int32)."""
    inputs = TextKeyInputs.checked(app_id, app_certificate, channel_name, unix_ts, random_int)
    return inputs.signature() + inputs.head()


generateSignature = generate_signature
# The reference spells it this way.
generateSignaure = generate_signature
