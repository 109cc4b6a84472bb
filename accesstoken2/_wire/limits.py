"""Sizes and ranges of the 007 and 006 formats, shared by the object model and the kernel."""

from __future__ import annotations

VERSION_007 = "007"
VERSION_006 = "006"

U16_MAX = 0xFFFF
U32_MAX = 0xFFFFFFFF
I16_MIN = -0x8000
I16_MAX = 0x7FFF
SALT_MIN = 1
SALT_MAX = 99_999_999
#: longest text field: its length is a u16
MAX_TEXT = U16_MAX
#: 32 hexadecimal characters: an app id or an app certificate
ID_SIZE = 32
#: HMAC-SHA256
SIGNATURE_SIZE = 32
#: a 007 content's first bytes: the signature as str(x), u16 length and its bytes (AT2_SIGNATURE_HEAD in C)
SIGNATURE_HEAD = 2 + SIGNATURE_SIZE
#: signing_info up to its services: str(app_id), u32 issue_ts, expire and salt, u16 service count
SIGNING_INFO_HEAD = 2 + ID_SIZE + 4 + 4 + 4 + 2

# Parsing refuses anything larger, so a crafted token cannot make it allocate much; building refuses it too.
MAX_CONTENT = 65536
# Longest base64 body a MAX_CONTENT token can have (zlib's compressBound, then base64).
MAX_TOKEN_CHARS = 3 + 4 * -(-(MAX_CONTENT + (MAX_CONTENT >> 12) + (MAX_CONTENT >> 14) + 13) // 3)

# 006: m = u32(salt) u32(ts) u16(count) then u16(key) u32(value) per privilege, and m carries a u16 length
MESSAGE006_HEAD = 10
PRIVILEGE_ENTRY = 6
MAX_PRIVILEGES_006 = (U16_MAX - MESSAGE006_HEAD) // PRIVILEGE_ENTRY
APP_ID_END_006 = len(VERSION_006) + ID_SIZE
#: a 006 message's ts when none is given: now plus this many seconds, as in the reference
DEFAULT_LIFETIME_006 = 24 * 3600
MAX_CONTENT_006 = 2 + SIGNATURE_SIZE + 4 + 4 + 2 + U16_MAX
MAX_TOKEN_CHARS_006 = APP_ID_END_006 + 4 * -(-MAX_CONTENT_006 // 3)
#: the longest token of either format: no longer string can be one
LONGEST_TOKEN = max(MAX_TOKEN_CHARS, MAX_TOKEN_CHARS_006)

#: the most OS threads a batch build (build_tokens, the kernels' build_many) may use
MAX_THREADS = 256
