"""SIGHUP on a real server process: the secret files are read again without closing a connection, a
bad new value is refused in one log line, the audit log is reopened; and with two workers the
parent passes the signal on instead of restarting them."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from server_processes import CERT, free_port, server_env, stop  # noqa: E402

import accesstoken2  # noqa: E402
from accesstoken2 import AccessToken2, token_fingerprint  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP")]

NEW_CERT = "0123456789abcdef0123456789abcdef"
USER_KEY = "process-user-key-0123456789"
NEW_USER_KEY = "process-user-key-abcdefghij"
PACKAGE_ROOT = str(Path(accesstoken2.__file__).resolve().parent.parent)
Start = Callable[..., "tuple[int, subprocess.Popen[bytes], Path]"]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    processes: list[subprocess.Popen[bytes]] = []

    def run(workers: int = 1, **env: str) -> tuple[int, subprocess.Popen[bytes], Path]:
        port = free_port()
        log = tmp_path / f"server-{port}.log"
        # the certificate comes from a file here: a blank AGORA_APP_CERTIFICATE counts as unset
        clean = {**server_env(), "AGORA_APP_CERTIFICATE": "", "PYTHONPATH": PACKAGE_ROOT, **env}
        code = f"import sys; from accesstoken2.server import serve; sys.exit(serve(port={port}, workers={workers}))"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-c", code], cwd=tmp_path, env=clean, stdout=output, stderr=output
            )
        processes.append(process)
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text(errors="replace")[-2000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        return port, process, log

    yield run
    for process in processes:
        stop(process)


class Connection:
    """One keep-alive HTTP/1.1 connection, to show that a reload does not close it."""

    def __init__(self, port: int) -> None:
        self._socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self._buffer = b""

    def get(self, path: str, key: str) -> tuple[int, dict[str, Any]]:
        request = f"GET {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n\r\n"
        self._socket.sendall(request.encode("ascii"))
        while b"\r\n\r\n" not in self._buffer:
            self._read()
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
        assert headers.get("connection") != "close"
        length = int(headers["content-length"])
        while len(self._buffer) < length:
            self._read()
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return status, json.loads(body)

    def _read(self) -> None:
        chunk = self._socket.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self._buffer += chunk

    def close(self) -> None:
        self._socket.close()


def signed_with(token: str) -> str | None:
    parsed = AccessToken2.parse(token)
    return next((cert for cert in (CERT, NEW_CERT) if parsed.verify(cert)), None)


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.default_kernel
def test_sighup_rotates_without_closing_a_connection(start: Start, tmp_path: Path) -> None:
    cert_file, key_file, audit = tmp_path / "cert", tmp_path / "key", tmp_path / "audit.log"
    cert_file.write_text(CERT + "\n")
    key_file.write_text(USER_KEY)
    port, process, log = start(
        AGORA_APP_CERTIFICATE_FILE=str(cert_file),
        ACCESSTOKEN2_API_KEY_FILE=str(key_file),
        ACCESSTOKEN2_AUDIT_LOG=str(audit),
    )
    connection = Connection(port)
    try:
        status, body = connection.get("/v1/token?channel_name=a", USER_KEY)
        assert status == 200 and signed_with(body["token"]) == CERT
        first_token = body["token"]
        audit.rename(tmp_path / "audit.log.1")  # logrotate, then SIGHUP
        cert_file.write_text(NEW_CERT + "\n")
        key_file.write_text(NEW_USER_KEY)
        process.send_signal(signal.SIGHUP)

        def rotated() -> bool:
            status, _ = connection.get("/v1/token?channel_name=b", NEW_USER_KEY)
            return status == 200

        wait_for(rotated, "the new key was not taken")
        status, body = connection.get("/v1/token?channel_name=c", NEW_USER_KEY)
        assert status == 200 and signed_with(body["token"]) == NEW_CERT
        assert connection.get("/v1/token?channel_name=d", USER_KEY)[0] == 401
        # a bad new value: refused in one log line, the old one kept, on the same connection
        cert_file.write_text("not-a-certificate-" + CERT)
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload refused" in log.read_text(errors="replace"), "no refusal logged")
        status, body = connection.get("/v1/token?channel_name=e", NEW_USER_KEY)
        assert status == 200 and signed_with(body["token"]) == NEW_CERT
        assert process.poll() is None
    finally:
        connection.close()
    text = log.read_text(errors="replace")
    refusals = [line for line in text.splitlines() if "reload refused" in line]
    assert len(refusals) == 1 and "AGORA_APP_CERTIFICATE_FILE must be 32 hexadecimal characters" in refusals[0]
    for secret in (CERT, NEW_CERT, USER_KEY, NEW_USER_KEY):
        assert secret.lower() not in text.lower()
    old_lines = [json.loads(line) for line in (tmp_path / "audit.log.1").read_text().splitlines()]
    assert [record["token_sha256"] for record in old_lines] == [token_fingerprint(first_token)]
    new_channels = [json.loads(line)["services"][0]["channel"] for line in audit.read_text().splitlines()]
    assert new_channels[-2:] == ["c", "e"] and "a" not in new_channels


@pytest.mark.default_kernel
def test_two_workers_reload_on_the_parents_sighup(start: Start, tmp_path: Path) -> None:
    cert_file = tmp_path / "cert"
    cert_file.write_text(CERT)
    port, process, log = start(workers=2, AGORA_APP_CERTIFICATE_FILE=str(cert_file), ACCESSTOKEN2_API_KEY=USER_KEY)
    # both workers up (one answering /ping is not enough): a worker gets SIGHUP only once it serves
    wait_for(lambda: log.read_text(errors="replace").count("Application startup complete") >= 2, "two workers")
    keep = Connection(port)
    try:
        assert signed_with(keep.get("/v1/token?channel_name=a", USER_KEY)[1]["token"]) == CERT
        cert_file.write_text(NEW_CERT)
        process.send_signal(signal.SIGHUP)
        wait_for(
            lambda: log.read_text(errors="replace").count("new value of AGORA_APP_CERTIFICATE_FILE") >= 2, "reload"
        )
        # every worker signs with the new certificate (each new connection may go to either)
        for index in range(20):
            answer = httpx.get(
                f"http://127.0.0.1:{port}/v1/token?channel_name=n{index}",
                headers={"Authorization": f"Bearer {USER_KEY}"},
                timeout=10,
            )
            assert signed_with(answer.json()["token"]) == NEW_CERT
        assert signed_with(keep.get("/v1/token?channel_name=b", USER_KEY)[1]["token"]) == NEW_CERT
    finally:
        keep.close()
    assert "restarting processes" not in log.read_text(errors="replace")
