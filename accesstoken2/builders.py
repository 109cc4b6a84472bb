"""Token builders with the class names, method names and positional arguments of Agora's
reference Python builders.  Every method also takes keyword-only ``issue_ts`` and ``salt`` for
reproducible tokens (``None``: now, and a random salt)."""

from __future__ import annotations

import hashlib
from enum import IntEnum
from typing import ClassVar

from ._validate import check_text
from .errors import InvalidParameterError
from .services import (
    Rtm2Permissions,
    Service,
    ServiceApaas,
    ServiceChat,
    ServiceConvoAI,
    ServiceFpa,
    ServiceRtc,
    ServiceRtm,
    ServiceRtm2,
    ServiceStt,
)
from .token2 import AccessToken2

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


Role_Publisher = 1
Role_Subscriber = 2

FPA_TOKEN_LIFETIME = 24 * 3600


def _token(app_id: str, app_certificate: str, expire: int, issue_ts: int | None, salt: int | None) -> AccessToken2:
    return AccessToken2(app_id, app_certificate, issue_ts or 0, expire, salt=salt)


def _is_publisher(role: int, name: str = "role") -> bool:
    if isinstance(role, bool) or role not in (Role_Publisher, Role_Subscriber):
        raise InvalidParameterError(name, f"{name} must be Role_Publisher (1) or Role_Subscriber (2) (got {role!r})")
    return role == Role_Publisher


def _rtc_service(
    channel_name: str,
    account: int | str,
    publisher: bool,
    join: int,
    audio: int,
    video: int,
    data: int,
) -> ServiceRtc:
    service = ServiceRtc(channel_name, account)
    service.add_privilege(ServiceRtc.kPrivilegeJoinChannel, join)
    if publisher:
        service.add_privilege(ServiceRtc.kPrivilegePublishAudioStream, audio)
        service.add_privilege(ServiceRtc.kPrivilegePublishVideoStream, video)
        service.add_privilege(ServiceRtc.kPrivilegePublishDataStream, data)
    return service


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
    token = _token(app_id, app_certificate, token_expire, issue_ts, salt)
    e = privilege_expire
    return _built(token, _rtc_service(channel_name, account, _is_publisher(role), e, e, e, e))


def _with_privilege(service: Service, privilege: int, expire: int) -> Service:
    service.add_privilege(privilege, expire)
    return service


def _built(token: AccessToken2, *services: Service) -> str:
    token._services.extend(services)  # the builders make only Service instances
    return token.build()


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
        token = _token(app_id, app_certificate, token_expire, issue_ts, salt)
        service = _rtc_service(
            channel_name,
            account,
            True,
            join_channel_privilege_expire,
            pub_audio_privilege_expire,
            pub_video_privilege_expire,
            pub_data_stream_privilege_expire,
        )
        return _built(token, service)

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
        token = _token(app_id, app_certificate, token_expire, issue_ts, salt)
        e = privilege_expire
        rtc = _rtc_service(channel_name, account, _is_publisher(role), e, e, e, e)
        rtm = _with_privilege(ServiceRtm(rtc.uid), ServiceRtm.kPrivilegeLogin, token_expire)
        return _built(token, rtc, rtm)

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
    extra: Service | None,
    issue_ts: int | None,
    salt: int | None,
) -> str:
    token = _token(app_id, app_certificate, rtc_token_expire, issue_ts, salt)
    rtc = _rtc_service(channel_name, rtc_account, _is_publisher(rtc_role, "rtc_role"), join, audio, video, data)
    rtm = _with_privilege(ServiceRtm(rtm_user_id), ServiceRtm.kPrivilegeLogin, rtm_token_expire)
    return _built(token, rtc, rtm, *((extra,) if extra is not None else ()))


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
        token = _token(app_id, app_certificate, expire, issue_ts, salt)
        return _built(token, _with_privilege(ServiceRtm(user_id), ServiceRtm.kPrivilegeLogin, expire))

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
        token = _token(app_id, app_certificate, expire, issue_ts, salt)
        service = _with_privilege(ServiceRtm2(user_id, permissions), ServiceRtm2.kPrivilegeLogin, expire)
        return _built(token, service)


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
        token = _token(app_id, app_certificate, expire, issue_ts, salt)
        return _built(token, _with_privilege(ServiceChat(user_id), ServiceChat.kPrivilegeUser, expire))

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
        token = _token(app_id, app_certificate, expire, issue_ts, salt)
        return _built(token, _with_privilege(ServiceChat(), ServiceChat.kPrivilegeApp, expire))


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
        token = _token(app_id, app_certificate, FPA_TOKEN_LIFETIME, issue_ts, salt)
        return _built(token, _with_privilege(ServiceFpa(), ServiceFpa.kPrivilegeLogin, 0))


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
        token = _token(app_id, app_certificate, expire, issue_ts, salt)
        chat_user = hashlib.md5(check_text("user_uuid", user_uuid)).hexdigest()
        return _built(
            token,
            _with_privilege(ServiceApaas(room_uuid, user_uuid, role), ServiceApaas.kPrivilegeRoomUser, expire),
            _with_privilege(ServiceRtm(user_uuid), ServiceRtm.kPrivilegeLogin, expire),
            _with_privilege(ServiceChat(chat_user), ServiceChat.kPrivilegeUser, expire),
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
        token = _token(app_id, app_certificate, expire, issue_ts, salt)
        return _built(token, _with_privilege(ServiceApaas(user_uuid=user_uuid), ServiceApaas.kPrivilegeUser, expire))

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
        token = _token(app_id, app_certificate, expire, issue_ts, salt)
        return _built(token, _with_privilege(ServiceApaas(), ServiceApaas.kPrivilegeApp, expire))


class EducationTokenBuilder(ApaasTokenBuilder):
    """The older name of :class:`ApaasTokenBuilder` (same methods, same tokens)."""


class _RtcRtmServiceTokenBuilder:
    """RTC + RTM + one more service with an empty privilege map (the agent builders)."""

    _SERVICE: ClassVar[type[Service]]

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
            cls._SERVICE(),
            issue_ts,
            salt,
        )


class ConvoAITokenBuilder(_RtcRtmServiceTokenBuilder):
    """Conversational AI agent tokens: RTC + RTM + the ConvoAI service."""

    _SERVICE = ServiceConvoAI


class SttTokenBuilder(_RtcRtmServiceTokenBuilder):
    """Real-time speech-to-text tokens: RTC + RTM + the STT service."""

    _SERVICE = ServiceStt
