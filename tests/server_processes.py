"""Helpers for tests that run the token server as a real process: a free port, a clean
environment, start (``serve()`` in a child Python, output to a file) and stop."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"


#: Ports the tests' servers take: below Linux's default ephemeral range (32768-60999), so that no
#: outgoing connection of this machine holds one by chance.
TEST_PORTS = range(20000, 32768)


def free_port() -> int:
    """A loopback port that is free now.  Under ``pytest -n`` each worker takes only the ports whose
    remainder by the number of workers is its own number, so no two workers can pick the same port
    between the probe and the server's own bind.  (Ports are drawn here, not left to bind(0): Linux
    hands bind(0) mostly odd ports, which would starve a worker whose share is the even ones.)"""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    number = int(worker[2:]) if worker.startswith("gw") else 0
    share = TEST_PORTS[(number - TEST_PORTS.start) % workers :: workers]  # the ports p with p % workers == number
    for port in random.sample(share, min(len(share), 500)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port among 500 tries in {TEST_PORTS} for xdist worker {number} of {workers}")


def server_env(**extra: str) -> dict[str, str]:
    """This process's environment without any server setting (but the kernel choice), plus the
    test credentials and ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ACCESSTOKEN2_", "AGORA_")) or name == "ACCESSTOKEN2_NO_EXTENSIONS"
    }
    env.update(AGORA_APP_ID=APP_ID, AGORA_APP_CERTIFICATE=CERT, **extra)
    return env


def start_serve(folder: Path, log: Path, port: int, **extra_env: str) -> subprocess.Popen[bytes]:
    """``serve(port=port, log_level='info')`` in a child process run from ``folder`` (so that it
    imports the installed package), its output in ``log``; returns once it answers."""
    code = f"import sys; from accesstoken2.server import serve; sys.exit(serve(port={port}, log_level='info'))"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", code], cwd=folder, env=server_env(**extra_env), stdout=output, stderr=output
        )
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log.read_bytes()[-2000:]!r}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1)
            return process
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            stop(process)
            raise AssertionError("server did not start within 30 s")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> int:
    """Stop the server with SIGINT (as Ctrl-C would) and return its exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    return process.returncode
