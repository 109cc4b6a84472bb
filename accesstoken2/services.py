"""The ten AccessToken2 services, with the class names, constants and constructors of Agora's
reference Python builders, plus :class:`enum.IntEnum` names for new code.

What each service holds comes from the spec table (``accesstoken2._wire.specs``): its name, its
fields in wire order and its privilege enum.  A class here adds only the reference constructor,
the reference ``kPrivilege...`` aliases and field checks; a service type that is in the table but
has no class (see :func:`service_class`) still parses and builds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import IntEnum
from types import MappingProxyType
from typing import Any, ClassVar

from ._wire import kernel as _kernel
from ._wire.checks import ONE_DAY, check_i16, check_text, check_u16, check_u32, shown, uid_text, warn_lifetimes
from ._wire.limits import U16_MAX, U32_MAX
from ._wire.specs import (
    SPECS,
    ApaasPrivilege,
    ChatPrivilege,
    FcdnPrivilege,
    FpaPrivilege,
    RtcPrivilege,
    Rtm2PermissionType,
    Rtm2Privilege,
    Rtm2ResourceType,
    RtmPrivilege,
    ServiceType,
    StreamingPrivilege,
)
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
    "service_class",
]


class Service:
    """One service of an AccessToken2: a type, a privilege map and the fields of its type.

    Privilege values are seconds counted from the token's issue time (0: as long as the token).
    """

    #: the wire type of the service (a row of the spec table)
    TYPE: ClassVar[int] = 0
    #: reference name of :attr:`TYPE` (an alias)
    kServiceType: ClassVar[int] = 0
    #: names of the fields written after the privilege map, in wire order (from the spec table)
    FIELDS: ClassVar[tuple[str, ...]] = ()
    #: the IntEnum of this service's privileges, if it defines any (from the spec table)
    Privilege: ClassVar[type[IntEnum] | None] = None

    __slots__ = ("_privileges", "_values")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.kServiceType = cls.TYPE = int(cls.TYPE)
        spec = SPECS.get(cls.TYPE)
        if spec is not None:
            cls.FIELDS = tuple(field.name for field in spec.fields)
            cls.Privilege = spec.privileges

    def __init__(self) -> None:
        self._privileges: dict[int, int] = {}
        self._values: tuple[Any, ...] = ()

    @property
    def name(self) -> str:
        """The service's name (``"RTC"``, ``"Chat"``, ...)."""
        return SPECS[self.TYPE].name

    @property
    def privileges(self) -> Mapping[int, int]:
        """Read-only view of privilege id -> seconds from the issue time."""
        return MappingProxyType(self._privileges)

    def service_type(self) -> int:
        """The wire type of this service (reference API)."""
        return self.TYPE

    def add_privilege(self, privilege: int, expire: int) -> None:
        """Grant ``privilege`` for ``expire`` seconds from the issue time (0: as long as the token)."""
        # fast path: exact ints in range, as check_u16 and check_u32 demand, and no lifetime to warn about
        if type(privilege) is int and type(expire) is int and 0 <= privilege <= U16_MAX and 0 <= expire <= ONE_DAY:
            self._privileges[privilege] = expire
            return
        key = check_u16("privilege", privilege)
        value = check_u32("expire", expire)
        warn_lifetimes(value)
        self._privileges[key] = value

    def fields(self) -> dict[str, Any]:
        """The service's fields by name, in wire order."""
        return dict(zip(self.FIELDS, self._values))

    def _wire(self) -> tuple[int, dict[int, int], tuple[Any, ...]]:
        """What the kernel packs: type, privilege map, field values in spec order."""
        return (self.TYPE, self._privileges, self._values)

    def pack(self) -> bytes:
        """The service's wire bytes: type, sorted privilege map, fields."""
        return _kernel.active.pack_service(*self._wire())

    @classmethod
    def _from_wire(cls, privileges: dict[int, int], fields: tuple[Any, ...]) -> Service:
        """A service from parsed wire values (already range-checked by the kernel)."""
        service = cls.__new__(cls)
        service._privileges = privileges
        service._values = fields
        return service

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Service):
            return NotImplemented
        return self.TYPE == other.TYPE and self._privileges == other._privileges and self.fields() == other.fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        parts = [f"{name}={value!r}" for name, value in self.fields().items()]
        parts.append(f"privileges={self._privileges!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


def _text_field(name: str, value: Any) -> str:
    check_text(name, value)
    return str(value)


def _account(name: str, value: Any) -> str:
    # fast path: a positive exact int, as uid_text demands (0 is the empty string)
    if type(value) is int and 0 < value <= U32_MAX:
        return str(value)
    return _text_field(name, uid_text(name, value))


class _ChannelAccountService(Service):
    """RTC, Streaming and FCDN: a channel name and a uid or account."""

    __slots__ = ()
    _ACCOUNT_PARAMETER: ClassVar[str] = "account"

    def __init__(self, channel_name: str = "", account: int | str = "") -> None:
        self._privileges = {}
        self._values = (_text_field("channel_name", channel_name), _account(self._ACCOUNT_PARAMETER, account))

    @property
    def channel_name(self) -> str:
        return str(self._values[0])


class ServiceRtc(_ChannelAccountService):
    """RTC (type 1): join a channel and publish audio, video and data streams.

    ``uid`` is a number from 0 to 2**32-1 (0: any uid, written as the empty string) or a
    user account string; the string ``"0"`` stays ``"0"``.
    """

    TYPE = ServiceType.RTC
    kPrivilegeJoinChannel = RtcPrivilege.JOIN_CHANNEL.value
    kPrivilegePublishAudioStream = RtcPrivilege.PUBLISH_AUDIO_STREAM.value
    kPrivilegePublishVideoStream = RtcPrivilege.PUBLISH_VIDEO_STREAM.value
    kPrivilegePublishDataStream = RtcPrivilege.PUBLISH_DATA_STREAM.value
    _ACCOUNT_PARAMETER = "uid"
    __slots__ = ()

    def __init__(self, channel_name: str = "", uid: int | str = 0) -> None:
        super().__init__(channel_name, uid)

    @property
    def uid(self) -> str:
        """The uid as written in the token (``""`` for uid 0)."""
        return str(self._values[1])


class _AccountMixin:
    __slots__ = ()
    _values: tuple[Any, ...]

    @property
    def account(self) -> str:
        """The account as written in the token (``""`` for the number 0)."""
        return str(self._values[1])


class ServiceStreaming(_AccountMixin, _ChannelAccountService):
    """Streaming (type 3): publish mix and raw streams."""

    TYPE = ServiceType.STREAMING
    kPrivilegePublishMixStream = StreamingPrivilege.PUBLISH_MIX_STREAM.value
    kPrivilegePublishRawStream = StreamingPrivilege.PUBLISH_RAW_STREAM.value
    __slots__ = ()


class ServiceFCdn(_AccountMixin, _ChannelAccountService):
    """FCDN (type 6): publish and play."""

    TYPE = ServiceType.FCDN
    kPrivilegePublish = FcdnPrivilege.PUBLISH.value
    kPrivilegePlay = FcdnPrivilege.PLAY.value
    __slots__ = ()


class _UserService(Service):
    __slots__ = ()

    def __init__(self, user_id: str = "") -> None:
        self._privileges = {}
        self._values = (_text_field("user_id", user_id),)

    @property
    def user_id(self) -> str:
        return str(self._values[0])


class ServiceRtm(_UserService):
    """RTM (type 2): log in as ``user_id``."""

    TYPE = ServiceType.RTM
    kPrivilegeLogin = RtmPrivilege.LOGIN.value
    __slots__ = ()


class ServiceChat(_UserService):
    """Chat (type 5): a user token (``user_id`` set, privilege 1) or the app token (privilege 2)."""

    TYPE = ServiceType.CHAT
    kPrivilegeUser = ChatPrivilege.USER.value
    kPrivilegeApp = ChatPrivilege.APP.value
    __slots__ = ()


class _EmptyService(Service):
    __slots__ = ()

    def __init__(self) -> None:
        self._privileges = {}
        self._values = ()


class ServiceFpa(_EmptyService):
    """FPA (type 4): log in to Fusion Path Acceleration."""

    TYPE = ServiceType.FPA
    kPrivilegeLogin = FpaPrivilege.LOGIN.value
    __slots__ = ()


class ServiceConvoAI(_EmptyService):
    """Conversational AI (type 9): no privileges are defined; the builder adds an empty map."""

    TYPE = ServiceType.CONVOAI
    __slots__ = ()


class ServiceStt(_EmptyService):
    """Speech-to-text (type 10): no privileges are defined; the builder adds an empty map."""

    TYPE = ServiceType.STT
    __slots__ = ()


class ServiceApaas(Service):
    """APaaS / Flexible Classroom (type 7): a room, a user and a role (-1 when not given)."""

    TYPE = ServiceType.APAAS
    kPrivilegeRoomUser = ApaasPrivilege.ROOM_USER.value
    kPrivilegeUser = ApaasPrivilege.USER.value
    kPrivilegeApp = ApaasPrivilege.APP.value
    __slots__ = ()

    def __init__(self, room_uuid: str = "", user_uuid: str = "", role: int = -1) -> None:
        self._privileges = {}
        self._values = (
            _text_field("room_uuid", room_uuid),
            _text_field("user_uuid", user_uuid),
            check_i16("role", role),
        )

    @property
    def room_uuid(self) -> str:
        return str(self._values[0])

    @property
    def user_uuid(self) -> str:
        return str(self._values[1])

    @property
    def role(self) -> int:
        return int(self._values[2])


ServiceEducation = ServiceApaas


class Rtm2Permissions:
    """RTM2 resource permissions: resource type -> permission type -> resource names."""

    # reference names (aliases of Rtm2ResourceType and Rtm2PermissionType)
    kMessageChannels = Rtm2ResourceType.MESSAGE_CHANNELS.value
    kStreamChannels = Rtm2ResourceType.STREAM_CHANNELS.value
    kGroupChannels = Rtm2ResourceType.GROUP_CHANNELS.value
    kServerGroups = Rtm2ResourceType.SERVER_GROUPS.value
    kUsers = Rtm2ResourceType.USERS.value
    kRead = Rtm2PermissionType.READ.value
    kWrite = Rtm2PermissionType.WRITE.value

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
        if len(names) > U16_MAX:
            raise InvalidParameterError("resources", f"resources holds {len(names)} names; at most 65535 are allowed")
        self.details.setdefault(resource_key, {})[permission_key] = names

    def pack(self) -> bytes:
        """The permission tree's wire bytes."""
        return _kernel.active.pack_permissions(self.details)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rtm2Permissions):
            return NotImplemented
        return self.details == other.details

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Permissions({self.details!r})"


class ServiceRtm2(Service):
    """RTM2 (type 8): log in as ``user_id`` with resource-level ``permissions``."""

    TYPE = ServiceType.RTM2
    kPrivilegeLogin = Rtm2Privilege.LOGIN.value
    Permissions = Rtm2Permissions
    __slots__ = ()

    def __init__(self, user_id: str = "", permissions: Rtm2Permissions | None = None) -> None:
        self._privileges = {}
        if permissions is None:
            permissions = Rtm2Permissions()
        elif isinstance(permissions, dict):
            permissions = permissions_from_tree(permissions)
        elif not isinstance(permissions, Rtm2Permissions):
            raise ParameterTypeError(
                "permissions",
                f"permissions must be a ServiceRtm2.Permissions, not {type(permissions).__name__}",
            )
        self._values = (_text_field("user_id", user_id), permissions)

    @classmethod
    def _from_wire(cls, privileges: dict[int, int], fields: tuple[Any, ...]) -> Service:
        user_id, tree = fields
        permissions = Rtm2Permissions()
        permissions.details = tree  # parsed: already the right shape
        return super()._from_wire(privileges, (user_id, permissions))

    def _wire(self) -> tuple[int, dict[int, int], tuple[Any, ...]]:
        return (self.TYPE, self._privileges, (self._values[0], self._values[1].details))

    @property
    def user_id(self) -> str:
        return str(self._values[0])

    @property
    def permissions(self) -> Rtm2Permissions:
        permissions: Rtm2Permissions = self._values[1]
        return permissions

    def get_user_id(self) -> str:
        """The user id (reference API)."""
        return self.user_id

    def get_permissions(self) -> Rtm2Permissions:
        """The permissions (reference API)."""
        return self.permissions


def permissions_from_tree(tree: Mapping[int, Mapping[int, Iterable[str]]]) -> Rtm2Permissions:
    """A :class:`Rtm2Permissions` from a plain tree, every entry checked."""
    if not isinstance(tree, Mapping):
        raise ParameterTypeError("permissions", f"permissions must be a mapping, not {type(tree).__name__}")
    permissions = Rtm2Permissions()
    for resource_type, by_permission in tree.items():
        if not isinstance(by_permission, Mapping):
            raise ParameterTypeError(
                "permissions",
                f"permissions[{shown(resource_type)}] must map permission types to resources, "
                f"not {type(by_permission).__name__}",
            )
        for permission_type, names in by_permission.items():
            permissions.add(resource_type, permission_type, names)
    return permissions


SERVICE_CLASSES: dict[int, type[Service]] = {
    cls.TYPE: cls
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


class _TableService(Service):
    """A service type that is in the spec table but has no class: fields are set by name, in spec order."""

    __slots__ = ()

    def __init__(self, *values: Any) -> None:
        if len(values) != len(self.FIELDS):
            raise ParameterTypeError("fields", f"{type(self).__name__} takes {len(self.FIELDS)} fields: {self.FIELDS}")
        self._privileges = {}
        self._values = values


_TABLE_CLASSES: dict[int, type[Service]] = {}


def service_class(service_type: int) -> type[Service]:
    """The class of a service type of the spec table (made from its row when it has no class of its own)."""
    known = SERVICE_CLASSES.get(service_type)
    if known is not None:
        return known
    spec = SPECS[service_type]
    made = _TABLE_CLASSES.get(service_type)
    if made is None or made.FIELDS != tuple(field.name for field in spec.fields):
        made = type(f"Service{spec.name}", (_TableService,), {"TYPE": spec.type, "__slots__": ()})
        _TABLE_CLASSES[service_type] = made
    return made


class _Names(Mapping[int, str]):
    """Service type -> name, read from the spec table (so added rows appear too)."""

    def __getitem__(self, key: int) -> str:
        return SPECS[key].name

    def __iter__(self) -> Any:
        return iter(SPECS)

    def __len__(self) -> int:
        return len(SPECS)


SERVICE_NAMES: Mapping[int, str] = _Names()
