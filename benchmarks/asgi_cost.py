"""What one ``POST /getToken`` costs each server of ``load_server.py --compare``, without a network.

    python benchmarks/asgi_cost.py                  # CPU µs per request, in-process, best of 5 runs
    python benchmarks/asgi_cost.py --callgrind      # machine instructions per request (valgrind)

The ASGI application of each server (this token server with JWT mode off and on, the minimal
FastAPI endpoint and the bare ASGI endpoint of ``load_server.py``) is called in this process with a
synthetic request, the same body ``load_server.py`` sends, on uvloop when installed.  The first
form reports process CPU time per request (the best of 5 runs of ``--requests``: what a request
costs when nothing else disturbs it).  ``--callgrind`` runs this script under valgrind's callgrind
twice per server, with ``--requests`` and three times as many, and reports the difference in
instructions divided by the difference in requests (start-up cancels out): a count that does not
move with the other work on the machine.  Every answer must be 200 with a token that verifies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load_server  # beside this script

from accesstoken2 import AccessToken2

SERVERS = ("jwt-off", "jwt-on", "minimal-fastapi", "bare-asgi")
_JWT_SECRET = "asgi-cost-jwt-secret-0123456789abcdef"
_RUNS = 5

App = Callable[..., Any]


def build(server: str) -> tuple[App, list[tuple[bytes, bytes]]]:
    """The ASGI application of ``server`` and the extra request headers it needs."""
    if server in ("minimal-fastapi", "bare-asgi"):
        # a real module (pydantic resolves the body model's annotations through sys.modules)
        module = types.ModuleType(f"asgi_cost_{server.replace('-', '_')}")
        module.__dict__.update(APP_ID=load_server.APP_ID, APP_CERTIFICATE=load_server.APP_CERTIFICATE)
        sys.modules[module.__name__] = module
        source = load_server._MINIMAL_FASTAPI if server == "minimal-fastapi" else load_server._BARE_ASGI
        exec(compile(source, f"<{server}>", "exec"), module.__dict__)
        return module.app, []
    from accesstoken2.server import Settings, create_app

    headers: list[tuple[bytes, bytes]] = []
    options: dict[str, Any] = {}
    if server == "jwt-on":
        options["jwt_secret"] = _JWT_SECRET
        headers.append((b"authorization", f"Bearer {load_server._jwt(_JWT_SECRET)}".encode()))
    return create_app(Settings(load_server.APP_ID, load_server.APP_CERTIFICATE, **options)), headers


class Driver:
    """Calls ``app`` with one synthetic ``POST /getToken`` at a time."""

    def __init__(self, app: App, headers: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.body = json.dumps(load_server.BODY).encode()
        self.headers = [
            (b"host", b"127.0.0.1:8080"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self.body)).encode()),
            *headers,
        ]

    async def request(self) -> tuple[int, bytes]:
        """One request: its status and body."""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8080),
            "client": ("127.0.0.1", 50000),
            "scheme": "http",
            "method": "POST",
            "root_path": "",
            "path": "/getToken",
            "raw_path": b"/getToken",
            "query_string": b"",
            "headers": list(self.headers),
            "state": {},
        }
        pending = [{"type": "http.request", "body": self.body, "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if pending:
                return pending.pop()
            await asyncio.sleep(3600)  # the client stays connected
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        return int(sent[0]["status"]), b"".join(message.get("body", b"") for message in sent[1:])

    async def check(self) -> None:
        """Fail unless the answer is 200 with a token that verifies."""
        status, body = await self.request()
        token = json.loads(body)["token"] if status == 200 else None
        if token is None or not AccessToken2.parse(token).verify(load_server.APP_CERTIFICATE):
            raise SystemExit(f"a request was answered {status}: {body[:200]!r}")

    async def run(self, requests: int) -> None:
        for _ in range(requests):
            await self.request()


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def cpu_per_request(server: str, requests: int) -> float:
    """Process CPU µs per request of ``server``: the best of a few runs after a warm-up."""
    driver = Driver(*build(server))
    loop = _event_loop()
    try:
        loop.run_until_complete(driver.check())
        loop.run_until_complete(driver.run(min(requests, 500)))
        best = float("inf")
        for _ in range(_RUNS):
            began = time.process_time()
            loop.run_until_complete(driver.run(requests))
            best = min(best, (time.process_time() - began) / requests)
    finally:
        loop.close()
    return best * 1e6


def _serve_requests(server: str, requests: int) -> None:
    """The process callgrind watches: a check, then ``requests`` requests."""
    driver = Driver(*build(server))
    loop = _event_loop()
    try:
        loop.run_until_complete(driver.check())
        loop.run_until_complete(driver.run(requests))
    finally:
        loop.close()


def _instructions(server: str, requests: int) -> int:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--serve",
        server,
        "--requests",
        str(requests),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind reported no instruction count for {server}")
    return int(found.group(1))


def instructions_per_request(server: str, requests: int) -> int:
    """Instructions per request of ``server``: two runs under callgrind, start-up cancelled out."""
    few, many = _instructions(server, requests), _instructions(server, 3 * requests)
    return round((many - few) / (2 * requests))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests per run (default 4,000)")
    parser.add_argument("--callgrind", action="store_true", help="count instructions with valgrind instead")
    parser.add_argument("--servers", default=",".join(SERVERS), help=f"comma-separated, of {', '.join(SERVERS)}")
    parser.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)  # the process callgrind watches
    args = parser.parse_args(argv)
    if args.serve is not None:
        _serve_requests(args.serve, args.requests)
        return 0
    servers = [name for name in args.servers.split(",") if name]
    unknown = sorted(set(servers) - set(SERVERS))
    if unknown:
        parser.error(f"unknown server {unknown[0]!r}: choose among {', '.join(SERVERS)}")
    unit = "instructions/request" if args.callgrind else "CPU µs/request"
    print(f"| server | {unit} |\n|---|---|")
    for server in servers:
        if args.callgrind:
            figure = f"{instructions_per_request(server, args.requests):,}"
        else:
            figure = f"{cpu_per_request(server, args.requests):.1f}"
        print(f"| {server} | {figure} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
