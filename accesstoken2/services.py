"""The ten AccessToken2 services, with the class names, constants and constructors of Agora's
reference Python builders, plus :class:`enum.IntEnum` names for new code."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from enum import IntEnum
from types import MappingProxyType
from typing import Any, ClassVar

from ._layout import U16_MAX, U32_MAX
from ._validate import TEN_YEARS, check_i16, check_text, check_u16, check_u32, uid_text, warn_if_timestamp
from .errors import InvalidParameterError, ParameterTypeError

__all__ = [
    "SERVICE_CLASSES",
    "ApaasPrivilege",
    "ChatPrivilege",
    "FcdnPrivilege",
    "FpaPrivilege",
    "RtcPrivilege",
    "Rtm2PermissionType",
    "Rtm2Permissions",
    "Rtm2Privilege",
    "Rtm2ResourceType",
    "RtmPrivilege",
    "Service",
    "ServiceApaas",
    "ServiceChat",
    "ServiceConvoAI",
    "ServiceEducation",
    "ServiceFCdn",
    "ServiceFpa",
    "ServiceRtc",
    "ServiceRtm",
    "ServiceRtm2",
    "ServiceStreaming",
    "ServiceStt",
    "ServiceType",
    "StreamingPrivilege",
]

_U16 = struct.Struct("<H")
_I16 = struct.Struct("<h")
_HEAD = struct.Struct("<HH")
_ENTRY = struct.Struct("<HI")


class ServiceType(IntEnum):
    """Service type ids as written on the wire."""

    RTC = 1
    RTM = 2
    STREAMING = 3
    FPA = 4
    CHAT = 5
    FCDN = 6
    APAAS = 7
    RTM2 = 8
    CONVOAI = 9
    STT = 10


class RtcPrivilege(IntEnum):
    JOIN_CHANNEL = 1
    PUBLISH_AUDIO_STREAM = 2
    PUBLISH_VIDEO_STREAM = 3
    PUBLISH_DATA_STREAM = 4


class RtmPrivilege(IntEnum):
    LOGIN = 1


class StreamingPrivilege(IntEnum):
    PUBLISH_MIX_STREAM = 1
    PUBLISH_RAW_STREAM = 2


class FpaPrivilege(IntEnum):
    LOGIN = 1


class ChatPrivilege(IntEnum):
    USER = 1
    APP = 2


class FcdnPrivilege(IntEnum):
    PUBLISH = 1
    PLAY = 2


class ApaasPrivilege(IntEnum):
    ROOM_USER = 1
    USER = 2
    APP = 3


class Rtm2Privilege(IntEnum):
    LOGIN = 1


class Rtm2ResourceType(IntEnum):
    MESSAGE_CHANNELS = 0
    STREAM_CHANNELS = 1
    GROUP_CHANNELS = 2
    SERVER_GROUPS = 3
    USERS = 4


class Rtm2PermissionType(IntEnum):
    READ = 0
    WRITE = 1


def _check_count(name: str, count: int) -> None:
    if count > U16_MAX:
        raise InvalidParameterError(name, f"{name} holds {count} entries; at most {U16_MAX} are allowed")


def _text(value: bytes) -> bytes:
    return _U16.pack(len(value)) + value


class Service:
    """One service of an AccessToken2: a type, a privilege map and the fields of its type.

    Privilege values are seconds counted from the token's issue time (0: as long as the token).
    """

    kServiceType: ClassVar[int] = 0
    #: names of the fields written after the privilege map, in wire order
    FIELDS: ClassVar[tuple[str, ...]] = ()
    #: the slots holding those fields, in the same order
    _FIELD_SLOTS: ClassVar[tuple[str, ...]] = ()
    #: the IntEnum of this service's privileges, if it defines any
    Privilege: ClassVar[type[IntEnum] | None] = None

    __slots__ = ("_body", "_privileges")

    def __init__(self) -> None:
        self._privileges: dict[int, int] = {}
        self._body: bytes | None = b""

    @property
    def name(self) -> str:
        """The service's name (``"RTC"``, ``"Chat"``, ...)."""
        return SERVICE_NAMES[self.kServiceType]

    @property
    def privileges(self) -> Mapping[int, int]:
        """Read-only view of privilege id -> seconds from the issue time."""
        return MappingProxyType(self._privileges)

    def service_type(self) -> int:
        """The wire type of this service (reference API)."""
        return self.kServiceType

    def add_privilege(self, privilege: int, expire: int) -> None:
        """Grant ``privilege`` for ``expire`` seconds from the issue time (0: as long as the token)."""
        if type(privilege) is int and type(expire) is int and 0 <= privilege <= U16_MAX and 0 <= expire <= TEN_YEARS:
            self._privileges[privilege] = expire
            return
        key = check_u16("privilege", privilege)
        value = check_u32("expire", expire)
        warn_if_timestamp("expire", value)
        self._privileges[key] = value

    def fields(self) -> dict[str, Any]:
        """The service's fields by name, in wire order."""
        return {name: getattr(self, name) for name in self.FIELDS}

    def _encode_body(self) -> bytes:
        """The fields' wire bytes, validated."""
        return b""

    def _pack_body(self) -> bytes:
        body = self._body
        if body is None:
            body = self._body = self._encode_body()
        return body

    def pack(self) -> bytes:
        """The service's wire bytes: type, sorted privilege map, fields."""
        privileges = self._privileges
        _check_count("privileges", len(privileges))
        entries = [_ENTRY.pack(key, privileges[key]) for key in sorted(privileges)]
        return b"".join([_HEAD.pack(self.kServiceType, len(privileges)), *entries, self._pack_body()])

    @classmethod
    def _from_wire(cls, privileges: dict[int, int], fields: tuple[Any, ...]) -> Service:
        """A service from parsed wire values (already range-checked by the kernel)."""
        service = cls.__new__(cls)
        service._privileges = privileges
        service._body = None
        for slot, value in zip(cls._FIELD_SLOTS, fields):
            setattr(service, slot, value)
        return service

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Service):
            return NotImplemented
        return (
            self.kServiceType == other.kServiceType
            and self._privileges == other._privileges
            and self.fields() == other.fields()
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        parts = [f"{name}={value!r}" for name, value in self.fields().items()]
        parts.append(f"privileges={self._privileges!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class _ChannelAccountService(Service):
    """RTC, Streaming and FCDN: a channel name and a uid or account."""

    __slots__ = ("_account", "_channel_name")
    _ACCOUNT_PARAMETER: ClassVar[str] = "account"
    _FIELD_SLOTS = ("_channel_name", "_account")

    def __init__(self, channel_name: str = "", account: int | str = "") -> None:
        self._privileges = {}
        self._channel_name = channel_name
        if type(account) is int and 0 < account <= U32_MAX:
            self._account = str(account)
        else:
            self._account = uid_text(self._ACCOUNT_PARAMETER, account)
        self._body = self._encode_body()

    def _encode_body(self) -> bytes:
        channel = check_text("channel_name", self._channel_name)
        account = check_text(self._ACCOUNT_PARAMETER, self._account)
        return b"".join((_U16.pack(len(channel)), channel, _U16.pack(len(account)), account))

    @property
    def channel_name(self) -> str:
        return self._channel_name


class ServiceRtc(_ChannelAccountService):
    """RTC (type 1): join a channel and publish audio, video and data streams.

    ``uid`` is a number from 0 to 2**32-1 (0: any uid, written as the empty string) or a
    user account string; the string ``"0"`` stays ``"0"``.
    """

    kServiceType = 1
    kPrivilegeJoinChannel = 1
    kPrivilegePublishAudioStream = 2
    kPrivilegePublishVideoStream = 3
    kPrivilegePublishDataStream = 4
    FIELDS = ("channel_name", "uid")
    Privilege = RtcPrivilege
    _ACCOUNT_PARAMETER = "uid"
    __slots__ = ()

    def __init__(self, channel_name: str = "", uid: int | str = 0) -> None:
        super().__init__(channel_name, uid)

    @property
    def uid(self) -> str:
        """The uid as written in the token (``""`` for uid 0)."""
        return self._account


class _AccountMixin:
    __slots__ = ()
    _account: str

    @property
    def account(self) -> str:
        """The account as written in the token (``""`` for the number 0)."""
        return self._account


class ServiceStreaming(_AccountMixin, _ChannelAccountService):
    """Streaming (type 3): publish mix and raw streams."""

    kServiceType = 3
    kPrivilegePublishMixStream = 1
    kPrivilegePublishRawStream = 2
    FIELDS = ("channel_name", "account")
    Privilege = StreamingPrivilege
    __slots__ = ()


class ServiceFCdn(_AccountMixin, _ChannelAccountService):
    """FCDN (type 6): publish and play."""

    kServiceType = 6
    kPrivilegePublish = 1
    kPrivilegePlay = 2
    FIELDS = ("channel_name", "account")
    Privilege = FcdnPrivilege
    __slots__ = ()


class _UserService(Service):
    __slots__ = ("_user_id",)
    _FIELD_SLOTS = ("_user_id",)

    def __init__(self, user_id: str = "") -> None:
        self._privileges = {}
        self._user_id = user_id
        self._body = self._encode_body()

    def _encode_body(self) -> bytes:
        return _text(check_text("user_id", self._user_id))

    @property
    def user_id(self) -> str:
        return self._user_id


class ServiceRtm(_UserService):
    """RTM (type 2): log in as ``user_id``."""

    kServiceType = 2
    kPrivilegeLogin = 1
    FIELDS = ("user_id",)
    Privilege = RtmPrivilege
    __slots__ = ()


class ServiceChat(_UserService):
    """Chat (type 5): a user token (``user_id`` set, privilege 1) or the app token (privilege 2)."""

    kServiceType = 5
    kPrivilegeUser = 1
    kPrivilegeApp = 2
    FIELDS = ("user_id",)
    Privilege = ChatPrivilege
    __slots__ = ()


class ServiceFpa(Service):
    """FPA (type 4): log in to Fusion Path Acceleration."""

    kServiceType = 4
    kPrivilegeLogin = 1
    Privilege = FpaPrivilege
    __slots__ = ()


class ServiceConvoAI(Service):
    """Conversational AI (type 9): no privileges are defined; the builder adds an empty map."""

    kServiceType = 9
    __slots__ = ()


class ServiceStt(Service):
    """Speech-to-text (type 10): no privileges are defined; the builder adds an empty map."""

    kServiceType = 10
    __slots__ = ()


class ServiceApaas(Service):
    """APaaS / Flexible Classroom (type 7): a room, a user and a role (-1 when not given)."""

    kServiceType = 7
    kPrivilegeRoomUser = 1
    kPrivilegeUser = 2
    kPrivilegeApp = 3
    FIELDS = ("room_uuid", "user_uuid", "role")
    Privilege = ApaasPrivilege
    __slots__ = ("_role", "_room_uuid", "_user_uuid")
    _FIELD_SLOTS = ("_room_uuid", "_user_uuid", "_role")

    def __init__(self, room_uuid: str = "", user_uuid: str = "", role: int = -1) -> None:
        self._privileges = {}
        self._room_uuid = room_uuid
        self._user_uuid = user_uuid
        self._role = check_i16("role", role)
        self._body = self._encode_body()

    def _encode_body(self) -> bytes:
        return (
            _text(check_text("room_uuid", self._room_uuid))
            + _text(check_text("user_uuid", self._user_uuid))
            + _I16.pack(self._role)
        )

    @property
    def room_uuid(self) -> str:
        return self._room_uuid

    @property
    def user_uuid(self) -> str:
        return self._user_uuid

    @property
    def role(self) -> int:
        return self._role


ServiceEducation = ServiceApaas


class Rtm2Permissions:
    """RTM2 resource permissions: resource type -> permission type -> resource names."""

    kMessageChannels = 0
    kStreamChannels = 1
    kGroupChannels = 2
    kServerGroups = 3
    kUsers = 4
    kRead = 0
    kWrite = 1

    __slots__ = ("details",)

    def __init__(self) -> None:
        self.details: dict[int, dict[int, list[str]]] = {}

    def add(self, resource_type: int, permission_type: int, resources: Iterable[str]) -> None:
        """Set the resources of one resource type and permission type (replacing earlier ones)."""
        resource_key = check_u16("resource_type", resource_type)
        permission_key = check_u16("permission_type", permission_type)
        if isinstance(resources, (str, bytes)) or not isinstance(resources, Iterable):
            raise ParameterTypeError(
                "resources", f"resources must be an iterable of str, not {type(resources).__name__}"
            )
        names = list(resources)
        for name in names:
            check_text("resources", name)
        if len(names) > 0xFFFF:
            raise InvalidParameterError("resources", f"resources holds {len(names)} names; at most 65535 are allowed")
        self.details.setdefault(resource_key, {})[permission_key] = names

    def pack(self) -> bytes:
        details = self.details
        _check_count("permissions", len(details))
        parts = [_U16.pack(len(details))]
        for resource_type in sorted(details):
            by_permission = details[resource_type]
            _check_count("permissions", len(by_permission))
            parts.append(_HEAD.pack(resource_type, len(by_permission)))
            for permission_type in sorted(by_permission):
                names = by_permission[permission_type]
                parts.append(_HEAD.pack(permission_type, len(names)))
                parts.extend(_text(check_text("resources", name)) for name in names)
        return b"".join(parts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rtm2Permissions):
            return NotImplemented
        return self.details == other.details

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Permissions({self.details!r})"


class ServiceRtm2(Service):
    """RTM2 (type 8): log in as ``user_id`` with resource-level ``permissions``."""

    kServiceType = 8
    kPrivilegeLogin = 1
    FIELDS = ("user_id", "permissions")
    Privilege = Rtm2Privilege
    Permissions = Rtm2Permissions
    __slots__ = ("_permissions", "_user_id")
    _FIELD_SLOTS = ("_user_id", "_permissions")

    def __init__(self, user_id: str = "", permissions: Rtm2Permissions | None = None) -> None:
        self._privileges = {}
        if permissions is None:
            permissions = Rtm2Permissions()
        elif isinstance(permissions, dict):
            permissions = _permissions_from_tree(permissions)
        elif not isinstance(permissions, Rtm2Permissions):
            raise ParameterTypeError(
                "permissions",
                f"permissions must be a ServiceRtm2.Permissions, not {type(permissions).__name__}",
            )
        self._user_id = user_id
        self._permissions = permissions
        self._body = self._encode_body()

    @classmethod
    def _from_wire(cls, privileges: dict[int, int], fields: tuple[Any, ...]) -> Service:
        user_id, tree = fields
        service = super()._from_wire(privileges, (user_id, _permissions_from_tree(tree)))
        return service

    def _encode_body(self) -> bytes:
        return _text(check_text("user_id", self._user_id))

    @property
    def user_id(self) -> str:
        return self._user_id

    @property
    def permissions(self) -> Rtm2Permissions:
        return self._permissions

    def get_user_id(self) -> str:
        """The user id (reference API)."""
        return self._user_id

    def get_permissions(self) -> Rtm2Permissions:
        """The permissions (reference API)."""
        return self._permissions

    def _pack_body(self) -> bytes:
        return super()._pack_body() + self._permissions.pack()


def _permissions_from_tree(tree: Mapping[int, Mapping[int, Iterable[str]]]) -> Rtm2Permissions:
    permissions = Rtm2Permissions()
    for resource_type, by_permission in tree.items():
        for permission_type, names in by_permission.items():
            permissions.add(resource_type, permission_type, names)
    return permissions


SERVICE_CLASSES: dict[int, type[Service]] = {
    cls.kServiceType: cls
    for cls in (
        ServiceRtc,
        ServiceRtm,
        ServiceStreaming,
        ServiceFpa,
        ServiceChat,
        ServiceFCdn,
        ServiceApaas,
        ServiceRtm2,
        ServiceConvoAI,
        ServiceStt,
    )
}

SERVICE_NAMES: dict[int, str] = {
    1: "RTC",
    2: "RTM",
    3: "Streaming",
    4: "FPA",
    5: "Chat",
    6: "FCDN",
    7: "APaaS",
    8: "RTM2",
    9: "ConvoAI",
    10: "STT",
}
