"""In place of Agora's ``stt_token_builder.py``: RTC + RTM + speech-to-text agent tokens."""

from __future__ import annotations

from ..builders import Role_Publisher, SttTokenBuilder

__all__ = ["Role_Publisher", "SttTokenBuilder"]
