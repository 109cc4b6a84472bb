"""Worst-case tokens for every walk the library makes, each near the largest content a token may hold.

The tests of bounded explaining (tests/test_explain_bounds.py) assert what the library returns for them;
``benchmarks/explain_bench.py`` imports this module and times the same tokens.  Valid tokens are built
by the kernel from wire values (no builder limit in the way); tokens whose counts lie are sealed from
raw bytes, since no builder writes them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import zlib
from collections.abc import Callable

from accesstoken2._wire import kernel
from accesstoken2._wire.limits import MAX_CONTENT, MAX_PRIVILEGES_006
from accesstoken2.legacy import AccessToken as AccessToken006

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
T0 = 1_700_000_000
DAY = 86400

RTC, FPA, RTM2 = 1, 4, 8
# the content before the services: u16 + signature, str(app id), issue_ts, expire, salt, service count
_HEAD_SIZE = 2 + 32 + 2 + 32 + 4 + 4 + 4 + 2
# an RTM2 service of _rtm2 before its permission tree: type, a map of one privilege, str("user")
_RTM2_HEAD_SIZE = 2 + 2 + 6 + 2 + 4
#: room left for the services of a token of MAX_CONTENT bytes
ROOM = MAX_CONTENT - _HEAD_SIZE

_U16 = struct.Struct("<H")
_HEAD = struct.Struct("<HH")


def _build(services: list[tuple[int, dict[int, int], tuple[object, ...]]]) -> str:
    return kernel.active.build007(APP_ID, CERT, T0, 3600, 1, services)


def seal(signing_info: bytes) -> str:
    """A 007 token over ``signing_info`` bytes as they are, signed with CERT (docs/FORMAT.md's three HMACs)."""
    issue_ts, salt = struct.unpack_from("<I4xI", signing_info, 2 + 32)
    key = hmac.new(struct.pack("<I", issue_ts), CERT.encode("ascii"), hashlib.sha256).digest()
    key = hmac.new(struct.pack("<I", salt), key, hashlib.sha256).digest()
    signature = hmac.new(key, signing_info, hashlib.sha256).digest()
    content = _U16.pack(32) + signature + signing_info
    return "007" + base64.b64encode(zlib.compress(content, 9)).decode("ascii")


def info_head(count: int) -> bytes:
    """signing_info up to its services: app id, times, salt 1 and a service count of ``count``."""
    return _U16.pack(32) + APP_ID.encode("ascii") + struct.pack("<IIIH", T0, 3600, 1, count)


def rtc_services() -> str:
    """8,181 RTC services with an empty channel and uid: the most services that read two texts each."""
    return _build([(RTC, {}, ("", ""))] * (ROOM // 8))


def fpa_services() -> str:
    """16,363 FPA services that grant nothing: the most services a token holds."""
    return _build([(FPA, {}, ())] * (ROOM // 4))


def rtc_services_utf8() -> str:
    """5,454 RTC services whose uid is one two-byte UTF-8 character, each a distinct channel of 2 bytes."""
    count = ROOM // 12
    return _build([(RTC, {}, (f"{index % 100:02d}", "é")) for index in range(count)])


def rtc_privileges() -> str:
    """One RTC service with 10,906 privileges (ids 0..10,905)."""
    count = (ROOM - 14) // 6  # type, count, str("room"), str("42")
    return _build([(RTC, {key: 60 + key for key in range(count)}, ("room", "42"))])


def privileges006() -> str:
    """A 006 token with the most privileges its message holds: 10,920."""
    token = AccessToken006(APP_ID, CERT, "room", 42, ts=T0 + DAY, salt=1)
    for key in range(MAX_PRIVILEGES_006):
        token.add_privilege(key, T0 + 100 + key)
    return token.build()


def _rtm2(tree: dict[int, dict[int, list[str]]]) -> str:
    return _build([(RTM2, {1: 0}, ("user", tree))])


def rtm2_resource_types() -> str:
    """One RTM2 service whose tree lists 16,359 resource types, each without permission types (wide)."""
    count = (ROOM - _RTM2_HEAD_SIZE - 2) // 4
    return _rtm2({rtype: {} for rtype in range(count)})


def rtm2_permission_types() -> str:
    """One RTM2 service: one resource type with 16,358 permission types, each without names."""
    count = (ROOM - _RTM2_HEAD_SIZE - 6) // 4
    return _rtm2({0: {ptype: [] for ptype in range(count)}})


def rtm2_names() -> str:
    """One RTM2 service: one resource and permission type with 32,714 empty names (deep)."""
    count = (ROOM - _RTM2_HEAD_SIZE - 10) // 2
    return _rtm2({0: {0: [""] * count}})


def rtm2_grid() -> str:
    """One RTM2 service: 128 resource types x 32 permission types x 3 names of one character."""
    return _rtm2({rtype: {ptype: ["a", "b", "c"] for ptype in range(32)} for rtype in range(128)})


def rtm2_services() -> str:
    """1,000 RTM2 services, each with a tree of 2 resource types x 2 permission types x 2 names."""
    tree = {rtype: {ptype: ["a", "b"] for ptype in range(2)} for rtype in range(2)}
    return _build([(RTM2, {1: 0}, ("", tree))] * 1_000)


def rtm2_lying_names() -> str:
    """One RTM2 tree whose name count says 65,535 while the content holds 32,700 names: malformed."""
    tree = _U16.pack(1) + _HEAD.pack(0, 1) + _HEAD.pack(0, 0xFFFF) + b"\0\0" * 32_700
    info = info_head(1) + _HEAD.pack(RTM2, 0) + _U16.pack(0) + tree
    return seal(info)


def rtm2_lying_resources() -> str:
    """One RTM2 tree whose resource type count says 65,535 while the content holds 16,300: malformed."""
    tree = _U16.pack(0xFFFF) + b"".join(_HEAD.pack(rtype, 0) for rtype in range(16_300))
    info = info_head(1) + _HEAD.pack(RTM2, 0) + _U16.pack(0) + tree
    return seal(info)


def lying_service_count() -> str:
    """8,000 RTC services where the service count says 65,535: malformed after the last one."""
    info = info_head(0xFFFF) + (_HEAD.pack(RTC, 0) + b"\0\0\0\0") * 8_000
    return seal(info)


def services_then_garbage() -> str:
    """8,000 RTC services and 8 bytes after the last: malformed (after_services) once all are walked."""
    info = info_head(8_000) + (_HEAD.pack(RTC, 0) + b"\0\0\0\0") * 8_000 + b"\1" * 8
    return seal(info)


#: name -> (what it is, the maker), for the tests and the benchmark alike
CRAFTED: dict[str, tuple[str, Callable[[], str]]] = {
    "rtc_services": ("8,181 RTC services", rtc_services),
    "fpa_services": ("16,363 empty FPA services", fpa_services),
    "rtc_services_utf8": ("5,454 RTC services, UTF-8 uids", rtc_services_utf8),
    "rtc_privileges": ("10,906 privileges in one RTC service", rtc_privileges),
    "privileges006": ("006 with 10,920 privileges", privileges006),
    "rtm2_resource_types": ("RTM2: 16,359 resource types", rtm2_resource_types),
    "rtm2_permission_types": ("RTM2: 16,358 permission types", rtm2_permission_types),
    "rtm2_names": ("RTM2: 32,714 names in one list", rtm2_names),
    "rtm2_grid": ("RTM2: 128 x 32 x 3 names", rtm2_grid),
    "rtm2_services": ("1,000 RTM2 services with trees", rtm2_services),
    "rtm2_lying_names": ("RTM2 name count lies (malformed)", rtm2_lying_names),
    "rtm2_lying_resources": ("RTM2 type count lies (malformed)", rtm2_lying_resources),
    "lying_service_count": ("service count lies (malformed)", lying_service_count),
    "services_then_garbage": ("8,000 services + bytes (malformed)", services_then_garbage),
}


def bounded_tree(tree: dict[int, dict[int, list[str]]], budget: int) -> tuple[dict[int, dict[int, list[str]]], int]:
    """What services007 makes of ``tree`` (packed: types ascending) within ``budget``, and the entries it leaves
    out: the rule of the kernel contract, restated over a dict for the tests to compare with."""
    made: dict[int, dict[int, list[str]]] = {}
    left_out = 0
    resources = permissions = names = budget
    for resource_type in sorted(tree):
        by_permission = tree[resource_type]
        if not resources:
            left_out += 1 + len(by_permission) + sum(len(listed) for listed in by_permission.values())
            continue
        resources -= 1
        made[resource_type] = {}
        for permission in sorted(by_permission):
            listed = by_permission[permission]
            if not permissions:
                left_out += 1 + len(listed)
                continue
            permissions -= 1
            kept = min(len(listed), names)
            names -= kept
            made[resource_type][permission] = listed[:kept]
            left_out += len(listed) - kept
    return made, left_out
