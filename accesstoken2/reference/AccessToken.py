"""In place of Agora's ``AccessToken.py`` (and agoraiotools' module): the legacy 006 token.

Its byte-packing helpers (``packUint16``, ``ReadByteBuffer``, ...) are not provided: parse a token with
``AccessToken.parse`` or ``fromString``.
"""

from __future__ import annotations

from ..legacy.access_token import (
    AccessToken,
    kAdministrateChannel,
    kInvitePublishAudioStream,
    kInvitePublishDataStream,
    kInvitePublishVideoStream,
    kJoinChannel,
    kPublishAudiocdn,
    kPublishAudioStream,
    kPublishDataStream,
    kPublishVideoCdn,
    kPublishVideoStream,
    kRequestPublishAudioStream,
    kRequestPublishDataStream,
    kRequestPublishVideoStream,
    kRtmLogin,
)

__all__ = [
    "APP_ID_LENGTH",
    "VERSION_LENGTH",
    "AccessToken",
    "getVersion",
    "kAdministrateChannel",
    "kInvitePublishAudioStream",
    "kInvitePublishDataStream",
    "kInvitePublishVideoStream",
    "kJoinChannel",
    "kPublishAudioStream",
    "kPublishAudiocdn",
    "kPublishDataStream",
    "kPublishVideoCdn",
    "kPublishVideoStream",
    "kRequestPublishAudioStream",
    "kRequestPublishDataStream",
    "kRequestPublishVideoStream",
    "kRtmLogin",
]

VERSION_LENGTH = 3
APP_ID_LENGTH = 32


def getVersion() -> str:
    """The version prefix of the tokens this module builds."""
    return "006"
