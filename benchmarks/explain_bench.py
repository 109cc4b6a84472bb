"""CPU time of parse, to_dict, inspect and diagnose on worst-case tokens, and the token server's /inspect and
/ping under /inspect load, against the targets of issue 18 (finding 5).

Targets, on any token up to the token cap, pure kernel included:

- ``AccessToken2.parse`` (or the 006 ``AccessToken.parse``), ``parse(token).to_dict()``,
  ``inspect(token).to_dict()`` and ``diagnose(token, ...)``: at most 10 ms of CPU each on the C kernel
  and 40 ms on the pure one;
- ``POST /inspect``: at most 15 ms; ``GET /ping`` p99 at most 25 ms while 4 clients loop on ``/inspect``.

The tokens are the crafted worst cases of ``tests/crafted_tokens.py`` (many services, wide and deep RTM2
trees, counts that lie, 006 with the most privileges) and a few more (the longest token, cut short,
URL-encoded, 9 MB of input).  Each kernel runs in its own fresh process, both in one run; the table shows
the median process CPU time per call (milliseconds), then the worst case of each operation per kernel
with the ratio target / measured (above 1.0x: within the target).

The server part starts a real server (``accesstoken2.server.serve``, one worker, 127.0.0.1, this
checkout's package) per kernel, measures ``/inspect`` on each token one request at a time, then runs 4
``/inspect`` loops (in a separate process, cycling through the tokens) for ``--seconds`` while this
process sends ``/ping`` every 10 ms; it reports /inspect's median and p99 and /ping's p99 (wall-clock
milliseconds, so other load on the machine shows).  Bounded: every request has a 10 s timeout, the
server is stopped at the end.  Needs ``accesstoken2[server]`` and httpx.

    python benchmarks/explain_bench.py                 # 15 calls per case and kernel, then the server
    python benchmarks/explain_bench.py --calls 5 --no-server
    python benchmarks/explain_bench.py --seconds 10    # a longer /ping run
"""

from __future__ import annotations

import argparse
import ast
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
# this checkout's package and its crafted tokens, wherever the script is run from
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from crafted_tokens import APP_ID, CERT, CRAFTED, T0  # noqa: E402

#: CPU milliseconds per call, by kernel
TARGETS = {"c": 10.0, "python": 40.0}
OPERATIONS = ("parse", "to_dict", "inspect", "diagnose")
INSPECT_TARGET_MS = 15.0
PING_P99_TARGET_MS = 25.0
LOOPS = 4
#: sequential /inspect requests per token
REPEATS = 9
#: the cases beyond tests/crafted_tokens.py: (what it is, what the maker builds)
MORE_CASES = {
    "mixed_empty": "16,000 empty services, 3 types mixed",
    "rtm2_empty": "8,000 empty RTM2 services",
    "privileges_32x335": "32 RTC services x 335 privileges",
    "longest": "near-maximal 007 (72k chars)",
    "truncated": "near-maximal 007 cut short",
    "url_encoded": "URL-encoded 007 + whitespace",
    "huge_input": "9 MB of %41 (diagnose only)",
}
CASES = {**{name: title for name, (title, _) in CRAFTED.items()}, **MORE_CASES}
#: inputs that are no token: only diagnose reads them
NOT_TOKENS = ("huge_input", "truncated", "url_encoded")


def make_token(case: str) -> str:
    from accesstoken2 import (
        AccessToken2,
        RtcTokenBuilder,
        ServiceConvoAI,
        ServiceFpa,
        ServiceRtc,
        ServiceRtm2,
        ServiceStt,
    )
    from accesstoken2._wire import kernel
    from accesstoken2.services import Rtm2Permissions

    if case in CRAFTED:
        return CRAFTED[case][1]()
    if case in ("mixed_empty", "rtm2_empty"):
        # the kernel writes services in the order given (AccessToken2 sorts them by type)
        rnd = random.Random(1)
        if case == "mixed_empty":
            kinds = [ServiceFpa()._wire(), ServiceConvoAI()._wire(), ServiceStt()._wire()]
            services = [rnd.choice(kinds) for _ in range(16_000)]
        else:
            services = [ServiceRtm2("", Rtm2Permissions())._wire()] * 8_000
        return kernel.active.build007(APP_ID, CERT, T0, 3600, 1, services)
    if case == "privileges_32x335":
        token = AccessToken2(APP_ID, CERT, T0, 3600, salt=1)
        for _ in range(32):
            rtc = ServiceRtc("room", 42)
            for key in range(335):
                rtc.add_privilege(key, 60 + key)
            token.add_service(rtc)
        return token.build()
    if case == "huge_input":
        return "%41" * 3_000_000
    rnd = random.Random(1)
    channel = "".join(chr(rnd.randrange(33, 127)) for _ in range(64_800))
    longest = RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, channel, 42, 1, 3600, issue_ts=T0, salt=1)
    if case == "longest":
        return longest
    if case == "truncated":
        return longest[: len(longest) - 1000]
    if case == "url_encoded":
        return longest.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D") + "\n" * 20_000
    raise ValueError(case)


def median_ms(call: Callable[[], Any], calls: int) -> float:
    """Median process CPU time of ``call`` in milliseconds (an exception it raises is part of the call)."""

    def once() -> None:
        try:
            call()
        except ValueError:  # MalformedTokenError: parsing a crafted malformed token is measured too
            pass

    once()
    samples = []
    for _ in range(calls):
        start = time.process_time()
        once()
        samples.append((time.process_time() - start) * 1000)
    return statistics.median(samples)


def worker(case: str, calls: int) -> dict[str, Any]:
    import accesstoken2
    from accesstoken2 import AccessToken2, diagnose, inspect
    from accesstoken2.legacy import AccessToken

    warnings.simplefilter("ignore")
    token = make_token(case)
    result: dict[str, Any] = {"implementation": accesstoken2.IMPLEMENTATION}
    if case not in NOT_TOKENS:
        legacy = token.startswith("006")
        parse = AccessToken.parse if legacy else AccessToken2.parse
        result["parse"] = median_ms(lambda: parse(token), calls)
        if not legacy:  # the 006 AccessToken has no to_dict
            result["to_dict"] = median_ms(lambda: AccessToken2.parse(token).to_dict(), calls)
        result["inspect"] = median_ms(lambda: inspect(token, now=T0).to_dict(), calls)
    result["diagnose"] = median_ms(
        lambda: diagnose(token, app_certificate=CERT, channel_name="room", uid=42, now=T0), calls
    )
    result["findings"] = len(diagnose(token, app_certificate=CERT, now=T0))
    return result


def kernel_env(pure: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ACCESSTOKEN2_NO_EXTENSIONS", None)
    if pure:
        env["ACCESSTOKEN2_NO_EXTENSIONS"] = "1"
    return env


def run_worker(case: str, pure: bool, calls: int) -> dict[str, Any]:
    command = [sys.executable, os.path.abspath(__file__), "--worker", case, "--calls", str(calls)]
    done = subprocess.run(command, env=kernel_env(pure), capture_output=True, text=True, check=True, timeout=600)
    answer: dict[str, Any] = ast.literal_eval(done.stdout.strip())
    return answer


def cell(result: dict[str, Any], key: str) -> str:
    return f"{result[key]:.2f}" if key in result else "n/a"


def ratio(target: float, measured: float) -> str:
    return f"{target / max(measured, 1e-3):.1f}x"


def library_table(calls: int) -> dict[str, dict[str, tuple[float, str]]]:
    """Prints the table; returns {kernel: {operation: (worst ms, case)}}."""
    print("median CPU ms per call; each kernel in a fresh process")
    print(f"{'case':<38} {'kernel':<7} {'parse':>7} {'to_dict':>8} {'inspect':>8} {'diagnose':>9} {'findings':>8}")
    worst: dict[str, dict[str, tuple[float, str]]] = {}
    for case, title in CASES.items():
        for pure in (False, True):
            result = run_worker(case, pure, calls)
            kernel = result["implementation"]
            print(
                f"{title:<38} {kernel:<7} {cell(result, 'parse'):>7} {cell(result, 'to_dict'):>8} "
                f"{cell(result, 'inspect'):>8} {cell(result, 'diagnose'):>9} {result['findings']:>8}",
                flush=True,
            )
            for operation in OPERATIONS:
                if operation in result and result[operation] > worst.setdefault(kernel, {}).get(operation, (-1.0,))[0]:
                    worst[kernel][operation] = (result[operation], title)
    print()
    print("worst case per operation (target / measured; above 1.0x: within the target)")
    for kernel, operations in worst.items():
        for operation in OPERATIONS:
            ms, title = operations[operation]
            target = TARGETS[kernel]
            line = f"{kernel:<7} {operation:<9} {ms:7.2f} ms  target {target:4.0f} ms  {ratio(target, ms):>7}"
            print(f"  {line}  ({title})")
    return worst


# --- the server -----------------------------------------------------------------------------------


def post_inspect(connection: http.client.HTTPConnection, body: bytes) -> float:
    """One POST /inspect on a kept-alive connection: its wall-clock milliseconds (AssertionError unless
    it is answered with 200, 400 or 413: a token, a non-token, a body over the server's cap)."""
    started = time.perf_counter()
    connection.request("POST", "/inspect", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status in (200, 400, 413), response.status
    return elapsed


def inspect_bodies() -> dict[str, bytes]:
    """The /inspect request body of every case the server accepts (the 9 MB input is over its body cap)."""
    return {
        case: json.dumps({"token": make_token(case), "channel": "room", "uid": 42}).encode()
        for case in CASES
        if case != "huge_input"
    }


def inspect_loops(port: int, seconds: float) -> None:
    """LOOPS threads, each on its own connection, posting the bodies round and round for ``seconds``."""
    bodies = list(inspect_bodies().values())
    stop_at = time.monotonic() + seconds + 0.5

    def loop(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        index = offset
        while time.monotonic() < stop_at:
            post_inspect(connection, bodies[index % len(bodies)])
            index += 1
        connection.close()

    threads = [threading.Thread(target=loop, args=(offset,)) for offset in range(LOOPS)]
    for thread in threads:
        thread.start()
    print("ready", flush=True)  # the caller starts its pings now
    for thread in threads:
        thread.join()


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def cpu_ms(pid: int) -> float:
    """CPU time used so far by every thread of ``pid`` and of its child processes, in milliseconds
    (/proc/<pid>/task/<tid>/schedstat, nanoseconds: the server's work whatever else loads the machine)."""
    from load_server import _children

    total = 0
    for process in [pid, *_children(pid)]:
        for task in Path(f"/proc/{process}/task").glob("*/schedstat"):
            try:
                total += int(task.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    return total / 1e6


def measure_server(pure: bool, seconds: float) -> dict[str, Any]:
    from load_server import free_port, start_server, stop_server

    os.environ.pop("ACCESSTOKEN2_NO_EXTENSIONS", None)
    if pure:
        os.environ["ACCESSTOKEN2_NO_EXTENSIONS"] = "1"
    port = free_port()
    process = start_server(port, 1, cwd=str(ROOT))
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        per_case = {}
        cpu_per_case = {}
        every = []
        for case, body in inspect_bodies().items():
            post_inspect(connection, body)  # warm
            used = cpu_ms(process.pid)
            times = sorted(post_inspect(connection, body) for _ in range(REPEATS))
            cpu_per_case[case] = (cpu_ms(process.pid) - used) / REPEATS
            per_case[case] = statistics.median(times)
            every.extend(times)
        every.sort()
        idle_pings = ping_for(connection, 1.0)
        # the loops build their tokens on the C kernel (fast), whichever kernel the server runs
        command = [sys.executable, os.path.abspath(__file__), "--inspect-loops", str(port), "--seconds", str(seconds)]
        loops = subprocess.Popen(command, env=kernel_env(False), stdout=subprocess.PIPE, text=True)
        assert loops.stdout is not None and loops.stdout.readline().strip() == "ready"
        pings = ping_for(connection, seconds)
        if loops.wait(timeout=seconds + 60) != 0:
            raise SystemExit("the /inspect loops failed")
        connection.close()
    finally:
        stop_server(process)
    worst_case = max(per_case, key=per_case.__getitem__)
    worst_cpu = max(cpu_per_case, key=cpu_per_case.__getitem__)
    return {
        "inspect_median_ms": statistics.median(every),
        "inspect_p99_ms": percentile(every, 0.99),
        "inspect_worst_case": (CASES[worst_case], per_case[worst_case]),
        "inspect_worst_cpu": (CASES[worst_cpu], cpu_per_case[worst_cpu]),
        "ping_idle_p99_ms": percentile(idle_pings, 0.99),
        "ping_p99_ms": percentile(pings, 0.99),
        "pings": len(pings),
    }


def ping_for(connection: http.client.HTTPConnection, seconds: float) -> list[float]:
    """GET /ping every 10 ms for ``seconds``: the sorted wall-clock milliseconds of each."""
    times = []
    stop_at = time.monotonic() + seconds
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        connection.request("GET", "/ping")
        response = connection.getresponse()
        response.read()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status == 200, response.status
        time.sleep(0.01)
    return sorted(times)


def server_table(seconds: float) -> None:
    print()
    print(
        f"the server (1 worker, 127.0.0.1): /inspect one at a time, then /ping every 10 ms under {LOOPS} /inspect loops"
    )
    for pure in (False, True):
        result = measure_server(pure, seconds)
        kernel = "python" if pure else "c"
        title, worst = result["inspect_worst_case"]
        cpu_title, cpu = result["inspect_worst_cpu"]
        print(
            f"  {kernel:<7} /inspect median {result['inspect_median_ms']:6.2f} ms, "
            f"p99 {result['inspect_p99_ms']:6.2f} ms, worst token's median {worst:6.2f} ms ({title}): "
            f"target {INSPECT_TARGET_MS:.0f} ms "
            f"{ratio(INSPECT_TARGET_MS, worst)}"
        )
        print(
            f"  {kernel:<7} /inspect server CPU per request, worst token {cpu:6.2f} ms ({cpu_title}): "
            f"{ratio(INSPECT_TARGET_MS, cpu)}"
        )
        print(
            f"  {kernel:<7} /ping p99 {result['ping_p99_ms']:6.2f} ms under load ({result['pings']} pings; idle "
            f"{result['ping_idle_p99_ms']:.2f} ms): target {PING_P99_TARGET_MS:.0f} ms "
            f"{ratio(PING_P99_TARGET_MS, result['ping_p99_ms'])}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=15, help="timed calls per case, operation and kernel")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long the /inspect loops run")
    parser.add_argument("--no-server", action="store_true", help="leave out the server measurements")
    parser.add_argument("--no-library", action="store_true", help="leave out the library table")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--inspect-loops", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(repr(worker(args.worker, args.calls)))
        return
    if args.inspect_loops:
        inspect_loops(args.inspect_loops, args.seconds)
        return
    if not args.no_library:
        library_table(args.calls)
    if not args.no_server:
        server_table(args.seconds)


if __name__ == "__main__":
    main()
