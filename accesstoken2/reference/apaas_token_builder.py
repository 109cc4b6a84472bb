"""In place of Agora's and agoraiotools' ``apaas_token_builder``: the same class as :mod:`.ApaasTokenBuilder`."""

from __future__ import annotations

from .ApaasTokenBuilder import ApaasTokenBuilder

__all__ = ["ApaasTokenBuilder"]
