"""Crafted worst-case tokens (tests/crafted_tokens.py): what is listed is bounded, what is left out is
counted, both kernels agree, and the walks stop where the content does.

Issue 18, finding 5: the 32-item caps did not reach RTM2 permission trees, and ``AccessToken2.to_dict()``
listed every service.  The CPU time of the same tokens is measured by ``benchmarks/explain_bench.py``;
these tests assert counts and sizes, never times.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from crafted_tokens import APP_ID, CERT, CRAFTED, T0, bounded_tree, info_head, rtm2_grid, rtm2_resource_types, seal

from accesstoken2 import AccessToken2, ServiceRtm2, diagnose, inspect
from accesstoken2._wire.kernel import Kernel
from accesstoken2._wire.limits import MAX_CONTENT
from accesstoken2.cli import render
from accesstoken2.diagnosis import FOLD_AFTER, MAX_FINDINGS
from accesstoken2.errors import MalformedTokenError
from accesstoken2.explain import MAX_LISTED, MAX_PRIVILEGES_LISTED
from accesstoken2.legacy import AccessToken as AccessToken006

kernel_tests = pytest.mark.usefixtures("implementation")

VALID = [name for name in CRAFTED if "lying" not in name and "garbage" not in name]
MALFORMED = {
    "rtm2_lying_names": "service 1 of 1",
    "rtm2_lying_resources": "service 1 of 1",
    "lying_service_count": "service 8001 of 65535",
    "services_then_garbage": None,  # after_services names no field
}
#: the JSON of a listing of one of these tokens (short texts) stays under this many bytes
MAX_JSON = 16 * 1024
TOKENS = {name: make() for name, (_, make) in CRAFTED.items()}


def tree_size(tree: dict[int, dict[int, list[str]]]) -> tuple[int, int, int]:
    """(resource types, permission types, names) of a tree."""
    permissions = sum(len(by_permission) for by_permission in tree.values())
    names = sum(len(listed) for by_permission in tree.values() for listed in by_permission.values())
    return len(tree), permissions, names


def entries(tree: dict[Any, dict[Any, list[str]]]) -> int:
    return sum(tree_size(tree))


def outcome(function: Any, *args: Any) -> tuple[Any, ...]:
    try:
        return ("ok", function(*args))
    except MalformedTokenError as error:
        return ("malformed", str(error), error.stage, error.field)


@pytest.mark.parametrize("name", list(CRAFTED))
def test_both_kernels_read_the_crafted_tokens_alike(speedups: Kernel, pure_kernel: Kernel, name: str) -> None:
    token = TOKENS[name]
    if token.startswith("006"):
        assert outcome(speedups.parse006, token) == outcome(pure_kernel.parse006, token)
        return
    parsed = outcome(pure_kernel.parse007, token)
    assert outcome(speedups.parse007, token) == parsed
    assert (parsed[0] == "ok") == (name in VALID)
    if parsed[0] != "ok":
        return
    signing_info, where = parsed[1][1], parsed[1][6]
    for limit in (0, 1, MAX_LISTED, MAX_CONTENT):
        assert speedups.services007(signing_info, where, limit) == pure_kernel.services007(signing_info, where, limit)


@kernel_tests
@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_count_that_lies_stops_the_walk_where_the_content_ends(name: str) -> None:
    with pytest.raises(MalformedTokenError) as caught:
        AccessToken2.parse(TOKENS[name])
    assert caught.value.stage == "content" and caught.value.field == MALFORMED[name]
    (finding,) = diagnose(TOKENS[name], app_certificate=CERT, now=T0)
    assert finding.code == "malformed" and finding.detail["stage"] == "content"


@kernel_tests
@pytest.mark.parametrize("name", [name for name in VALID if name != "privileges006"])
def test_to_dict_lists_at_most_max_listed_of_each_and_counts_the_rest(name: str) -> None:
    token = AccessToken2.parse(TOKENS[name])
    data = token.to_dict()
    assert len(json.dumps(data)) < MAX_JSON
    every = token.services  # the parsed token still holds all of them
    listed = data["services"]
    assert len(listed) == min(len(every), MAX_LISTED)
    assert sum(data["omitted_services"].values()) == len(every) - len(listed)
    assert Counter(data["omitted_services"]) == Counter(service.name for service in every[MAX_LISTED:])
    for shown, service in zip(listed, every):
        assert shown["type"] == service.TYPE
        assert len(shown["privileges"]) <= MAX_PRIVILEGES_LISTED
        assert len(shown["privileges"]) + shown["omitted_privileges"] == len(service.privileges)
        assert list(shown["privileges"]) == sorted(service.privileges)[:MAX_PRIVILEGES_LISTED]
        if isinstance(service, ServiceRtm2):
            full = service.permissions.details
            assert all(size <= MAX_LISTED for size in tree_size(shown["permissions"]))
            assert entries(shown["permissions"]) + shown["omitted_permissions"] == entries(full)
            assert (shown["permissions"], shown["omitted_permissions"]) == bounded_tree(full, MAX_LISTED)


@kernel_tests
@pytest.mark.parametrize("name", VALID)
def test_inspect_and_diagnose_stay_bounded(name: str) -> None:
    info = inspect(TOKENS[name], now=T0)
    assert len(json.dumps(info.to_dict())) < MAX_JSON
    assert len(info.services) <= MAX_LISTED
    for service in info.services:
        assert len(service.privileges) <= MAX_PRIVILEGES_LISTED
        permissions = service.fields.get("permissions")
        if permissions is not None:
            assert all(size <= MAX_LISTED for size in tree_size(permissions))
            assert service.to_dict()["omitted_permissions"] == service.omitted_permissions
    findings = diagnose(TOKENS[name], app_certificate=CERT, channel_name="room", uid=42, now=T0)
    assert 1 <= len(findings) <= MAX_FINDINGS
    assert max(Counter(finding.code for finding in findings).values()) <= FOLD_AFTER
    assert "signature-ok" in {finding.code for finding in findings}
    assert len(render(info).splitlines()) < 40 * MAX_LISTED


@kernel_tests
def test_sixteen_thousand_resource_types_list_thirty_two() -> None:
    token = rtm2_resource_types()
    info = inspect(token, now=T0)
    (rtm2,) = info.services
    permissions = rtm2.fields["permissions"]
    # token order (ascending here), at most MAX_LISTED; the others, each without permission types, counted
    assert list(permissions) == ["message_channels", "stream_channels", "group_channels", "server_groups", "users"] + [
        str(rtype) for rtype in range(5, MAX_LISTED)
    ]
    total = len(AccessToken2.parse(token).services[0].permissions.details)  # type: ignore[attr-defined]
    assert total > 16_000
    assert rtm2.omitted_permissions == total - MAX_LISTED
    assert f"{total - MAX_LISTED:,} more permission entries" in render(info)
    (oversized,) = [finding for finding in diagnose(token, now=T0) if finding.code == "oversized"]
    assert oversized.detail == {"service": "RTM2", "omitted_permissions": total - MAX_LISTED}


@kernel_tests
def test_a_grid_is_cut_at_each_level() -> None:
    # 128 resource types x 32 permission types x 3 names: 32 names made, all within the first resource type
    info = inspect(rtm2_grid(), now=T0)
    (rtm2,) = info.services
    tree = rtm2.fields["permissions"]
    assert tree_size(tree) == (MAX_LISTED, MAX_LISTED, MAX_LISTED)
    assert [len(names) for names in tree["message_channels"].values()] == [3] * 10 + [2] + [0] * 21
    assert all(by_permission == {} for key, by_permission in tree.items() if key != "message_channels")
    assert rtm2.omitted_permissions == 128 * (1 + 32 * 4) - 3 * MAX_LISTED


@kernel_tests
def test_a_repeated_resource_type_merges_as_the_full_reading_does() -> None:
    # crafted: resource type 0 twice (permission 0, then 1), then type 1; a budget of 1 keeps the first only
    tree = b"\x03\x00" + b"\x00\x00\x01\x00" + b"\x00\x00\x01\x00\x01\x00a"
    tree += b"\x00\x00\x01\x00" + b"\x01\x00\x01\x00\x01\x00b" + b"\x01\x00\x00\x00"
    rtm2_head = b"\x08\x00\x00\x00" + b"\x00\x00"  # type 8, no privilege, user id ""
    token = AccessToken2.parse(seal(info_head(1) + rtm2_head + tree))
    (service,), _, cut = token._first_services(1)
    assert service.permissions.details == {0: {0: ["a"]}}  # type: ignore[attr-defined]
    assert cut == {0: 4}  # the second type-0 entry with its permission type and name, and type 1
    (service,), _, cut = token._first_services(2)
    assert service.permissions.details == {0: {0: ["a"], 1: ["b"]}}  # type: ignore[attr-defined]
    assert cut == {0: 1}  # type 1
    (full,) = token.services
    assert full.permissions.details == {0: {0: ["a"], 1: ["b"]}, 1: {}}  # type: ignore[attr-defined]


@kernel_tests
def test_a_token_with_many_services_repr_lists_the_first() -> None:
    token = AccessToken2.parse(TOKENS["fpa_services"])
    text = repr(token)
    assert text.count("FPA") == MAX_LISTED and f"... {len(token.services) - MAX_LISTED:,} more" in text
    assert len(text) < 1024


@kernel_tests
def test_a_006_token_with_most_privileges_lists_the_lowest() -> None:
    token = AccessToken006.parse(TOKENS["privileges006"])
    text = repr(token)
    assert len(token.privileges) == 10_920 and len(text) < 1024 and "10,912 more" in text
    info = inspect(TOKENS["privileges006"], now=T0)
    rtc, _ = info.services
    assert [privilege.id for privilege in rtc.privileges] == list(range(MAX_PRIVILEGES_LISTED))
    assert rtc.omitted_privileges == 10_920 - 1 - MAX_PRIVILEGES_LISTED  # 1000 (RTM login) is its own service


@kernel_tests
def test_a_built_token_lists_its_services_in_order_added() -> None:
    token = AccessToken2(APP_ID, CERT, T0, 600, salt=1)
    for index in range(MAX_LISTED + 3):
        service = ServiceRtm2(f"user-{index}")
        token.add_service(service)
    data = token.to_dict()
    assert [service["user_id"] for service in data["services"]] == [f"user-{index}" for index in range(MAX_LISTED)]
    assert data["omitted_services"] == {"RTM2": 3}
    assert data["services"][0]["omitted_permissions"] == 0 and data["services"][0]["omitted_privileges"] == 0


def test_every_cut_and_flip_of_a_tree_fails_alike(speedups: Kernel, pure_kernel: Kernel) -> None:
    # the pure walk reports its first problem in one pass (no second reading): the C reader's errors exactly
    tree = {0: {0: ["a", "caf\u00e9"], 1: []}, 4: {1: ["x"]}}
    service = (ServiceRtm2.TYPE, {1: 0}, ("user", tree))
    full = pure_kernel.parse007(pure_kernel.build007(APP_ID, CERT, T0, 600, 1, [service] * 2))[1]
    head = len(info_head(2))
    variants = [full[:end] for end in range(head, len(full))]
    variants += [full[:at] + bytes([full[at] ^ 0xFF]) + full[at + 1 :] for at in range(head, len(full))]
    errors = set()
    for signing_info in variants:
        token = seal(signing_info)
        result = outcome(pure_kernel.parse007, token)
        assert outcome(speedups.parse007, token) == result, signing_info.hex()
        if result[0] == "ok":
            where = result[1][6]
            for limit in (0, 1, 2, MAX_CONTENT):
                assert speedups.services007(result[1][1], where, limit) == pure_kernel.services007(
                    result[1][1], where, limit
                )
        else:
            errors.add(result[1].split(" in ")[0].split(" after ")[0])
    assert {"token content ends inside service 1 of 2", "token content has invalid UTF-8"} <= errors, errors
