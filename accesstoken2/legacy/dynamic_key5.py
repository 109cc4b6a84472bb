"""DynamicKey version 5 (deprecated by Agora), as the reference module ``DynamicKey5.py``.

Signed bytes (little endian; ``str`` = u16 length + bytes)::

    u16(service) str(app_id hex-decoded) u32(unix_ts) u32(random_int) str(channel_name)
    u32(uid) u32(expired_ts) u16(count) (u16(key) str(value))...

The signature is HMAC-SHA1 keyed with the hex-DECODED certificate.  The key is ``"005"`` +
base64 of ``u16(service) str(signature as upper-case hex) str(app_id bytes) u32(unix_ts)
u32(random_int) u32(expired_ts)`` and the extra map.  Extra entries are written sorted by key.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import struct
from collections.abc import Mapping
from typing import Any, Union

from .._wire.checks import check_ids, check_int, check_text, check_u16, check_u32
from .._wire.limits import MAX_TEXT
from ..errors import InvalidParameterError, ParameterTypeError
from ._dynamic_key_common import u32_wrapped

__all__ = [
    "ALLOW_UPLOAD_IN_CHANNEL",
    "IN_CHANNEL_PERMISSION",
    "MEDIA_CHANNEL_SERVICE",
    "PUBLIC_SHARING_SERVICE",
    "RECORDING_SERVICE",
    "VERSION",
    "AudioVideoUpload",
    "NoUpload",
    "generateDynamicKey",
    "generateInChannelPermissionKey",
    "generateMediaChannelKey",
    "generatePublicSharingKey",
    "generateRecordingKey",
    "generateSignature",
    "generate_dynamic_key",
    "generate_in_channel_permission_key",
    "generate_media_channel_key",
    "generate_public_sharing_key",
    "generate_recording_key",
    "generate_signature",
]

VERSION = "005"

MEDIA_CHANNEL_SERVICE = 1
RECORDING_SERVICE = 2
PUBLIC_SHARING_SERVICE = 3
IN_CHANNEL_PERMISSION = 4

#: Extra-map key of the in-channel permission.
ALLOW_UPLOAD_IN_CHANNEL = 1
NoUpload = b"0"
AudioVideoUpload = b"3"

Text = Union[str, bytes]

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")


def _string(data: bytes) -> bytes:
    return _U16.pack(len(data)) + data


def _value_bytes(name: str, value: Any) -> bytes:
    if isinstance(value, bytes):
        if len(value) > MAX_TEXT:
            raise InvalidParameterError(name, f"{name} is {len(value)} bytes long; at most {MAX_TEXT} are allowed")
        return value
    if not isinstance(value, str):
        raise ParameterTypeError(
            name, f"{name} must be a str or bytes of at most {MAX_TEXT} bytes, not {type(value).__name__}"
        )
    return check_text(name, value)


def _extra_map(extra: Any) -> bytes:
    if extra is None:
        extra = {}
    if not isinstance(extra, Mapping):
        raise ParameterTypeError(
            "extra", f"extra must be a mapping of u16 keys to str or bytes, not {type(extra).__name__}"
        )
    if len(extra) > 0xFFFF:
        raise InvalidParameterError("extra", f"extra holds {len(extra)} entries; at most 65535 are allowed")
    entries = {check_u16("extra key", key): _value_bytes(f"extra[{key!r}]", value) for key, value in extra.items()}
    return _U16.pack(len(entries)) + b"".join(_U16.pack(key) + _string(entries[key]) for key in sorted(entries))


def _signed_parts(
    service_type: Any,
    app_id: Any,
    app_certificate: Any,
    channel_name: Any,
    unix_ts: Any,
    random_int: Any,
    uid: Any,
    expired_ts: Any,
    extra: Any,
) -> tuple[bytes, bytes, bytes, bytes, str]:
    """(u16 service, str(app id bytes), the u32 times, extra map, signature as hex)."""
    service = _U16.pack(check_int("service_type", service_type, MEDIA_CHANNEL_SERVICE, IN_CHANNEL_PERMISSION))
    app_hex, certificate_hex = check_ids(app_id, app_certificate)
    app_id_field = _string(binascii.unhexlify(app_hex))
    certificate = binascii.unhexlify(certificate_hex)
    channel = _string(check_text("channel_name", channel_name))
    unix_ts = check_u32("unix_ts", unix_ts)
    random_int = u32_wrapped("random_int", random_int)
    uid = u32_wrapped("uid", uid)
    expired_ts = check_u32("expired_ts", expired_ts)
    extra_map = _extra_map(extra)
    signed = b"".join(
        (
            service,
            app_id_field,
            _U32.pack(unix_ts),
            _U32.pack(random_int),
            channel,
            _U32.pack(uid),
            _U32.pack(expired_ts),
            extra_map,
        )
    )
    times = _U32.pack(unix_ts) + _U32.pack(random_int) + _U32.pack(expired_ts)
    return service, app_id_field, times, extra_map, hmac.digest(certificate, signed, "sha1").hex()


def generate_signature(
    service_type: int,
    app_id: str,
    app_certificate: str,
    channel_name: str,
    unix_ts: int,
    random_int: int,
    uid: int,
    expired_ts: int,
    extra: Mapping[int, Text] | None = None,
    *,
    uppercase: bool = True,
) -> str:
    """The hex HMAC-SHA1 signature of a version 5 key: upper-case as the reference and the key
    itself write it, lower-case with ``uppercase=False``."""
    signature = _signed_parts(
        service_type, app_id, app_certificate, channel_name, unix_ts, random_int, uid, expired_ts, extra
    )[4]
    return signature.upper() if uppercase else signature


def generate_dynamic_key(
    service_type: int,
    app_id: str,
    app_certificate: str,
    channel_name: str,
    unix_ts: int,
    random_int: int,
    uid: int,
    expired_ts: int,
    extra: Mapping[int, Text] | None = None,
) -> str:
    """A version 5 key for ``service_type`` (1 media channel, 2 recording, 3 public sharing,
    4 in-channel permission) with the ``extra`` map (u16 key -> str or bytes)."""
    service, app_id_field, times, extra_map, signature = _signed_parts(
        service_type, app_id, app_certificate, channel_name, unix_ts, random_int, uid, expired_ts, extra
    )
    content = service + _string(signature.upper().encode("ascii")) + app_id_field + times + extra_map
    return VERSION + base64.b64encode(content).decode("ascii")


def generate_public_sharing_key(
    app_id: str, app_certificate: str, channel_name: str, unix_ts: int, random_int: int, uid: int, expired_ts: int
) -> str:
    """A version 5 public sharing key (service 3)."""
    return generate_dynamic_key(
        PUBLIC_SHARING_SERVICE, app_id, app_certificate, channel_name, unix_ts, random_int, uid, expired_ts
    )


def generate_recording_key(
    app_id: str, app_certificate: str, channel_name: str, unix_ts: int, random_int: int, uid: int, expired_ts: int
) -> str:
    """A version 5 recording key (service 2)."""
    return generate_dynamic_key(
        RECORDING_SERVICE, app_id, app_certificate, channel_name, unix_ts, random_int, uid, expired_ts
    )


def generate_media_channel_key(
    app_id: str, app_certificate: str, channel_name: str, unix_ts: int, random_int: int, uid: int, expired_ts: int
) -> str:
    """A version 5 media channel key (service 1)."""
    return generate_dynamic_key(
        MEDIA_CHANNEL_SERVICE, app_id, app_certificate, channel_name, unix_ts, random_int, uid, expired_ts
    )


def generate_in_channel_permission_key(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    unix_ts: int,
    random_int: int,
    uid: int,
    expired_ts: int,
    permission: Text,
) -> str:
    """A version 5 in-channel permission key (service 4): ``permission`` is :data:`NoUpload`
    (``"0"``) or :data:`AudioVideoUpload` (``"3"``), as str or bytes."""
    extra = {ALLOW_UPLOAD_IN_CHANNEL: _value_bytes("permission", permission)}
    return generate_dynamic_key(
        IN_CHANNEL_PERMISSION, app_id, app_certificate, channel_name, unix_ts, random_int, uid, expired_ts, extra
    )


generatePublicSharingKey = generate_public_sharing_key
generateRecordingKey = generate_recording_key
generateMediaChannelKey = generate_media_channel_key
generateInChannelPermissionKey = generate_in_channel_permission_key
generateDynamicKey = generate_dynamic_key
generateSignature = generate_signature
