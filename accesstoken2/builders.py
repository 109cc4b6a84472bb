"""Token builders with the class names, method names and positional arguments of Agora's
reference Python builders.  Every method also takes keyword-only ``issue_ts`` and ``salt`` for
reproducible tokens (``None``: now, and a random salt)."""

from __future__ import annotations

import hashlib
from enum import IntEnum
from typing import Any, ClassVar

from ._wire import kernel as _kernel
from ._wire.checks import check_choice, check_text
from ._wire.shapes import Account, builder_shape
from ._wire.specs import ApaasPrivilege, ChatPrivilege, FpaPrivilege, RtcPrivilege, Rtm2Privilege, RtmPrivilege
from ._wire.specs import ServiceType as _Type
from .services import Rtm2Permissions, ServiceRtm2

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

# What each builder writes (docs/FORMAT.md, "What the builders write"), compiled once into the program the
# kernel's build007_shape runs.  A call passes only its lifetimes (the first: the token's expire) and its field
# values, in the order the shape names them (after the builder's parameters); the kernel checks them (lifetimes,
# accounts, issue_ts, salt, ids, fields, in this order), packs, signs, compresses and encodes.
_JOIN = RtcPrivilege.JOIN_CHANNEL.value
_AUDIO = RtcPrivilege.PUBLISH_AUDIO_STREAM.value
_VIDEO = RtcPrivilege.PUBLISH_VIDEO_STREAM.value
_DATA = RtcPrivilege.PUBLISH_DATA_STREAM.value
_LOGIN = RtmPrivilege.LOGIN.value

# RTC with one privilege lifetime (a uid is a number or text, an account text: both fill the account slot)
_RTC_LIFETIMES = ("token_expire", "privilege_expire")
_RTC_VALUES = ("channel_name", "account")
_RTC_FIELDS = ("channel_name", Account("account"))
_RTC_PUBLISHER = (_Type.RTC, dict.fromkeys((_JOIN, _AUDIO, _VIDEO, _DATA), "privilege_expire"), _RTC_FIELDS)
_RTC_SUBSCRIBER = (_Type.RTC, {_JOIN: "privilege_expire"}, _RTC_FIELDS)
# ... or with one lifetime per privilege
_EACH_LIFETIMES = (
    "token_expire",
    "join_channel_privilege_expire",
    "pub_audio_privilege_expire",
    "pub_video_privilege_expire",
    "pub_data_stream_privilege_expire",
)
_EACH_PUBLISHER = (
    _Type.RTC,
    {
        _JOIN: "join_channel_privilege_expire",
        _AUDIO: "pub_audio_privilege_expire",
        _VIDEO: "pub_video_privilege_expire",
        _DATA: "pub_data_stream_privilege_expire",
    },
    _RTC_FIELDS,
)
_EACH_SUBSCRIBER = (_Type.RTC, {_JOIN: "join_channel_privilege_expire"}, _RTC_FIELDS)
#: role -> the shape of build_token_with_uid / _with_user_account
_RTC = {
    role: builder_shape(rtc, lifetimes=_RTC_LIFETIMES, values=_RTC_VALUES)
    for role, rtc in ((Role_Publisher, _RTC_PUBLISHER), (Role_Subscriber, _RTC_SUBSCRIBER))
}
_RTC_PRIVILEGES = builder_shape(_EACH_PUBLISHER, lifetimes=_EACH_LIFETIMES, values=_RTC_VALUES)
#: role -> build_token_with_rtm: + RTM login for the same account, lasting the token
_RTC_RTM = {
    role: builder_shape(
        rtc, (_Type.RTM, {_LOGIN: "token_expire"}, (Account("account"),)), lifetimes=_RTC_LIFETIMES, values=_RTC_VALUES
    )
    for role, rtc in ((Role_Publisher, _RTC_PUBLISHER), (Role_Subscriber, _RTC_SUBSCRIBER))
}
#: extra service type or None -> role -> build_token_with_rtm2 and the agent builders (a subscriber gets only join)
_RTC_RTM2 = {
    extra: {
        role: builder_shape(
            rtc,
            (_Type.RTM, {_LOGIN: "rtm_token_expire"}, ("rtm_user_id",)),
            *([(extra, {}, ())] if extra is not None else []),
            lifetimes=(*_EACH_LIFETIMES, "rtm_token_expire"),
            values=(*_RTC_VALUES, "rtm_user_id"),
        )
        for role, rtc in ((Role_Publisher, _EACH_PUBLISHER), (Role_Subscriber, _EACH_SUBSCRIBER))
    }
    for extra in (None, _Type.CONVOAI.value, _Type.STT.value)
}
_RTM_LOGIN = builder_shape((_Type.RTM, {_LOGIN: "expire"}, ("user_id",)), values=("user_id",))
_RTM2_LOGIN = builder_shape(
    (_Type.RTM2, {Rtm2Privilege.LOGIN: "expire"}, ("user_id", "permissions")), values=("user_id", "permissions")
)
_CHAT_USER = builder_shape((_Type.CHAT, {ChatPrivilege.USER: "expire"}, ("user_id",)), values=("user_id",))
# the app token's user id is empty
_CHAT_APP = builder_shape((_Type.CHAT, {ChatPrivilege.APP: "expire"}, ("user_id",)), values=("user_id",))
# FPA: 24 hours, and a login without a limit of its own (0)
_FPA_LOGIN = builder_shape(
    (_Type.FPA, {FpaPrivilege.LOGIN: "privilege_expire"}, ()), lifetimes=("expire", "privilege_expire")
)
# APaaS: a room user also logs in to RTM as the user and to Chat as the MD5 hex of the user's UUID
_APAAS_VALUES = ("room_uuid", "user_uuid", "role")
_APAAS_ROOM_USER = builder_shape(
    (_Type.RTM, {_LOGIN: "expire"}, ("user_uuid",)),
    (_Type.CHAT, {ChatPrivilege.USER: "expire"}, ("chat_user_id",)),
    (_Type.APAAS, {ApaasPrivilege.ROOM_USER: "expire"}, _APAAS_VALUES),
    values=("room_uuid", "user_uuid", "chat_user_id", "role"),
)
_APAAS_USER = builder_shape((_Type.APAAS, {ApaasPrivilege.USER: "expire"}, _APAAS_VALUES), values=_APAAS_VALUES)
_APAAS_APP = builder_shape((_Type.APAAS, {ApaasPrivilege.APP: "expire"}, _APAAS_VALUES), values=_APAAS_VALUES)

_ROLES = {Role_Publisher: "Role_Publisher", Role_Subscriber: "Role_Subscriber"}


def _role(role: Any, name: str = "role") -> int:
    """A role as check_choice accepts it (the slow path of the builders' ``type(role) is int`` lookups)."""
    return check_choice(name, role, _ROLES)


def _rtc_token(
    shapes: dict[int, bytes],
    role: Any,
    app_id: str,
    app_certificate: str,
    issue_ts: int | None,
    salt: int | None,
    lifetimes: tuple[Any, ...],
    values: tuple[Any, ...],
    name: str = "role",
) -> str:
    """The token of an RTC builder whose shape depends on the role (the parameter ``name``)."""
    # fast path: an exact int 1 or 2, as check_choice demands
    shape = shapes.get(role) if type(role) is int else None
    return _kernel.active.build007_shape(
        shape or shapes[_role(role, name)], app_id, app_certificate, issue_ts, salt, lifetimes, values
    )


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
        # fast path: _rtc_token(_RTC, ...) written out, one Python call less on the most used RTC builder
        shape = _RTC.get(role) if type(role) is int else None
        lifetimes, values = (token_expire, privilege_expire), (channel_name, uid)
        return _kernel.active.build007_shape(
            shape or _RTC[_role(role)], app_id, app_certificate, issue_ts, salt, lifetimes, values
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
        lifetimes, values = (token_expire, privilege_expire), (channel_name, account)
        return _rtc_token(_RTC, role, app_id, app_certificate, issue_ts, salt, lifetimes, values)

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
        return _kernel.active.build007_shape(
            _RTC_PRIVILEGES,
            app_id,
            app_certificate,
            issue_ts,
            salt,
            (
                token_expire,
                join_channel_privilege_expire,
                pub_audio_privilege_expire,
                pub_video_privilege_expire,
                pub_data_stream_privilege_expire,
            ),
            (channel_name, account),
        )

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
        lifetimes, values = (token_expire, privilege_expire), (channel_name, account)
        return _rtc_token(_RTC_RTM, role, app_id, app_certificate, issue_ts, salt, lifetimes, values)

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
    lifetimes = (rtc_token_expire, join, audio, video, data, rtm_token_expire)
    values = (channel_name, rtc_account, rtm_user_id)
    return _rtc_token(
        _RTC_RTM2[extra], rtc_role, app_id, app_certificate, issue_ts, salt, lifetimes, values, "rtc_role"
    )


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
        return _kernel.active.build007_shape(_RTM_LOGIN, app_id, app_certificate, issue_ts, salt, (expire,), (user_id,))

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
        _, _, fields = ServiceRtm2(user_id, permissions)._wire()  # checks and converts the permissions argument
        return _kernel.active.build007_shape(_RTM2_LOGIN, app_id, app_certificate, issue_ts, salt, (expire,), fields)


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
        return _kernel.active.build007_shape(_CHAT_USER, app_id, app_certificate, issue_ts, salt, (expire,), (user_id,))

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
        return _kernel.active.build007_shape(_CHAT_APP, app_id, app_certificate, issue_ts, salt, (expire,), ("",))


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
        lifetimes = (FPA_TOKEN_LIFETIME, 0)
        return _kernel.active.build007_shape(_FPA_LOGIN, app_id, app_certificate, issue_ts, salt, lifetimes, ())


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
        chat_user = hashlib.md5(check_text("user_uuid", user_uuid)).hexdigest()
        values = (room_uuid, user_uuid, chat_user, role)
        return _kernel.active.build007_shape(
            _APAAS_ROOM_USER, app_id, app_certificate, issue_ts, salt, (expire,), values
        )

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
        values = ("", user_uuid, -1)
        return _kernel.active.build007_shape(_APAAS_USER, app_id, app_certificate, issue_ts, salt, (expire,), values)

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
        values = ("", "", -1)
        return _kernel.active.build007_shape(_APAAS_APP, app_id, app_certificate, issue_ts, salt, (expire,), values)


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
