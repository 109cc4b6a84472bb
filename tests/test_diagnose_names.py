"""diagnose() reports each of Agora's identifier rules a token breaks, under the rule's own code (issue 18,
finding 7), while the builders keep accepting what the reference builders accept."""

from __future__ import annotations

import pytest

from accesstoken2 import RtcTokenBuilder, RtmTokenBuilder, Severity, agora_name_problems, diagnose
from accesstoken2.diagnosis import CODES, FOLD_AFTER
from accesstoken2.names import PROBLEM_CODES

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
T0 = 1_700_000_000

kernel_tests = pytest.mark.usefixtures("implementation")


def rtc(channel: str, account: int | str = 42) -> str:
    if isinstance(account, int):
        return RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, channel, account, 1, 3600, issue_ts=T0, salt=1)
    return RtcTokenBuilder.build_token_with_user_account(APP_ID, CERT, channel, account, 1, 3600, issue_ts=T0, salt=1)


def name_findings(token: str) -> list[tuple[str, str, str]]:
    """(code, service, field) of each identifier finding."""
    findings = diagnose(token, app_certificate=CERT, now=T0)
    return [
        (finding.code, finding.detail["service"], finding.detail["field"])
        for finding in findings
        if finding.code in PROBLEM_CODES
    ]


def test_every_rule_has_a_documented_code() -> None:
    assert set(PROBLEM_CODES) == {"name-empty", "name-too-long", "name-character"}
    assert set(PROBLEM_CODES) <= set(CODES)


@kernel_tests
@pytest.mark.parametrize(
    ("channel", "codes"),
    [
        ("c" * 64, []),
        ("c" * 65, ["name-too-long"]),
        ("room\x00", ["name-character"]),
        ("room\x1b[31m", ["name-character"]),
        ("party \U0001f389", ["name-character"]),
        ("x" * 60_000, ["name-too-long"]),
        ("\u00e9" * 40, ["name-too-long", "name-character"]),
        ("", ["name-empty"]),
    ],
)
def test_channel_rules(channel: str, codes: list[str]) -> None:
    token = rtc(channel)  # the builders accept what the reference accepts
    assert name_findings(token) == [(code, "RTC", "channel_name") for code in codes]
    for finding in diagnose(token, app_certificate=CERT, now=T0):
        if finding.code in PROBLEM_CODES:
            assert finding.severity is Severity.ERROR and finding.detail["kind"] == "channel_name"
            assert "Agora" in finding.message and len(finding.message) < 400


@kernel_tests
@pytest.mark.parametrize(
    ("account", "codes"),
    [
        (0, []),  # uid 0: the wildcard, written as an empty string, is no account
        (4_294_967_295, []),
        ("042", []),
        ("a" * 255, []),
        ("a" * 256, ["name-too-long"]),
        ("user/1", ["name-character"]),
    ],
)
def test_user_account_rules(account: int | str, codes: list[str]) -> None:
    assert name_findings(rtc("room", account)) == [(code, "RTC", "uid") for code in codes]


@kernel_tests
@pytest.mark.parametrize(
    ("user_id", "codes"),
    [
        ("user'*/\\`\"~ 1", []),
        ("u" * 64, []),
        ("u" * 65, ["name-too-long"]),
        ("caf\u00e9", ["name-character"]),
        ("", ["name-empty"]),
    ],
)
def test_rtm_user_id_rules(user_id: str, codes: list[str]) -> None:
    token = RtmTokenBuilder.build_token(APP_ID, CERT, user_id, 3600, issue_ts=T0, salt=1)
    assert name_findings(token) == [(code, "RTM", "user_id") for code in codes]
    rtm2 = RtmTokenBuilder.build_token_with_permissions(APP_ID, CERT, user_id, None, 3600, issue_ts=T0, salt=1)
    assert name_findings(rtm2) == [(code, "RTM2", "user_id") for code in codes]


@kernel_tests
def test_rtc_with_rtm_reports_each_service() -> None:
    token = RtcTokenBuilder.build_token_with_rtm(APP_ID, CERT, "room", "x" * 100, 1, 3600, issue_ts=T0, salt=1)
    assert name_findings(token) == [("name-too-long", "RTM", "user_id")]  # 100 bytes are a valid account


@kernel_tests
def test_findings_are_the_problems_of_the_shared_function() -> None:
    channel = "\u00e9" * 40
    expected = [problem.message for problem in agora_name_problems("channel_name", channel)]
    findings = [finding for finding in diagnose(rtc(channel), now=T0) if finding.code in PROBLEM_CODES]
    assert [finding.code for finding in findings] == ["name-too-long", "name-character"]
    assert all(text in finding.message for text, finding in zip(expected, findings))


@kernel_tests
def test_a_token_with_a_valid_channel_has_no_name_finding() -> None:
    codes = [finding.code for finding in diagnose(rtc("room-1"), app_certificate=CERT, now=T0)]
    assert codes == ["valid", "signature-ok", "ok"]


@kernel_tests
def test_name_findings_fold() -> None:
    from accesstoken2 import AccessToken2, ServiceRtc

    token = AccessToken2(APP_ID, CERT, T0, 3600, salt=1)
    for index in range(10):
        service = ServiceRtc(f"bad/{index}", 42)
        service.add_privilege(ServiceRtc.kPrivilegeJoinChannel, 0)
        token.add_service(service)
    findings = [finding for finding in diagnose(token.build(), now=T0) if finding.code == "name-character"]
    (finding,) = findings
    assert finding.detail["count"] == 10 and FOLD_AFTER < 10
