"""Wire constants shared by the object model and both kernels (``_native`` and ``_speedups``).

``LAYOUTS`` maps each known 007 service type to the fields that follow its privilege map:
``s`` is a u16-length-prefixed UTF-8 string, ``h`` a little-endian i16 and ``P`` the RTM2
permission tree.  A service type missing here is unknown: parsing stops there.
"""

from __future__ import annotations

VERSION_007 = "007"
VERSION_006 = "006"

LAYOUTS: dict[int, str] = {
    1: "ss",  # RTC: channel_name, uid
    2: "s",  # RTM: user_id
    3: "ss",  # Streaming: channel_name, account
    4: "",  # FPA
    5: "s",  # Chat: user_id
    6: "ss",  # FCDN: channel_name, account
    7: "ssh",  # APaaS: room_uuid, user_uuid, role
    8: "sP",  # RTM2: user_id, permissions
    9: "",  # ConvoAI
    10: "",  # STT
}

# Parsing refuses anything larger, so a crafted token cannot make it allocate much.
MAX_CONTENT = 65536
# Longest base64 body a MAX_CONTENT token can have (zlib's compressBound, then base64).
MAX_TOKEN_CHARS = 3 + 4 * -(-(MAX_CONTENT + (MAX_CONTENT >> 12) + (MAX_CONTENT >> 14) + 13) // 3)

U16_MAX = 0xFFFF
U32_MAX = 0xFFFFFFFF
SALT_MIN = 1
SALT_MAX = 99_999_999
