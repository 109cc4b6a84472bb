"""In place of Agora's ``RtcTokenBuilder.py`` (and agoraiotools' module): the legacy 006 RTC builder.

Its expiry arguments are absolute Unix times (``int(time.time()) + 3600``), not lifetimes: a value
before the year 2000 warns.  For 007 tokens, use :mod:`.RtcTokenBuilder2`.
"""

from __future__ import annotations

from ..legacy.builders import Role_Admin, Role_Attendee, Role_Publisher, Role_Subscriber, RtcTokenBuilder
from .AccessToken import kJoinChannel, kPublishAudioStream, kPublishDataStream, kPublishVideoStream, kRtmLogin

__all__ = [
    "Role_Admin",
    "Role_Attendee",
    "Role_Publisher",
    "Role_Subscriber",
    "RtcTokenBuilder",
    "kJoinChannel",
    "kPublishAudioStream",
    "kPublishDataStream",
    "kPublishVideoStream",
    "kRtmLogin",
]
