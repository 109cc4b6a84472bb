"""The accesstoken2 command: terminal safety, --json everywhere, one-line I/O errors, safe defaults.

Each test runs the command as a subprocess on the kernel under test (``impl_env``).
"""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

import accesstoken2
from accesstoken2 import AccessToken2, RtcTokenBuilder, ServiceFpa, inspect
from accesstoken2.cli import KINDS, main, terminal_safe

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
T0 = 1_700_000_000
PACKAGE_ROOT = str(Path(accesstoken2.__file__).resolve().parent.parent)

# What a hostile token can carry in its app id and channel: set the window title, clear the screen,
# move up and erase a line, a C1 CSI, a right-to-left override, an isolate and a line separator.
HOSTILE_APP_ID = "\x1b]0;pwned\x07\x1b[2J\u202e\x9b31m\u2028" + "a" * 5
HOSTILE_CHANNEL = "room\x1b[1A\x1b[2K\u2066\U000e0041"


def _string(data: bytes) -> bytes:
    return struct.pack("<H", len(data)) + data


def hostile_token() -> str:
    """A 007 token (unsigned: 32 zero bytes) whose app id and channel hold terminal control sequences."""
    rtc = struct.pack("<HH", 1, 1) + struct.pack("<HI", 1, 0) + _string(HOSTILE_CHANNEL.encode()) + _string(b"42")
    info = _string(HOSTILE_APP_ID.encode()) + struct.pack("<IIIH", T0, 3600, 1, 1) + rtc
    return "007" + base64.b64encode(zlib.compress(_string(bytes(32)) + info)).decode()


def run(
    env: dict[str, str], cwd: Path, *args: str, stdin: bytes | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[bytes]:
    full = {key: value for key, value in env.items() if not key.startswith("AGORA_")}
    full.update(PYTHONPATH=PACKAGE_ROOT, AGORA_APP_ID=APP_ID, AGORA_APP_CERTIFICATE=CERT)
    kwargs.setdefault("stdout", subprocess.PIPE)
    result = subprocess.run(
        [sys.executable, "-m", "accesstoken2", *args],
        input=stdin,
        stderr=subprocess.PIPE,
        env=full,
        cwd=cwd,
        timeout=120,
        check=False,
        **kwargs,
    )
    assert b"Traceback" not in result.stderr and b"Exception ignored" not in result.stderr
    assert CERT.encode() not in result.stderr + (result.stdout or b"")
    return result


def printable(output: bytes) -> bool:
    return all(char.isprintable() or char == "\n" for char in output.decode("utf-8"))


@pytest.mark.parametrize(
    "command",
    [
        ["inspect"],
        ["inspect", "--json"],
        ["diagnose", "--app-id", APP_ID, "--channel", "lobby", "--uid", "42"],
        ["diagnose", "--json", "--app-id", APP_ID],
        ["verify", "--app-id", APP_ID],
        ["verify", "--json", "--app-id", APP_ID],
    ],
    ids=lambda command: "-".join(command[:2]),
)
def test_control_characters_are_escaped(impl_env: dict[str, str], tmp_path: Path, command: list[str]) -> None:
    result = run(impl_env, tmp_path, command[0], hostile_token(), *command[1:], "--now", str(T0))
    assert result.stdout and printable(result.stdout) and printable(result.stderr)
    text = result.stdout.decode()
    assert "\\u001b" in text and ("\\u202e" in text or "--json" in command)
    if "--json" in command:
        data = json.loads(text)  # escaped as JSON writes it: the values read back unchanged
        if command[0] == "inspect":
            assert data["app_id"] == HOSTILE_APP_ID
            assert data["services"][0]["fields"]["channel_name"] == HOSTILE_CHANNEL


def test_inspect_lists_a_bounded_table(impl_env: dict[str, str], tmp_path: Path) -> None:
    token = AccessToken2(APP_ID, CERT, T0, 3600, salt=1)
    for _ in range(1000):
        token.add_service(ServiceFpa())
    table = run(impl_env, tmp_path, "inspect", token.build(), "--now", str(T0)).stdout.decode()
    assert "services     1,000" in table and "... and 968 more services, not listed (968 FPA)" in table
    assert table.count("(type 4)") == 32


def test_terminal_safe() -> None:
    assert terminal_safe("plain, ünïcode 中文 ok") == "plain, ünïcode 中文 ok"
    assert terminal_safe("a\x1b[2Jb\x9b\u202e\u2028\ud800") == "a\\u001b[2Jb\\u009b\\u202e\\u2028\\ud800"
    assert terminal_safe("\U000e0041") == "\\udb40\\udc41"
    assert terminal_safe("a\nb", keep="\n") == "a\nb" and terminal_safe("a\nb") == "a\\u000ab"


@pytest.mark.default_kernel
def test_every_kind_is_one_table_row(capsys: pytest.CaptureFixture[str]) -> None:
    names = [kind.name for kind in KINDS]
    assert len(names) == len(set(names)) == 17
    assert main(["build", "--help"]) == 0
    listed = capsys.readouterr().out
    assert [line.split()[0] for line in listed.splitlines() if line[:5].startswith("    ") and line[4] != " "] == names


def test_rtc_defaults_to_subscriber_and_needs_a_uid(impl_env: dict[str, str], tmp_path: Path) -> None:
    help_text = run(impl_env, tmp_path, "build", "rtc", "--help").stdout.decode()
    assert "default: subscriber" in help_text and "default: 3600" in help_text
    missing = run(impl_env, tmp_path, "build", "rtc", "--channel", "room")
    assert missing.returncode == 2 and b"--uid" in missing.stderr
    built = run(impl_env, tmp_path, "build", "rtc", "--channel", "room", "--uid", "0")
    assert built.returncode == 0
    (rtc,) = inspect(built.stdout.decode().strip()).services
    assert [privilege.name for privilege in rtc.privileges] == ["join_channel"]
    publisher = run(impl_env, tmp_path, "build", "rtc", "--channel", "room", "--uid", "7", "--role", "publisher")
    assert len(inspect(publisher.stdout.decode().strip()).services[0].privileges) == 4
    agent = run(impl_env, tmp_path, "build", "convoai", "--channel", "room", "--uid", "7", "--rtm-user-id", "a")
    assert agent.returncode == 2 and b"--role" in agent.stderr  # an agent's role has no safe default


def test_build_json(impl_env: dict[str, str], tmp_path: Path) -> None:
    result = run(
        impl_env, tmp_path, "build", "rtc", "--channel", "room", "--uid", "42", "--json", "--issue-ts", str(T0)
    )
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["kind"] == "rtc" and data["warnings"] == []
    assert inspect(data["token"]).issue_ts == T0 and inspect(data["token"]).token.verify(CERT)
    warned = run(impl_env, tmp_path, "build", "rtm", "--user-id", "u", "--expire", str(T0), "--json")
    data = json.loads(warned.stdout)
    assert warned.returncode == 0 and warned.stderr == b""
    assert data["token"].startswith("007") and any("absolute Unix" in text for text in data["warnings"])


def test_verify_json(impl_env: dict[str, str], tmp_path: Path) -> None:
    token = RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "room", 42, 1, 3600, issue_ts=T0, salt=1)
    good = run(impl_env, tmp_path, "verify", token, "--json", "--now", str(T0 + 10))
    data = json.loads(good.stdout)
    assert good.returncode == 0 and data["valid"] is True and data["code"] == "valid"
    assert "signature-ok" in {finding["code"] for finding in data["findings"]}
    late = run(impl_env, tmp_path, "verify", token, "--json", "--now", str(T0 + 7200))
    data = json.loads(late.stdout)
    assert late.returncode == 1 and data["valid"] is False and data["code"] == "expired"


@pytest.mark.parametrize(
    ("args", "status", "kind"),
    [
        (["build", "rtc", "--channel", "room", "--json"], 2, "usage"),
        (["build", "rtc", "--channel", "room", "--uid", "-1", "--json"], 2, "usage"),
        (["inspect", "007abc", "--json"], 1, "token"),
        (["verify", "007abc", "--json", "--bogus"], 2, "usage"),
        (["diagnose", "-", "--json"], 2, "usage"),
    ],
)
def test_json_errors(impl_env: dict[str, str], tmp_path: Path, args: list[str], status: int, kind: str) -> None:
    result = run(impl_env, tmp_path, *args, stdin=b"")
    assert result.returncode == status and result.stderr == b""
    error = json.loads(result.stdout)["error"]
    assert error["type"] == kind and error["exit_status"] == status and error["message"]


def test_non_utf8_stdin(impl_env: dict[str, str], tmp_path: Path) -> None:
    result = run(impl_env, tmp_path, "inspect", "-", stdin=b"007\xff\xfe\n")
    assert result.returncode == 3 and result.stdout == b""
    assert result.stderr.decode().count("\n") == 1 and "not UTF-8" in result.stderr.decode()
    as_json = run(impl_env, tmp_path, "diagnose", "-", "--json", stdin=b"\xc3")
    assert as_json.returncode == 3 and json.loads(as_json.stdout)["error"]["type"] == "input"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_full_disk(impl_env: dict[str, str], tmp_path: Path, extra: list[str]) -> None:
    token = RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "room", 42, 1, 3600, issue_ts=T0, salt=1)
    with open("/dev/full", "wb") as full:
        result = run(impl_env, tmp_path, "inspect", token, *extra, stdout=full)
    message = result.stderr.decode()
    assert result.returncode == 3 and message.count("\n") == 1 and "No space left on device" in message


def test_closed_pipe(impl_env: dict[str, str], tmp_path: Path) -> None:
    token = RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "room", 42, 1, 3600, issue_ts=T0, salt=1)
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will read: the first write fails with EPIPE
    try:
        result = run(impl_env, tmp_path, "inspect", token, stdout=write_end)
    finally:
        os.close(write_end)
    message = result.stderr.decode()
    assert result.returncode == 3 and message.count("\n") == 1 and "pipe was closed" in message
