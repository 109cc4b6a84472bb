"""The certificate never comes back in a finding, a repr or a message, in any letter case, wherever the caller
put it (issue 18, finding 8: diagnose masked it only in its exact case)."""

from __future__ import annotations

from typing import Any

import pytest

from accesstoken2 import AccessToken2, RtcTokenBuilder, ServiceRtc, diagnose
from accesstoken2._redact import MASK, MIN_SECRET, Redactor
from accesstoken2.legacy import AccessToken as AccessToken006
from accesstoken2.legacy import RtcTokenBuilder as RtcTokenBuilder006

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
T0 = 1_700_000_000
CASES = {"upper": CERT.upper(), "lower": CERT.lower(), "swapped": CERT.swapcase(), "exact": CERT}

kernel_tests = pytest.mark.usefixtures("implementation")


def shown(findings: list[Any]) -> str:
    """Everything a caller can print of the findings."""
    return "\n".join(f"{finding}\n{finding!r}\n{finding.to_dict()}" for finding in findings)


def rtc(channel: str, account: int | str = 42) -> str:
    return RtcTokenBuilder.build_token_with_user_account(APP_ID, CERT, channel, account, 1, 3600, issue_ts=T0, salt=1)


@kernel_tests
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("argument", ["channel_name", "uid", "user_id", "app_id"])
def test_diagnose_masks_the_certificate_passed_as_another_argument(case: str, argument: str) -> None:
    value = CASES[case]
    token = RtcTokenBuilder.build_token_with_rtm(APP_ID, CERT, "room", "acct", 1, 3600, issue_ts=T0, salt=1)
    findings = diagnose(token, app_certificate=CERT, now=T0, **{argument: value})
    text = shown(findings)
    assert CERT.lower() not in text.lower()
    assert MASK in text  # it was there to mask: each argument mismatches the token


@kernel_tests
@pytest.mark.parametrize("case", list(CASES))
def test_diagnose_masks_the_certificate_inside_the_token(case: str) -> None:
    # a token built for a channel that holds the certificate (in some case), checked against another channel
    token = rtc(f"x{CASES[case]}y", f"acct-{CASES[case]}")
    findings = diagnose(token, app_certificate=CERT, channel_name="room", uid="acct", now=T0)
    text = shown(findings)
    assert CERT.lower() not in text.lower() and MASK in text
    assert {"channel-mismatch", "uid-mismatch"} <= {finding.code for finding in findings}
    mismatch = next(finding for finding in findings if finding.code == "channel-mismatch")
    assert mismatch.detail["token_channel_name"] == MASK


@pytest.mark.default_kernel
def test_diagnose_masks_a_certificate_with_surrounding_whitespace() -> None:
    findings = diagnose(rtc("room"), app_certificate=f" {CERT}\n", channel_name=CERT.upper(), now=T0)
    assert CERT.lower() not in shown(findings).lower()
    assert "certificate-malformed" in {finding.code for finding in findings}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.default_kernel
def test_the_reprs_of_tokens_mask_the_certificate(case: str) -> None:
    value = CASES[case]
    token = AccessToken2(value, CERT, T0, 600, salt=1)  # the certificate passed as the app id too
    token.add_service(ServiceRtc("room", 42))
    assert CERT.lower() not in repr(token).lower() and MASK in repr(token)
    legacy = AccessToken006(APP_ID, CERT, value, f"u{value}", ts=T0, salt=1)
    assert CERT.lower() not in repr(legacy).lower() and repr(legacy).count(MASK) == 2


@kernel_tests
def test_a_parsed_006_token_shows_only_crcs() -> None:
    token = RtcTokenBuilder006.buildTokenWithUid(APP_ID, CERT, CERT.upper(), 42, 1, 0, ts=T0 + 86400, salt=1)
    assert CERT.lower() not in repr(AccessToken006.parse(token)).lower()


def test_redactor_rules() -> None:
    redact = Redactor(CERT)
    assert redact(f"a{CERT.upper()}b{CERT.lower()}") == f"a{MASK}b{MASK}"
    assert redact.found_in(CERT.swapcase()) and not redact.found_in(CERT[:-1])
    # nothing shorter than MIN_SECRET is searched for (no certificate is that short)
    assert Redactor("a" * (MIN_SECRET - 1))("aaaaaaa banana") == "aaaaaaa banana"
    assert Redactor(None)("x") == "x" and Redactor("")("x") == "x"
    assert Redactor("a.b*c+d?e")("A.B*C+D?E") == MASK  # the secret is text, not a pattern
    other = "0123456789abcdef" * 2
    both = Redactor(None, CERT, other, CERT[:10])
    assert both(f"{CERT.upper()}-{other.upper()}") == f"{MASK}-{MASK}"  # the whole of each, the longest first
