"""Load test of the token server: a real uvicorn process on loopback, a bounded run, then the figures.

    python benchmarks/load_server.py                      # 20,000 POST /getToken at concurrency 64 (httpx)
    python benchmarks/load_server.py --tool wrk           # wrk for --duration seconds instead (when installed)
    python benchmarks/load_server.py --workers 2 --json result.json

Reports requests per second, p50 and p99 latency, errors (non-200 answers and transport
failures: must be 0), and the server's resident memory (VmRSS, summed over its worker
processes) before and after the run.  The server listens on 127.0.0.1 only and is stopped at
the end.  Needs ``accesstoken2[server]`` and httpx.  The credentials are fixed test values.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from accesstoken2 import IMPLEMENTATION, AccessToken2

APP_ID = "970CA35de60c44645bbae8a215061b33"
APP_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
BODY = {"tokenType": "rtc", "channel": "load-test", "uid": 42, "role": "publisher", "expire": 3600}
WARMUP_REQUESTS = 500
VERIFY_SAMPLE = 50


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(port: int, workers: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, AGORA_APP_ID=APP_ID, AGORA_APP_CERTIFICATE=APP_CERTIFICATE)
    env.pop("ACCESSTOKEN2_API_KEY", None)
    code = (
        "import sys; from accesstoken2.server import serve; "
        f"sys.exit(serve(host='127.0.0.1', port={port}, workers={workers}, log_level='warning'))"
    )
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with status {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    stop_server(process)
    raise SystemExit("the server did not answer within 30 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def resident_kib(pid: int) -> int:
    """VmRSS of ``pid`` and all its descendants (uvicorn's workers), in KiB."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(match.group(1)) if match else 0
        pending.extend(_children(current))
    return total


def percentile(ordered: list[float], fraction: float) -> float:
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def httpx_load(base_url: str, requests: int, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    samples: list[str] = []
    next_index = 0
    # One single-connection client per worker: a shared pool of 64 connections costs httpx more
    # CPU than the server spends on a request, and this machine's cores are shared with the server.
    clients = [httpx.AsyncClient(base_url=base_url, timeout=30) for _ in range(concurrency)]

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal next_index, errors
        while next_index < requests:
            next_index += 1
            started = time.perf_counter()
            try:
                response = await client.post("/getToken", json=BODY)
                ok = response.status_code == 200
                if ok and len(samples) < VERIFY_SAMPLE:
                    samples.append(response.json()["token"])
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += not ok

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker(client) for client in clients))
    finally:
        elapsed = time.perf_counter() - started
        for client in clients:
            await client.aclose()
    latencies.sort()
    bad_tokens = sum(not AccessToken2.parse(token).verify(APP_CERTIFICATE) for token in samples)
    return {
        "tool": "httpx",
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1e3, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1e3, 2),
        "errors": errors + bad_tokens,
        "tokens_verified": len(samples) - bad_tokens,
    }


_WRK_SCRIPT = """wrk.method = "POST"
wrk.body = '@BODY@'
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %f %f\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_load(base_url: str, duration: int, concurrency: int, threads: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder, "post.lua")
        script.write_text(_WRK_SCRIPT.replace("@BODY@", json.dumps(BODY)))
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"{base_url}/getToken",
        ]
        output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    line = next(item for item in output.splitlines() if item.startswith("RESULT "))
    requests, duration_us, socket_errors, status_errors, p50_us, p99_us = (float(x) for x in line.split()[1:])
    seconds = duration_us / 1e6
    return {
        "tool": "wrk",
        "requests": int(requests),
        "seconds": round(seconds, 3),
        "requests_per_second": round(requests / seconds, 1),
        "p50_ms": round(p50_us / 1e3, 2),
        "p99_ms": round(p99_us / 1e3, 2),
        "errors": int(socket_errors + status_errors),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tool", choices=("httpx", "wrk"), default="httpx", help="load generator (default httpx)")
    parser.add_argument("--requests", type=int, default=20_000, help="httpx: number of requests")
    parser.add_argument("--duration", type=int, default=10, help="wrk: seconds")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk: client threads")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.tool == "wrk" and shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian: apt-get install wrk)")

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = start_server(port, args.workers)
    try:
        asyncio.run(httpx_load(base_url, WARMUP_REQUESTS, min(args.concurrency, 16)))
        rss_before = resident_kib(server.pid)
        if args.tool == "wrk":
            result = wrk_load(base_url, args.duration, args.concurrency, args.threads)
        else:
            result = asyncio.run(httpx_load(base_url, args.requests, args.concurrency))
        rss_after = resident_kib(server.pid)
    finally:
        stop_server(server)
    result.update(
        {
            "concurrency": args.concurrency,
            "workers": args.workers,
            "kernel": IMPLEMENTATION,
            "rss_before_mib": round(rss_before / 1024, 1),
            "rss_after_mib": round(rss_after / 1024, 1),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        }
    )
    print(json.dumps(result, indent=2))
    print(
        f"\n| tool | workers | concurrency | requests | req/s | p50 ms | p99 ms | errors | RSS before → after MiB |\n"
        f"|---|---|---|---|---|---|---|---|---|\n"
        f"| {result['tool']} | {args.workers} | {args.concurrency} | {result['requests']} | "
        f"{result['requests_per_second']} | {result['p50_ms']} | {result['p99_ms']} | {result['errors']} | "
        f"{result['rss_before_mib']} → {result['rss_after_mib']} |"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
