"""In place of Agora's ``RtcTokenBuilder2.py`` (and agoraiotools' module of that name): the 007 RTC builders.

``RtcTokenBuilder2`` is agoraiotools' name of the same class.
"""

from __future__ import annotations

from ..builders import Role_Publisher, Role_Subscriber, RtcTokenBuilder

__all__ = ["Role_Publisher", "Role_Subscriber", "RtcTokenBuilder", "RtcTokenBuilder2"]

RtcTokenBuilder2 = RtcTokenBuilder
