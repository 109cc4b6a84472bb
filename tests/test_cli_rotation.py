"""The command line with two certificates (--app-certificate-file twice, or a file of two lines) and the
fingerprint command; run in-process through cli.main."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from accesstoken2 import RtcTokenBuilder, token_fingerprint
from accesstoken2.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main

APP_ID = "970CA35de60c44645bbae8a215061b33"
PRIMARY = "5CFd2fd1755d40ecb72977518be15d3b"
SECONDARY = "0123456789abcdef0123456789ABCDEF"
WRONG = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
T0 = 1_700_000_000


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AGORA_APP_ID", "AGORA_APP_CERTIFICATE"):
        monkeypatch.delenv(name, raising=False)


def token(certificate: str) -> str:
    return RtcTokenBuilder.build_token_with_uid(APP_ID, certificate, "room", 42, 1, 3600, issue_ts=T0, salt=5)


def write(tmp_path: Path, name: str, *lines: str) -> str:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    for secret in (PRIMARY, SECONDARY, WRONG):
        assert secret.lower() not in (out + err).lower()
    return status, out, err


@pytest.mark.parametrize("signed_with", [PRIMARY, SECONDARY])
@pytest.mark.default_kernel
def test_verify_accepts_either_certificate_of_a_two_line_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], signed_with: str
) -> None:
    both = write(tmp_path, "certificates", PRIMARY, SECONDARY)
    status, out, _ = run(capsys, "verify", token(signed_with), "--now", str(T0 + 1), "--app-certificate-file", both)
    position = 1 if signed_with == PRIMARY else 2
    assert status == EXIT_OK and f"certificate {position} of 2" in out


@pytest.mark.default_kernel
def test_verify_accepts_the_option_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = write(tmp_path, "primary", WRONG)
    second = write(tmp_path, "secondary", SECONDARY)
    args = ("--now", str(T0 + 1), "--app-certificate-file", first, "--app-certificate-file", second)
    status, out, _ = run(capsys, "verify", token(SECONDARY), *args)
    assert status == EXIT_OK and "certificate 2 of 2" in out
    status, out, _ = run(capsys, "verify", token(PRIMARY), *args)
    assert status == EXIT_INVALID and "signature-mismatch" in out
    status, out, _ = run(capsys, "diagnose", token(SECONDARY), "--json", *args)
    assert status == EXIT_OK and '"certificate": 1' in out and '"certificates": 2' in out


@pytest.mark.default_kernel
def test_one_certificate_keeps_the_plain_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = write(tmp_path, "primary", PRIMARY)
    status, out, _ = run(capsys, "verify", token(PRIMARY), "--now", str(T0 + 1), "--app-certificate-file", one)
    assert status == EXIT_OK and out.startswith("valid: the signature matches; ")


@pytest.mark.parametrize(
    "lines",
    [(), (PRIMARY, SECONDARY, WRONG), (PRIMARY, SECONDARY[:31]), (PRIMARY, PRIMARY.encode().hex()[:40])],
)
@pytest.mark.default_kernel
def test_a_bad_certificate_file_is_refused_without_echo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: tuple[str, ...]
) -> None:
    path = write(tmp_path, "certificates", *lines)
    status, _, err = run(capsys, "verify", token(PRIMARY), "--app-certificate-file", path)
    assert status == EXIT_USAGE and "one or two lines" in err and len(err.strip().splitlines()) == 1


@pytest.mark.default_kernel
def test_more_than_two_certificates_in_all_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    both = write(tmp_path, "both", PRIMARY, SECONDARY)
    one = write(tmp_path, "one", WRONG)
    status, _, err = run(
        capsys, "verify", token(PRIMARY), "--app-certificate-file", both, "--app-certificate-file", one
    )
    assert status == EXIT_USAGE and "3 certificates" in err


@pytest.mark.default_kernel
def test_build_signs_with_the_primary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    both = write(tmp_path, "certificates", SECONDARY, PRIMARY)
    args = ("build", "rtc", "--app-id", APP_ID, "--app-certificate-file", both, "--channel", "room", "--uid", "42")
    status, out, _ = run(capsys, *args, "--issue-ts", str(T0), "--salt", "5", "--role", "publisher")
    assert status == EXIT_OK and out.strip() == token(SECONDARY)


@pytest.mark.default_kernel
def test_fingerprint_prints_token_fingerprint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    built = token(PRIMARY)
    status, out, _ = run(capsys, "fingerprint", built)
    assert status == EXIT_OK and out == token_fingerprint(built) + "\n" and len(out.strip()) == 16
    assert token_fingerprint(built) != token_fingerprint(token(SECONDARY))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((built + "\n").encode())))
    status, out, _ = run(capsys, "fingerprint", "-")
    assert status == EXIT_OK and out.strip() == token_fingerprint(built)
