"""Builders of legacy "006" tokens with the names of Agora's reference ``RtcTokenBuilder.py`` and
``RtmTokenBuilder.py``.

Every method has a snake_case alias and takes keyword-only ``ts`` (the message timestamp,
default now + 24 h) and ``salt`` (default random) for reproducible tokens.  Privilege expiry
times are absolute Unix seconds; 0 means no limit.  An expiry time before the year 2000 (such as
3600, a lifetime where the 007 builders take one) gets a :class:`UserWarning`, and the token is
built all the same, as the reference builds it.
"""

from __future__ import annotations

from typing import Any

from .._wire import kernel as _kernel
from .._wire.checks import YEAR_2000, check_choice, check_text, check_u32, warn_relative_006
from .access_token import AccessToken, Privilege

__all__ = [
    "Role_Admin",
    "Role_Attendee",
    "Role_Publisher",
    "Role_Rtm_User",
    "Role_Subscriber",
    "RtcTokenBuilder",
    "RtmTokenBuilder",
]

Role_Attendee = 0  # deprecated: same as Role_Publisher
Role_Publisher = 1
Role_Subscriber = 2
Role_Admin = 101  # deprecated: same as Role_Publisher

Role_Rtm_User = 1

_PUBLISHING_ROLES = (Role_Attendee, Role_Publisher, Role_Admin)
_RTC_PRIVILEGES = (
    Privilege.JOIN_CHANNEL,
    Privilege.PUBLISH_AUDIO_STREAM,
    Privilege.PUBLISH_VIDEO_STREAM,
    Privilege.PUBLISH_DATA_STREAM,
)


_ROLES = {
    Role_Attendee: "Role_Attendee",
    Role_Publisher: "Role_Publisher",
    Role_Subscriber: "Role_Subscriber",
    Role_Admin: "Role_Admin",
}


# the privileges each role gets, by the exact int a role is (_rtc_role_token's table; check_choice is the rule)
_ROLE_PRIVILEGES = {
    role: tuple(int(privilege) for privilege in (_RTC_PRIVILEGES if role in _PUBLISHING_ROLES else _RTC_PRIVILEGES[:1]))
    for role in _ROLES
}


def _is_publisher(role: Any) -> bool:
    return check_choice("role", role, _ROLES) in _PUBLISHING_ROLES


def _rtc_token(
    appId: str,
    appCertificate: str,
    channelName: str,
    account: int | str,
    expiries: tuple[int, ...],
    ts: int | None,
    salt: int | None,
) -> str:
    token = AccessToken(appId, appCertificate, channelName, account, ts=ts, salt=salt)
    for privilege, expire in zip(_RTC_PRIVILEGES, expiries):
        token.add_privilege(privilege, expire)
    return token.build()


def _rtc_role_token(
    app_id: Any, certificate: Any, channel: Any, account: Any, role: Any, expiry: Any, ts: Any, salt: Any
) -> str:
    """build_token_with_account.  The common arguments (a known role and an expiry time that needs no warning,
    0 or from the year 2000, as exact ints; ts and salt defaulted) go to the kernel in one call, build006_grant,
    which takes exact str and int and ASCII text and declines (None) anything else.  Any other arguments, and
    those it declines, take the full path, whose checks (checks.py) give every argument its own error and
    warning."""
    privileges = _ROLE_PRIVILEGES.get(role) if type(role) is int and ts is None and salt is None else None
    if privileges is not None and type(expiry) is int and (expiry == 0 or YEAR_2000 <= expiry):
        token = _kernel.active.build006_grant(app_id, certificate, channel, account, privileges, expiry)
        if token is not None:
            return token
    publisher = _is_publisher(role)
    expire = check_u32("privilegeExpiredTs", expiry)
    warn_relative_006(privilegeExpiredTs=expire)
    expiries = (expire, expire, expire, expire) if publisher else (expire,)
    return _rtc_token(app_id, certificate, channel, account, expiries, ts, salt)


class RtcTokenBuilder:
    """006 RTC tokens: join a channel and, for publishers, publish audio, video and data."""

    @staticmethod
    def build_token_with_uid(
        appId: str,
        appCertificate: str,
        channelName: str,
        uid: int | str,
        role: int,
        privilegeExpiredTs: int,
        *,
        ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """Token for a numeric ``uid`` (0: any uid) valid until ``privilegeExpiredTs``.

        ``privilegeExpiredTs`` is an absolute Unix time (``int(time.time()) + 3600``), unlike the lifetime the
        007 method of the same name takes; a value before the year 2000 warns.
        """
        return _rtc_role_token(appId, appCertificate, channelName, uid, role, privilegeExpiredTs, ts, salt)

    @staticmethod
    def build_token_with_account(
        appId: str,
        appCertificate: str,
        channelName: str,
        account: int | str,
        role: int,
        privilegeExpiredTs: int,
        *,
        ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """Token for a user ``account``.  Publisher, attendee and admin get privileges 1-4;
        a subscriber gets only 1 (join channel)."""
        return _rtc_role_token(appId, appCertificate, channelName, account, role, privilegeExpiredTs, ts, salt)

    @staticmethod
    def build_token_with_uid_and_privilege(
        appId: str,
        appCertificate: str,
        channelName: str,
        uid: int | str,
        joinChannelPrivilegeExpiredTs: int,
        pubAudioPrivilegeExpiredTs: int,
        pubVideoPrivilegeExpiredTs: int,
        pubDataStreamPrivilegeExpiredTs: int,
        *,
        ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """Token for a numeric ``uid`` with a separate expiry time for each of privileges 1-4."""
        return RtcTokenBuilder.build_token_with_user_account_and_privilege(
            appId,
            appCertificate,
            channelName,
            uid,
            joinChannelPrivilegeExpiredTs,
            pubAudioPrivilegeExpiredTs,
            pubVideoPrivilegeExpiredTs,
            pubDataStreamPrivilegeExpiredTs,
            ts=ts,
            salt=salt,
        )

    @staticmethod
    def build_token_with_user_account_and_privilege(
        appId: str,
        appCertificate: str,
        channelName: str,
        account: int | str,
        joinChannelPrivilegeExpiredTs: int,
        pubAudioPrivilegeExpiredTs: int,
        pubVideoPrivilegeExpiredTs: int,
        pubDataStreamPrivilegeExpiredTs: int,
        *,
        ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """Token for a user ``account`` with a separate expiry time for each of privileges 1-4."""
        expiries = (
            check_u32("joinChannelPrivilegeExpiredTs", joinChannelPrivilegeExpiredTs),
            check_u32("pubAudioPrivilegeExpiredTs", pubAudioPrivilegeExpiredTs),
            check_u32("pubVideoPrivilegeExpiredTs", pubVideoPrivilegeExpiredTs),
            check_u32("pubDataStreamPrivilegeExpiredTs", pubDataStreamPrivilegeExpiredTs),
        )
        warn_relative_006(
            joinChannelPrivilegeExpiredTs=expiries[0],
            pubAudioPrivilegeExpiredTs=expiries[1],
            pubVideoPrivilegeExpiredTs=expiries[2],
            pubDataStreamPrivilegeExpiredTs=expiries[3],
        )
        return _rtc_token(appId, appCertificate, channelName, account, expiries, ts, salt)

    # the reference's names (aliases)
    buildTokenWithUid = build_token_with_uid
    buildTokenWithAccount = build_token_with_account
    buildTokenWithUidAndPrivilege = build_token_with_uid_and_privilege
    buildTokenWithUserAccountAndPrivilege = build_token_with_user_account_and_privilege


class RtmTokenBuilder:
    """006 RTM tokens: the user account goes in the channel-name slot, the uid is empty."""

    @staticmethod
    def build_token(
        appId: str,
        appCertificate: str,
        userAccount: str,
        role: int,
        privilegeExpiredTs: int,
        *,
        ts: int | None = None,
        salt: int | None = None,
    ) -> str:
        """Token granting RTM login (privilege 1000) to ``userAccount`` until ``privilegeExpiredTs``."""
        check_text("userAccount", userAccount)
        check_choice("role", role, {Role_Rtm_User: "Role_Rtm_User"})
        expire = check_u32("privilegeExpiredTs", privilegeExpiredTs)
        warn_relative_006(privilegeExpiredTs=expire)
        token = AccessToken(appId, appCertificate, userAccount, "", ts=ts, salt=salt)
        token.add_privilege(Privilege.RTM_LOGIN, expire)
        return token.build()

    # the reference's name (an alias)
    buildToken = build_token
