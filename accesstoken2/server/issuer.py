"""What the token server hands out, built with the public builders from its own credentials.

Every endpoint turns its request into a :class:`TokenGrant` (what is asked for).
:meth:`TokenIssuer.settle` then decides every value once: the server's defaults are filled in
(lifetime, RTC role), each value is checked against the server's limits and Agora's naming rules
(:func:`accesstoken2.agora_name_problems`), and nothing is converted afterwards.  The authorization
step sees that settled grant and may refuse or narrow it, and :meth:`TokenIssuer.build` builds
exactly what was checked: an ``int`` uid with the uid builder, a ``str`` with the user account
builder.  Bad values raise :class:`~accesstoken2.errors.InvalidParameterError`, which the HTTP
layer answers with 400.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Literal, NamedTuple

from .._wire.limits import U32_MAX
from ..builders import ChatTokenBuilder, Role_Publisher, Role_Subscriber, RtcTokenBuilder, RtmTokenBuilder
from ..cache import CachedToken, ChatAppTokenCache
from ..errors import InvalidParameterError
from ..names import NameProblem, agora_name_problems
from ..services import RtcPrivilege, RtmPrivilege, ServiceRtc, ServiceRtm
from ..token2 import AccessToken2
from .config import Settings

__all__ = ["AgoraNameError", "Issued", "TokenGrant", "TokenIssuer", "rtc_uid", "wire_uid"]

ROLES = {"publisher": Role_Publisher, "subscriber": Role_Subscriber}
RTC_KINDS = frozenset({"rtc", "rtc+rtm"})
RTM_KINDS = frozenset({"rtm", "rtc+rtm"})

Kind = Literal["rtc", "rtm", "rtc+rtm", "chat_user", "chat_app"]
Role = Literal["publisher", "subscriber"]


@dataclass(frozen=True)
class TokenGrant:
    """What a request asks for, once parsed: what the authorizer sees and may narrow.

    ``kind`` is ``rtc``, ``rtm``, ``rtc+rtm`` (both tokens, agora-token-service's ``/rte``
    route), ``chat_user`` or ``chat_app``.  ``uid`` is the RTC uid: an ``int`` is a numeric uid
    (0 meaning any uid), a ``str`` a user account, built as that exact string (``"0"`` and
    ``"042"`` are accounts, never uids); ``user_id`` the RTM or Chat user id; ``channel`` the RTC
    channel (for ``rtm``: the optional stream channel); ``role`` publisher or subscriber (RTC;
    None for the other kinds); ``expire`` the lifetime in seconds.  The grant the authorizer sees
    is settled: the server's default lifetime and role are filled in, so what it checks is what
    the token gets.
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


class AgoraNameError(InvalidParameterError):
    """A channel name, user account or RTM user id that Agora refuses; ``problems`` lists the
    rules it breaks (:class:`~accesstoken2.NameProblem`)."""

    def __init__(self, parameter: str, problems: list[NameProblem]) -> None:
        super().__init__(parameter, f"{parameter}: " + "; ".join(problem.message for problem in problems))
        self.problems = problems


def rtc_uid(uid: int | str | None) -> int | str:
    """The RTC uid of a ``POST /getToken`` body, as agora-token-service reads it: a number, a
    string of digits read as that number, or else a user account string.  Missing or empty is
    an error (send 0 for "any uid")."""
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


def wire_uid(uid: int | str) -> str:
    """The uid as a settled grant writes it in the token: ``""`` for uid 0 (any uid), the digits
    of any other numeric uid, a user account as it is."""
    if isinstance(uid, int):
        return str(uid) if uid else ""
    return uid


def check_expire(expire: object, high: int) -> int:
    """``expire`` if it is an int from 1 to ``high``; else :class:`InvalidParameterError`."""
    if isinstance(expire, bool) or not isinstance(expire, int) or not 1 <= expire <= high:
        shown = expire if isinstance(expire, int) and abs(expire) < 10**12 else "out of range"
        raise InvalidParameterError("expire", f"expire must be an integer from 1 to {high} (got {shown})")
    return expire


def _required_text(name: str, value: object, why: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidParameterError(name, f"{name} is required {why}")
    return value


def _agora_name(parameter: str, kind: str, value: str) -> str:
    problems = agora_name_problems(kind, value)
    if problems:
        raise AgoraNameError(parameter, problems)
    return value


def _settled_uid(uid: object) -> int | str:
    """A grant's RTC uid, checked and never converted: an int uid in range or a user account."""
    if isinstance(uid, bool) or uid is None:
        raise InvalidParameterError(
            "uid", "uid is required for an RTC token: an integer from 0 to 4294967295 or a user account string"
        )
    if isinstance(uid, int):
        if not 0 <= uid <= U32_MAX:
            shown = uid if abs(uid) < 10**12 else "out of range"
            raise InvalidParameterError("uid", f"uid must be an integer from 0 to {U32_MAX} (got {shown})")
        return uid
    if not isinstance(uid, str):
        raise InvalidParameterError("uid", f"uid must be an int or a user account str, not {type(uid).__name__}")
    return _agora_name("uid", "user_account", uid)


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

    def settle(self, grant: TokenGrant) -> TokenGrant:
        """``grant`` with every value decided: the default lifetime and RTC role filled in, each
        value checked (the lifetime against the server's limits, channel names, user accounts and
        RTM user ids against Agora's rules).  What the authorization step checks is this grant,
        and :meth:`build` builds it as it is."""
        kind = grant.kind
        if kind not in self._builders:
            raise InvalidParameterError("kind", f"kind must be one of {', '.join(self._builders)}")
        expire = self.lifetime(grant.expire)
        channel: str | None = None
        uid: int | str | None = None
        user_id: str | None = None
        role: Role | None = None
        if kind in RTC_KINDS:
            required = _required_text("channel", grant.channel, "for an RTC token: the channel name")
            channel = _agora_name("channel", "channel_name", required)
            uid = _settled_uid(grant.uid)
            role = grant.role or "subscriber"
            if role not in ROLES:
                raise InvalidParameterError("role", "role must be 'publisher' or 'subscriber'")
        elif kind == "rtm" and grant.channel:
            # the RTC stream channel an RTM token may also grant
            channel = _agora_name("channel", "channel_name", grant.channel)
        if kind in RTM_KINDS:
            user = _required_text("uid", grant.user_id, "for an RTM token: the RTM user id")
            user_id = _agora_name("uid", "rtm_user_id", user)
        elif kind == "chat_user":
            user_id = _required_text("uid", grant.user_id, "for a Chat user token: the Chat user id")
        if (channel, uid, user_id, role, expire) == (grant.channel, grant.uid, grant.user_id, grant.role, grant.expire):
            return grant  # already settled (what the dataclass's == would say, without building the copy)
        return TokenGrant(kind, channel=channel, uid=uid, user_id=user_id, role=role, expire=expire)

    def issue(self, grant: TokenGrant) -> Issued:
        """Settle ``grant`` (:meth:`settle`) and build it."""
        return self.build(self.settle(grant))

    def build(self, grant: TokenGrant) -> Issued:
        """Build the tokens of a settled grant (:meth:`settle`), as it is: no default is applied
        and no value converted here."""
        expire = grant.expire
        assert expire is not None, "build() takes a settled grant"
        if grant.kind == "chat_app" and expire == self._settings.default_expire:
            # the shared token, built with this same lifetime and renewed a margin before it expires
            cached = self.chat_app_cache.entry()
            return Issued({"token": cached.token}, cached.expires_at, cached.remaining(self._clock()))
        issue_ts = int(self._clock())
        tokens = self._builders[grant.kind](grant, expire, issue_ts)
        return Issued(tokens, issue_ts + expire, expire)

    def _rtc_token(self, grant: TokenGrant, lifetime: int, issue_ts: int) -> str:
        settings = self._settings
        channel, uid, role_id = grant.channel, grant.uid, ROLES[grant.role or ""]
        assert channel is not None and uid is not None, "build() takes a settled grant"
        if isinstance(uid, int):
            return RtcTokenBuilder.build_token_with_uid(
                settings.app_id, settings.app_certificate, channel, uid, role_id, lifetime, issue_ts=issue_ts
            )
        return RtcTokenBuilder.build_token_with_user_account(
            settings.app_id, settings.app_certificate, channel, uid, role_id, lifetime, issue_ts=issue_ts
        )

    def _rtc(self, grant: TokenGrant, lifetime: int, issue_ts: int) -> dict[str, str]:
        return {"token": self._rtc_token(grant, lifetime, issue_ts)}

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
        rtc = self._rtc_token(grant, lifetime, issue_ts)
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
