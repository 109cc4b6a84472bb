"""validate(): the parsed token or TokenRejectedError; certificate rotation in validate and diagnose; the typed
errors of bad certificate arguments; the 006 builders' warning on a lifetime passed as an absolute time."""

from __future__ import annotations

import inspect as pyinspect
import pickle
import warnings
from typing import Any

import pytest

from accesstoken2 import (
    AccessToken2,
    InvalidParameterError,
    ParameterTypeError,
    RtcTokenBuilder,
    Severity,
    TokenError,
    TokenRejectedError,
    diagnose,
    validate,
)
from accesstoken2.legacy import AccessToken
from accesstoken2.legacy import RtcTokenBuilder as RtcTokenBuilder006
from accesstoken2.legacy import RtmTokenBuilder as RtmTokenBuilder006

# validate parses and verifies: every test here touches a kernel
pytestmark = pytest.mark.usefixtures("implementation")

APP_ID = "970CA35de60c44645bbae8a215061b33"
PRIMARY = "5CFd2fd1755d40ecb72977518be15d3b"
SECONDARY = "0123456789abcdef0123456789ABCDEF"
WRONG = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
T0 = 1_700_000_000
NOW = T0 + 100


def rtc(certificate: str = PRIMARY, role: int = 1, expire: int = 3600, privilege: int = 0) -> str:
    return RtcTokenBuilder.build_token_with_uid(
        APP_ID, certificate, "room", 42, role, expire, privilege, issue_ts=T0, salt=7
    )


def rejected(token: str, certificate: Any = PRIMARY, **kwargs: Any) -> TokenRejectedError:
    kwargs.setdefault("now", NOW)
    with pytest.raises(TokenRejectedError) as caught:
        validate(token, certificate, **kwargs)
    return caught.value


# --- the verdict -----------------------------------------------------------------------------------


def test_an_acceptable_token_comes_back_parsed() -> None:
    parsed = validate(rtc(), PRIMARY, channel_name="room", uid=42, service="rtc", now=NOW)
    assert isinstance(parsed, AccessToken2)
    assert (parsed.app_id, parsed.issue_ts, parsed.salt) == (APP_ID, T0, 7)


def test_the_same_token_is_rejected_once_expired_or_at_a_later_now() -> None:
    assert isinstance(validate(rtc(), PRIMARY, now=T0 + 3599), AccessToken2)
    error = rejected(rtc(), now=T0 + 3600)
    assert error.code == "expired" and [finding.code for finding in error.findings] == ["expired"]
    assert isinstance(error, TokenError) and isinstance(error, ValueError)
    assert error.message == str(error) == error.findings[0].message


@pytest.mark.parametrize(
    ("token", "kwargs", "code"),
    [
        (rtc(WRONG), {}, "signature-mismatch"),
        (rtc(), {"channel_name": "lobby"}, "channel-mismatch"),
        (rtc(), {"uid": 43}, "uid-mismatch"),
        (rtc(), {"user_id": "bob", "service": "rtm"}, "missing-service"),
        (rtc(role=2), {"privileges": ["publish_audio_stream"]}, "missing-privilege"),
        (rtc(privilege=50), {"privileges": ["join_channel"]}, "privilege-expired"),
        ("007" + "A" * 10, {}, "malformed"),
        (rtc()[:-20], {}, "truncated"),
        (" " + rtc(), {}, "surrounding-whitespace"),
    ],
)
def test_each_rejection_carries_diagnose_code(token: str, kwargs: dict[str, Any], code: str) -> None:
    error = rejected(token, **kwargs)
    assert error.code == code
    assert all(finding.severity is Severity.ERROR for finding in error.findings)
    assert code in {finding.code for finding in error.findings}


def test_findings_are_all_the_errors_and_first_is_the_code() -> None:
    error = rejected(rtc(WRONG), channel_name="lobby", uid=43, now=T0 + 7200)
    assert error.code == error.findings[0].code
    assert {"expired", "channel-mismatch", "uid-mismatch", "signature-mismatch"} <= {f.code for f in error.findings}


def test_the_error_survives_pickling() -> None:
    error = rejected(rtc(WRONG), channel_name="lobby")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.findings, str(copy)) == (error.code, error.findings, str(error))


def test_a_malformed_token_says_where_as_data() -> None:
    error = rejected("007" + "!" * 12)
    assert error.code == "malformed" and error.stage is not None and error.stage.value == "base64"


def test_warnings_and_information_do_not_reject() -> None:
    with pytest.warns(UserWarning, match="over 24 hours"):
        long_lived = rtc(expire=2 * 86400)
    subscriber = rtc(role=2)
    assert "lifetime-over-24h" in {f.code for f in diagnose(long_lived, app_certificate=PRIMARY, now=NOW)}
    assert isinstance(validate(long_lived, PRIMARY, now=NOW), AccessToken2)
    assert isinstance(validate(subscriber, PRIMARY, channel_name="room", uid=42, now=NOW), AccessToken2)


def test_privileges_asked_by_name_or_id() -> None:
    publisher = rtc()
    validate(publisher, PRIMARY, privileges=("join_channel", 2), now=NOW)
    assert rejected(rtc(role=2), privileges=[2]).code == "missing-privilege"
    with pytest.raises(InvalidParameterError) as unknown:
        validate(publisher, PRIMARY, privileges=["jion_channel"], now=NOW)
    assert unknown.value.parameter == "privileges"
    with pytest.raises(ParameterTypeError):
        validate(publisher, PRIMARY, privileges="join_channel", now=NOW)


def test_006_tokens_validate_with_channel_and_uid() -> None:
    token = RtcTokenBuilder006.buildTokenWithUid(APP_ID, PRIMARY, "room", 42, 1, T0 + 3600, ts=T0 + 3600, salt=3)
    assert isinstance(validate(token, PRIMARY, channel_name="room", uid=42, now=NOW), AccessToken)
    assert rejected(token, channel_name="lobby", uid=42).code == "channel-mismatch"
    assert rejected(token, WRONG, channel_name="room", uid=42).code == "signature-mismatch"
    assert rejected(token, channel_name="room", uid=42, now=T0 + 3600).code == "expired"
    # its signature covers a channel and uid it holds only CRCs of: without them there is no verdict
    with pytest.raises(InvalidParameterError) as unanswerable:
        validate(token, PRIMARY, now=NOW)
    assert unanswerable.value.parameter == "channel_name"
    rtm = RtmTokenBuilder006.buildToken(APP_ID, PRIMARY, "bob", 1, 0, ts=T0 + 3600, salt=3)
    assert isinstance(validate(rtm, [WRONG, PRIMARY], user_id="bob", now=NOW), AccessToken)


def test_verify_docstrings_say_signature_only_and_point_to_validate() -> None:
    for method in (AccessToken2.verify, AccessToken.verify):
        text = pyinspect.getdoc(method) or ""
        assert "signature only" in text and "validate" in text


# --- rotation --------------------------------------------------------------------------------------


@pytest.mark.parametrize("certificates", [[PRIMARY, SECONDARY], (SECONDARY, PRIMARY), [WRONG, WRONG, PRIMARY]])
def test_any_certificate_of_a_sequence_may_match(certificates: list[str]) -> None:
    token = rtc(PRIMARY)
    assert isinstance(validate(token, certificates, now=NOW), AccessToken2)
    ok = [f for f in diagnose(token, app_certificate=certificates, now=NOW) if f.code == "signature-ok"]
    assert len(ok) == 1
    assert ok[0].detail == {"certificate": list(certificates).index(PRIMARY), "certificates": len(certificates)}
    assert f"{list(certificates).index(PRIMARY) + 1} of {len(certificates)}" in ok[0].message


def test_no_certificate_of_a_sequence_matches() -> None:
    error = rejected(rtc(WRONG), [PRIMARY, SECONDARY])
    assert error.code == "signature-mismatch" and "none of the 2" in error.message


def test_one_malformed_certificate_of_a_sequence_is_named_by_position() -> None:
    secret = SECONDARY[:31]
    error = rejected(rtc(), [PRIMARY, secret])
    assert error.code == "certificate-malformed" and error.findings[0].detail == {"certificate": 1}
    assert "2 of 2" in error.message and secret.lower() not in error.message.lower()


@pytest.mark.parametrize(
    ("value", "error_type", "words"),
    [
        (b"5CFd2fd1755d40ecb72977518be15d3b", ParameterTypeError, "not bytes"),
        (12345, ParameterTypeError, "not int"),
        ({PRIMARY: 1}, ParameterTypeError, "not dict"),
        ([], InvalidParameterError, "empty"),
        ((), InvalidParameterError, "empty"),
        ([PRIMARY, 7], ParameterTypeError, "app_certificate[1] must be a str, not int"),
        ([PRIMARY, SECONDARY.encode()], ParameterTypeError, "not bytes"),
        ([PRIMARY] * 9, InvalidParameterError, "at most 8"),
    ],
)
def test_bad_certificate_arguments_raise_typed_errors(value: Any, error_type: type[Exception], words: str) -> None:
    for call in (
        lambda: validate(rtc(), value, now=NOW),
        lambda: diagnose(rtc(), app_certificate=value, now=NOW),
    ):
        with pytest.raises(error_type) as caught:
            call()
        assert type(caught.value) is error_type
        assert caught.value.parameter == "app_certificate"  # type: ignore[attr-defined]
        message = str(caught.value)
        assert words in message and "app_certificate" in message
        for secret in (PRIMARY, SECONDARY):
            assert secret.lower() not in message.lower()


def test_validate_needs_a_certificate() -> None:
    with pytest.raises(ParameterTypeError) as caught:
        validate(rtc(), None, now=NOW)  # type: ignore[arg-type]
    assert caught.value.parameter == "app_certificate"


@pytest.mark.parametrize("shown", [str.lower, str.upper, str.swapcase])
def test_a_certificate_passed_where_an_id_goes_is_masked_in_any_letter_case(shown: Any) -> None:
    certificates = [SECONDARY, PRIMARY]
    findings = diagnose(
        rtc(), app_certificate=certificates, channel_name=shown(PRIMARY), user_id=shown(SECONDARY), now=NOW
    )
    assert "channel-mismatch" in {finding.code for finding in findings}
    text = " ".join(finding.message + repr(finding.detail) for finding in findings).lower()
    assert PRIMARY.lower() not in text and SECONDARY.lower() not in text
    error = rejected(rtc(), certificates, channel_name=shown(PRIMARY))
    assert PRIMARY.lower() not in (str(error) + repr(error.findings)).lower()


# --- the 006 trap ----------------------------------------------------------------------------------


def test_a_006_lifetime_passed_as_an_absolute_time_warns_and_still_builds() -> None:
    with pytest.warns(UserWarning) as caught:
        token = RtcTokenBuilder006.build_token_with_uid(APP_ID, PRIMARY, "room", 42, 1, 3600, ts=T0, salt=3)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "privilegeExpiredTs=3600" in message and "absolute Unix time" in message
    assert "int(time.time()) + 3600" in message and "build_token_with_uid" in message and "007" in message
    assert caught[0].filename == __file__  # it points at the caller's line
    assert dict(AccessToken.parse(token).privileges) == {1: 3600, 2: 3600, 3: 3600, 4: 3600}
    with pytest.warns(UserWarning, match="privilegeExpiredTs=86400 is before the year 2000"):
        RtmTokenBuilder006.buildToken(APP_ID, PRIMARY, "bob", 1, 86400)
    with pytest.warns(UserWarning, match="pubVideoPrivilegeExpiredTs=600"):
        RtcTokenBuilder006.buildTokenWithUidAndPrivilege(APP_ID, PRIMARY, "room", 42, T0, T0, 600, 0)


@pytest.mark.parametrize("expire_at", [0, 946_684_800, T0 + 3600])
def test_no_limit_and_real_times_do_not_warn(expire_at: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RtcTokenBuilder006.buildTokenWithAccount(APP_ID, PRIMARY, "room", "alice", 2, expire_at)
        RtmTokenBuilder006.build_token(APP_ID, PRIMARY, "bob", 1, expire_at)
