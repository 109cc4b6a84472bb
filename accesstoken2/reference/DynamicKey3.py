"""In place of Agora's ``DynamicKey3.py`` (and agoraiotools' module): DynamicKey v3, deprecated by Agora."""

from __future__ import annotations

from ..legacy.dynamic_key3 import *  # noqa: F403  (the module's __all__: the reference's names)
from ..legacy.dynamic_key3 import __all__ as __all__
