"""The legacy AccessToken, the "006" token: build, parse and verify.

Layout (see ``docs/FORMAT.md``)::

    token     = "006" + app_id + base64(str(signature) u32(crc32(channel_name)) u32(crc32(uid)) str(m))
    m         = u32(salt) u32(ts) u16(count) (u16(privilege) u32(expire_ts))...   sorted by privilege
    signature = HMAC-SHA256(key = app_certificate text, msg = app_id + channel_name + uid + m)

``ts`` and every privilege value are absolute Unix times (0 = no limit).  A token holds only the
CRC-32 of its channel name and uid, so :meth:`AccessToken.verify` needs both of them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType
from typing import Any

from .._listing import lowest
from .._redact import Redactor
from .._wire import kernel as _kernel
from .._wire.checks import check_text, check_u16, check_u32, is_hex32, uid_text
from .._wire.limits import DEFAULT_LIFETIME_006, MAX_PRIVILEGES_006
from ..errors import InvalidParameterError, ParameterTypeError, TokenError
from ..token2 import random_salt

__all__ = [
    "DEFAULT_LIFETIME",
    "AccessToken",
    "Privilege",
    "Privileges",
    "kAdministrateChannel",
    "kInvitePublishAudioStream",
    "kInvitePublishDataStream",
    "kInvitePublishVideoStream",
    "kJoinChannel",
    "kPublishAudioStream",
    "kPublishAudiocdn",
    "kPublishDataStream",
    "kPublishVideoCdn",
    "kPublishVideoStream",
    "kRequestPublishAudioStream",
    "kRequestPublishDataStream",
    "kRequestPublishVideoStream",
    "kRtmLogin",
]


class Privilege(IntEnum):
    """Privilege ids of the 006 token."""

    JOIN_CHANNEL = 1
    PUBLISH_AUDIO_STREAM = 2
    PUBLISH_VIDEO_STREAM = 3
    PUBLISH_DATA_STREAM = 4
    PUBLISH_AUDIO_CDN = 5
    PUBLISH_VIDEO_CDN = 6
    REQUEST_PUBLISH_AUDIO_STREAM = 7
    REQUEST_PUBLISH_VIDEO_STREAM = 8
    REQUEST_PUBLISH_DATA_STREAM = 9
    INVITE_PUBLISH_AUDIO_STREAM = 10
    INVITE_PUBLISH_VIDEO_STREAM = 11
    INVITE_PUBLISH_DATA_STREAM = 12
    ADMINISTRATE_CHANNEL = 101
    RTM_LOGIN = 1000


class Privileges(IntEnum):
    """The same ids with the names of Agora's reference ``AccessToken.py`` (reference aliases of :class:`Privilege`)."""

    kJoinChannel = Privilege.JOIN_CHANNEL.value
    kPublishAudioStream = Privilege.PUBLISH_AUDIO_STREAM.value
    kPublishVideoStream = Privilege.PUBLISH_VIDEO_STREAM.value
    kPublishDataStream = Privilege.PUBLISH_DATA_STREAM.value
    kPublishAudiocdn = Privilege.PUBLISH_AUDIO_CDN.value
    kPublishVideoCdn = Privilege.PUBLISH_VIDEO_CDN.value
    kRequestPublishAudioStream = Privilege.REQUEST_PUBLISH_AUDIO_STREAM.value
    kRequestPublishVideoStream = Privilege.REQUEST_PUBLISH_VIDEO_STREAM.value
    kRequestPublishDataStream = Privilege.REQUEST_PUBLISH_DATA_STREAM.value
    kInvitePublishAudioStream = Privilege.INVITE_PUBLISH_AUDIO_STREAM.value
    kInvitePublishVideoStream = Privilege.INVITE_PUBLISH_VIDEO_STREAM.value
    kInvitePublishDataStream = Privilege.INVITE_PUBLISH_DATA_STREAM.value
    kAdministrateChannel = Privilege.ADMINISTRATE_CHANNEL.value
    kRtmLogin = Privilege.RTM_LOGIN.value


kJoinChannel = Privileges.kJoinChannel
kPublishAudioStream = Privileges.kPublishAudioStream
kPublishVideoStream = Privileges.kPublishVideoStream
kPublishDataStream = Privileges.kPublishDataStream
kPublishAudiocdn = Privileges.kPublishAudiocdn
kPublishVideoCdn = Privileges.kPublishVideoCdn
kRequestPublishAudioStream = Privileges.kRequestPublishAudioStream
kRequestPublishVideoStream = Privileges.kRequestPublishVideoStream
kRequestPublishDataStream = Privileges.kRequestPublishDataStream
kInvitePublishAudioStream = Privileges.kInvitePublishAudioStream
kInvitePublishVideoStream = Privileges.kInvitePublishVideoStream
kInvitePublishDataStream = Privileges.kInvitePublishDataStream
kAdministrateChannel = Privileges.kAdministrateChannel
kRtmLogin = Privileges.kRtmLogin

#: ``ts`` defaults to now plus this many seconds, as in the reference.
DEFAULT_LIFETIME = DEFAULT_LIFETIME_006

# m carries a u16 length, so it holds at most this many privileges.
MAX_PRIVILEGES = MAX_PRIVILEGES_006

# signature, crc32(channel_name), crc32(uid), m
_Signed = tuple[bytes, int, int, bytes]
# app id, signed parts, salt, ts, privileges
_Decoded = tuple[str, _Signed, int, int, dict[int, int]]


def _decode(token: Any) -> _Decoded:
    if not isinstance(token, str):
        raise ParameterTypeError("token", f"token must be a str, not {type(token).__name__}")
    app_id, signature, crc_channel_name, crc_uid, message, salt, ts, privileges = _kernel.active.parse006(token)
    return app_id, (signature, crc_channel_name, crc_uid, message), salt, ts, privileges


def _require_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ParameterTypeError(name, f"{name} must be a str of 32 hexadecimal characters, not {type(value).__name__}")
    return value


class AccessToken:
    """A legacy AccessToken ("006"): app id, channel name, uid, timestamp, salt and privileges.

    ``uid`` is an int from 0 to 2**32-1 (0 is the wildcard, written as "") or a str (kept as
    is, so "0" stays "0").  ``ts`` is an absolute Unix time (default: now + 24 h); ``salt``
    defaults to a random 1..99,999,999 from :mod:`secrets`.  Add privileges with
    :meth:`add_privilege`, then :meth:`build`.  Read a token string with :meth:`parse` and check
    it with :meth:`verify`.
    """

    __slots__ = (
        "_app_certificate",
        "_app_id",
        "_built",
        "_channel_name",
        "_crc_channel_name",
        "_crc_uid",
        "_privileges",
        "_salt",
        "_signed",
        "_ts",
        "_uid",
    )

    def __init__(
        self,
        app_id: str = "",
        app_certificate: str = "",
        channel_name: str = "",
        uid: int | str = "",
        *,
        ts: int | None = None,
        salt: int | None = None,
    ) -> None:
        self._app_id = _require_str("app_id", app_id)
        self._app_certificate = _require_str("app_certificate", app_certificate)
        channel = check_text("channel_name", channel_name)
        uid_bytes = check_text("uid", uid_text("uid", uid))
        self._channel_name: bytes | None = channel
        self._uid: bytes | None = uid_bytes
        self._crc_channel_name: int = _kernel.active.crc32(channel)
        self._crc_uid: int = _kernel.active.crc32(uid_bytes)
        self._ts = int(time.time()) + DEFAULT_LIFETIME if ts is None else check_u32("ts", ts)
        self._salt = random_salt() if salt is None else check_u32("salt", salt)
        self._privileges: dict[int, int] = {}
        self._built: str | None = None
        self._signed: _Signed | None = None

    @property
    def app_id(self) -> str:
        return self._app_id

    @property
    def channel_name(self) -> str | None:
        """The channel name, or None for a parsed token (which holds only its CRC)."""
        return None if self._channel_name is None else self._channel_name.decode("utf-8")

    @property
    def uid(self) -> str | None:
        """The uid as written ("" for the wildcard), or None for a parsed token."""
        return None if self._uid is None else self._uid.decode("utf-8")

    @property
    def ts(self) -> int:
        """The message timestamp, absolute Unix seconds."""
        return self._ts

    @property
    def salt(self) -> int:
        return self._salt

    @property
    def privileges(self) -> Mapping[int, int]:
        """Privilege id -> absolute Unix expiry time (0 = no limit), read-only."""
        return MappingProxyType(self._privileges)

    messages = privileges

    @property
    def crc_channel_name(self) -> int:
        """CRC-32 of the channel name."""
        return self._crc_channel_name

    @property
    def crc_uid(self) -> int:
        """CRC-32 of the uid text."""
        return self._crc_uid

    @property
    def signature(self) -> bytes | None:
        """The HMAC-SHA256 signature of the last built or parsed token, or None."""
        signed = self._signed_parts()
        return None if signed is None else signed[0]

    def _signed_parts(self) -> _Signed | None:
        if self._signed is None and self._built is not None:
            self._signed = _decode(self._built)[1]
        return self._signed

    def add_privilege(self, privilege: int, expire_ts: int) -> None:
        """Grant ``privilege`` (a u16 id, see :class:`Privileges`) until ``expire_ts``.

        ``expire_ts`` is an absolute Unix time; 0 means no limit.  Adding a privilege again
        replaces its expiry.
        """
        key = check_u16("privilege", privilege)
        value = check_u32("expire_ts", expire_ts)
        if key not in self._privileges and len(self._privileges) >= MAX_PRIVILEGES:
            raise InvalidParameterError("privilege", f"a 006 token holds at most {MAX_PRIVILEGES} distinct privileges")
        self._privileges[key] = value

    addPrivilege = add_privilege

    def build(self) -> str:
        """The token string.  Raises instead of ever returning an empty or invalid token."""
        if self._channel_name is None or self._uid is None:
            raise InvalidParameterError(
                "channel_name",
                "a parsed 006 token holds only CRCs of its channel name and uid, so it cannot be rebuilt; "
                "create a new AccessToken with them",
            )
        token: str = _kernel.active.build006(
            self._app_id, self._app_certificate, self._channel_name, self._uid, self._salt, self._ts, self._privileges
        )
        self._built = token
        self._signed = None
        return token

    @classmethod
    def parse(cls, token: str) -> AccessToken:
        """Read a "006" token string.  Raises :class:`MalformedTokenError` if it is not one.

        The result has no certificate, channel name or uid; verify it with :meth:`verify`.
        """
        result = cls.__new__(cls)
        result._app_certificate = ""
        result._load(_decode(token))
        return result

    def _load(self, decoded: _Decoded) -> None:
        app_id, signed, salt, ts, privileges = decoded
        self._app_id = app_id
        self._channel_name = self._uid = None
        self._crc_channel_name = signed[1]
        self._crc_uid = signed[2]
        self._ts = ts
        self._salt = salt
        self._privileges = privileges
        self._built = None
        self._signed = signed

    def from_string(self, origin_token: str) -> bool:
        """Reference API: load ``origin_token`` into this object; False (state unchanged) on failure.

        On success the app id, timestamp, salt, privileges, CRCs and signature come from the
        token; the channel name and uid become unknown (None).
        """
        try:
            decoded = _decode(origin_token)
        except TokenError:
            return False
        self._load(decoded)
        return True

    fromString = from_string

    def verify(self, app_certificate: str, channel_name: str, uid: int | str) -> bool:
        """True when the last built or parsed token was signed with ``app_certificate`` for this
        ``channel_name`` and ``uid``.

        This checks the signature only (over the channel and uid, against the CRCs).  True does not mean
        Agora will accept the token: it may have expired, or lack a privilege.  To ask that, use
        ``accesstoken2.validate(token, app_certificate, channel_name=..., uid=...)``, which raises
        :class:`~accesstoken2.errors.TokenRejectedError` saying why.

        The signature is recomputed over the message bytes as received and compared in
        constant time.  A certificate that is not 32 hexadecimal characters gives False.
        """
        if not isinstance(app_certificate, str):
            raise ParameterTypeError(
                "app_certificate", f"app_certificate must be a str, not {type(app_certificate).__name__}"
            )
        channel = check_text("channel_name", channel_name)
        uid_bytes = check_text("uid", uid_text("uid", uid))
        signed = self._signed_parts()
        if signed is None or not is_hex32(app_certificate) or not is_hex32(self._app_id):
            return False
        signature, crc_channel_name, crc_uid, message = signed
        kernel = _kernel.active
        same = kernel.verify006(
            signature, self._app_id.encode("ascii"), app_certificate.encode("ascii"), channel, uid_bytes, message
        )
        crcs_match = crc_channel_name == kernel.crc32(channel) and crc_uid == kernel.crc32(uid_bytes)
        return same and crcs_match

    def __repr__(self) -> str:
        if self._channel_name is None or self._uid is None:
            subject = f"crc_channel_name={self._crc_channel_name:#010x}, crc_uid={self._crc_uid:#010x}"
        else:
            subject = f"channel_name={self.channel_name!r}, uid={self.uid!r}"
        # a crafted token holds 10,920 privileges: the lowest ids are shown, the others counted
        listed = lowest(self._privileges)
        more = len(self._privileges) - len(listed)
        privileges = f"{dict(listed)}" if not more else f"{str(dict(listed))[:-1]}, ... {more:,} more}}"
        text = (
            f"AccessToken(app_id={self._app_id!r}, {subject}, ts={self._ts}, salt={self._salt}, "
            f"privileges={privileges})"
        )
        # the certificate, should it be passed where a channel name or uid goes, in any letter case
        return Redactor(self._app_certificate)(text)
