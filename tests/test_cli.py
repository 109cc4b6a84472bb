"""The accesstoken2 command, driven as a subprocess on the kernel under test (``impl_env``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import accesstoken2
from accesstoken2 import RtcTokenBuilder, RtmTokenBuilder, ServiceRtm2, inspect
from accesstoken2.legacy import RtcTokenBuilder as RtcTokenBuilder006

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
OTHER_CERT = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
T0 = 1_700_000_000
# The package under test, wherever it is imported from (source tree or installed).
PACKAGE_ROOT = str(Path(accesstoken2.__file__).resolve().parent.parent)

Run = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def cli(impl_env: dict[str, str], tmp_path: Path) -> Run:
    base = {key: value for key, value in impl_env.items() if not key.startswith("AGORA_")}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, base.get("PYTHONPATH")]))

    def run(*args: str, stdin: str | None = None, credentials: bool = True) -> subprocess.CompletedProcess[str]:
        env = dict(base)
        if credentials:
            env.update(AGORA_APP_ID=APP_ID, AGORA_APP_CERTIFICATE=CERT)
        result = subprocess.run(
            [sys.executable, "-m", "accesstoken2", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert CERT not in result.stdout and CERT not in result.stderr
        assert OTHER_CERT not in result.stdout and OTHER_CERT not in result.stderr
        assert "Traceback" not in result.stderr
        if result.returncode != 0 and args and args[0] != "diagnose":
            assert len(result.stderr.strip().splitlines()) <= 1 or result.stdout
        return result

    return run


def rtc_token(expire: int = 3600) -> str:
    return RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "room", 42, 1, expire, issue_ts=T0, salt=1)


def test_version_names_the_implementation(cli: Run, implementation: str) -> None:
    result = cli("--version")
    assert result.returncode == 0
    assert ("C core" if implementation == "c" else "pure Python") in result.stdout
    assert accesstoken2.__version__ in result.stdout


def test_demo_runs_with_no_environment(cli: Run, implementation: str) -> None:
    result = cli("demo", credentials=False)
    assert result.returncode == 0, result.stderr
    tokens = [line for line in result.stdout.splitlines() if line.startswith("007")]
    assert len(tokens) == 1
    info = inspect(tokens[0])
    assert info.app_id == APP_ID and [s.name for s in info.services] == ["RTC", "RTM"]
    assert info.token.verify(CERT)
    assert "DEMO" in result.stdout and "join_channel" in result.stdout
    assert ("C core" if implementation == "c" else "pure Python") in result.stdout
    assert "matches the demo certificate" in result.stdout


def _permissions() -> ServiceRtm2.Permissions:
    permissions = ServiceRtm2.Permissions()
    permissions.add(ServiceRtm2.Permissions.kMessageChannels, ServiceRtm2.Permissions.kRead, ["lobby", "hall"])
    return permissions


FIXED = ("--issue-ts", str(T0), "--salt", "7")
BUILDS: list[tuple[list[str], Callable[[], str]]] = [
    (
        ["rtc", "--channel", "room", "--uid", "42", "--role", "subscriber", "--expire", "600", *FIXED],
        lambda: RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "room", 42, 2, 600, issue_ts=T0, salt=7),
    ),
    (
        ["rtc", "--channel", "room", "--account", "0", "--join-expire", "60", *FIXED],
        lambda: RtcTokenBuilder.build_token_with_user_account_and_privilege(
            APP_ID, CERT, "room", "0", 3600, 60, 0, 0, 0, issue_ts=T0, salt=7
        ),
    ),
    (
        [
            "rtc-rtm",
            "--channel",
            "room",
            "--uid",
            "5",
            "--role",
            "publisher",
            "--rtm-user-id",
            "bob",
            "--rtm-expire",
            "60",
            *FIXED,
        ],
        lambda: RtcTokenBuilder.build_token_with_rtm2(
            APP_ID, CERT, "room", 5, 1, 3600, 0, 0, 0, 0, "bob", 60, issue_ts=T0, salt=7
        ),
    ),
    (
        [
            "rtm2",
            "--user-id",
            "u",
            "--permission",
            "message_channels:read:lobby",
            "--permission",
            "message_channels:read:hall",
            *FIXED,
        ],
        lambda: RtmTokenBuilder.build_token_with_permissions(
            APP_ID, CERT, "u", _permissions(), 3600, issue_ts=T0, salt=7
        ),
    ),
    (
        ["rtc006", "--channel", "room", "--uid", "42", "--role", "publisher", "--ts", str(T0 + 86400), *FIXED],
        lambda: RtcTokenBuilder006.buildTokenWithUid(APP_ID, CERT, "room", 42, 1, T0 + 3600, ts=T0 + 86400, salt=7),
    ),
]


@pytest.mark.parametrize(("args", "expected"), BUILDS, ids=[args[0] + str(i) for i, (args, _) in enumerate(BUILDS)])
def test_build_matches_the_library(cli: Run, args: list[str], expected: Callable[[], str]) -> None:
    result = cli("build", *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected()


def test_build_every_kind_gives_its_services(impl_env: dict[str, str]) -> None:
    kinds = {
        "chat-user --user-id u": ["Chat"],
        "chat-app": ["Chat"],
        "fpa": ["FPA"],
        "education-room-user --room-uuid r --user-uuid u --role 1": ["RTM", "Chat", "APaaS"],
        "apaas-app": ["APaaS"],
        "convoai --channel c --uid 3 --role publisher --rtm-user-id agent": ["RTC", "RTM", "ConvoAI"],
        "stt --channel c --account a --role subscriber --rtm-user-id agent": ["RTC", "RTM", "STT"],
        "rtm006 --user-id bob": ["RTM"],
    }
    script = "; ".join(
        f"main(['build', *{kind.split()!r}])" for kind in kinds
    )  # one interpreter for all kinds keeps the test fast
    result = subprocess.run(
        [sys.executable, "-c", f"from accesstoken2.cli import main; {script}"],
        capture_output=True,
        text=True,
        env={**impl_env, "AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT, "PYTHONPATH": PACKAGE_ROOT},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert CERT not in result.stdout + result.stderr
    tokens = result.stdout.split()
    assert [[s.name for s in inspect(token).services] for token in tokens] == list(kinds.values())


def test_inspect_table_and_stdin(cli: Run) -> None:
    token = rtc_token()
    table = cli("inspect", token, "--now", str(T0 + 60))
    assert table.returncode == 0
    assert "2023-11-14 22:13:20 UTC" in table.stdout and "publish_video_stream" in table.stdout
    assert "in 59 min" in table.stdout
    piped = cli("inspect", "-", "--now", str(T0 + 60), stdin=token + "\n")
    assert piped.stdout == table.stdout


def test_inspect_json(cli: Run) -> None:
    result = cli("inspect", rtc_token(), "--json", "--now", str(T0))
    data = json.loads(result.stdout)
    assert data["version"] == "007" and data["issue_ts"] == T0 and data["salt"] == 1
    assert [(s["type"], s["name"]) for s in data["services"]] == [(1, "RTC")]


def test_inspect_malformed_and_legacy(cli: Run) -> None:
    result = cli("inspect", "007abc")
    assert result.returncode == 1 and "base64" in result.stderr and result.stdout == ""
    legacy = "1:970CA35de60c44645bbae8a215061b33:1514219634:82539e1f3973bcfe3f0d0c8993e6c051"
    result = cli("inspect", legacy)
    assert result.returncode == 1 and "SignalingToken" in result.stderr


def test_diagnose(cli: Run) -> None:
    bad = cli("diagnose", rtc_token(), "--channel", "room", "--uid", "43", "--user-id", "42", "--now", str(T0))
    assert bad.returncode == 1
    assert "uid-mismatch" in bad.stdout and "missing-service" in bad.stdout and "signature-ok" in bad.stdout
    good = cli("diagnose", rtc_token(), "--channel", "room", "--uid", "42", "--now", str(T0), "--json")
    assert good.returncode == 0
    assert {finding["code"] for finding in json.loads(good.stdout)} >= {"signature-ok", "valid"}


def test_verify_exit_codes(cli: Run, tmp_path: Path) -> None:
    assert cli("verify", rtc_token(), "--now", str(T0 + 10)).returncode == 0
    expired = cli("verify", rtc_token(), "--now", str(T0 + 3600))
    assert expired.returncode == 1 and "expired" in expired.stdout
    other = tmp_path / "other.txt"
    other.write_text(OTHER_CERT + "\n")
    wrong = cli("verify", rtc_token(), "--now", str(T0), "--app-certificate-file", str(other), credentials=False)
    assert wrong.returncode == 1 and "signature-mismatch" in wrong.stdout
    assert cli("verify", "007xx", "--now", str(T0)).returncode == 1
    missing = cli("verify", rtc_token(), credentials=False)
    assert missing.returncode == 2 and "AGORA_APP_CERTIFICATE" in missing.stderr


def test_verify_006_needs_channel_and_uid(cli: Run) -> None:
    token = RtcTokenBuilder006.buildTokenWithUid(APP_ID, CERT, "room", 42, 1, 0, ts=T0 + 86400, salt=1)
    assert cli("verify", token, "--now", str(T0)).returncode == 2
    assert cli("verify", token, "--now", str(T0), "--channel", "room", "--uid", "42").returncode == 0
    assert cli("verify", token, "--now", str(T0), "--channel", "room", "--uid", "41").returncode == 1


def test_certificate_is_never_an_argument(cli: Run) -> None:
    refused = cli("build", "rtc", "--channel", "room", "--app-certificate", CERT)
    assert refused.returncode == 2 and "AGORA_APP_CERTIFICATE" in refused.stderr and refused.stdout == ""
    typo = cli("inspect", rtc_token(), "--app-cert-file", CERT)
    assert typo.returncode == 2 and "hidden" in typo.stderr


def test_certificate_file(cli: Run, tmp_path: Path) -> None:
    good = tmp_path / "cert"
    good.write_text(f"  {CERT}\n")
    built = cli(
        "build", "rtm", "--user-id", "u", "--app-id", APP_ID, "--app-certificate-file", str(good), credentials=False
    )
    assert built.returncode == 0 and inspect(built.stdout.strip()).token.verify(CERT)
    absent = cli("build", "rtm", "--user-id", "u", "--app-certificate-file", str(tmp_path / "nope"))
    assert absent.returncode == 2 and "cannot read the file" in absent.stderr
    bad = tmp_path / "bad"
    bad.write_text("not a certificate")
    wrong = cli("build", "rtm", "--user-id", "u", "--app-certificate-file", str(bad))
    assert wrong.returncode == 2 and "32 hexadecimal" in wrong.stderr


def test_usage_errors_are_one_line(cli: Run) -> None:
    no_app = cli("build", "chat-app", credentials=False)
    assert no_app.returncode == 2 and "AGORA_APP_ID" in no_app.stderr
    bad_uid = cli("build", "rtc", "--channel", "room", "--uid", "99999999999")
    assert bad_uid.returncode == 2 and "4294967295" in bad_uid.stderr
    assert cli("build").returncode == 2
    assert cli().returncode == 2


def test_absolute_expire_warns_in_one_line(cli: Run) -> None:
    result = cli("build", "rtm", "--user-id", "u", "--expire", str(T0))
    assert result.returncode == 0 and result.stdout.startswith("007")
    assert result.stderr.count("\n") == 1 and "absolute Unix timestamp" in result.stderr


def test_serve_fails_cleanly_without_setup(cli: Run) -> None:
    result = cli("serve", "--port", "0", credentials=False)
    assert result.returncode == 2
    assert result.stderr.startswith("accesstoken2") and result.stderr.count("\n") == 1
