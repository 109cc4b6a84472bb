"""In place of Agora's Education builder module (the older name of the APaaS builder)."""

from __future__ import annotations

from ..builders import EducationTokenBuilder

__all__ = ["EducationTokenBuilder"]
