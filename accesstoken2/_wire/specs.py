"""The 007 service table: one row per service type drives packing and parsing in the kernel.

A row names the service, lists the fields written after its privilege map in wire order (each
with its wire code) and gives the IntEnum of its privileges.  Wire codes:

- ``s``: text, ``u16(length)`` and UTF-8 bytes;
- ``h``: a little-endian signed 16-bit integer;
- ``P``: the RTM2 permission tree (see docs/FORMAT.md, "Service rows").

Adding a service is one row here (:func:`add_spec`); a class in ``services.py`` is needed only for
custom behaviour.  A type missing from the table is unknown: parsing stops there.
"""

from __future__ import annotations

import builtins
from enum import IntEnum
from typing import NamedTuple

from .limits import U16_MAX

__all__ = [
    "LAYOUTS",
    "SPECS",
    "ApaasPrivilege",
    "ChatPrivilege",
    "FcdnPrivilege",
    "FieldSpec",
    "FpaPrivilege",
    "RtcPrivilege",
    "Rtm2PermissionType",
    "Rtm2Privilege",
    "Rtm2ResourceType",
    "RtmPrivilege",
    "ServiceSpec",
    "ServiceType",
    "StreamingPrivilege",
    "add_spec",
    "remove_spec",
]

TEXT = "s"
I16 = "h"
PERMISSIONS = "P"
WIRE_CODES = frozenset((TEXT, I16, PERMISSIONS))


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


class FieldSpec(NamedTuple):
    """One field after the privilege map: its name and its wire code (``s``, ``h`` or ``P``)."""

    name: str
    code: str


class ServiceSpec(NamedTuple):
    """One row of the table."""

    type: int
    name: str
    fields: tuple[FieldSpec, ...]
    privileges: builtins.type[IntEnum] | None

    @property
    def layout(self) -> bytes:
        """The wire codes of the fields, in order (what the kernels read)."""
        return "".join(field.code for field in self.fields).encode("ascii")


def _fields(*pairs: str) -> tuple[FieldSpec, ...]:
    return tuple(FieldSpec(*pair.split(":")) for pair in pairs)


#: service type -> row (docs/FORMAT.md, "Service rows")
SPECS: dict[int, ServiceSpec] = {}
#: service type -> wire codes of its fields; the kernel reads this dict when it packs and parses
LAYOUTS: dict[int, bytes] = {}


def field_name(service_type: int, index: int) -> str:
    """The spec table's name of a field (errors name the field they refuse)."""
    return SPECS[service_type].fields[index].name


def add_spec(spec: ServiceSpec) -> None:
    """Add (or replace) a row; the kernel packs and parses the type from then on."""
    if not 0 <= spec.type <= U16_MAX or any(field.code not in WIRE_CODES for field in spec.fields):
        raise ValueError(f"cannot add service spec {spec!r}: type must be a u16 and codes one of s, h, P")
    SPECS[spec.type] = spec
    LAYOUTS[spec.type] = spec.layout


def remove_spec(service_type: int) -> None:
    """Remove a row: the type becomes unknown to the kernel."""
    SPECS.pop(service_type, None)
    LAYOUTS.pop(service_type, None)


for _spec in (
    ServiceSpec(ServiceType.RTC, "RTC", _fields("channel_name:s", "uid:s"), RtcPrivilege),
    ServiceSpec(ServiceType.RTM, "RTM", _fields("user_id:s"), RtmPrivilege),
    ServiceSpec(ServiceType.STREAMING, "Streaming", _fields("channel_name:s", "account:s"), StreamingPrivilege),
    ServiceSpec(ServiceType.FPA, "FPA", (), FpaPrivilege),
    ServiceSpec(ServiceType.CHAT, "Chat", _fields("user_id:s"), ChatPrivilege),
    ServiceSpec(ServiceType.FCDN, "FCDN", _fields("channel_name:s", "account:s"), FcdnPrivilege),
    ServiceSpec(ServiceType.APAAS, "APaaS", _fields("room_uuid:s", "user_uuid:s", "role:h"), ApaasPrivilege),
    ServiceSpec(ServiceType.RTM2, "RTM2", _fields("user_id:s", "permissions:P"), Rtm2Privilege),
    ServiceSpec(ServiceType.CONVOAI, "ConvoAI", (), None),
    ServiceSpec(ServiceType.STT, "STT", (), None),
):
    add_spec(_spec._replace(type=int(_spec.type)))
