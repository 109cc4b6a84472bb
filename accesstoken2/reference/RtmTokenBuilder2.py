"""In place of Agora's ``RtmTokenBuilder2.py`` (and agoraiotools' module): the 007 RTM builder.

``RtmTokenBuilder2`` is agoraiotools' name of the same class.
"""

from __future__ import annotations

from ..builders import RtmTokenBuilder

__all__ = ["RtmTokenBuilder", "RtmTokenBuilder2"]

RtmTokenBuilder2 = RtmTokenBuilder
