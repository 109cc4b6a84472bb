"""DynamicKey version 4 (deprecated by Agora), as the reference module ``DynamicKey4.py``.

One key per service: public sharing (``"APSS"``), recording (``"ARS"``) and media channel
(``"ACS"``).  The signature is the lower-case hex HMAC-SHA1 over the service text followed by
the version 2 message; the key is ``"004"``, the signature, the app id, ``unix_ts`` (10 digits),
``random_int`` (8 hex digits) and ``expired_ts`` (10 digits).  The uid is signed but not written.
"""

from __future__ import annotations

from typing import Any

from .._wire.checks import shown
from ..errors import InvalidParameterError
from ._dynamic_key_common import ts10
from .dynamic_key2 import SIGNATURE_LENGTH, checked_inputs

__all__ = [
    "MEDIA_CHANNEL_SERVICE",
    "PUBLIC_SHARING_SERVICE",
    "RECORDING_SERVICE",
    "VERSION",
    "generateDynamicKey",
    "generateMediaChannelKey",
    "generatePublicSharingKey",
    "generateRecordingKey",
    "generateSignature",
    "generate_dynamic_key",
    "generate_media_channel_key",
    "generate_public_sharing_key",
    "generate_recording_key",
    "generate_signature",
]

VERSION = "004"
PUBLIC_SHARING_SERVICE = "APSS"
RECORDING_SERVICE = "ARS"
MEDIA_CHANNEL_SERVICE = "ACS"
_SERVICES = (PUBLIC_SHARING_SERVICE, RECORDING_SERVICE, MEDIA_CHANNEL_SERVICE)


def _service(service_type: Any) -> str:
    if not isinstance(service_type, str) or service_type not in _SERVICES:
        raise InvalidParameterError(
            "service_type", f"service_type must be 'APSS', 'ARS' or 'ACS' (got {shown(service_type)})"
        )
    return service_type


def generate_signature(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    unix_ts: int,
    random_int: int,
    uid: int,
    expired_ts: int,
    service_type: str,
) -> str:
    """The lower-case hex HMAC-SHA1 signature of a version 4 key for ``service_type``."""
    return generate_dynamic_key(
        app_id, app_certificate, channel_name, unix_ts, random_int, uid, expired_ts, service_type
    )[len(VERSION) : len(VERSION) + SIGNATURE_LENGTH]


def generate_dynamic_key(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    unix_ts: int,
    random_int: int,
    uid: int,
    expired_ts: int,
    service_type: str,
) -> str:
    """A version 4 key for ``service_type`` ("APSS", "ARS" or "ACS")."""
    service = _service(service_type)
    inputs, uid, expired_ts = checked_inputs(
        app_id, app_certificate, channel_name, unix_ts, random_int, uid, expired_ts
    )
    return VERSION + inputs.signature(service, uid, expired_ts) + inputs.head() + ts10(expired_ts)


def generate_public_sharing_key(
    app_id: str, app_certificate: str, channel_name: str, unix_ts: int, random_int: int, uid: int, expired_ts: int
) -> str:
    """A version 4 public sharing key ("APSS")."""
    return generate_dynamic_key(
        app_id, app_certificate, channel_name, unix_ts, random_int, uid, expired_ts, PUBLIC_SHARING_SERVICE
    )


def generate_recording_key(
    app_id: str, app_certificate: str, channel_name: str, unix_ts: int, random_int: int, uid: int, expired_ts: int
) -> str:
    """A version 4 recording key ("ARS")."""
    return generate_dynamic_key(
        app_id, app_certificate, channel_name, unix_ts, random_int, uid, expired_ts, RECORDING_SERVICE
    )


def generate_media_channel_key(
    app_id: str, app_certificate: str, channel_name: str, unix_ts: int, random_int: int, uid: int, expired_ts: int
) -> str:
    """A version 4 media channel key ("ACS")."""
    return generate_dynamic_key(
        app_id, app_certificate, channel_name, unix_ts, random_int, uid, expired_ts, MEDIA_CHANNEL_SERVICE
    )


generatePublicSharingKey = generate_public_sharing_key
generateRecordingKey = generate_recording_key
generateMediaChannelKey = generate_media_channel_key
generateDynamicKey = generate_dynamic_key
generateSignature = generate_signature
