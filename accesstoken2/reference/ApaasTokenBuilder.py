"""In place of Agora's APaaS builder module: room user, user and app tokens."""

from __future__ import annotations

from ..builders import ApaasTokenBuilder

__all__ = ["ApaasTokenBuilder"]
