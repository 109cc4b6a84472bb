"""The pure-Python packers: the pure kernel packs with them, and so does ``Service.pack()``.

Each value is checked on a fast path that restates the rule (an exact int in range, a str of at most
65,535 UTF-8 bytes, ...); anything else goes to the matching check of ``checks``, which raises the
documented error.  The compiled kernel has the same fast paths and the same fallbacks.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from .checks import (
    HEX32,
    check_count,
    check_hex32,
    check_i16,
    check_text,
    check_u32,
    content_too_large,
    distinct_ids,
    normal_permissions,
    normal_privileges,
    refuse_service,
    too_many_privileges_006,
)
from .limits import (
    I16_MAX,
    I16_MIN,
    MAX_CONTENT,
    MAX_TEXT,
    MESSAGE006_HEAD,
    SIGNATURE_HEAD,
    SIGNING_INFO_HEAD,
    U16_MAX,
    U32_MAX,
)
from .specs import LAYOUTS, SPECS
from .values import ServiceValues

_U16 = struct.Struct("<H")
_I16 = struct.Struct("<h")
_HEAD = struct.Struct("<HH")
_ENTRY = struct.Struct("<HI")
_TIMES = struct.Struct("<III")
_MESSAGE_HEAD = struct.Struct("<IIH")


def hex32(name: str, value: Any) -> bytes:
    """An app id or certificate as ASCII bytes."""
    # fast path: a str of 32 hexadecimal characters (HEX32), as check_hex32 demands
    if type(value) is str and HEX32.fullmatch(value):
        return value.encode("ascii")
    return check_hex32(name, value)


def ids(app_id: Any, app_certificate: Any) -> tuple[bytes, bytes]:
    """The app id and certificate as ASCII bytes: checked, and refused when they are the same."""
    return distinct_ids(hex32("app_id", app_id), hex32("app_certificate", app_certificate))


def u32(name: str, value: Any) -> int:
    # fast path: an exact int in 0..2**32-1, as check_u32 demands
    if type(value) is int and 0 <= value <= U32_MAX:
        return value
    return check_u32(name, value)


def text(name: str, value: Any) -> bytes:
    """``text(x)`` of docs/FORMAT.md ("Building blocks"): u16 length and UTF-8 bytes."""
    # fast path: an exact str that encodes to at most 65,535 bytes, as check_text demands
    data = None
    if type(value) is str:
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError:
            pass
    if data is None or len(data) > MAX_TEXT:
        data = check_text(name, value)
    return _U16.pack(len(data)) + data


def privilege_map(privileges: Any) -> bytes:
    """``map32``: u16 count, then u16 key and u32 value per entry, ascending keys."""
    # fast path: a dict of exact ints in range (anything else is checked and normalised first)
    if type(privileges) is not dict or len(privileges) > U16_MAX:
        privileges = normal_privileges(privileges)
    else:
        for key, value in privileges.items():
            if not (type(key) is int and 0 <= key <= U16_MAX and type(value) is int and 0 <= value <= U32_MAX):
                privileges = normal_privileges(privileges)
                break
    return _U16.pack(len(privileges)) + b"".join([_ENTRY.pack(key, privileges[key]) for key in sorted(privileges)])


def permissions(tree: Any) -> bytes:
    """The RTM2 permission tree: the one packer of the pure kernel."""
    if not _plain_tree(tree):
        tree = normal_permissions(tree)
    parts = [_U16.pack(len(tree))]
    # a tree can be far larger than a token (65,535 names under each of 65,535 x 65,535 keys): it is refused as
    # soon as its own bytes pass MAX_CONTENT, checked after each entry, where the compiled kernel checks
    size = 2
    for resource_type in sorted(tree):
        by_permission = tree[resource_type]
        parts.append(_HEAD.pack(resource_type, len(by_permission)))
        size += 4
        check_content_size(size)
        for permission_type in sorted(by_permission):
            names = by_permission[permission_type]
            parts.append(_HEAD.pack(permission_type, len(names)))
            size += 4
            check_content_size(size)
            for name in names:
                packed = text("resources", name)
                parts.append(packed)
                size += len(packed)
                check_content_size(size)
    return b"".join(parts)


def _plain_tree(tree: Any) -> bool:
    """True for a dict of u16 -> dict of u16 -> list or tuple (names are checked as they are packed)."""
    if type(tree) is not dict or len(tree) > U16_MAX:
        return False
    for resource_type, by_permission in tree.items():
        if type(resource_type) is not int or not 0 <= resource_type <= U16_MAX:
            return False
        if type(by_permission) is not dict or len(by_permission) > U16_MAX:
            return False
        for permission_type, names in by_permission.items():
            if type(permission_type) is not int or not 0 <= permission_type <= U16_MAX:
                return False
            if (type(names) is not list and type(names) is not tuple) or len(names) > U16_MAX:
                return False
    return True


def service(service_type: int, privileges: Any, fields: Sequence[Any]) -> bytes:
    """One 007 service: u16 type, its privilege map, then its fields as the spec table lays them out."""
    layout = LAYOUTS.get(service_type) if type(service_type) is int else None
    if layout is None or len(fields) != len(layout):
        refuse_service(service_type, fields, layout)
    assert layout is not None
    parts = [_U16.pack(service_type), privilege_map(privileges)]
    for index, code in enumerate(layout):
        value = fields[index]
        if code == 0x73:  # "s"
            parts.append(text(field_name(service_type, index), value))
        elif code == 0x68:  # "h": fast path restates check_i16
            if not (type(value) is int and I16_MIN <= value <= I16_MAX):
                value = check_i16(field_name(service_type, index), value)
            parts.append(_I16.pack(value))
        else:
            parts.append(permissions(value))
    return b"".join(parts)


def field_name(service_type: int, index: int) -> str:
    """The spec table's name of a field (errors name the field they refuse)."""
    return SPECS[service_type].fields[index].name


def signing_info(app_id: bytes, issue_ts: int, expire: int, salt: int, services: Sequence[ServiceValues]) -> bytes:
    """``str(app_id) u32(issue_ts) u32(expire) u32(salt) u16(n) service...`` in the order given.

    Refused as soon as the content (the signature's room included) passes MAX_CONTENT, after each service."""
    check_count("services", len(services))
    parts = [_U16.pack(len(app_id)), app_id, _TIMES.pack(issue_ts, expire, salt), _U16.pack(len(services))]
    size = SIGNATURE_HEAD + SIGNING_INFO_HEAD
    for kind, privileges, fields in services:
        packed = service(kind, privileges, fields)
        parts.append(packed)
        size += len(packed)
        check_content_size(size)
    return b"".join(parts)


def check_content_size(size: int) -> None:
    """A 007 content of size bytes (signature and signing_info) must fit MAX_CONTENT."""
    if size > MAX_CONTENT:
        raise content_too_large()


def message006(salt: int, ts: int, privileges: Any) -> bytes:
    """006 ``m``: u32(salt) u32(ts) and the privilege map."""
    message = _MESSAGE_HEAD.pack(salt, ts, 0)[: MESSAGE006_HEAD - 2] + privilege_map(privileges)
    if len(message) > U16_MAX:
        raise too_many_privileges_006()
    return message
