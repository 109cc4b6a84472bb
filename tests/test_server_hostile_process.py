"""The token server as a real uvicorn process, against hostile clients: bodies over the cap (chunked,
with and without a key) while its memory is watched, an /inspect flood while /ping is timed, forged
log lines, a stalled body, the admin key and the connection limit.

One server process serves the whole module (starting one costs about a second)."""

from __future__ import annotations

import json
import re
import select
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from server_processes import APP_ID, CERT, free_port, start_serve, stop  # noqa: E402

from accesstoken2 import AccessToken2, ServiceChat  # noqa: E402

# every test here attacks a server process
pytestmark = pytest.mark.slow

USER_KEY = "hostile-user-key-0123456"
ADMIN_KEY = "hostile-admin-key-0123456"
MAX_CONNECTIONS = 12
CHUNK = 64 * 1024


class Server:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.url = f"http://127.0.0.1:{port}"

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        assert match, "no VmRSS in /proc status"
        return int(match.group(1))

    def log_text(self) -> str:
        return self.log.read_bytes().decode("utf-8", "backslashreplace")

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("hostile")
    log = folder / "server.log"
    port = free_port()
    process = start_serve(
        folder,
        log,
        port,
        ACCESSTOKEN2_API_KEY=USER_KEY,
        ACCESSTOKEN2_ADMIN_API_KEY=ADMIN_KEY,
        ACCESSTOKEN2_BODY_TIMEOUT="1",
        ACCESSTOKEN2_MAX_CONNECTIONS=str(MAX_CONNECTIONS),
    )
    yield Server(process, port, log)
    stop(process)


def read_answer(sock: socket.socket, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes, bool]:
    """Status, headers, body of one HTTP answer, and whether the server then closed the connection."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before an answer: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    try:
        closed = sock.recv(1) == b""
    except (ConnectionError, socket.timeout):
        closed = True
    return status, headers, body, closed


def log_count(server: Server, needle: str) -> int:
    return server.log_text().count(needle)


@pytest.mark.parametrize("authorization", [None, USER_KEY])
def test_chunked_body_over_the_cap_is_refused_without_memory_growth(server: Server, authorization: str | None) -> None:
    before = server.rss_kib()
    refusals = log_count(server, "POST /getToken 413")
    auth = f"Authorization: Bearer {authorization}\r\n" if authorization else ""
    sent = 0
    answer: tuple[int, dict[str, str], bytes, bool] | None = None
    peak = before
    with server.connect() as sock:
        sock.sendall(
            f"POST /getToken HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n"
        try:
            while sent < 100 * 1024 * 1024:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    answer = read_answer(sock)
                    break
                sock.sendall(chunk)
                sent += CHUNK
                if sent % (4 * 1024 * 1024) == 0:
                    peak = max(peak, server.rss_kib())
        except (ConnectionError, socket.timeout):
            pass  # the server answered 413 and closed; the answer may be lost to the reset
    peak = max(peak, server.rss_kib())
    # The server stopped reading at the cap: the client could not push the 100 MB through.
    assert sent < 32 * 1024 * 1024
    assert peak - before < 24 * 1024, f"server RSS grew from {before} to {peak} KiB"
    if answer is not None:
        status, headers, body, closed = answer
        assert status == 413 and headers["content-type"] == "application/json"
        assert "larger than" in json.loads(body)["detail"] and closed
    deadline = time.monotonic() + 5
    while log_count(server, "POST /getToken 413") == refusals and time.monotonic() < deadline:
        time.sleep(0.05)
    assert log_count(server, "POST /getToken 413") == refusals + 1


def many_service_token() -> str:
    token = AccessToken2(APP_ID, CERT, expire=600)
    for _ in range(10_000):
        token.add_service(ServiceChat())
    return token.build()


@pytest.mark.default_kernel
def test_inspect_flood_leaves_ping_fast(server: Server) -> None:
    token = many_service_token()
    auth = {"Authorization": f"Bearer {USER_KEY}"}
    stop = threading.Event()
    answers: list[tuple[int, int]] = []

    def flood() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while not stop.is_set():
                response = client.post("/inspect", json={"token": token}, headers=auth)
                answers.append((response.status_code, len(response.content)))

    floods = [threading.Thread(target=flood) for _ in range(4)]
    for thread in floods:
        thread.start()
    pings: list[float] = []
    try:
        time.sleep(0.5)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for _ in range(15):
                started = time.perf_counter()
                assert client.get("/ping").status_code == 200
                pings.append(time.perf_counter() - started)
                time.sleep(0.05)
    finally:
        stop.set()
        for thread in floods:
            thread.join(timeout=60)
    assert answers and {status for status, _ in answers} == {200}
    assert max(size for _, size in answers) <= 64 * 1024
    # Before the fix /ping's median was about 640 ms under such a flood; the bound is generous
    # because this machine is shared.
    assert statistics.median(pings) < 0.3, f"/ping median {statistics.median(pings) * 1e3:.0f} ms under the flood"


def test_forged_log_lines_are_escaped(server: Server) -> None:
    forged = "GET /ping\\x0d\\x0aFAKE GET /admin 200\\x00\\x1b[31m 404"
    before = log_count(server, forged)
    with server.connect() as sock:
        sock.sendall(
            b"GET /ping%0D%0AFAKE%20GET%20/admin%20200%00%1B[31m HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        status, _, _, _ = read_answer(sock)
    assert status == 404
    deadline = time.monotonic() + 5
    while log_count(server, forged) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    raw = server.log.read_bytes()
    assert b"\x1b" not in raw and b"\x00" not in raw and b"\r" not in raw
    lines = raw.decode("ascii").splitlines()
    assert sum(forged in line for line in lines) == before + 1
    assert not any(line.startswith("FAKE") for line in lines)


@pytest.mark.parametrize("framing", ["Content-Length: 100", "Transfer-Encoding: chunked"])
def test_stalled_body_gets_408_and_the_connection_closes(server: Server, framing: str) -> None:
    with server.connect() as sock:
        started = time.monotonic()
        first = b'a\r\n{"tokenTyp\r\n' if "chunked" in framing else b'{"tokenTyp'
        sock.sendall(f"POST /getToken HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\n".encode() + first)
        status, headers, body, closed = read_answer(sock)
        elapsed = time.monotonic() - started
    assert status == 408 and headers["content-type"] == "application/json"
    assert "did not arrive within 1 s" in json.loads(body)["detail"]
    assert closed
    assert 0.9 < elapsed < 8


@pytest.mark.default_kernel
def test_chat_app_token_needs_the_admin_key(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/chat/app/token").status_code == 401
        user = client.get("/chat/app/token", headers={"Authorization": f"Bearer {USER_KEY}"})
        assert user.status_code == 403 and "ACCESSTOKEN2_ADMIN_API_KEY" in user.json()["detail"]
        user_post = client.post(
            "/getToken", json={"tokenType": "chat"}, headers={"Authorization": f"Bearer {USER_KEY}"}
        )
        assert user_post.status_code == 403
        admin = client.get("/chat/app/token", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        assert admin.status_code == 200
        assert AccessToken2.parse(admin.json()["token"]).verify(CERT)
        assert USER_KEY not in user.text and ADMIN_KEY not in admin.text
    assert USER_KEY not in server.log_text() and ADMIN_KEY not in server.log_text()


def test_connection_limit_answers_json(server: Server) -> None:
    idle: list[socket.socket] = []
    try:
        for _ in range(MAX_CONNECTIONS):
            idle.append(server.connect())
        time.sleep(0.2)
        with server.connect() as sock:
            sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
            status, headers, body, _ = read_answer(sock)
    finally:
        for sock in idle:
            sock.close()
    assert status == 503 and headers["content-type"] == "application/json"
    assert "connection limit" in json.loads(body)["detail"]
    time.sleep(0.2)
    assert httpx.get(f"{server.url}/ping", timeout=10).status_code == 200
