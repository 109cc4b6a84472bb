"""In place of Agora's and agoraiotools' ``education_token_builder``: the class of :mod:`.EducationTokenBuilder`."""

from __future__ import annotations

from .EducationTokenBuilder import EducationTokenBuilder

__all__ = ["EducationTokenBuilder"]
