"""In place of Agora's ``convoai_token_builder.py``: RTC + RTM + ConvoAI agent tokens."""

from __future__ import annotations

from ..builders import ConvoAITokenBuilder, Role_Publisher

__all__ = ["ConvoAITokenBuilder", "Role_Publisher"]
