"""In place of Agora's ``ChatTokenBuilder2.py`` (and agoraiotools' module): the 007 Chat builders.

``ChatTokenBuilder2`` is agoraiotools' name of the same class.
"""

from __future__ import annotations

from ..builders import ChatTokenBuilder

__all__ = ["ChatTokenBuilder", "ChatTokenBuilder2"]

ChatTokenBuilder2 = ChatTokenBuilder
