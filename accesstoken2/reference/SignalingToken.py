"""In place of Agora's ``SignalingToken.py`` (and agoraiotools' module): signaling tokens, deprecated by Agora."""

from __future__ import annotations

from ..legacy.signaling_token import *  # noqa: F403  (the module's __all__: the reference's names)
from ..legacy.signaling_token import __all__ as __all__
