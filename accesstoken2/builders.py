"""Token builders with the class names, method names and positional arguments of Agora's
reference Python builders.  Every method also takes keyword-only ``issue_ts`` and ``salt`` for
reproducible tokens (``None``: now, and a random salt)."""

from __future__ import annotations

import hashlib
import time
from enum import IntEnum
from typing import Any, ClassVar

from ._validate import ONE_DAY, check_choice, check_int, check_text, check_u32, uid_text, warn_lifetimes
from ._wire import kernel as _kernel
from ._wire.kernel import ServiceValues
from ._wire.limits import U32_MAX
from ._wire.specs import ApaasPrivilege, ChatPrivilege, FpaPrivilege, RtcPrivilege, Rtm2Privilege, RtmPrivilege
from ._wire.specs import ServiceType as _Type
from .services import Rtm2Permissions, ServiceRtm2
from .token2 import random_salt

__all__ = [
    "ApaasTokenBuilder",
    "ChatTokenBuilder",
    "ConvoAITokenBuilder",
    "EducationTokenBuilder",
    "FpaTokenBuilder",
    "Role",
    "Role_Publisher",
    "Role_Subscriber",
    "RtcTokenBuilder",
    "RtmTokenBuilder",
    "SttTokenBuilder",
    "build_app_token",
    "build_user_token",
]


class Role(IntEnum):
    """RTC roles of the 007 builders."""

    PUBLISHER = 1
    SUBSCRIBER = 2


Role_Publisher = Role.PUBLISHER.value
Role_Subscriber = Role.SUBSCRIBER.value

FPA_TOKEN_LIFETIME = 24 * 3600

# The builders hand the kernel plain values: (type, {privilege: seconds}, fields in spec order), sorted by type.
_RTC = _Type.RTC.value
_RTM = _Type.RTM.value
_FPA = _Type.FPA.value
_CHAT = _Type.CHAT.value
_APAAS = _Type.APAAS.value
_RTM2 = _Type.RTM2.value
_JOIN = RtcPrivilege.JOIN_CHANNEL.value
_AUDIO = RtcPrivilege.PUBLISH_AUDIO_STREAM.value
_VIDEO = RtcPrivilege.PUBLISH_VIDEO_STREAM.value
_DATA = RtcPrivilege.PUBLISH_DATA_STREAM.value
_CHAT_USER = ChatPrivilege.USER.value


def _seconds(value: Any) -> int:
    """A lifetime in seconds from the issue time (u32), checked; warning is the caller's (once per call)."""
    # fast path: an exact int in range, as check_u32 demands
    if type(value) is int and 0 <= value <= U32_MAX:
        return value
    return check_u32("expire", value)


def _lifetimes(*values: Any) -> list[int]:
    """The lifetimes of one builder call, checked, with at most one warning for them all."""
    seconds = [_seconds(value) for value in values]
    # fast path: nothing over 24 hours, as warn_lifetimes would decide
    if max(seconds) > ONE_DAY:
        warn_lifetimes(*seconds)
    return seconds


def _lifetime(value: Any) -> int:
    """The one lifetime of a builder call: an exact int up to 24 hours needs no check beyond this line."""
    if type(value) is int and 0 <= value <= ONE_DAY:
        return value
    return _lifetimes(value)[0]


def _issue_ts(value: Any) -> int:
    """``None`` or 0: now."""
    if value is None:
        return int(time.time())
    # fast path: an exact positive int in u32 range, as check_u32 demands
    if type(value) is int and 0 < value <= U32_MAX:
        return value
    return check_u32("issue_ts", value) or int(time.time())


def _salt(value: Any) -> int:
    """``None``: a random salt from :mod:`secrets`."""
    if value is None:
        return random_salt()
    if type(value) is int and 0 <= value <= U32_MAX:
        return value
    return check_int("salt", value, 0, U32_MAX)


def _token(
    app_id: str, app_certificate: str, expire: int, issue_ts: Any, salt: Any, services: list[ServiceValues]
) -> str:
    """Check the rest, then let the kernel check the ids, pack, sign, compress and encode in one call."""
    return _kernel.active.build007(app_id, app_certificate, _issue_ts(issue_ts), expire, _salt(salt), services)


_ROLES = {Role_Publisher: "Role_Publisher", Role_Subscriber: "Role_Subscriber"}


def _is_publisher(role: Any, name: str = "role") -> bool:
    # fast path: an exact int 1 or 2, as check_choice demands
    if type(role) is not int or role not in _ROLES:
        role = check_choice(name, role, _ROLES)
    return bool(role == Role_Publisher)


def _uid(account: Any) -> str:
    # fast path: a positive exact int, as uid_text demands (0 is the wildcard, written as "")
    if type(account) is int and 0 < account <= U32_MAX:
        return str(account)
    return uid_text("uid", account)


def _rtc(channel_name: str, uid: str, publisher: bool, join: int, audio: int, video: int, data: int) -> ServiceValues:
    privileges = {_JOIN: join, _AUDIO: audio, _VIDEO: video, _DATA: data} if publisher else {_JOIN: join}
    return (_RTC, privileges, (channel_name, uid))


def _rtc_token(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    account: int | str,
    role: int,
    token_expire: int,
    privilege_expire: int,
    issue_ts: int | None,
    salt: int | None,
) -> str:
    # fast path: exact ints up to 24 hours, as _lifetimes would pass them without a warning
    if (
        type(token_expire) is int
        and type(privilege_expire) is int
        and 0 <= token_expire <= ONE_DAY
        and 0 <= privilege_expire <= ONE_DAY
    ):
        expire, e = token_expire, privilege_expire
    else:
        expire, e = _lifetimes(token_expire, privilege_expire)
    uid = str(account) if type(account) is int and 0 < account <= U32_MAX else _uid(account)  # _uid's fast path
    rtc = _rtc(channel_name, uid, _is_publisher(role), e, e, e, e)
    return _token(app_id, app_certificate, expire, issue_ts, salt, [rtc])


class RtcTokenBuilder:
    """RTC tokens (join a channel; publish audio, video and data as a publisher), optionally with RTM."""

    @staticmethod
    def build_token_with_uid(
        app_id: str,
        app_certificate: str,
        channel_name: str,
        uid: int | str,
        role: int,
        token_expire: int,
        privilege_expire: int = 0,
        *,
        issue_ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """RTC token for a numeric ``uid`` (0: any uid).  Times are seconds from now."""
        return _rtc_token(
            app_id, app_certificate, channel_name, uid, role, token_expire, privilege_expire, issue_ts, salt
        )

    @staticmethod
    def build_token_with_user_account(
        app_id: str,
        app_certificate: str,
        channel_name: str,
        account: int | str,
        role: int,
        token_expire: int,
        privilege_expire: int = 0,
        *,
        issue_ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """RTC token for a user ``account`` string."""
        return _rtc_token(
            app_id, app_certificate, channel_name, account, role, token_expire, privilege_expire, issue_ts, salt
        )

    @staticmethod
    def build_token_with_uid_and_privilege(
        app_id: str,
        app_certificate: str,
        channel_name: str,
        uid: int | str,
        token_expire: int,
        join_channel_privilege_expire: int,
        pub_audio_privilege_expire: int,
        pub_video_privilege_expire: int,
        pub_data_stream_privilege_expire: int,
        *,
        issue_ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """RTC token with a separate lifetime for each of the four privileges."""
        return RtcTokenBuilder.build_token_with_user_account_and_privilege(
            app_id,
            app_certificate,
            channel_name,
            uid,
            token_expire,
            join_channel_privilege_expire,
            pub_audio_privilege_expire,
            pub_video_privilege_expire,
            pub_data_stream_privilege_expire,
            issue_ts=issue_ts,
            salt=salt,
        )

    @staticmethod
    def build_token_with_user_account_and_privilege(
        app_id: str,
        app_certificate: str,
        channel_name: str,
        account: int | str,
        token_expire: int,
        join_channel_privilege_expire: int,
        pub_audio_privilege_expire: int,
        pub_video_privilege_expire: int,
        pub_data_stream_privilege_expire: int,
        *,
        issue_ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """RTC token for an account with a separate lifetime for each privilege."""
        expire, join, audio, video, data = _lifetimes(
            token_expire,
            join_channel_privilege_expire,
            pub_audio_privilege_expire,
            pub_video_privilege_expire,
            pub_data_stream_privilege_expire,
        )
        rtc = _rtc(channel_name, _uid(account), True, join, audio, video, data)
        return _token(app_id, app_certificate, expire, issue_ts, salt, [rtc])

    @staticmethod
    def build_token_with_rtm(
        app_id: str,
        app_certificate: str,
        channel_name: str,
        account: int | str,
        role: int,
        token_expire: int,
        privilege_expire: int = 0,
        *,
        issue_ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """RTC token plus an RTM login for the same account (login lasts ``token_expire``)."""
        expire, e = _lifetimes(token_expire, privilege_expire)
        uid = _uid(account)
        rtc = _rtc(channel_name, uid, _is_publisher(role), e, e, e, e)
        rtm = (_RTM, {RtmPrivilege.LOGIN.value: expire}, (uid,))
        return _token(app_id, app_certificate, expire, issue_ts, salt, [rtc, rtm])

    @staticmethod
    def build_token_with_rtm2(
        app_id: str,
        app_certificate: str,
        channel_name: str,
        rtc_account: int | str,
        rtc_role: int,
        rtc_token_expire: int,
        join_channel_privilege_expire: int,
        pub_audio_privilege_expire: int,
        pub_video_privilege_expire: int,
        pub_data_stream_privilege_expire: int,
        rtm_user_id: str,
        rtm_token_expire: int,
        *,
        issue_ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """RTC token plus an RTM (type 2) login with its own user id and lifetime."""
        return _rtc_rtm_token(
            app_id,
            app_certificate,
            channel_name,
            rtc_account,
            rtc_role,
            rtc_token_expire,
            join_channel_privilege_expire,
            pub_audio_privilege_expire,
            pub_video_privilege_expire,
            pub_data_stream_privilege_expire,
            rtm_user_id,
            rtm_token_expire,
            None,
            issue_ts,
            salt,
        )


def _rtc_rtm_token(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    rtc_account: int | str,
    rtc_role: int,
    rtc_token_expire: int,
    join: int,
    audio: int,
    video: int,
    data: int,
    rtm_user_id: str,
    rtm_token_expire: int,
    extra: int | None,
    issue_ts: int | None,
    salt: int | None,
) -> str:
    expire, join, audio, video, data, rtm_expire = _lifetimes(
        rtc_token_expire, join, audio, video, data, rtm_token_expire
    )
    publisher = _is_publisher(rtc_role, "rtc_role")
    rtc = _rtc(channel_name, _uid(rtc_account), publisher, join, audio, video, data)
    services = [rtc, (_RTM, {RtmPrivilege.LOGIN.value: rtm_expire}, (rtm_user_id,))]
    if extra is not None:
        services.append((extra, {}, ()))
    return _token(app_id, app_certificate, expire, issue_ts, salt, services)


class RtmTokenBuilder:
    """RTM tokens: a login (type 2), or an RTM2 login with resource permissions (type 8)."""

    @staticmethod
    def build_token(
        app_id: str,
        app_certificate: str,
        user_id: str,
        expire: int,
        *,
        issue_ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """RTM login token for ``user_id``, valid ``expire`` seconds."""
        seconds = _lifetime(expire)
        rtm = (_RTM, {RtmPrivilege.LOGIN.value: seconds}, (user_id,))
        return _token(app_id, app_certificate, seconds, issue_ts, salt, [rtm])

    @staticmethod
    def build_token_with_permissions(
        app_id: str,
        app_certificate: str,
        user_id: str,
        permissions: Rtm2Permissions | None,
        expire: int = 0,
        *,
        issue_ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """RTM2 token with resource-level ``permissions`` (a ``ServiceRtm2.Permissions``)."""
        seconds = _lifetime(expire)
        rtm2 = ServiceRtm2(user_id, permissions)  # checks and converts the permissions argument
        rtm2._privileges[Rtm2Privilege.LOGIN.value] = seconds
        return _token(app_id, app_certificate, seconds, issue_ts, salt, [rtm2._wire()])


class ChatTokenBuilder:
    """Agora Chat tokens: one user (``build_user_token``) or the app's REST API (``build_app_token``)."""

    @staticmethod
    def build_user_token(
        app_id: str,
        app_certificate: str,
        user_id: str,
        expire: int,
        *,
        issue_ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """Chat user token for ``user_id`` (the Chat user's UUID), valid ``expire`` seconds."""
        seconds = _lifetime(expire)
        chat = (_CHAT, {_CHAT_USER: seconds}, (user_id,))
        return _token(app_id, app_certificate, seconds, issue_ts, salt, [chat])

    @staticmethod
    def build_app_token(
        app_id: str,
        app_certificate: str,
        expire: int,
        *,
        issue_ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """Chat app token (for the Chat REST API), valid ``expire`` seconds."""
        seconds = _lifetime(expire)
        chat = (_CHAT, {ChatPrivilege.APP.value: seconds}, ("",))
        return _token(app_id, app_certificate, seconds, issue_ts, salt, [chat])


def build_user_token(app_id: str, app_certificate: str, user_id: str, expire: int) -> str:
    """Chat user token (same as ``ChatTokenBuilder.build_user_token``)."""
    return ChatTokenBuilder.build_user_token(app_id, app_certificate, user_id, expire)


def build_app_token(app_id: str, app_certificate: str, expire: int) -> str:
    """Chat app token (same as ``ChatTokenBuilder.build_app_token``)."""
    return ChatTokenBuilder.build_app_token(app_id, app_certificate, expire)


class FpaTokenBuilder:
    """Fusion Path Acceleration tokens (24 hours, login without a separate limit)."""

    @staticmethod
    def build_token(
        app_id: str,
        app_certificate: str,
        *,
        issue_ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """FPA login token valid 24 hours."""
        fpa = (_FPA, {FpaPrivilege.LOGIN.value: 0}, ())
        return _token(app_id, app_certificate, FPA_TOKEN_LIFETIME, issue_ts, salt, [fpa])


class ApaasTokenBuilder:
    """APaaS / Flexible Classroom tokens: room user, user and app."""

    @staticmethod
    def build_room_user_token(
        app_id: str,
        app_certificate: str,
        room_uuid: str,
        user_uuid: str,
        role: int,
        expire: int,
        *,
        issue_ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """A user in a room: APaaS room-user + RTM login + Chat user (the MD5 hex of ``user_uuid``)."""
        seconds = _lifetime(expire)
        chat_user = hashlib.md5(check_text("user_uuid", user_uuid)).hexdigest()
        services: list[ServiceValues] = [
            (_RTM, {RtmPrivilege.LOGIN.value: seconds}, (user_uuid,)),
            (_CHAT, {_CHAT_USER: seconds}, (chat_user,)),
            (_APAAS, {ApaasPrivilege.ROOM_USER.value: seconds}, (room_uuid, user_uuid, role)),
        ]
        return _token(app_id, app_certificate, seconds, issue_ts, salt, services)

    @staticmethod
    def build_user_token(
        app_id: str,
        app_certificate: str,
        user_uuid: str,
        expire: int,
        *,
        issue_ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """A user outside any room."""
        seconds = _lifetime(expire)
        apaas = (_APAAS, {ApaasPrivilege.USER.value: seconds}, ("", user_uuid, -1))
        return _token(app_id, app_certificate, seconds, issue_ts, salt, [apaas])

    @staticmethod
    def build_app_token(
        app_id: str,
        app_certificate: str,
        expire: int,
        *,
        issue_ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """The app itself (server-side calls)."""
        seconds = _lifetime(expire)
        apaas = (_APAAS, {ApaasPrivilege.APP.value: seconds}, ("", "", -1))
        return _token(app_id, app_certificate, seconds, issue_ts, salt, [apaas])


class EducationTokenBuilder(ApaasTokenBuilder):
    """The older name of :class:`ApaasTokenBuilder` (same methods, same tokens)."""


class _RtcRtmServiceTokenBuilder:
    """RTC + RTM + one more service with an empty privilege map (the agent builders)."""

    #: the service type added with an empty privilege map
    _SERVICE: ClassVar[int]

    @classmethod
    def build_token(
        cls,
        app_id: str,
        app_certificate: str,
        channel_name: str,
        rtc_account: int | str,
        rtc_role: int,
        rtc_token_expire: int,
        join_channel_privilege_expire: int,
        pub_audio_privilege_expire: int,
        pub_video_privilege_expire: int,
        pub_data_stream_privilege_expire: int,
        rtm_user_id: str,
        rtm_token_expire: int,
        *,
        issue_ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """RTC (as ``RtcTokenBuilder.build_token_with_rtm2``) + RTM login + this builder's service."""
        return _rtc_rtm_token(
            app_id,
            app_certificate,
            channel_name,
            rtc_account,
            rtc_role,
            rtc_token_expire,
            join_channel_privilege_expire,
            pub_audio_privilege_expire,
            pub_video_privilege_expire,
            pub_data_stream_privilege_expire,
            rtm_user_id,
            rtm_token_expire,
            cls._SERVICE,
            issue_ts,
            salt,
        )


class ConvoAITokenBuilder(_RtcRtmServiceTokenBuilder):
    """Conversational AI agent tokens: RTC + RTM + the ConvoAI service."""

    _SERVICE = _Type.CONVOAI.value


class SttTokenBuilder(_RtcRtmServiceTokenBuilder):
    """Real-time speech-to-text tokens: RTC + RTM + the STT service."""

    _SERVICE = _Type.STT.value
