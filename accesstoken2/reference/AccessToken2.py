"""In place of Agora's ``AccessToken2.py`` (and agoraiotools' module): the 007 token and its services.

The reference calls the token class ``AccessToken``; ``AccessToken2`` is agoraiotools' name of it.
"""

from __future__ import annotations

from ..services import (
    Service,
    ServiceApaas,
    ServiceChat,
    ServiceConvoAI,
    ServiceFCdn,
    ServiceFpa,
    ServiceRtc,
    ServiceRtm,
    ServiceRtm2,
    ServiceStreaming,
    ServiceStt,
)
from ..token2 import AccessToken2

__all__ = [
    "VERSION_LENGTH",
    "AccessToken",
    "AccessToken2",
    "Service",
    "ServiceApaas",
    "ServiceChat",
    "ServiceConvoAI",
    "ServiceFCdn",
    "ServiceFpa",
    "ServiceRtc",
    "ServiceRtm",
    "ServiceRtm2",
    "ServiceStreaming",
    "ServiceStt",
    "get_version",
]

VERSION_LENGTH = 3
AccessToken = AccessToken2


def get_version() -> str:
    """The version prefix of the tokens this module builds."""
    return "007"
