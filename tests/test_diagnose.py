"""diagnose(): one test per finding code, on tokens built with a fixed issue time and salt.

Every case also checks that validate() agrees with diagnose() on the same arguments (see run())."""

from __future__ import annotations

import base64
import struct
import urllib.parse
import warnings
import zlib
from typing import Any

import pytest
from wire_helpers import unknown_service_token

from accesstoken2 import (
    AccessToken2,
    ChatTokenBuilder,
    ConvoAITokenBuilder,
    Finding,
    InvalidParameterError,
    ParameterTypeError,
    RtcTokenBuilder,
    RtmTokenBuilder,
    ServiceRtc,
    ServiceRtm,
    Severity,
    TokenRejectedError,
    diagnose,
    validate,
)
from accesstoken2.diagnosis import CODES
from accesstoken2.legacy import RtcTokenBuilder as RtcTokenBuilder006
from accesstoken2.legacy import RtmTokenBuilder as RtmTokenBuilder006

# every test here touches a kernel: it runs once per kernel
pytestmark = pytest.mark.usefixtures("implementation")

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
OTHER_CERT = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
T0 = 1_700_000_000
NOW = T0 + 100
DAY = 86400


def rtc(uid: int | str = 42, role: int = 1, expire: int = 3600, privilege: int = 0, issue_ts: int = T0) -> str:
    return RtcTokenBuilder.build_token_with_uid(
        APP_ID, CERT, "room", uid, role, expire, privilege, issue_ts=issue_ts, salt=1
    )


def rtc006(uid: int | str = 42, role: int = 1, expire_at: int = T0 + 3600, ts: int = T0 + DAY) -> str:
    return RtcTokenBuilder006.buildTokenWithUid(APP_ID, CERT, "room", uid, role, expire_at, ts=ts, salt=1)


def run(token: str, **kwargs: Any) -> list[Finding]:
    kwargs.setdefault("now", NOW)
    findings = diagnose(token, **kwargs)
    for finding in findings:
        assert finding.code in CODES
        assert CERT not in finding.message and OTHER_CERT not in finding.message
        assert isinstance(finding.severity, Severity)
    check_validate_agrees(token, kwargs)
    return findings


def check_validate_agrees(token: str, kwargs: dict[str, Any]) -> None:
    """validate() rejects exactly when diagnose() finds an error for the same arguments, with its code and
    all its error findings; otherwise it returns the parsed token (or, for a 006 token it cannot check the
    signature of, asks for the channel and uid).

    validate() takes no app_id and always checks the signature: a case without a certificate is checked
    with CERT."""
    asked = {name: value for name, value in kwargs.items() if name not in ("app_id", "app_certificate")}
    certificate = kwargs.get("app_certificate") or CERT
    findings = diagnose(token, app_certificate=certificate, **asked)
    errors = [finding for finding in findings if finding.severity is Severity.ERROR]
    if errors:
        with pytest.raises(TokenRejectedError) as rejected:
            validate(token, certificate, **asked)
        assert rejected.value.code == errors[0].code
        assert list(rejected.value.findings) == errors
    elif "signature-ok" in codes(findings):
        parsed = validate(token, certificate, **asked)
        assert type(parsed).__name__ == ("AccessToken2" if token.startswith("007") else "AccessToken")
    else:
        assert token.startswith("006") and "signature-not-checked" in codes(findings)
        with pytest.raises(InvalidParameterError) as refused:
            validate(token, certificate, **asked)
        assert refused.value.parameter == "channel_name"


def find(findings: list[Finding], code: str) -> Finding:
    matches = [finding for finding in findings if finding.code == code]
    assert matches, f"no {code!r} in {[finding.code for finding in findings]}"
    return matches[0]


def codes(findings: list[Finding]) -> set[str]:
    return {finding.code for finding in findings}


def _wrap(content: bytes) -> str:
    return "007" + base64.b64encode(zlib.compress(content)).decode()


# --- malformed and mangled tokens ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "stage", "field"),
    [
        ("", "prefix", None),
        ("hello", "prefix", None),
        ("007???", "base64", None),
        ("007" + base64.b64encode(b"not zlib").decode(), "zlib", None),
        (_wrap(struct.pack("<H", 32) + bytes(20)), "content", "the signature"),
        (_wrap(struct.pack("<H", 0) + struct.pack("<H", 3) + b"\xff\xfe\xfd"), "content", "the app id"),
    ],
)
def test_malformed_says_where(token: str, stage: str, field: str | None) -> None:
    findings = run(token, app_certificate=CERT)
    malformed = find(findings, "malformed")
    assert malformed.severity is Severity.ERROR
    assert malformed.detail["stage"] == stage
    assert malformed.detail.get("field") == field
    assert codes(findings) == {"malformed"}


def test_malformed_names_the_service() -> None:
    content = zlib.decompress(base64.b64decode(rtc()[3:]))
    finding = find(run(_wrap(content[:-3])), "malformed")
    assert finding.detail == {"stage": "content", "field": "service 1 of 1"}
    assert "service 1 of 1" in finding.message


def test_legacy_format() -> None:
    key = "004ec32c0d528e58ef90e8ff437a9706124137dc795970ca35de60c44645bbae8a215061b3314464554720383bbf51446455471"
    finding = find(run(key), "legacy-format")
    assert finding.severity is Severity.ERROR and finding.detail["format"] == "DynamicKey v4"


def test_surrounding_whitespace() -> None:
    findings = run(rtc() + "\n", app_certificate=CERT)
    assert find(findings, "surrounding-whitespace").severity is Severity.ERROR
    assert "signature-ok" in codes(findings)  # the rest is checked on the repaired token


def test_quoted() -> None:
    assert find(run(f'"{rtc()}"'), "quoted").severity is Severity.ERROR


def test_plus_became_space() -> None:
    token = next(rtc(uid=uid) for uid in range(1, 200) if "+" in rtc(uid=uid))
    findings = run(token.replace("+", " "), app_certificate=CERT)
    assert find(findings, "plus-became-space").severity is Severity.ERROR
    assert "signature-ok" in codes(findings)


def test_url_encoded() -> None:
    token = next(rtc(uid=uid) for uid in range(1, 200) if "/" in rtc(uid=uid) or "+" in rtc(uid=uid))
    findings = run(urllib.parse.quote(token, safe=""))
    assert "url-encoded" in codes(findings)
    assert "malformed" not in codes(findings)


# --- app id and signature ------------------------------------------------------------------------


def test_app_id_mismatch() -> None:
    other = "0" * 32
    finding = find(run(rtc(), app_id=other), "app-id-mismatch")
    assert finding.severity is Severity.ERROR and APP_ID in finding.message and other in finding.message
    assert "letter case" in find(run(rtc(), app_id=APP_ID.lower()), "app-id-mismatch").message
    assert "app-id-mismatch" not in codes(run(rtc(), app_id=APP_ID))


def test_signature_ok_and_mismatch() -> None:
    assert find(run(rtc(), app_certificate=CERT), "signature-ok").severity is Severity.INFO
    mismatch = find(run(rtc(), app_certificate=OTHER_CERT), "signature-mismatch")
    assert mismatch.severity is Severity.ERROR


def test_certificate_malformed_is_not_echoed() -> None:
    secret = "not-a-certificate-but-secret"
    finding = find(run(rtc(), app_certificate=secret), "certificate-malformed")
    assert secret not in finding.message and finding.severity is Severity.ERROR


def test_signature_not_checked_without_certificate() -> None:
    assert find(run(rtc()), "signature-not-checked").severity is Severity.INFO


def test_signature_006_needs_channel_and_uid() -> None:
    assert "signature-not-checked" in codes(run(rtc006(), app_certificate=CERT))
    assert "signature-ok" in codes(run(rtc006(), app_certificate=CERT, channel_name="room", uid=42))
    assert "signature-mismatch" in codes(run(rtc006(), app_certificate=OTHER_CERT, channel_name="room", uid=42))
    wildcard = rtc006(uid=0)
    assert "signature-ok" in codes(run(wildcard, app_certificate=CERT, channel_name="room", uid=1234))
    rtm = RtmTokenBuilder006.buildToken(APP_ID, CERT, "bob", 1, 0, ts=T0 + DAY, salt=1)
    assert "signature-ok" in codes(run(rtm, app_certificate=CERT, user_id="bob"))


# --- times ---------------------------------------------------------------------------------------


def test_expired() -> None:
    finding = find(run(rtc(expire=60)), "expired")
    assert finding.severity is Severity.ERROR and "40 s ago" in finding.message
    assert "valid" not in codes(run(rtc(expire=60)))


def test_valid() -> None:
    finding = find(run(rtc()), "valid")
    assert finding.severity is Severity.INFO and "58 min 20 s left" in finding.message


@pytest.mark.parametrize(("ahead", "severity"), [(60, Severity.WARNING), (3600, Severity.ERROR)])
def test_not_yet_valid(ahead: int, severity: Severity) -> None:
    finding = find(run(rtc(issue_ts=NOW + ahead)), "not-yet-valid")
    assert finding.severity is severity
    assert finding.detail["seconds_ahead"] == ahead


def test_privilege_expired() -> None:
    finding = find(run(rtc(privilege=60)), "privilege-expired")
    assert finding.severity is Severity.ERROR and "join_channel" in finding.message
    assert find(run(rtc006(expire_at=NOW - 1)), "privilege-expired").severity is Severity.ERROR


def test_privilege_ends_before_token() -> None:
    findings = run(rtc(privilege=600))
    finding = find(findings, "privilege-ends-before-token")
    assert finding.severity is Severity.WARNING and "50 min before" in finding.message
    assert "privilege-ends-before-token" not in codes(run(rtc(privilege=0)))


def test_lifetime_over_24h() -> None:
    finding = find(run(rtc(expire=2 * DAY)), "lifetime-over-24h")
    assert finding.severity is Severity.WARNING and "2 d" in finding.message
    assert "lifetime-over-24h" not in codes(run(rtc(expire=DAY)))


def test_absolute_timestamp() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        token = rtc(expire=T0 + 3600)
    findings = run(token)
    finding = find(findings, "absolute-timestamp")
    assert finding.severity is Severity.ERROR and str(T0 + 3600) in finding.message
    assert "lifetime-over-24h" not in codes(findings)


def test_relative_timestamp_in_006() -> None:
    with pytest.warns(UserWarning, match="before the year 2000"):  # the builder warns, and builds it
        token = rtc006(expire_at=3600, ts=T0 + DAY)
    findings = run(token)
    assert find(findings, "relative-timestamp").severity is Severity.ERROR
    assert "relative-timestamp" in codes(run(rtc006(ts=DAY)))


# --- identity ------------------------------------------------------------------------------------


def test_channel_mismatch() -> None:
    finding = find(run(rtc(), channel_name="Room"), "channel-mismatch")
    assert finding.severity is Severity.ERROR and "'room'" in finding.message and "'Room'" in finding.message
    assert "channel-mismatch" in codes(run(rtc006(), channel_name="Room"))
    assert "channel-mismatch" not in codes(run(rtc006(), channel_name="room"))


def test_uid_mismatch() -> None:
    assert find(run(rtc(), uid=43), "uid-mismatch").severity is Severity.ERROR
    assert "uid-mismatch" not in codes(run(rtc(), uid="42"))
    assert "uid-mismatch" in codes(run(rtc006(), uid=43))
    assert "uid-mismatch" not in codes(run(rtc006(), uid=42))


def test_uid_wildcard() -> None:
    assert find(run(rtc(uid=0), uid=1234), "uid-wildcard").severity is Severity.INFO
    assert "uid-wildcard" in codes(run(rtc006(uid=0), uid=1234))


def test_uid_zero_vs_string_zero() -> None:
    # the token was built for the account "0", the client joins with the number 0
    finding = find(run(rtc(uid="0"), uid=0), "uid-zero-vs-string-zero")
    assert finding.severity is Severity.ERROR
    assert find(run(rtc006(uid="0"), uid=0), "uid-zero-vs-string-zero").severity is Severity.ERROR
    # the token was built for uid 0, the client uses the account "0"
    assert find(run(rtc(uid=0), uid="0"), "uid-zero-vs-string-zero").severity is Severity.WARNING
    assert "uid-zero-vs-string-zero" in codes(run(rtc006(uid=0), uid="0"))


def test_user_id_mismatch() -> None:
    token = RtmTokenBuilder.build_token(APP_ID, CERT, "bob", 600, issue_ts=T0, salt=1)
    assert find(run(token, user_id="alice"), "user-id-mismatch").severity is Severity.ERROR
    assert "user-id-mismatch" not in codes(run(token, user_id="bob"))
    legacy = RtmTokenBuilder006.buildToken(APP_ID, CERT, "bob", 1, 0, ts=T0 + DAY, salt=1)
    assert "user-id-mismatch" in codes(run(legacy, user_id="alice"))


def test_missing_service() -> None:
    # an RTC token used to log in to RTM
    finding = find(run(rtc(), user_id="42"), "missing-service")
    assert finding.severity is Severity.ERROR and "RTM" in finding.message
    rtm = RtmTokenBuilder.build_token(APP_ID, CERT, "bob", 600, issue_ts=T0, salt=1)
    assert "RTC" in find(run(rtm, channel_name="room"), "missing-service").message
    chat = ChatTokenBuilder.build_app_token(APP_ID, CERT, 600, issue_ts=T0, salt=1)
    assert "missing-service" in codes(run(chat, service="rtc"))
    assert "missing-service" not in codes(run(chat, service="chat"))
    assert "missing-service" in codes(run(rtc006(), user_id="42"))
    with_rtm = RtcTokenBuilder.build_token_with_rtm(APP_ID, CERT, "room", 42, 1, 3600, issue_ts=T0, salt=1)
    assert "missing-service" not in codes(run(with_rtm, channel_name="room", uid=42, user_id="42"))


def test_subscriber_without_publish() -> None:
    assert find(run(rtc(role=2)), "subscriber-without-publish").severity is Severity.INFO
    assert "subscriber-without-publish" not in codes(run(rtc(role=1)))
    assert "subscriber-without-publish" in codes(run(rtc006(role=2)))


def test_no_privileges_and_unknown_privilege() -> None:
    token = AccessToken2(APP_ID, CERT, T0, 600, salt=1)
    token.add_service(ServiceRtm("bob"))
    service = ServiceRtc("room", 1)
    service.add_privilege(1, 0)
    service.add_privilege(9, 0)
    token.add_service(service)
    findings = run(token.build())
    assert find(findings, "no-privileges").severity is Severity.WARNING
    assert "9" in find(findings, "unknown-privilege").message
    agent = ConvoAITokenBuilder.build_token(APP_ID, CERT, "c", 1, 1, 600, 0, 0, 0, 0, "a", 600, issue_ts=T0, salt=1)
    assert "no-privileges" not in codes(run(agent))  # ConvoAI defines no privileges


def test_unknown_service_type() -> None:
    known = ServiceRtc("room", 7)
    known.add_privilege(1, 0)
    token = unknown_service_token(APP_ID, CERT, known, 77, T0)
    findings = run(token, app_certificate=CERT)
    assert find(findings, "unknown-service-type").detail == {"type": 77}
    assert "signature-ok" in codes(findings)


def test_ok_and_order() -> None:
    findings = run(rtc(), app_certificate=CERT, app_id=APP_ID, channel_name="room", uid=42)
    assert find(findings, "ok").severity is Severity.INFO
    assert all(finding.severity is Severity.INFO for finding in findings)
    mixed = run(rtc(expire=60, privilege=0), app_certificate=OTHER_CERT, channel_name="x")
    ranks = [["error", "warning", "info"].index(finding.severity.value) for finding in mixed]
    assert ranks == sorted(ranks) and "ok" not in codes(mixed)


def test_finding_text_and_dict() -> None:
    finding = find(run(rtc(), uid=43), "uid-mismatch")
    assert str(finding).startswith("error: ") and str(finding).endswith("[uid-mismatch]")
    assert finding.to_dict()["severity"] == "error" and finding.to_dict()["code"] == "uid-mismatch"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"app_certificate": 5},
        {"app_id": b"x"},
        {"channel_name": 1},
        {"uid": 1.5},
        {"user_id": 3},
        {"now": "today"},
        {"service": "telepathy"},
    ],
)
def test_bad_argument_types_raise(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ParameterTypeError):
        diagnose(rtc(), **kwargs)
    with pytest.raises(ParameterTypeError):
        diagnose(None)  # type: ignore[arg-type]
    if "app_id" in kwargs:
        return  # validate() has no app_id
    # validate() refuses the same arguments the same way
    asked = dict(kwargs)
    certificate = asked.pop("app_certificate", CERT)
    with pytest.raises(ParameterTypeError):
        validate(rtc(), certificate, **asked)


def test_certificate_passed_as_an_id_is_masked() -> None:
    findings = run(rtc(), app_certificate=CERT, app_id=CERT, channel_name=CERT, user_id=CERT)
    assert {"app-id-mismatch", "channel-mismatch"} <= codes(findings)
    assert all(CERT not in repr(finding.detail) for finding in findings)
