"""Connections that never finish a request head are closed: uvicorn's protocols with a head deadline
(both the h11 and the httptools one, in process), and a real server flooded with silent and
trickling sockets past its connection limit (process-level, slow).  Loopback only."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from server_processes import free_port, start_serve, stop  # noqa: E402

from accesstoken2.server import ConfigurationError, Settings  # noqa: E402
from accesstoken2.server.connections import HTTPTOOLS_PROTOCOL, H11HeadDeadlineProtocol, ServerConfig  # noqa: E402

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"

NO_HTTPTOOLS = pytest.mark.skipif(HTTPTOOLS_PROTOCOL is None, reason="httptools is not installed")
PROTOCOLS = [
    pytest.param(H11HeadDeadlineProtocol, id="h11"),
    pytest.param(HTTPTOOLS_PROTOCOL, id="httptools", marks=NO_HTTPTOOLS),
]


async def _hello(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):  # the whole body first, however slowly it comes
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Whether the server closed the connection within ``seconds`` (reading what it sent)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            data = await asyncio.wait_for(reader.read(4096), max(0.01, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            return False
        except ConnectionError:
            return True
        if not data:
            return True
    return False


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_request_head_has_a_deadline(protocol: Any) -> None:
    async def scenario() -> dict[str, bool]:
        port = free_port()
        config = ServerConfig(
            _hello,
            host="127.0.0.1",
            port=port,
            http=protocol,
            header_timeout=0.5,
            timeout_keep_alive=30,
            log_level="warning",
            lifespan="off",
        )
        server = uvicorn.Server(config)
        serving = asyncio.ensure_future(server.serve())
        try:
            for _ in range(100):
                if server.started:
                    break
                await asyncio.sleep(0.05)
            silent = await asyncio.open_connection("127.0.0.1", port)
            partial = await asyncio.open_connection("127.0.0.1", port)
            partial[1].write(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never finished
            answered = await asyncio.open_connection("127.0.0.1", port)
            answered[1].write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await asyncio.wait_for(answered[0].readuntil(b"ok"), 5)
            answered[1].write(b"GE")  # a next request that never completes, on a 30 s keep-alive
            slow_body = await asyncio.open_connection("127.0.0.1", port)
            slow_body[1].write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")  # head complete
            results = {
                "silent": await _closed_within(silent[0], 3),
                "partial": await _closed_within(partial[0], 3),
                "after an answer": await _closed_within(answered[0], 3),
                "head complete": not await _closed_within(slow_body[0], 1.0),
                "answered": head.startswith(b"HTTP/1.1 200"),
            }
            for _, writer in (silent, partial, answered, slow_body):
                writer.close()
            return results
        finally:
            server.should_exit = True
            await asyncio.wait_for(serving, 10)

    results = asyncio.run(scenario())
    assert results == dict.fromkeys(results, True), results


def test_header_timeout_setting() -> None:
    base = {"AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT}
    assert Settings.from_env(base, env_file=None).header_timeout == 10.0
    assert Settings.from_env({**base, "ACCESSTOKEN2_HEADER_TIMEOUT": "2.5"}, env_file=None).header_timeout == 2.5
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({**base, "ACCESSTOKEN2_HEADER_TIMEOUT": "0"}, env_file=None)
    assert caught.value.parameter == "ACCESSTOKEN2_HEADER_TIMEOUT"


# ---------------------------------------------------------------- a real server, flooded


MAX_CONNECTIONS = 50
SILENT, TRICKLING, KEPT_ALIVE = 35, 25, 10


@pytest.fixture
def limited_server(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    process = start_serve(tmp_path, tmp_path / "server.log", port, ACCESSTOKEN2_MAX_CONNECTIONS=str(MAX_CONNECTIONS))
    try:
        yield port
    finally:
        stop(process)


TRICKLED_HEAD = b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 64


def _closed(sock: socket.socket) -> bool:
    """Whether the server closed ``sock`` (within 5 s): an end of stream or a reset."""
    sock.settimeout(5)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        return True
    except OSError:  # a timeout: still open
        return False
    return True


def _ping(port: int) -> int:
    try:
        status: int = httpx.get(f"http://127.0.0.1:{port}/ping", timeout=2).status_code
        return status
    except httpx.TransportError:
        return 0


@pytest.mark.slow
def test_idle_sockets_do_not_lock_everyone_out(limited_server: int) -> None:
    """70 sockets (silent, trickling a byte every 5 s, or trickling after one answered request)
    against a limit of 50: /ping answers 200 within 15 s, and the server closed them all."""
    port = limited_server
    sockets: list[socket.socket] = []
    try:
        kept_alive = []
        for _ in range(KEPT_ALIVE):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
            kept_alive.append(sock)
        started = time.monotonic()
        silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(SILENT)]
        trickling = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(TRICKLING)]
        sockets = kept_alive + silent + trickling
        assert len(sockets) == 70
        time.sleep(0.5)
        assert _ping(port) == 503, "the flood did not reach the connection limit"
        answered_after = None
        last_trickle = 0.0
        sent = 0
        while time.monotonic() - started < 15:
            if time.monotonic() - last_trickle >= 5:
                # the next byte of a request head that never ends
                last_trickle = time.monotonic()
                byte = TRICKLED_HEAD[sent : sent + 1]
                sent += 1
                for sock in trickling + kept_alive:
                    try:
                        sock.send(byte)
                    except OSError:
                        pass  # already closed by the server
            if _ping(port) == 200:
                answered_after = time.monotonic() - started
                break
            time.sleep(0.25)
        assert answered_after is not None, "/ping did not answer 200 within 15 s"
        for sock in sockets:
            assert _closed(sock), "a socket without a complete request head was left open"
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.slow
def test_an_idle_keep_alive_connection_closes_after_5_s(limited_server: int) -> None:
    with socket.create_connection(("127.0.0.1", limited_server), timeout=5) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while not answer.endswith(b'"pong"}'):  # the head and the body may come in two reads
            chunk = sock.recv(4096)
            assert chunk, answer
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
        answered = time.monotonic()
        sock.settimeout(10)
        assert sock.recv(4096) == b""
        assert 4 <= time.monotonic() - answered <= 7.5


def test_the_server_extras_bring_uvicorns_recommended_stack() -> None:
    """uvloop and httptools come with uvicorn[standard]: the server extra and the test extra ask for it."""
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    for extra in ("server", "test"):
        match = re.search(rf"^{extra} = \[(.*?)\]$", pyproject, re.MULTILINE | re.DOTALL)
        assert match, extra
        assert '"uvicorn[standard]' in match.group(1), extra
