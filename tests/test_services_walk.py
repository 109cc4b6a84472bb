"""The services walk of both kernels on long tokens: bounded services007, and every service checked by parse007.

parse007 checks every service without making it; services007 makes the first ``limit`` and counts the others
by type, which is what lets inspect() and diagnose() stay bounded on crafted tokens of thousands of services.
"""

from __future__ import annotations

import base64
import random
import struct
import zlib
from collections import Counter
from typing import Any

import pytest
from crafted_tokens import bounded_tree

from accesstoken2 import (
    AccessToken2,
    ServiceApaas,
    ServiceChat,
    ServiceConvoAI,
    ServiceFCdn,
    ServiceFpa,
    ServiceRtc,
    ServiceRtm,
    ServiceRtm2,
    ServiceStreaming,
    ServiceStt,
    diagnose,
    inspect,
)
from accesstoken2._wire.kernel import Kernel
from accesstoken2.diagnosis import FOLD_AFTER, MAX_FINDINGS
from accesstoken2.errors import InvalidParameterError, MalformedTokenError
from accesstoken2.explain import MAX_LISTED
from accesstoken2.services import SERVICE_NAMES, Rtm2Permissions, Service

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
T0 = 1_700_000_000
UNKNOWN_TYPE = 0x63

kernel_tests = pytest.mark.usefixtures("implementation")


def one_of_each() -> list[Service]:
    """A service of every type in the table, some granting privileges, some granting nothing."""
    rtc = ServiceRtc("room", 42)
    rtc.add_privilege(ServiceRtc.kPrivilegeJoinChannel, 600)
    chat = ServiceChat("alice")
    chat.add_privilege(ServiceChat.kPrivilegeUser, 0)
    permissions = Rtm2Permissions()
    permissions.add(0, 0, ["lobby", "caf\u00e9"])
    rtm2 = ServiceRtm2("bob", permissions)
    rtm2.add_privilege(ServiceRtm2.kPrivilegeLogin, 0)
    return [
        rtc,
        ServiceRtm("carol"),
        ServiceStreaming("stream", "acct"),
        ServiceFpa(),
        chat,
        ServiceFCdn("cdn", "acct"),
        ServiceApaas("room-uuid", "user-uuid", -2),
        rtm2,
        ServiceConvoAI(),
        ServiceStt(),
    ]


def mixed_services(count: int, seed: int = 7) -> list[Service]:
    kinds = one_of_each()
    rnd = random.Random(seed)
    return [rnd.choice(kinds) for _ in range(count)]


def content_of(services: list[bytes], count: int | None = None) -> bytes:
    """The decoded bytes of a 007 token holding these services as written (in this order, any number)."""
    head = struct.pack("<H", 32) + b"\x01" * 32 + struct.pack("<H", 32) + APP_ID.encode()
    head += struct.pack("<IIIH", T0, 600, 7, len(services) if count is None else count)
    return head + b"".join(services)


def token_of(content: bytes) -> str:
    return "007" + base64.b64encode(zlib.compress(content)).decode("ascii")


def outcome(function: Any, *args: Any) -> tuple[Any, ...]:
    try:
        return ("ok", function(*args))
    except MalformedTokenError as error:
        return ("malformed", str(error), error.stage, error.field)


LONG = 3000
LONG_SERVICES = mixed_services(LONG)
LONG_TOKEN = token_of(content_of([service.pack() for service in LONG_SERVICES]))


@pytest.mark.parametrize("limit", [-5, 0, 1, MAX_LISTED, LONG // 2, LONG - 1, LONG, LONG + 10, 1 << 70])
def test_bounded_services_agree(speedups: Kernel, pure_kernel: Kernel, limit: int) -> None:
    parsed = pure_kernel.parse007(LONG_TOKEN)
    assert speedups.parse007(LONG_TOKEN) == parsed
    signing_info, where = parsed[1], parsed[6]
    assert where[1:] == (LONG, LONG)
    made, counted, cut = pure_kernel.services007(signing_info, where, limit)
    assert speedups.services007(signing_info, where, limit) == (made, counted, cut)
    first = max(limit, 0)
    # each RTM2 tree made within the limit, as the contract's rule says
    expected_made, expected_cut = [], {}
    for position, service in enumerate(LONG_SERVICES[:first]):
        kind, privileges, fields = service._wire()
        if kind == ServiceRtm2.TYPE:
            tree, left_out = bounded_tree(fields[1], first)
            fields = (fields[0], tree)
            if left_out:
                expected_cut[position] = left_out
        expected_made.append((kind, privileges, fields))
    assert made == expected_made and cut == expected_cut
    expected = Counter(service.TYPE for service in LONG_SERVICES[first:])
    assert counted == dict(expected)
    # in token order, so both kernels (and explain's output) list the types alike
    assert list(counted) == list(dict.fromkeys(service.TYPE for service in LONG_SERVICES[first:]))


def damaged(position: int, damage: str) -> tuple[bytes, str]:
    """LONG services with the one at ``position`` damaged: the content, and the field the error names."""
    services = [service.pack() for service in LONG_SERVICES]
    if damage == "utf8":
        services[position] = b"\x01\x00\x00\x00" + b"\x01\x00\xff" + b"\x00\x00"
    elif damage == "utf8 in rtm2 tree":
        tree = b"\x01\x00" + b"\x00\x00\x01\x00" + b"\x00\x00\x01\x00" + b"\x02\x00\xc3\x28"
        services[position] = b"\x08\x00\x00\x00" + b"\x01\x00u" + tree
    elif damage == "privileges past the end":
        services[position] = b"\x04\x00\xff\xff"
    elif damage == "text past the end":
        services[position] = b"\x02\x00\x00\x00\xff\xff"
    elif damage == "cut":
        services = services[: position + 1]
        services[position] = services[position][: len(services[position]) // 2]
    else:
        raise ValueError(damage)
    return content_of(services, LONG), f"service {position + 1} of {LONG}"


DAMAGES = ["utf8", "utf8 in rtm2 tree", "privileges past the end", "text past the end", "cut"]


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("position", [0, MAX_LISTED - 1, MAX_LISTED, 1234, LONG - 1])
def test_a_bad_service_anywhere_fails_parse_alike(
    speedups: Kernel, pure_kernel: Kernel, position: int, damage: str
) -> None:
    content, field = damaged(position, damage)
    token = token_of(content)
    result = outcome(pure_kernel.parse007, token)
    assert outcome(speedups.parse007, token) == result
    assert result[0] == "malformed" and result[2:] == ("content", field), result


@kernel_tests
@pytest.mark.parametrize("position", [0, MAX_LISTED, 1234, LONG - 1])
def test_a_bad_service_anywhere_is_malformed_for_the_api(position: int) -> None:
    content, field = damaged(position, "utf8")
    with pytest.raises(MalformedTokenError) as caught:
        inspect(token_of(content), now=T0)
    assert (caught.value.stage, caught.value.field) == ("content", field)
    (finding,) = diagnose(token_of(content), now=T0)
    assert finding.code == "malformed" and finding.detail == {"stage": "content", "field": field}


@pytest.mark.parametrize("position", [0, 5, MAX_LISTED + 3, LONG - 1])
@pytest.mark.parametrize("tail", [b"", b"\x00", b"\x00\x00", b"garbage after it"])
def test_an_unknown_type_anywhere_ends_the_reading_alike(
    speedups: Kernel, pure_kernel: Kernel, position: int, tail: bytes
) -> None:
    # its privilege count may be missing: two bytes of an unknown type are all a reader needs
    services = [service.pack() for service in LONG_SERVICES[:position]] + [struct.pack("<H", UNKNOWN_TYPE) + tail]
    token = token_of(content_of(services, LONG))
    result = outcome(pure_kernel.parse007, token)
    assert outcome(speedups.parse007, token) == result
    assert result[0] == "ok"
    parsed = result[1]
    assert parsed[7] == UNKNOWN_TYPE and parsed[6][1:] == (position, LONG)
    made, counted, cut = pure_kernel.services007(parsed[1], parsed[6], MAX_LISTED)
    assert speedups.services007(parsed[1], parsed[6], MAX_LISTED) == (made, counted, cut)
    assert sum(counted.values()) == max(position - MAX_LISTED, 0)


@pytest.mark.parametrize("where", [(-1, 1, 1), (10**6, 1, 1), (0, 2, 1), (0, -1, 1), (0, 1, 0x10000)])
def test_services_refuses_a_place_parse_did_not_give(speedups: Kernel, pure_kernel: Kernel, where: Any) -> None:
    signing_info = pure_kernel.parse007(LONG_TOKEN)[1]
    for kernel in (speedups, pure_kernel):
        with pytest.raises(InvalidParameterError) as caught:
            kernel.services007(signing_info, where, 1)
        assert caught.value.parameter == "where"


@kernel_tests
def test_explaining_makes_the_listed_services_and_counts_the_rest_by_type() -> None:
    info = inspect(LONG_TOKEN, now=T0)
    assert [service.type for service in info.services] == [service.TYPE for service in LONG_SERVICES[:MAX_LISTED]]
    expected = Counter(SERVICE_NAMES[service.TYPE] for service in LONG_SERVICES[MAX_LISTED:])
    assert info.omitted_services == dict(expected) and sum(expected.values()) == LONG - MAX_LISTED
    assert info.to_dict()["omitted_services"] == dict(expected)
    # the parsed token still holds every service, and the listed ones are equal to them
    assert list(info.token.services) == LONG_SERVICES
    assert info.token.services[:MAX_LISTED] == tuple(LONG_SERVICES[:MAX_LISTED])


@kernel_tests
def test_first_services_once_all_are_made_answer_alike() -> None:
    # once every service is made (read once), the answer comes from them and equals the kernel's
    token = AccessToken2.parse(LONG_TOKEN)
    bounded = token._first_services(MAX_LISTED)
    assert len(token.services) == LONG
    assert token._first_services(MAX_LISTED) == bounded
    assert list(bounded[1]) == list(dict.fromkeys(service.TYPE for service in LONG_SERVICES[MAX_LISTED:]))


@kernel_tests
def test_folded_findings_count_every_listed_service() -> None:
    findings = diagnose(LONG_TOKEN, app_certificate=CERT, now=T0)
    assert 1 <= len(findings) <= MAX_FINDINGS
    by_code = Counter(finding.code for finding in findings)
    assert max(by_code.values()) <= FOLD_AFTER
    oversized = next(finding for finding in findings if finding.code == "oversized")
    assert oversized.detail["services"] == LONG and f"{LONG:,} services" in oversized.message
    # services that grant nothing (ConvoAI and STT define no privileges): one folded finding with their count
    silent = [
        service
        for service in LONG_SERVICES[:MAX_LISTED]
        if not service.privileges and not isinstance(service, (ServiceConvoAI, ServiceStt))
    ]
    assert len(silent) > FOLD_AFTER
    (nothing,) = [finding for finding in findings if finding.code == "no-privileges"]
    assert nothing.detail["count"] == len(silent) and f"{len(silent) - 1:,} more like it" in nothing.message
    assert "signature-ok" not in by_code  # the crafted content carries a made-up signature
