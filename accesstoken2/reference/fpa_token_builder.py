"""In place of agoraiotools' ``fpa_token_builder``: the same :class:`FpaTokenBuilder` as :mod:`.FpaTokenBuilder2`."""

from __future__ import annotations

from .FpaTokenBuilder2 import FpaTokenBuilder

__all__ = ["FpaTokenBuilder"]
