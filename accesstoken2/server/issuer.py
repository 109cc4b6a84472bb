"""What the token server hands out, built with the public builders from its own credentials.

Every endpoint turns its request into a :class:`TokenGrant` (what is asked for), which the
authorization step may refuse or narrow, and :meth:`TokenIssuer.issue` builds it.  Lifetimes are
checked against the server's limits here, so every endpoint applies the same rule; bad values
raise :class:`~accesstoken2.errors.InvalidParameterError`, which the HTTP layer answers with 400.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Literal, NamedTuple

from .._wire.limits import U32_MAX
from ..builders import ChatTokenBuilder, Role_Publisher, Role_Subscriber, RtcTokenBuilder, RtmTokenBuilder
from ..cache import CachedToken, ChatAppTokenCache
from ..errors import InvalidParameterError
from ..services import RtcPrivilege, RtmPrivilege, ServiceRtc, ServiceRtm
from ..token2 import AccessToken2
from .config import Settings

__all__ = ["Issued", "TokenGrant", "TokenIssuer", "rtc_uid"]

ROLES = {"publisher": Role_Publisher, "subscriber": Role_Subscriber}

Kind = Literal["rtc", "rtm", "rtc+rtm", "chat_user", "chat_app"]
Role = Literal["publisher", "subscriber"]


@dataclass(frozen=True)
class TokenGrant:
    """What a request asks for, once parsed: what the authorizer sees and may narrow.

    ``kind`` is ``rtc``, ``rtm``, ``rtc+rtm`` (both tokens, agora-token-service's ``/rte``
    route), ``chat_user`` or ``chat_app``.  ``uid`` is the RTC uid (an int, 0 meaning any uid)
    or user account (a str); ``user_id`` the RTM or Chat user id; ``channel`` the RTC channel
    (for ``rtm``: the optional stream channel); ``role`` publisher or subscriber (RTC);
    ``expire`` the requested lifetime in seconds (None: the server's default).
    """

    kind: Kind
    channel: str | None = None
    uid: int | str | None = None
    user_id: str | None = None
    role: Role | None = None
    expire: int | None = None


class Issued(NamedTuple):
    """The tokens built for a grant (by answer key) and when they expire (Unix seconds)."""

    tokens: dict[str, str]
    expires_at: int
    expires_in: int


def rtc_uid(uid: int | str | None) -> int | str:
    """An RTC uid as the builder wants it: a number, a numeric string read as that number, or a
    user account string.  Missing or empty is an error (send 0 for "any uid")."""
    if uid is None or uid == "":
        raise InvalidParameterError(
            "uid", f"uid is required for tokenType rtc: an integer from 0 to {U32_MAX} or a user account string"
        )
    if isinstance(uid, str) and uid.isascii() and uid.isdigit():
        digits = uid.lstrip("0") or "0"
        if len(digits) > len(str(U32_MAX)):
            # int() of a long digit string is slow, and refused past 4300 digits
            raise InvalidParameterError("uid", f"uid must be an integer from 0 to {U32_MAX} (got {len(digits)} digits)")
        return int(digits)
    return uid


def check_expire(expire: object, high: int) -> int:
    """``expire`` if it is an int from 1 to ``high``; else :class:`InvalidParameterError`."""
    if isinstance(expire, bool) or not isinstance(expire, int) or not 1 <= expire <= high:
        shown = expire if isinstance(expire, int) and abs(expire) < 10**12 else "out of range"
        raise InvalidParameterError("expire", f"expire must be an integer from 1 to {high} (got {shown})")
    return expire


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
        self.chat_app_cache = ChatAppTokenCache(
            settings.app_id, settings.app_certificate, expire=settings.default_expire, clock=clock
        )
        self._builders: dict[str, Callable[[TokenGrant, int, int], dict[str, str]]] = {
            "rtc": self._rtc,
            "rtm": self._rtm,
            "rtc+rtm": self._rtc_rtm,
            "chat_user": self._chat_user,
            "chat_app": self._chat_app,
        }

    def lifetime(self, expire: int | None) -> int:
        """The requested lifetime, or the default when None or 0 (as agora-token-service reads
        it); refused outside 1..max_expire."""
        if expire is None or (expire == 0 and not isinstance(expire, bool)):
            return self._settings.default_expire
        return check_expire(expire, self._settings.max_expire)

    def issue(self, grant: TokenGrant) -> Issued:
        """Build the tokens of ``grant``."""
        if grant.kind == "chat_app" and grant.expire is None:
            cached = self.chat_app_cache.entry()
            now = self._clock()
            return Issued({"token": cached.token}, cached.expires_at, cached.remaining(now))
        lifetime = self.lifetime(grant.expire)
        issue_ts = int(self._clock())
        tokens = self._builders[grant.kind](grant, lifetime, issue_ts)
        return Issued(tokens, issue_ts + lifetime, lifetime)

    def _rtc_token(self, grant: TokenGrant, lifetime: int, issue_ts: int, uid: int | str | None) -> str:
        channel = _required_text("channel", grant.channel, "for an RTC token: the channel name")
        account = rtc_uid(uid)
        role_id = ROLES.get(grant.role or "subscriber")
        if role_id is None:
            raise InvalidParameterError("role", "role must be 'publisher' or 'subscriber'")
        settings = self._settings
        if isinstance(account, int):
            return RtcTokenBuilder.build_token_with_uid(
                settings.app_id, settings.app_certificate, channel, account, role_id, lifetime, issue_ts=issue_ts
            )
        return RtcTokenBuilder.build_token_with_user_account(
            settings.app_id, settings.app_certificate, channel, account, role_id, lifetime, issue_ts=issue_ts
        )

    def _rtc(self, grant: TokenGrant, lifetime: int, issue_ts: int) -> dict[str, str]:
        return {"token": self._rtc_token(grant, lifetime, issue_ts, grant.uid)}

    def _rtm_token(self, user_id: str | None, channel: str | None, lifetime: int, issue_ts: int) -> str:
        user = _required_text("uid", user_id, "for an RTM token: the RTM user id")
        settings = self._settings
        if not channel:
            return RtmTokenBuilder.build_token(
                settings.app_id, settings.app_certificate, user, lifetime, issue_ts=issue_ts
            )
        # With a channel, agora-token-service's RTM builder also grants the RTC stream channel
        # of that name: join and publish data, for the same user id.
        token = AccessToken2(settings.app_id, settings.app_certificate, issue_ts, lifetime)
        stream = ServiceRtc(channel, user)
        stream.add_privilege(RtcPrivilege.JOIN_CHANNEL, lifetime)
        stream.add_privilege(RtcPrivilege.PUBLISH_DATA_STREAM, lifetime)
        token.add_service(stream)
        login = ServiceRtm(user)
        login.add_privilege(RtmPrivilege.LOGIN, lifetime)
        token.add_service(login)
        return token.build()

    def _rtm(self, grant: TokenGrant, lifetime: int, issue_ts: int) -> dict[str, str]:
        return {"token": self._rtm_token(grant.user_id, grant.channel, lifetime, issue_ts)}

    def _rtc_rtm(self, grant: TokenGrant, lifetime: int, issue_ts: int) -> dict[str, str]:
        rtc = self._rtc_token(grant, lifetime, issue_ts, grant.uid)
        return {"rtcToken": rtc, "rtmToken": self._rtm_token(grant.user_id, grant.channel, lifetime, issue_ts)}

    def _chat_user(self, grant: TokenGrant, lifetime: int, issue_ts: int) -> dict[str, str]:
        user = _required_text("uid", grant.user_id, "for a Chat user token: the Chat user id")
        settings = self._settings
        token = ChatTokenBuilder.build_user_token(
            settings.app_id, settings.app_certificate, user, lifetime, issue_ts=issue_ts
        )
        return {"token": token}

    def _chat_app(self, grant: TokenGrant, lifetime: int, issue_ts: int) -> dict[str, str]:
        return {"token": self._build_chat_app(issue_ts, lifetime)}

    def cached_chat_app(self) -> CachedToken:
        """The shared Chat app token, renewed a margin before it expires."""
        return self.chat_app_cache.entry()

    def _build_chat_app(self, issue_ts: int, lifetime: int) -> str:
        settings = self._settings
        return ChatTokenBuilder.build_app_token(settings.app_id, settings.app_certificate, lifetime, issue_ts=issue_ts)
