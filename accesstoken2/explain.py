"""Read any Agora token into plain, printable data: :func:`inspect`, :class:`TokenInfo`.

Handles AccessToken2 ("007") and the legacy AccessToken ("006"); recognises the older
DynamicKey and SignalingToken formats by their shape and refuses them with
:class:`~accesstoken2.errors.LegacyTokenError`, since they hold nothing else to show.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import IntEnum
from typing import Any, Union

from ._listing import MAX_LISTED, MAX_PRIVILEGES_LISTED, lowest
from ._wire.checks import check_int
from ._wire.limits import VERSION_006, VERSION_007
from ._wire.specs import SPECS
from .errors import LegacyTokenError, MalformedTokenError, ParameterTypeError
from .legacy.access_token import AccessToken, Privileges
from .services import SERVICE_CLASSES, SERVICE_NAMES, Rtm2PermissionType, Rtm2ResourceType, Service, service_class
from .token2 import AccessToken2

__all__ = [
    "MAX_LISTED",
    "MAX_PRIVILEGES_LISTED",
    "PrivilegeInfo",
    "ServiceInfo",
    "TokenInfo",
    "inspect",
    "known_privilege_names",
    "legacy_format",
    "privilege_name",
    "span_text",
    "timestamp",
    "utc_text",
]

#: A moment: Unix seconds (int or float) or a timezone-aware datetime.
Moment = Union[int, float, datetime]

_LEGACY_PREFIXES = {
    "003": "DynamicKey v3",
    "004": "DynamicKey v4",
    "005": "DynamicKey v5",
}
# v1: 40 hex signature + 32 hex app id + 10-digit ts + 8 hex random; v2 adds a 10-digit uid and expiry.
_DYNAMIC_KEY_V1 = re.compile(r"[0-9a-f]{40}[0-9a-fA-F]{32}[0-9]{10}[0-9a-f]{8}")
_DYNAMIC_KEY_V2 = re.compile(r"[0-9a-f]{40}[0-9a-fA-F]{32}[0-9]{10}[0-9a-f]{8}[0-9]{20}")
_SIGNALING = re.compile(r"1:[0-9a-fA-F]{32}:[0-9]+:[0-9a-f]{32}")

# 006 privileges that are not RTC ones.
_RTM_LOGIN_006 = 1000

def timestamp(moment: Moment | None, name: str = "now") -> int:
    """``moment`` as whole Unix seconds (None: the current time)."""
    if moment is None:
        return int(time.time())
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ParameterTypeError(name, f"{name} must be a timezone-aware datetime (naive datetimes are ambiguous)")
        return int(moment.timestamp())
    if isinstance(moment, float) and moment == moment and abs(moment) < 2**63:
        return int(moment)
    return check_int(name, moment, -(2**63), 2**63 - 1)


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


@functools.lru_cache(maxsize=1024)
def _iso(seconds: int) -> str:
    # cached: a listing shows up to 256 privileges, and most tokens repeat one expiry
    return _utc(seconds).isoformat()


def utc_text(seconds: int) -> str:
    """``1700000000`` -> ``"2023-11-14 22:13:20 UTC"``."""
    return _utc(seconds).strftime("%Y-%m-%d %H:%M:%S UTC")


def span_text(seconds: int) -> str:
    """A duration in words, sign dropped: ``3725`` -> ``"1 h 2 min 5 s"``."""
    seconds = abs(seconds)
    parts = []
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    if seconds or not parts:
        parts.append(f"{seconds} s")
    return " ".join(parts)


def _snake(name: str) -> str:
    """``kJoinChannel`` or ``JOIN_CHANNEL`` -> ``join_channel``."""
    if name.isupper():
        return name.lower()
    name = name[1:] if name.startswith("k") and name[1:2].isupper() else name
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def privilege_name(service_type: int, privilege: int) -> str:
    """The snake_case name of a 007 privilege id (``"join_channel"``), or ``"unknown"``: from the service's class,
    as :func:`inspect` names it, a row added to the table (``add_spec``) included."""
    known = SERVICE_CLASSES.get(service_type)
    if known is None and service_type in SPECS:
        known = service_class(service_type)
    return _enum_name(known.Privilege if known is not None else None, privilege)


def _enum_name(enum: type[IntEnum] | None, value: int) -> str:
    if enum is None:
        return "unknown"
    return _names_of(enum).get(value, "unknown")


@functools.lru_cache(maxsize=64)
def _names_of(enum: type[IntEnum]) -> dict[int, str]:
    """{value: snake_case name} of an enum's canonical members, the names ``enum(value).name`` gives.

    A table, because a crafted token lists hundreds of unknown ids and ``enum(value)`` raises for each."""
    return {member.value: _snake(member.name) for member in enum}


@functools.lru_cache(maxsize=1)
def known_privilege_names() -> frozenset[str]:
    """Every privilege name :func:`inspect` can show (007 services and 006), ``"unknown"`` aside."""
    enums: list[type[IntEnum]] = [Privileges]
    # services without privileges (ConvoAI, STT) have no Privilege enum
    enums.extend(service_class.Privilege for service_class in SERVICE_CLASSES.values() if service_class.Privilege)
    return frozenset(name for enum in enums for name in _names_of(enum).values())


@dataclass(frozen=True)
class PrivilegeInfo:
    """One privilege: its id, its name, the value on the wire and the moment it ends.

    ``value`` is seconds from the issue time for 007 and an absolute Unix time for 006; for
    both, 0 means "as long as the token", and then ``follows_token`` is True.
    """

    id: int
    name: str
    value: int
    expire_ts: int
    follows_token: bool

    @property
    def expires_at(self) -> datetime:
        return _utc(self.expire_ts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "value": self.value,
            "expire_ts": self.expire_ts,
            "expires_at": _iso(self.expire_ts),
            "follows_token": self.follows_token,
        }


@dataclass(frozen=True)
class ServiceInfo:
    """One service of a token, in token order.

    ``fields`` holds the service's fields by name (``channel_name``, ``uid``, ``user_id``, ...);
    for a 006 token, which holds only CRCs, they are ``crc_channel_name`` and ``crc_uid``.
    ``privileges`` lists at most :data:`MAX_PRIVILEGES_LISTED` privileges, lowest ids first;
    ``omitted_privileges`` counts the others.  An RTM2 ``permissions`` field lists at most
    :data:`MAX_LISTED` entries of each level (resource types, permission types, resource names) in
    token order; ``omitted_permissions`` counts the entries left out.
    """

    type: int
    name: str
    fields: dict[str, Any]
    privileges: list[PrivilegeInfo]
    omitted_privileges: int = 0
    omitted_permissions: int = 0

    def privilege(self, name: str) -> PrivilegeInfo | None:
        """The privilege called ``name`` (``"join_channel"``), or None."""
        return next((item for item in self.privileges if item.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "fields": _plain(self.fields),
            "privileges": [item.to_dict() for item in self.privileges],
            "omitted_privileges": self.omitted_privileges,
            "omitted_permissions": self.omitted_permissions,
        }


@dataclass(frozen=True)
class TokenInfo:
    """Everything a token says about itself.

    ``issue_ts`` is None for 006, whose format has no issue time; ``expire`` is the lifetime
    in seconds for 007 (None for 006) and ``expire_ts`` the absolute end of the token (for
    006: its message timestamp ``ts``).  ``now`` is the moment ``seconds_left`` counts from.
    ``services`` lists at most :data:`MAX_LISTED` services, in token order; ``omitted_services``
    counts the others by service name (the parsed ``token`` still holds them all).
    """

    version: str
    app_id: str
    issue_ts: int | None
    expire: int | None
    expire_ts: int
    salt: int
    services: list[ServiceInfo]
    now: int
    signature: str = ""
    unknown_service_type: int | None = None
    crc_channel_name: int | None = None
    crc_uid: int | None = None
    omitted_services: dict[str, int] = field(default_factory=dict)
    #: the parsed token object (:class:`AccessToken2`, or the legacy ``AccessToken`` for 006)
    token: Any = field(default=None, repr=False, compare=False)

    @property
    def issued_at(self) -> datetime | None:
        return None if self.issue_ts is None else _utc(self.issue_ts)

    @property
    def expires_at(self) -> datetime:
        return _utc(self.expire_ts)

    @property
    def seconds_left(self) -> int:
        """Seconds from ``now`` to the end of the token (negative once it has expired)."""
        return self.expire_ts - self.now

    @property
    def expired(self) -> bool:
        return self.seconds_left <= 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable content (never a certificate)."""
        issued_at = self.issued_at
        return {
            "version": self.version,
            "app_id": self.app_id,
            "issue_ts": self.issue_ts,
            "issued_at": None if issued_at is None else issued_at.isoformat(),
            "expire": self.expire,
            "expire_ts": self.expire_ts,
            "expires_at": self.expires_at.isoformat(),
            "now": self.now,
            "seconds_left": self.seconds_left,
            "salt": self.salt,
            "signature": self.signature,
            "unknown_service_type": self.unknown_service_type,
            "crc_channel_name": self.crc_channel_name,
            "crc_uid": self.crc_uid,
            "services": [service.to_dict() for service in self.services],
            "omitted_services": dict(self.omitted_services),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def legacy_format(token: str) -> str | None:
    """The name of the legacy DynamicKey / SignalingToken format ``token`` looks like, or None."""
    name = _LEGACY_PREFIXES.get(token[:3])
    if name is not None:
        return name
    if _DYNAMIC_KEY_V2.fullmatch(token):
        return "DynamicKey v2"
    if _DYNAMIC_KEY_V1.fullmatch(token):
        return "DynamicKey v1"
    if _SIGNALING.fullmatch(token):
        return "SignalingToken"
    return None


def _refuse_legacy(token: str) -> None:
    name = legacy_format(token)
    if name is not None:
        raise LegacyTokenError(
            name,
            f"token is in the legacy {name} format, which holds only a signature, the app id and "
            "timestamps, so there is nothing more to inspect (Agora now issues AccessToken2, '007')",
        )


def inspect(token: str, *, now: Moment | None = None) -> TokenInfo:
    """Decode a "007" or "006" token into a :class:`TokenInfo`.

    Raises :class:`~accesstoken2.errors.MalformedTokenError` for anything that is not such a
    token (:class:`~accesstoken2.errors.LegacyTokenError` for the older DynamicKey formats).
    No certificate is needed and the signature is not checked: see :func:`diagnose`.  At most
    :data:`MAX_LISTED` services, :data:`MAX_PRIVILEGES_LISTED` privileges per service and
    :data:`MAX_LISTED` entries of each level of an RTM2 permission tree are listed; the rest are counted.
    """
    if not isinstance(token, str):
        raise ParameterTypeError("token", f"token must be a str, not {type(token).__name__}")
    moment = timestamp(now)
    if token.startswith(VERSION_006):
        return _inspect006(token, moment)
    if not token.startswith(VERSION_007):
        _refuse_legacy(token)
        raise MalformedTokenError(
            "token does not start with a version prefix: '007' (AccessToken2) or '006' (AccessToken)", stage="prefix"
        )
    return _inspect007(AccessToken2.parse(token), moment)


def _service007(service: Service, issue_ts: int, expire_ts: int, tree_left_out: int) -> ServiceInfo:
    enum = service.Privilege
    items = service.privileges
    privileges = [
        PrivilegeInfo(
            id=key,
            name=_enum_name(enum, key),
            value=value,
            expire_ts=issue_ts + value if value else expire_ts,
            follows_token=value == 0,
        )
        for key, value in lowest(items)
    ]
    fields = service.fields()
    permissions = fields.get("permissions")
    if permissions is not None:
        fields["permissions"] = _permission_names(permissions.details)
    return ServiceInfo(service.TYPE, service.name, fields, privileges, len(items) - len(privileges), tree_left_out)


def _name_or_number(enum: type[IntEnum], value: int) -> str:
    name = _enum_name(enum, value)
    return str(value) if name == "unknown" else name


def _permission_names(details: dict[int, dict[int, list[str]]]) -> dict[str, dict[str, list[str]]]:
    """RTM2 permissions keyed by names (``message_channels`` -> ``read`` -> resources)."""
    return {
        _name_or_number(Rtm2ResourceType, rtype): {
            _name_or_number(Rtm2PermissionType, ptype): list(names) for ptype, names in by_permission.items()
        }
        for rtype, by_permission in details.items()
    }


def _inspect007(parsed: AccessToken2, now: int) -> TokenInfo:
    expire_ts = parsed.issue_ts + parsed.expire
    signature = parsed.signature or b""
    # the services past MAX_LISTED are only counted (a crafted token can hold 16,000 of them), and so are the
    # permission tree entries past MAX_LISTED a level
    listed, omitted, cut = parsed._first_services(MAX_LISTED)
    return TokenInfo(
        version=VERSION_007,
        app_id=parsed.app_id,
        issue_ts=parsed.issue_ts,
        expire=parsed.expire,
        expire_ts=expire_ts,
        salt=parsed.salt,
        services=[
            _service007(service, parsed.issue_ts, expire_ts, cut.get(position, 0))
            for position, service in enumerate(listed)
        ],
        now=now,
        signature=signature.hex(),
        unknown_service_type=parsed.unknown_service_type,
        omitted_services={SERVICE_NAMES[kind]: count for kind, count in omitted.items()},
        token=parsed,
    )


def _inspect006(token: str, now: int) -> TokenInfo:
    parsed = AccessToken.parse(token)
    ts = parsed.ts

    def info(key: int, value: int) -> PrivilegeInfo:
        return PrivilegeInfo(key, _enum_name(Privileges, key), value, value if value else ts, value == 0)

    # copied and split in C: a crafted 006 token holds 10,920 privileges
    rtc_items = dict(parsed.privileges)
    login = rtc_items.pop(_RTM_LOGIN_006, None)
    rtc = [info(key, value) for key, value in lowest(rtc_items)]
    rtm = [] if login is None else [info(_RTM_LOGIN_006, login)]
    services = []
    if rtc:
        fields = {"crc_channel_name": parsed.crc_channel_name, "crc_uid": parsed.crc_uid}
        services.append(ServiceInfo(1, SERVICE_NAMES[1], fields, rtc, len(rtc_items) - len(rtc)))
    if rtm:
        services.append(ServiceInfo(2, SERVICE_NAMES[2], {"crc_user_account": parsed.crc_channel_name}, rtm))
    signature = parsed.signature or b""
    return TokenInfo(
        version=VERSION_006,
        app_id=parsed.app_id,
        issue_ts=None,
        expire=None,
        expire_ts=ts,
        salt=parsed.salt,
        services=services,
        now=now,
        signature=signature.hex(),
        crc_channel_name=parsed.crc_channel_name,
        crc_uid=parsed.crc_uid,
        token=parsed,
    )
