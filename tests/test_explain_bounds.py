"""inspect() and diagnose() on crafted and damaged tokens: bounded output, truncation, folding.

The CPU-time targets for the same tokens are measured by ``benchmarks/explain_bench.py``; these
tests assert what is returned (counts and sizes), never how long it takes.
"""

from __future__ import annotations

import json
import random
import warnings
from collections.abc import Callable

import pytest

import accesstoken2
from accesstoken2 import AccessToken2, RtcTokenBuilder, ServiceChat, ServiceFpa, ServiceRtc, Severity, diagnose, inspect
from accesstoken2.diagnosis import CODES, FOLD_AFTER, MAX_FINDINGS, MAX_INPUT
from accesstoken2.explain import MAX_LISTED, MAX_PRIVILEGES_LISTED
from accesstoken2.legacy import AccessToken as AccessToken006
from accesstoken2.legacy import RtcTokenBuilder as RtcTokenBuilder006

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
T0 = 1_700_000_000
DAY = 86400

kernel_tests = pytest.mark.usefixtures("implementation")


def empty_services(count: int = 16_000) -> str:
    """About 260 characters: ``count`` FPA services that grant nothing compress to almost nothing."""
    token = AccessToken2(APP_ID, CERT, T0, 3600, salt=1)
    for _ in range(count):
        token.add_service(ServiceFpa())
    return token.build()


def many_privileges(count: int = 10_000) -> str:
    token = AccessToken2(APP_ID, CERT, T0, 3600, salt=1)
    rtc = ServiceRtc("room", 42)
    for key in range(count):
        rtc.add_privilege(key, 60 + key)
    token.add_service(rtc)
    return token.build()


def many_privileges006(count: int = 10_000) -> str:
    token = AccessToken006(APP_ID, CERT, "room", 42, ts=T0 + DAY, salt=1)
    for key in range(count):
        token.add_privilege(key, T0 + 100 + key)
    return token.build()


def longest_token() -> str:
    """A near-maximal 007 token: one RTC service whose channel is 64,800 random printable characters."""
    rnd = random.Random(1)
    channel = "".join(chr(rnd.randrange(33, 127)) for _ in range(64_800))
    token = RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, channel, 42, 1, 3600, issue_ts=T0, salt=1)
    assert len(token) > 70_000
    return token


def check_bounded(findings: list[accesstoken2.Finding]) -> None:
    assert 1 <= len(findings) <= MAX_FINDINGS
    per_code: dict[str, int] = {}
    for finding in findings:
        assert finding.code in CODES
        per_code[finding.code] = per_code.get(finding.code, 0) + 1
        assert len(finding.message) < 400
        json.dumps(finding.to_dict())
    assert max(per_code.values()) <= FOLD_AFTER


@kernel_tests
def test_sixteen_thousand_empty_services() -> None:
    token = empty_services()
    assert len(token) < 300
    info = inspect(token, now=T0)
    assert len(info.services) == MAX_LISTED
    assert info.omitted_services == {"FPA": 16_000 - MAX_LISTED}
    assert len(info.token.services) == 16_000
    data = info.to_dict()
    assert len(data["services"]) == MAX_LISTED and data["omitted_services"] == {"FPA": 16_000 - MAX_LISTED}
    findings = diagnose(token, app_certificate=CERT, now=T0)
    check_bounded(findings)
    codes = [finding.code for finding in findings]
    assert codes.count("no-privileges") == 1 and "signature-ok" in codes
    oversized = next(finding for finding in findings if finding.code == "oversized")
    assert oversized.detail["services"] == 16_000 and "16,000 services" in oversized.message
    folded = next(finding for finding in findings if finding.code == "no-privileges")
    assert folded.detail["count"] == MAX_LISTED and f"{MAX_LISTED - 1:,} more" in folded.message


@kernel_tests
def test_omitted_service_still_counts_as_present() -> None:
    token = AccessToken2(APP_ID, CERT, T0, 3600, salt=1)
    for _ in range(MAX_LISTED + 5):
        token.add_service(ServiceFpa())
    chat = ServiceChat("alice")
    chat.add_privilege(ServiceChat.kPrivilegeUser, 0)
    token.add_service(chat)  # services are written by type: Chat (5) after FPA (4)
    info = inspect(token.build(), now=T0)
    assert "Chat" not in {service.name for service in info.services}
    assert info.omitted_services == {"FPA": 5, "Chat": 1}
    codes = {finding.code for finding in diagnose(token.build(), service="chat", now=T0)}
    assert "missing-service" not in codes and "oversized" in codes


@kernel_tests
def test_ten_thousand_privileges() -> None:
    token = many_privileges()
    info = inspect(token, now=T0)
    (rtc,) = info.services
    assert [privilege.id for privilege in rtc.privileges] == list(range(MAX_PRIVILEGES_LISTED))
    assert rtc.omitted_privileges == 10_000 - MAX_PRIVILEGES_LISTED
    assert rtc.to_dict()["omitted_privileges"] == 10_000 - MAX_PRIVILEGES_LISTED
    findings = diagnose(token, channel_name="room", uid=42, now=T0)
    check_bounded(findings)
    unknown = next(finding for finding in findings if finding.code == "unknown-privilege")
    assert unknown.detail["count"] == MAX_PRIVILEGES_LISTED - 4  # ids 1-4 are RTC's own
    oversized = next(finding for finding in findings if finding.code == "oversized")
    assert oversized.detail == {"service": "RTC", "privileges": 10_000}


@kernel_tests
def test_ten_thousand_privileges_006() -> None:
    token = many_privileges006()
    info = inspect(token, now=T0)
    rtc = next(service for service in info.services if service.name == "RTC")
    assert len(rtc.privileges) == MAX_PRIVILEGES_LISTED
    assert rtc.omitted_privileges == 10_000 - 1 - MAX_PRIVILEGES_LISTED
    findings = diagnose(token, now=T0)
    check_bounded(findings)
    ends = next(finding for finding in findings if finding.code == "privilege-ends-before-token")
    assert ends.detail["count"] == MAX_PRIVILEGES_LISTED + 1  # the listed RTC privileges and RTM login (id 1000)


@kernel_tests
def test_longest_token_explains_normally() -> None:
    token = longest_token()
    info = inspect(token, now=T0)
    assert len(info.services[0].fields["channel_name"]) == 64_800
    findings = diagnose(token, app_certificate=CERT, uid=42, now=T0)
    check_bounded(findings)
    assert {"signature-ok", "valid"} <= {finding.code for finding in findings}


@pytest.mark.parametrize(
    "text",
    [
        "%41" * 3_000_000,  # 9 MB: the issue's example
        " " * (MAX_INPUT + 1),
        "007" + "A" * 100_000,  # over the cap, and no repair makes it shorter
        "007" + "%2B" * 10_000 + "A" * 80_000,  # unquoting would leave 90,003 characters: still over
    ],
)
def test_input_far_over_the_cap_gives_one_finding(text: str) -> None:
    findings = diagnose(text)
    assert len(findings) == 1
    (finding,) = findings
    assert finding.code == "malformed" and finding.severity is Severity.ERROR
    assert finding.detail == {"stage": "length", "length": len(text)}
    assert f"{len(text):,}" in finding.message


@kernel_tests
def test_input_over_the_cap_that_repairs_bring_back_is_read() -> None:
    token = longest_token()
    encoded = token.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D") + "\n" * 20_000
    assert len(encoded) > accesstoken2.diagnosis.MAX_TOKEN_CHARS + 64
    codes = {finding.code for finding in diagnose(encoded, app_certificate=CERT, now=T0)}
    assert {"surrounding-whitespace", "url-encoded", "signature-ok"} <= codes


# --- truncation ----------------------------------------------------------------------------------


def rtc_token() -> str:
    return RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "room", 42, 1, 3600, issue_ts=T0, salt=1)


def rtc006_token() -> str:
    return RtcTokenBuilder006.buildTokenWithUid(APP_ID, CERT, "room", 42, 1, 0, ts=T0 + DAY, salt=1)


@kernel_tests
@pytest.mark.parametrize("make", [rtc_token, rtc006_token], ids=["007", "006"])
def test_every_cut_is_reported_as_truncated(make: Callable[[], str]) -> None:
    token = make()
    for end in range(4, len(token)):
        findings = diagnose(token[:end], now=T0)
        codes = [finding.code for finding in findings]
        assert codes == ["truncated"], (end, codes)
        assert findings[0].detail["length"] == end and str(end) in findings[0].message
    assert [finding.code for finding in diagnose(token[:40] + "\n")] == ["truncated"]


@kernel_tests
def test_varchar_255_cut() -> None:
    rnd = random.Random(2)
    channel = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(120))
    token = RtcTokenBuilder.build_token_with_rtm(APP_ID, CERT, channel, "user-4711", 1, 3600)
    assert len(token) > 255
    (finding,) = diagnose(token[:255])
    assert finding.code == "truncated" and "255 characters" in finding.message and "VARCHAR(255)" in finding.message


@kernel_tests
def test_corrupt_token_is_not_called_truncated() -> None:
    token = rtc_token()
    middle = len(token) // 2
    corrupt = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    codes = [finding.code for finding in diagnose(corrupt, now=T0)]
    assert "truncated" not in codes and "malformed" in codes
    assert [finding.code for finding in diagnose("007" + "x" * 40)] == ["malformed"]


# --- folding, severity and the package namespace -----------------------------------------------------


def rtc_with_privileges(count: int) -> str:
    token = AccessToken2(APP_ID, CERT, T0, 3600, salt=1)
    rtc = ServiceRtc("room", 42)
    for key in range(1, count + 1):
        rtc.add_privilege(key, 60 * key)
    token.add_service(rtc)
    return token.build()


@kernel_tests
def test_up_to_three_alike_findings_are_kept_then_folded() -> None:
    three = [f for f in diagnose(rtc_with_privileges(3), now=T0) if f.code == "privilege-ends-before-token"]
    assert len(three) == 3 and all("count" not in finding.detail for finding in three)
    assert len({finding.message for finding in three}) == 3
    four = [f for f in diagnose(rtc_with_privileges(4), now=T0) if f.code == "privilege-ends-before-token"]
    assert len(four) == 1 and four[0].detail["count"] == 4 and "3 more like it" in four[0].message


@kernel_tests
def test_006_privilege_ending_before_the_token() -> None:
    token = RtcTokenBuilder006.buildTokenWithUid(APP_ID, CERT, "room", 42, 1, T0 + 3600, ts=T0 + DAY, salt=1)
    findings = diagnose(token, now=T0)
    ends = next(finding for finding in findings if finding.code == "privilege-ends-before-token")
    assert ends.severity is Severity.WARNING and "2023-11-14 23:13:20 UTC" in ends.message
    assert ends.detail["count"] == 4  # join and three publish privileges, folded
    full = RtcTokenBuilder006.buildTokenWithUid(APP_ID, CERT, "room", 42, 1, 0, ts=T0 + DAY, salt=1)
    assert "privilege-ends-before-token" not in {finding.code for finding in diagnose(full, now=T0)}


def test_severity_prints_its_value() -> None:
    assert f"{Severity.INFO}" == "info" and str(Severity.ERROR) == "error"
    assert f"{Severity.WARNING:<9}|" == "warning  |"
    assert Severity("error") is Severity.ERROR and Severity.ERROR == "error"


def test_dir_lists_the_lazy_names_and_no_typing_helpers() -> None:
    names = dir(accesstoken2)
    for name in ("inspect", "diagnose", "TokenInfo", "Finding", "Severity", "__version__", "build_tokens"):
        assert name in names
    for name in ("Iterable", "Any", "TYPE_CHECKING", "annotations", "ModuleType", "_kernel"):
        assert name not in names
    assert set(accesstoken2.__all__) <= set(names)


@kernel_tests
def test_no_warning_from_building_the_crafted_tokens() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert inspect(rtc_with_privileges(2), now=T0).services[0].omitted_privileges == 0
