"""In place of Agora's ``AccessToken.py`` (and agoraiotools' module): the legacy 006 token.

Every name of :mod:`accesstoken2.legacy.access_token` (``AccessToken``, ``kJoinChannel``, ...) is here.
Its byte-packing helpers (``packUint16``, ``ReadByteBuffer``, ...) are not provided: parse a token
with ``AccessToken.parse`` or ``fromString``.
"""

from __future__ import annotations

from ..legacy import access_token as _access_token
from ..legacy.access_token import *  # noqa: F403  (the module's __all__: the reference's names and more)

__all__ = ["APP_ID_LENGTH", "VERSION_LENGTH", "getVersion"]
__all__ += _access_token.__all__

VERSION_LENGTH = 3
APP_ID_LENGTH = 32


def getVersion() -> str:
    """The version prefix of the tokens this module builds."""
    return "006"
