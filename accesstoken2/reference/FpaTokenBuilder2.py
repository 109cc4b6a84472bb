"""In place of Agora's FPA builder module: ``FpaTokenBuilder.build_token(app_id, app_certificate)``."""

from __future__ import annotations

from ..builders import FpaTokenBuilder

__all__ = ["FpaTokenBuilder"]
