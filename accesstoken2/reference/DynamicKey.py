"""In place of Agora's ``DynamicKey.py`` (and agoraiotools' module): DynamicKey v1, deprecated by Agora."""

from __future__ import annotations

from ..legacy.dynamic_key import *  # noqa: F403  (the module's __all__: the reference's names)
from ..legacy.dynamic_key import __all__ as __all__
