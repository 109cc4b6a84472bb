"""In place of Agora's ``AccessToken2.py`` (and agoraiotools' module): the 007 token and its services.

The reference calls the token class ``AccessToken``; ``AccessToken2`` is agoraiotools' name of it.
Every name of :mod:`accesstoken2.services` (``ServiceRtc``, ``ServiceRtm``, ...) is here too.
"""

from __future__ import annotations

from .. import services as _services
from ..services import *  # noqa: F403  (the services' __all__: the reference's service classes and more)
from ..token2 import AccessToken2

__all__ = ["VERSION_LENGTH", "AccessToken", "AccessToken2", "get_version"]
__all__ += _services.__all__

VERSION_LENGTH = 3
AccessToken = AccessToken2


def get_version() -> str:
    """The version prefix of the tokens this module builds."""
    return "007"
