"""The token server as a real process: uvicorn on 127.0.0.1, tokens over HTTP, then a clean shutdown."""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from server_processes import free_port, stop  # noqa: E402

from accesstoken2 import AccessToken2, ServiceType  # noqa: E402

# every test here starts the server as a process
pytestmark = pytest.mark.slow

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
API_KEY = "process-test-key-0123456789"
ADMIN_KEY = "process-admin-key-0123456789"
STARTUP_SECONDS = 20.0

Starter = Callable[..., "tuple[str, subprocess.Popen[bytes]]"]


def server_env(base: dict[str, str], **extra: str) -> dict[str, str]:
    env = dict(base)
    for name in list(env):
        if name.startswith("ACCESSTOKEN2_") and name != "ACCESSTOKEN2_NO_EXTENSIONS":
            del env[name]
    env.update({"AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT, **extra})
    return env


def wait_ready(process: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"server exited with {process.returncode} before answering: {output[-2000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"server did not answer within {STARTUP_SECONDS} s")


@pytest.fixture
def start_server(impl_env: dict[str, str], tmp_path: Path) -> Iterator[Starter]:
    # Run from an empty folder: from the repository root, "python -m ..." would import the source
    # tree instead of the installed package (and so never the compiled kernel).
    processes: list[subprocess.Popen[bytes]] = []

    def start(command: list[str], port: int, **env: str) -> tuple[str, subprocess.Popen[bytes]]:
        process = subprocess.Popen(
            command,
            cwd=tmp_path,
            env=server_env(impl_env, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        processes.append(process)
        base_url = f"http://127.0.0.1:{port}"
        wait_ready(process, base_url)
        return base_url, process

    yield start
    for process in processes:
        stop(process)
        if process.stdout:
            process.stdout.close()


def verified(token: str) -> AccessToken2:
    parsed = AccessToken2.parse(token)
    assert parsed.verify(CERT)
    assert parsed.app_id == APP_ID
    return parsed


def uvicorn_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "accesstoken2.server:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


def test_uvicorn_process_serves_verifiable_tokens(start_server: Starter, implementation: str) -> None:
    port = free_port()
    base_url, process = start_server(
        uvicorn_command(port), port, ACCESSTOKEN2_API_KEY=API_KEY, ACCESSTOKEN2_ADMIN_API_KEY=ADMIN_KEY
    )
    auth = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=base_url, timeout=5.0) as client:
        assert client.get("/ping").json() == {"message": "pong"}
        assert client.get("/healthz").json()["implementation"] == implementation

        rtc = client.post(
            "/getToken", json={"tokenType": "rtc", "channel": "live", "uid": 7, "role": "publisher"}, headers=auth
        )
        assert rtc.status_code == 200
        service = verified(rtc.json()["token"]).services[0]
        assert (service.kServiceType, service.channel_name, service.uid) == (ServiceType.RTC, "live", "7")
        assert set(service.privileges) == {1, 2, 3, 4}

        rtm = client.post("/getToken", json={"tokenType": "rtm", "uid": "ann", "expire": 120}, headers=auth)
        parsed = verified(rtm.json()["token"])
        assert (parsed.expire, parsed.services[0].user_id) == (120, "ann")
        assert abs(parsed.issue_ts - time.time()) < 60

        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        assert client.get("/chat/app/token", headers=auth).status_code == 403
        app_token = client.get("/chat/app/token", headers=admin).json()
        assert client.get("/chat/app/token", headers=admin).json()["token"] == app_token["token"]
        assert verified(app_token["token"]).services[0].kServiceType == ServiceType.CHAT

        user = client.get("/chat/user/zoe/token", headers=auth)
        assert verified(user.json()["token"]).services[0].user_id == "zoe"

        sample = client.get("/v1/token", params={"channel_name": "demo"}, headers=auth)
        assert verified(sample.json()["token"]).services[0].uid == ""

        inspected = client.post("/inspect", json={"token": rtc.json()["token"]}, headers=auth).json()
        assert inspected["signature_valid"] is True

        unauthorized = client.post("/getToken", json={"tokenType": "rtm", "uid": "x"})
        assert unauthorized.status_code == 401
        bad = client.post("/getToken", json={"tokenType": "rtm", "uid": "x", "expire": 99999}, headers=auth)
        assert bad.status_code == 400 and "expire" in bad.json()["detail"]
        wrong_type = client.post("/getToken", content=b"[", headers={**auth, "content-type": "application/json"})
        assert wrong_type.status_code == 422
    assert stop(process) == 0


def test_serve_with_two_workers(start_server: Starter) -> None:
    port = free_port()
    code = (
        f"from accesstoken2.server import serve; raise SystemExit(serve(port={port}, workers=2, log_level='warning'))"
    )
    base_url, process = start_server([sys.executable, "-c", code], port)
    with httpx.Client(base_url=base_url, timeout=5.0) as client:
        tokens = {
            client.post("/getToken", json={"tokenType": "chat", "uid": f"u{index}"}).json()["token"]
            for index in range(8)
        }
    assert len(tokens) == 8
    for token in tokens:
        verified(token)
    assert stop(process) == 0


def test_serve_refuses_to_start_without_configuration(impl_env: dict[str, str], tmp_path: Path) -> None:
    env = server_env(impl_env, AGORA_APP_CERTIFICATE=CERT[:-2])
    code = "from accesstoken2.server import serve; raise SystemExit(serve(port=1))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "AGORA_APP_CERTIFICATE must be 32 hexadecimal characters" in lines[0]
    assert CERT[:-2] not in result.stderr


@pytest.mark.skipif(importlib.util.find_spec("accesstoken2.cli") is None, reason="accesstoken2.cli not present")
def test_cli_serve(start_server: Starter) -> None:
    port = free_port()
    command = [sys.executable, "-m", "accesstoken2", "serve", "--host", "127.0.0.1", "--port", str(port)]
    base_url, process = start_server(command, port)
    token = httpx.get(f"{base_url}/v1/token", params={"channel_name": "cli"}, timeout=5).json()["token"]
    assert verified(token).services[0].channel_name == "cli"
    assert stop(process) == 0


def test_worker_listener_turns_nagle_off() -> None:
    from accesstoken2.server.workers import TcpConfig

    listener = TcpConfig("accesstoken2.server:create_app", factory=True, host="127.0.0.1", port=0).bind_socket()
    accepted: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            connection = transport.get_extra_info("socket")
            accepted.append(connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def connect_once() -> None:
        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
            for _ in range(200):
                if accepted:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    try:
        assert listener.proto == socket.IPPROTO_TCP
        asyncio.run(connect_once())
    finally:
        listener.close()
    assert accepted and accepted[0] != 0
