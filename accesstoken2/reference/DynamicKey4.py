"""In place of Agora's ``DynamicKey4.py`` (and agoraiotools' module): DynamicKey v4, deprecated by Agora."""

from __future__ import annotations

from ..legacy.dynamic_key4 import *  # noqa: F403  (the module's __all__: the reference's names)
from ..legacy.dynamic_key4 import __all__ as __all__
