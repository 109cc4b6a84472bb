"""In place of Agora's ``DynamicKey2.py`` (and agoraiotools' module): DynamicKey v2, deprecated by Agora."""

from __future__ import annotations

from ..legacy.dynamic_key2 import *  # noqa: F403  (the module's __all__: the reference's names)
from ..legacy.dynamic_key2 import __all__ as __all__
