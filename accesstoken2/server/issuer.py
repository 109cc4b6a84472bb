"""What the token server hands out, built with the public builders from its own credentials.

Lifetimes are checked against the server's limits here, so every endpoint applies the same
rule; bad values raise :class:`~accesstoken2.errors.InvalidParameterError`, which the HTTP
layer turns into a 400 answer.
"""

from __future__ import annotations

import time
from typing import Callable, Protocol

from ..builders import ChatTokenBuilder, Role_Publisher, Role_Subscriber, RtcTokenBuilder, RtmTokenBuilder
from ..errors import InvalidParameterError
from .chat_cache import AppTokenCache, CachedToken
from .config import Settings

__all__ = ["TokenIssuer", "rtc_uid"]


class UserTokenBuilder(Protocol):
    """The shape of ``RtmTokenBuilder.build_token`` and ``ChatTokenBuilder.build_user_token``."""

    def __call__(
        self, app_id: str, app_certificate: str, user_id: str, expire: int, *, issue_ts: int | None
    ) -> str: ...


ROLES = {"publisher": Role_Publisher, "subscriber": Role_Subscriber}
U32_MAX = 0xFFFFFFFF


def check_expire(expire: object, high: int) -> int:
    """``expire`` if it is an int from 1 to ``high``; else :class:`InvalidParameterError`."""
    if isinstance(expire, bool) or not isinstance(expire, int) or not 1 <= expire <= high:
        shown = expire if isinstance(expire, int) and abs(expire) < 10**12 else "out of range"
        raise InvalidParameterError("expire", f"expire must be an integer from 1 to {high} (got {shown})")
    return expire


def rtc_uid(uid: int | str | None) -> int | str:
    """An RTC uid as the builder wants it: a number, a numeric string read as that number, or a
    user account string.  Missing or empty is an error (send 0 for "any uid")."""
    if uid is None or uid == "":
        raise InvalidParameterError(
            "uid", "uid is required for tokenType rtc: an integer from 0 to 4294967295 or a user account string"
        )
    if isinstance(uid, str) and uid.isascii() and uid.isdigit():
        digits = uid.lstrip("0") or "0"
        if len(digits) > len(str(U32_MAX)):
            # int() of a long digit string is slow, and refused past 4300 digits
            raise InvalidParameterError("uid", f"uid must be an integer from 0 to {U32_MAX} (got {len(digits)} digits)")
        return int(digits)
    return uid


def _required_text(name: str, value: int | str | None, why: str) -> str:
    text = str(value) if isinstance(value, int) else value
    if not text:
        raise InvalidParameterError(name, f"{name} is required {why}")
    return text


class TokenIssuer:
    """Builds RTC, RTM and Chat tokens for one app, and keeps the Chat app token cached."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock
        self.chat_app_cache = AppTokenCache(self._build_chat_app, settings.default_expire, clock=clock)

    def lifetime(self, expire: int | None) -> int:
        """The requested lifetime, or the default; refused outside 1..max_expire."""
        if expire is None:
            return self._settings.default_expire
        return check_expire(expire, self._settings.max_expire)

    def _now(self) -> int:
        return int(self._clock())

    def rtc(self, channel: str | None, uid: int | str | None, role: str | None, expire: int | None) -> str:
        """RTC token; ``role`` is "publisher" or "subscriber" (default subscriber)."""
        lifetime = self.lifetime(expire)
        channel_name = _required_text("channel", channel, "for tokenType rtc: the channel name")
        account = rtc_uid(uid)
        role_id = ROLES.get(role or "subscriber")
        if role_id is None:
            raise InvalidParameterError("role", f"role must be 'publisher' or 'subscriber' (got {role!r})")
        settings = self._settings
        return RtcTokenBuilder.build_token_with_uid(
            settings.app_id, settings.app_certificate, channel_name, account, role_id, lifetime, issue_ts=self._now()
        )

    def rtm(self, user_id: int | str | None, expire: int | None) -> str:
        """RTM login token for ``user_id``."""
        why = "for tokenType rtm: the RTM user id"
        return self._user_token(RtmTokenBuilder.build_token, "uid", user_id, why, expire)

    def chat_user(self, user_id: int | str | None, expire: int | None) -> str:
        """Chat user token for ``user_id``."""
        why = "for a Chat user token: the Chat user id"
        return self._user_token(ChatTokenBuilder.build_user_token, "user_id", user_id, why, expire)

    def _user_token(
        self, build: UserTokenBuilder, parameter: str, user_id: int | str | None, why: str, expire: int | None
    ) -> str:
        lifetime = self.lifetime(expire)
        user = _required_text(parameter, user_id, why)
        settings = self._settings
        return build(settings.app_id, settings.app_certificate, user, lifetime, issue_ts=self._now())

    def chat_app(self, expire: int | None) -> str:
        """A freshly built Chat app token (the cached one is :meth:`cached_chat_app`)."""
        return self._build_chat_app(self._now(), self.lifetime(expire))

    def cached_chat_app(self) -> CachedToken:
        """The shared Chat app token, renewed a margin before it expires."""
        return self.chat_app_cache.get()

    def _build_chat_app(self, issue_ts: int, lifetime: int) -> str:
        settings = self._settings
        return ChatTokenBuilder.build_app_token(settings.app_id, settings.app_certificate, lifetime, issue_ts=issue_ts)
