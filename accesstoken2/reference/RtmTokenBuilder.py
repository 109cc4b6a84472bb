"""In place of Agora's ``RtmTokenBuilder.py`` (and agoraiotools' module): the legacy 006 RTM builder.

Its expiry argument is an absolute Unix time; for 007 tokens, use :mod:`.RtmTokenBuilder2`.
"""

from __future__ import annotations

from ..legacy.builders import Role_Rtm_User, RtmTokenBuilder
from .AccessToken import kJoinChannel, kPublishAudioStream, kPublishDataStream, kPublishVideoStream, kRtmLogin

__all__ = [
    "Role_Rtm_User",
    "RtmTokenBuilder",
    "kJoinChannel",
    "kPublishAudioStream",
    "kPublishDataStream",
    "kPublishVideoStream",
    "kRtmLogin",
]
