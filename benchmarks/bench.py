"""Side-by-side timings: Agora's reference Python builders, our pure-Python path and our C path.

Every (case, implementation) pair runs in a fresh interpreter, so one case's heap state cannot help or
hurt another's.  Prints the median microseconds per operation (process CPU time for the single-thread
cases, wall-clock time for build_tokens) and the ratios reference/ours, then a memory check (resident
set size before and after 1,000,000 builds).  See benchmarks/README.md.

    python benchmarks/bench.py            # everything (a few minutes on 2 cores)
    python benchmarks/bench.py --quick    # one round of 5 repeats, a 100,000-build memory check
"""

from __future__ import annotations

# The worker processes import only os, sys, time and the code under test, so that each implementation
# meets the heap of a fresh interpreter (see "Why a fresh process" in benchmarks/README.md); the driver's
# modules are imported in main().
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from typing import Any

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
CHANNEL = "7d72365eb983485397e3e3f9d460bdda"
UID = 2882341273
ACCOUNT = "2882341273"
BATCH = 100_000

IMPLEMENTATIONS = ("reference", "pure", "c")
CASES = {
    "chat_user": "Chat user token",
    "chat_app": "Chat app token",
    "rtc_publisher": "RTC publisher token",
    "rtc_rtm": "RTC + RTM token",
    "rtm2_permissions": "RTM2 token with permissions",
    "parse_verify": "007 parse + verify",
    "rtc_006": "006 RTC token",
    "batch_1": f"build_tokens {BATCH:,} (1 thread), per token",
    "batch_2": f"build_tokens {BATCH:,} (2 threads), per token",
}

Op = "Callable[[], Any]"


class Skip(Exception):
    """The implementation has no equivalent of this case."""


# --- the operations, one setup function per implementation -----------------------------------------


def reference_op(case: str) -> Op:
    """Each case imports only the reference modules it uses, as an application would."""
    import importlib

    def builder(module: str, name: str) -> Any:
        return getattr(importlib.import_module(f"agoraiotools.{module}"), name)

    if case in ("chat_user", "chat_app"):
        chat = builder("ChatTokenBuilder2", "ChatTokenBuilder")
        if case == "chat_user":
            return lambda: chat.build_user_token(APP_ID, CERTIFICATE, "user-1", 600)
        return lambda: chat.build_app_token(APP_ID, CERTIFICATE, 600)
    if case in ("rtc_publisher", "rtc_rtm", "parse_verify"):
        rtc = builder("RtcTokenBuilder2", "RtcTokenBuilder2")
        publisher = builder("RtcTokenBuilder2", "Role_Publisher")
        if case == "rtc_publisher":
            return lambda: rtc.build_token_with_uid(APP_ID, CERTIFICATE, CHANNEL, UID, publisher, 600, 600)
        if case == "rtc_rtm":
            return lambda: rtc.build_token_with_rtm(APP_ID, CERTIFICATE, CHANNEL, ACCOUNT, publisher, 600, 600)
        token = rtc.build_token_with_uid(APP_ID, CERTIFICATE, CHANNEL, UID, publisher, 600, 600)
        # the package's __init__ re-exports a class named AccessToken2 over the module of that name
        module = importlib.import_module("agoraiotools.AccessToken2")
        return lambda: reference_parse_verify(module, token)
    if case == "rtm2_permissions":
        raise Skip("agoraiotools has no RTM2 (service 8) builder")
    if case == "rtc_006":
        rtc006 = builder("RtcTokenBuilder", "RtcTokenBuilder")
        expire = int(time.time()) + 3600
        return lambda: rtc006.buildTokenWithUid(APP_ID, CERTIFICATE, CHANNEL, UID, 1, expire)
    if case == "batch_1":
        module = importlib.import_module("agoraiotools.AccessToken2")
        return lambda: reference_batch(module)
    if case == "batch_2":
        raise Skip("agoraiotools has no batch API (one thread only)")
    raise ValueError(case)


def reference_parse_verify(module: Any, token: str) -> bool:
    """The reference has no verify(): from_string() plus the signature check its users write."""
    import base64
    import hashlib
    import hmac
    import struct
    import zlib

    parsed = module.AccessToken()
    parsed.from_string(token)
    content = zlib.decompress(base64.b64decode(token[3:]))
    size = struct.unpack_from("<H", content)[0]
    signature, signing_info = content[2 : 2 + size], content[2 + size :]
    issue_ts, salt = struct.unpack_from("<I", signing_info, 34)[0], struct.unpack_from("<I", signing_info, 42)[0]
    key = hmac.new(struct.pack("<I", issue_ts), CERTIFICATE.encode(), hashlib.sha256).digest()
    key = hmac.new(struct.pack("<I", salt), key, hashlib.sha256).digest()
    return hmac.compare_digest(hmac.new(key, signing_info, hashlib.sha256).digest(), signature)


def reference_batch(module: Any) -> list[str]:
    # reference tokens can be built once each (build() encodes the ids in place): make them inside the timing,
    # as a loop over the reference builder does
    tokens = []
    for index in range(BATCH):
        token = module.AccessToken(APP_ID, CERTIFICATE, 1_700_000_000, 600)
        chat = module.ServiceChat(f"user-{index}")
        chat.add_privilege(module.ServiceChat.kPrivilegeUser, 600)
        token.add_service(chat)
        tokens.append(token.build())
    return tokens


def our_op(case: str) -> Op:
    import accesstoken2
    from accesstoken2 import (
        AccessToken2,
        ChatTokenBuilder,
        Role_Publisher,
        RtcTokenBuilder,
        Rtm2Permissions,
        RtmTokenBuilder,
        ServiceChat,
        build_tokens,
    )
    from accesstoken2.legacy.builders import RtcTokenBuilder as RtcTokenBuilder006

    if case == "chat_user":
        return lambda: ChatTokenBuilder.build_user_token(APP_ID, CERTIFICATE, "user-1", 600)
    if case == "chat_app":
        return lambda: ChatTokenBuilder.build_app_token(APP_ID, CERTIFICATE, 600)
    if case == "rtc_publisher":
        return lambda: RtcTokenBuilder.build_token_with_uid(APP_ID, CERTIFICATE, CHANNEL, UID, Role_Publisher, 600, 600)
    if case == "rtc_rtm":
        return lambda: RtcTokenBuilder.build_token_with_rtm(
            APP_ID, CERTIFICATE, CHANNEL, ACCOUNT, Role_Publisher, 600, 600
        )
    if case == "rtm2_permissions":
        permissions = Rtm2Permissions()
        permissions.add(Rtm2Permissions.kMessageChannels, Rtm2Permissions.kRead, ["channel-a", "channel-b"])
        permissions.add(Rtm2Permissions.kMessageChannels, Rtm2Permissions.kWrite, ["channel-a"])
        permissions.add(Rtm2Permissions.kUsers, Rtm2Permissions.kRead, ["user-2"])
        return lambda: RtmTokenBuilder.build_token_with_permissions(APP_ID, CERTIFICATE, "user-1", permissions, 600)
    if case == "parse_verify":
        token = RtcTokenBuilder.build_token_with_uid(APP_ID, CERTIFICATE, CHANNEL, UID, Role_Publisher, 600, 600)
        return lambda: AccessToken2.parse(token).verify(CERTIFICATE)
    if case == "rtc_006":
        expire = int(time.time()) + 3600
        return lambda: RtcTokenBuilder006.buildTokenWithUid(APP_ID, CERTIFICATE, CHANNEL, UID, 1, expire)
    if case.startswith("batch_"):
        threads = int(case.split("_")[1])
        prepared: list[AccessToken2] = []
        for index in range(BATCH):
            batch_token = AccessToken2(APP_ID, CERTIFICATE, 1_700_000_000, 600)
            chat = ServiceChat(f"user-{index}")
            chat.add_privilege(ServiceChat.kPrivilegeUser, 600)
            batch_token.add_service(chat)
            prepared.append(batch_token)
        assert accesstoken2.IMPLEMENTATION in ("c", "python")
        return lambda: build_tokens(prepared, threads=threads)
    raise ValueError(case)


# --- measuring, in the worker process ------------------------------------------------------------------


def median_us(op: Op, repeats: int, per_op: int, clock: Callable[[], float]) -> float:
    """Median over `repeats` runs of the time per operation; each run takes about 50 ms."""
    op()
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < 0.05:
        op()
        calls += 1
    samples = []
    for _ in range(repeats):
        start = clock()
        for _ in range(calls):
            op()
        samples.append((clock() - start) / (calls * per_op) * 1e6)
    samples.sort()
    middle = len(samples) // 2
    return samples[middle] if len(samples) % 2 else (samples[middle - 1] + samples[middle]) / 2


def rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_check(builds: int) -> dict[str, Any]:
    from accesstoken2 import ChatTokenBuilder

    def run(count: int) -> None:
        for index in range(count):
            ChatTokenBuilder.build_user_token(APP_ID, CERTIFICATE, f"user-{index % 1000}", 600)

    run(10_000)
    before = rss_bytes()
    run(builds)
    after = rss_bytes()
    return {"builds": builds, "before": before, "after": after}


def kernel_share(repeats: int) -> dict[str, Any]:
    """For the builder cases: the share of a builder call spent in the C kernel, measured as the time of the
    same call with the kernel selector pointing at a stand-in that returns at once (what is left is Python)."""
    from accesstoken2._wire import kernel

    class StandIn:
        IMPLEMENTATION = "stand-in"

        @staticmethod
        def build007(*args: Any) -> str:
            return ""

    shares = {}
    for case in ("chat_user", "rtc_publisher"):
        op = our_op(case)
        real = median_us(op, repeats, 1, time.process_time)
        compiled = kernel.active
        kernel.active = StandIn  # type: ignore[assignment]
        try:
            python_only = median_us(op, repeats, 1, time.process_time)
        finally:
            kernel.active = compiled
        shares[case] = {"us": real, "python_us": python_only}
    return shares


def worker(case: str, implementation: str, repeats: int, builds: int) -> dict[str, Any]:
    if case == "memory":
        return memory_check(builds)
    if case == "share":
        return kernel_share(repeats)
    try:
        op = reference_op(case) if implementation == "reference" else our_op(case)
    except Skip as reason:
        return {"skip": str(reason)}
    if case.startswith("batch_"):
        # throughput over threads: wall-clock time
        return {"us": median_us(op, max(3, repeats // 3), BATCH, time.perf_counter)}
    # one thread: CPU time of the process, so that other load on a shared machine does not count
    return {"us": median_us(op, repeats, 1, time.process_time)}


# --- the driver -----------------------------------------------------------------------------------------


def run_worker(case: str, implementation: str, args: argparse.Namespace) -> dict[str, Any]:
    import ast
    import subprocess

    env = dict(os.environ)
    env.pop("ACCESSTOKEN2_NO_EXTENSIONS", None)
    if args.steady_heap:
        env["MALLOC_TRIM_THRESHOLD_"] = str(1 << 30)
    if implementation == "pure":
        env["ACCESSTOKEN2_NO_EXTENSIONS"] = "1"
    command = [sys.executable, os.path.abspath(__file__), "--worker", case, implementation]
    command += ["--repeats", str(args.repeats), "--builds", str(args.builds)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return {"skip": "failed: " + (result.stderr.strip().splitlines() or ["?"])[-1]}
    answer: dict[str, Any] = ast.literal_eval(result.stdout.strip())
    return answer


def implementation_check() -> None:
    import subprocess

    code = "import accesstoken2; print(accesstoken2.IMPLEMENTATION)"
    # from this folder, as the workers import: with `-c` the current directory comes first on sys.path, and
    # from the repository root that is the source tree (no compiled core), not the installed package
    here = os.path.dirname(os.path.abspath(__file__))
    default = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=here
    ).stdout.strip()
    if default != "c":
        print("WARNING: the C core is not importable here; the 'C path' column runs pure Python", file=sys.stderr)


def cell(result: dict[str, Any]) -> str:
    return f"{result['us']:.2f}" if "us" in result else "n/a"


def ratio(reference: dict[str, Any], ours: dict[str, Any]) -> str:
    return f"{reference['us'] / ours['us']:.1f}x" if "us" in reference and "us" in ours else "n/a"


BARE_REFERENCE = """
import time
from agoraiotools.ChatTokenBuilder2 import ChatTokenBuilder
start = time.process_time()
for _ in range(5000):
    ChatTokenBuilder.build_user_token({app_id!r}, {certificate!r}, "user-1", 600)
print((time.process_time() - start) / 5000 * 1e6)
"""


def bare_reference_us(steady_heap: bool) -> float | None:
    """The reference's Chat user token in an interpreter that imports nothing else (heap state differs)."""
    import subprocess

    code = BARE_REFERENCE.format(app_id=APP_ID, certificate=CERTIFICATE)
    env = dict(os.environ)
    if steady_heap:
        env["MALLOC_TRIM_THRESHOLD_"] = str(1 << 30)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    return float(result.stdout) if result.returncode == 0 else None


def combine(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The median over rounds of each round's median; a skip if any round skipped."""
    import statistics

    for result in rounds:
        if "us" not in result:
            return result
    return {"us": statistics.median(result["us"] for result in rounds)}


def worker_main(argv: list[str]) -> None:
    """``--worker CASE IMPLEMENTATION --repeats N --builds N``: one measurement, printed as JSON."""
    case, implementation = argv[1], argv[2]
    repeats, builds = int(argv[4]), int(argv[6])
    print(repr(worker(case, implementation, repeats, builds)))


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9, help="timed runs per case and process (median)")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per case and implementation")
    parser.add_argument("--builds", type=int, default=1_000_000, help="builds in the memory check")
    parser.add_argument("--quick", action="store_true", help="1 round of 5 repeats, 100,000 builds in the memory check")
    parser.add_argument(
        "--steady-heap",
        action="store_true",
        help="run the workers with MALLOC_TRIM_THRESHOLD_=2**30: glibc never trims the heap, so zlib.compress() "
        "(reference and pure path) always takes its fast path",
    )
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of: " + ", ".join(CASES))
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.repeats, args.builds = 1, 5, 100_000

    implementation_check()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; median us per operation "
        f"(median of {args.rounds} fresh processes x {args.repeats} runs each)"
        + ("; heap never trimmed (--steady-heap)" if args.steady_heap else "")
    )
    header = f"| {'case':44} | {'reference':>9} | {'pure':>7} | {'C':>7} | {'ref/pure':>8} | {'ref/C':>6} |"
    print(header)
    print("|" + "|".join("-" * (len(part)) for part in header.split("|")[1:-1]) + "|")
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for case in args.cases.split(","):
        # rounds interleave the implementations, so a burst of load on the machine hits all three alike
        rounds: dict[str, list[dict[str, Any]]] = {impl: [] for impl in IMPLEMENTATIONS}
        for _ in range(args.rounds):
            for impl in IMPLEMENTATIONS:
                rounds[impl].append(run_worker(case, impl, args))
        results[case] = row = {impl: combine(rounds[impl]) for impl in IMPLEMENTATIONS}
        print(
            f"| {CASES[case]:44} | {cell(row['reference']):>9} | {cell(row['pure']):>7} | {cell(row['c']):>7} "
            f"| {ratio(row['reference'], row['pure']):>8} | {ratio(row['reference'], row['c']):>6} |",
            flush=True,
        )
        for impl, result in row.items():
            if "skip" in result:
                print(f"    ({impl}: {result['skip']})")
    if "batch_1" in results and "batch_2" in results:
        for impl in ("pure", "c"):
            one, two = results["batch_1"][impl], results["batch_2"][impl]
            if "us" in one and "us" in two:
                print(f"build_tokens throughput, 2 threads / 1 thread ({impl}): {one['us'] / two['us']:.2f}x")
    share = run_worker("share", "c", args)
    for case, times in share.items():
        if isinstance(times, dict) and "us" in times:
            kernel_us = times["us"] - times["python_us"]
            print(
                f"{CASES[case]} (C): {times['us']:.2f} us per call, of which {kernel_us:.2f} us "
                f"({kernel_us / times['us']:.0%}) in the kernel (pack, sign, deflate, base64) and "
                f"{times['python_us']:.2f} us in Python (checks, salt, time)"
            )
    bare = bare_reference_us(args.steady_heap)
    if bare is not None:
        print(f"reference Chat user token in a bare interpreter (python -c, nothing else imported): {bare:.2f} us")
    for impl in ("c", "pure"):
        memory = run_worker("memory", impl, args)
        if "before" in memory:
            growth = (memory["after"] - memory["before"]) / 1024
            print(
                f"memory ({impl}): RSS {memory['before'] / 2**20:.1f} MiB before, {memory['after'] / 2**20:.1f} MiB "
                f"after {memory['builds']:,} builds ({growth:+.0f} KiB)"
            )
        else:
            print(f"memory ({impl}): {memory.get('skip')}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker_main(sys.argv[1:])
    else:
        main()
