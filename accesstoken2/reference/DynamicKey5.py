"""In place of Agora's ``DynamicKey5.py`` (and agoraiotools' module): DynamicKey v5, deprecated by Agora."""

from __future__ import annotations

from ..legacy.dynamic_key5 import *  # noqa: F403  (the module's __all__: the reference's names)
from ..legacy.dynamic_key5 import __all__ as __all__
