"""Side-by-side timings: Agora's reference Python builders, our pure-Python path and our C path.

Every (case, implementation, heap) triple runs in a fresh interpreter, so one case's heap state cannot
help or hurt another's.  Prints the median microseconds per operation (process CPU time for the
single-thread cases, wall-clock time for build_tokens) and the ratios reference/ours within each heap
setting, then where a C call's time goes and a memory check (resident set size before and after
1,000,000 builds).  Optionally draws the table (--plot, needs matplotlib) and writes it as Markdown
(--markdown).  See benchmarks/README.md.

    python benchmarks/bench.py                       # everything, fresh heap (a few minutes on 2 cores)
    python benchmarks/bench.py --quick               # one round of 5 repeats, a 100,000-build memory check
    python benchmarks/bench.py --heaps fresh,steady  # every implementation in both heap settings, one run
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
    from collections.abc import Callable, Mapping, Sequence
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
        prepared = prepared_chat_tokens(BATCH)
        assert accesstoken2.IMPLEMENTATION in ("c", "python")
        return lambda: build_tokens(prepared, threads=threads)
    raise ValueError(case)


def prepared_chat_tokens(count: int) -> list[Any]:
    """`count` AccessToken2 objects, each a Chat user token for its own user, for build_tokens."""
    from accesstoken2 import AccessToken2, ServiceChat

    prepared = []
    for index in range(count):
        token = AccessToken2(APP_ID, CERTIFICATE, 1_700_000_000, 600)
        chat = ServiceChat(f"user-{index}")
        chat.add_privilege(ServiceChat.kPrivilegeUser, 600)
        token.add_service(chat)
        prepared.append(token)
    return prepared


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

        @staticmethod
        def build007_shape(*args: Any) -> str:
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


SCALING_BATCH = 20_000


def scaling(rounds: int) -> dict[str, Any]:
    """build_tokens' 2-thread/1-thread throughput ratio, paired, and the machine's own in the same rounds.

    Each round times, back to back in this process, build_tokens(threads=1) and build_tokens(threads=2) on
    the same SCALING_BATCH prepared Chat tokens, then two forked copies of this process each running the
    1-thread build at once.  The first ratio is what a second thread buys; the second (two processes / one)
    is what two cores give at that moment to work that shares nothing: on a shared 2-vCPU machine it moves
    between about 1.3x and 2x as the host schedules its other tenants, and no threading can beat it."""
    from accesstoken2 import build_tokens

    prepared = prepared_chat_tokens(SCALING_BATCH)
    build_tokens(prepared, threads=2)  # warm: thread start-up, salt pools, the copy-on-write pages
    children: list[tuple[int, int, int]] = []  # (pid, the pipe that starts a build, the pipe it answers on)
    for _ in range(2):
        go_read, go_write = os.pipe()
        done_read, done_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            # a child: one 1-thread build per byte received, until the parent closes the pipe.  It closes the
            # parent's ends it inherited, or a pipe would never report its end to the child reading it.
            status = 1
            try:
                for descriptor in [go_write, done_read, *(end for _, go, done in children for end in (go, done))]:
                    os.close(descriptor)
                while os.read(go_read, 1):
                    build_tokens(prepared, threads=1)
                    os.write(done_write, b"d")
                status = 0
            finally:
                os._exit(status)
        os.close(go_read)
        os.close(done_write)
        children.append((pid, go_write, done_read))
    paired, machine = [], []
    try:
        for _ in range(rounds):
            start = time.perf_counter()
            build_tokens(prepared, threads=1)
            one = time.perf_counter() - start
            start = time.perf_counter()
            build_tokens(prepared, threads=2)
            two = time.perf_counter() - start
            start = time.perf_counter()
            for _, go, _ in children:
                os.write(go, b"g")
            for _, _, done in children:
                if os.read(done, 1) != b"d":
                    raise RuntimeError("a scaling child process ended early")
            both = time.perf_counter() - start
            paired.append(one / two)
            machine.append(2 * one / both)
    finally:
        for _, go, done in children:
            os.close(go)
            os.close(done)
        for pid, _, _ in children:
            os.waitpid(pid, 0)
    return {"paired": paired, "machine": machine}


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(lower quartile, median, upper quartile) of at least one value (statistics' "inclusive" method)."""
    import statistics

    if len(values) == 1:
        return (values[0],) * 3
    low, middle, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, middle, high


def scaling_note(measured: Mapping[str, Sequence[float]]) -> str:
    """The README line for scaling()'s result."""
    paired, machine = quartiles(measured["paired"]), quartiles(measured["machine"])
    return (
        f"build_tokens throughput, 2 threads / 1 thread (C), paired in one process over {len(measured['paired'])} "
        f"rounds of {SCALING_BATCH:,} Chat tokens: median {paired[1]:.2f}x "
        f"(quartiles {paired[0]:.2f}-{paired[2]:.2f}); "
        f"in the same rounds two processes each building with 1 thread did {machine[1]:.2f}x the work of one "
        f"(quartiles {machine[0]:.2f}-{machine[2]:.2f}), the machine's own limit at the time"
    )


def worker(case: str, implementation: str, repeats: int, builds: int) -> dict[str, Any]:
    if case == "memory":
        return memory_check(builds)
    if case == "share":
        return kernel_share(repeats)
    if case == "scaling":
        return scaling(repeats)
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

# Heap settings a worker can run with.  "fresh" is glibc's default: a fresh interpreter whose heap trims
# and regrows around every large allocation; "steady" never trims, as in a long-running process.
HEAPS = {
    "fresh": "a fresh process with glibc's default heap (it is trimmed and regrown around zlib.compress())",
    "steady": "a heap that is never trimmed (MALLOC_TRIM_THRESHOLD_=2**30), as in a long-running process",
}
NEVER_TRIM = str(1 << 30)
LABELS = {"reference": "reference", "pure": "pure", "c": "C"}
OURS = ("pure", "c")
# --markdown PATH replaces what lies between these lines (inclusive) when PATH already holds them
MARK_BEGIN = "<!-- generated by benchmarks/bench.py --markdown: begin -->"
MARK_END = "<!-- generated by benchmarks/bench.py --markdown: end -->"
REQUIREMENTS = "pip install -r benchmarks/requirements.txt"

Row = "dict[tuple[str, str], dict[str, Any]]"  # one case: (implementation, heap) -> {"us": ...} or {"skip": why}


def parse_heaps(text: str) -> tuple[str, ...]:
    """``"fresh,steady"`` -> ``("fresh", "steady")``: known names, in the order given, each once."""
    heaps: list[str] = []
    for name in text.split(","):
        name = name.strip()
        if name not in HEAPS:
            raise ValueError(f"unknown heap {name!r}: choose from {', '.join(HEAPS)}")
        if name not in heaps:
            heaps.append(name)
    return tuple(heaps)


def columns(heaps: Sequence[str]) -> list[tuple[str, str]]:
    """The measured columns of a run, in table and plot order: each implementation in each heap."""
    return [(implementation, heap) for implementation in IMPLEMENTATIONS for heap in heaps]


def worker_env(implementation: str, heap: str, base: Mapping[str, str]) -> dict[str, str]:
    env = dict(base)
    env.pop("ACCESSTOKEN2_NO_EXTENSIONS", None)
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    if heap == "steady":
        env["MALLOC_TRIM_THRESHOLD_"] = NEVER_TRIM
    if implementation == "pure":
        env["ACCESSTOKEN2_NO_EXTENSIONS"] = "1"
    return env


def run_worker(
    case: str, implementation: str, heap: str, args: argparse.Namespace, repeats: int | None = None
) -> dict[str, Any]:
    import ast
    import subprocess

    command = [sys.executable, os.path.abspath(__file__), "--worker", case, implementation]
    command += ["--repeats", str(args.repeats if repeats is None else repeats), "--builds", str(args.builds)]
    env = worker_env(implementation, heap, os.environ)
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return {"skip": "failed: " + (result.stderr.strip().splitlines() or ["?"])[-1]}
    answer: dict[str, Any] = ast.literal_eval(result.stdout.strip())
    return answer


def implementation_check() -> str:
    import subprocess

    code = "import accesstoken2; print(accesstoken2.IMPLEMENTATION)"
    # from this folder, as the workers import: with `-c` the current directory comes first on sys.path, and
    # from the repository root that is the source tree (no compiled core), not the installed package
    here = os.path.dirname(os.path.abspath(__file__))
    default = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=here
    ).stdout.strip()
    if default != "c":
        print("WARNING: the C core is not importable here; the 'C' columns run pure Python", file=sys.stderr)
    return default


def ratio(reference: Mapping[str, Any], ours: Mapping[str, Any]) -> float | None:
    """reference / ours, or None when either was skipped."""
    if "us" in reference and "us" in ours and ours["us"] > 0:
        return float(reference["us"]) / float(ours["us"])
    return None


def cell(result: Mapping[str, Any]) -> str:
    return f"{result['us']:.2f}" if "us" in result else "n/a"


def ratio_cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}x"


def table_header(heaps: Sequence[str]) -> list[str]:
    """Column titles: each implementation in each heap, then reference/ours within each heap.  A heap's name
    is left out when the run has only one (the table of a single-heap run reads as before)."""

    def suffix(heap: str) -> str:
        return f" {heap}" if len(heaps) > 1 else ""

    titles = [LABELS[implementation] + suffix(heap) for implementation, heap in columns(heaps)]
    titles += [f"ref/{LABELS[ours]}{suffix(heap)}" for heap in heaps for ours in OURS]
    return titles


def table_cells(row: Row, heaps: Sequence[str]) -> list[str]:
    """The cells of one case's row, in the order of table_header()."""
    empty: dict[str, Any] = {"skip": "not measured"}
    cells = [cell(row.get(column, empty)) for column in columns(heaps)]
    cells += [
        ratio_cell(ratio(row.get(("reference", heap), empty), row.get((ours, heap), empty)))
        for heap in heaps
        for ours in OURS
    ]
    return cells


def table_line(first: str, cells: Sequence[str], widths: Sequence[int]) -> str:
    padded = [f"{first:<{widths[0]}}"] + [f"{text:>{width}}" for text, width in zip(cells, widths[1:])]
    return "| " + " | ".join(padded) + " |"


def table_widths(cases: Sequence[str], heaps: Sequence[str]) -> list[int]:
    return [max(len("case"), *(len(CASES[case]) for case in cases))] + [
        max(len(title), 6) for title in table_header(heaps)
    ]


def table_head_lines(cases: Sequence[str], heaps: Sequence[str]) -> list[str]:
    widths = table_widths(cases, heaps)
    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return [table_line("case", table_header(heaps), widths), rule]


def table_row_line(case: str, row: Row, cases: Sequence[str], heaps: Sequence[str]) -> str:
    return table_line(CASES[case], table_cells(row, heaps), table_widths(cases, heaps))


def table_lines(results: Mapping[str, Row], heaps: Sequence[str]) -> list[str]:
    """The whole table as Markdown lines, one row per case in the order of `results`."""
    cases = list(results)
    return table_head_lines(cases, heaps) + [table_row_line(case, results[case], cases, heaps) for case in cases]


def describe_run(facts: Mapping[str, Any]) -> str:
    """One sentence saying where the figures come from: when, what command, which machine and versions."""
    load = facts["load"]
    return (
        f"Run {facts['started']}-{facts['finished']} UTC: `{facts['command']}` on Python {facts['python']}, "
        f"{facts['cpus']} CPUs ({facts['cpu']}), load average {load[0]:.1f} → {load[1]:.1f}; "
        f"agoraiotools {facts['agoraiotools']}, accesstoken2 {facts['accesstoken2']}"
        + (f" (commit {facts['commit']})" if facts.get("commit") else "")
        + f", {'C core' if facts['kernel'] == 'c' else 'NO C core (the C columns are pure Python)'}. "
        f"µs per token: process CPU time, median over "
        f"{facts['rounds']} fresh processes x {facts['repeats']} runs of about 50 ms each."
    )


def markdown_block(
    results: Mapping[str, Row], heaps: Sequence[str], facts: Mapping[str, Any], image: str | None, notes: Sequence[str]
) -> str:
    """The README's generated part: the run, the table, the heaps' meaning, the plot and the other figures."""
    lines = [MARK_BEGIN, describe_run(facts), "", *table_lines(results, heaps), ""]
    lines += [f"* {heap}: {HEAPS[heap]}." for heap in heaps]
    lines.append("* ref/pure and ref/C: the reference's time divided by ours, both measured in the same heap.")
    lines += [f"* {note}." for note in notes]
    if image is not None:
        lines += ["", f"![µs per token, every implementation side by side]({image})"]
    lines.append(MARK_END)
    return "\n".join(lines) + "\n"


def replace_block(text: str, block: str) -> str:
    """`text` with its generated part (MARK_BEGIN to MARK_END, inclusive) replaced by `block`."""
    begin, end = text.find(MARK_BEGIN), text.find(MARK_END)
    if begin < 0 or end < begin:
        raise ValueError(f"no '{MARK_BEGIN}' ... '{MARK_END}' lines to replace")
    after = end + len(MARK_END)
    if text[after : after + 1] == "\n":
        after += 1
    return text[:begin] + block + text[after:]


def write_markdown(path: str, block: str) -> None:
    if path == "-":
        print(block, end="")
        return
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            block = replace_block(handle.read(), block)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(block)
    print(f"wrote {path}")


def require_matplotlib() -> None:
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise SystemExit(f"--plot needs matplotlib, a benchmark-only dependency: {REQUIREMENTS}")


# bar colours: one hue per implementation, the steady heap lighter
COLOURS = {
    ("reference", "fresh"): "#5f5f5f",
    ("reference", "steady"): "#b4b4b4",
    ("pure", "fresh"): "#2b6cb0",
    ("pure", "steady"): "#90b8e0",
    ("c", "fresh"): "#2f855a",
    ("c", "steady"): "#8fd0a8",
}


def plot(results: Mapping[str, Row], heaps: Sequence[str], facts: Mapping[str, Any], path: str) -> None:
    """Grouped horizontal bars, one group per case, µs per token on a log axis, each bar labelled."""
    import textwrap

    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    shown = [column for column in columns(heaps) if any("us" in row.get(column, {}) for row in results.values())]
    if not shown:
        raise SystemExit("--plot: no implementation was measured in any case")
    height = 0.8 / len(shown)
    figure, axes = plt.subplots(figsize=(9, 2.0 + 0.19 * len(shown) * len(results)), dpi=90)
    values = []
    for index, (implementation, heap) in enumerate(shown):
        for group, row in enumerate(results.values()):
            result = row.get((implementation, heap), {})
            if "us" not in result:
                continue
            y = group + (index - (len(shown) - 1) / 2) * height
            label = f"{LABELS[implementation]}, {heap} heap" if group == 0 else None
            axes.barh(y, result["us"], height=height * 0.9, color=COLOURS[implementation, heap], label=label)
            text = f"{result['us']:.2f}" if result["us"] < 10 else f"{result['us']:.1f}"
            times = ratio(row.get(("reference", heap), {}), result) if implementation != "reference" else None
            if times is not None:
                text += f"  ({times:.1f}x)"
            axes.text(result["us"] * 1.04, y, text, va="center", fontsize=7)
            values.append(result["us"])
    axes.set_xscale("log")
    axes.set_xlim(min(values) * 0.6, max(values) * 3)
    # plain numbers (1, 2, 5, 10, 20, ...) rather than powers of ten
    axes.xaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    axes.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axes.xaxis.set_minor_locator(ticker.NullLocator())
    axes.set_yticks(range(len(results)))
    axes.set_yticklabels([CASES[case] for case in results], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel(
        "µs per token: process CPU time, wall clock for build_tokens (log scale; lower is better)\n"
        "(Nx) = the reference in the same heap / this",
        fontsize=8,
    )
    axes.tick_params(axis="x", labelsize=8)
    axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(IMPLEMENTATIONS), frameon=False)
    load = facts["load"]
    subtitle = (
        f"{facts['started']} UTC, Python {facts['python']}, {facts['cpus']} cores ({facts['cpu']}), "
        f"load {load[0]:.1f}-{load[1]:.1f}, agoraiotools {facts['agoraiotools']}; {facts['command']}"
    )
    figure.suptitle("µs per token: Agora's reference (agoraiotools) and accesstoken2, pure Python and C", fontsize=10)
    axes.set_title("\n".join(textwrap.wrap(subtitle, 105)), fontsize=7, loc="left")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    print(f"wrote {path}")


BARE_REFERENCE = """
import time
from agoraiotools.ChatTokenBuilder2 import ChatTokenBuilder
start = time.process_time()
for _ in range(5000):
    ChatTokenBuilder.build_user_token({app_id!r}, {certificate!r}, "user-1", 600)
print((time.process_time() - start) / 5000 * 1e6)
"""


def bare_reference_us(heap: str) -> float | None:
    """The reference's Chat user token in an interpreter that imports nothing else (heap state differs)."""
    import subprocess

    code = BARE_REFERENCE.format(app_id=APP_ID, certificate=CERTIFICATE)
    env = worker_env("reference", heap, os.environ)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    return float(result.stdout) if result.returncode == 0 else None


def combine(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The median over rounds of each round's median; a skip if any round skipped."""
    import statistics

    for result in rounds:
        if "us" not in result:
            return result
    return {"us": statistics.median(result["us"] for result in rounds)}


def run_facts(argv: Sequence[str], args: argparse.Namespace, kernel: str) -> dict[str, Any]:
    """What describe_run() and the plot's title say about this run (finished and load[1] are set at the end)."""
    import datetime
    import importlib.metadata
    import shlex
    import subprocess

    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    commit = subprocess.run(
        ["git", "-C", here, "log", "-1", "--format=%h"], capture_output=True, text=True, check=False
    ).stdout.strip()
    script = os.path.relpath(os.path.abspath(__file__))
    return {
        "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "finished": "",
        "command": shlex.join(["python", script, *argv]),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "load": [os.getloadavg()[0], 0.0],
        "agoraiotools": version("agoraiotools"),
        "accesstoken2": version("accesstoken2"),
        "commit": commit,
        "kernel": kernel,
        "rounds": args.rounds,
        "repeats": args.repeats,
    }


def finish_facts(facts: dict[str, Any]) -> None:
    import datetime

    facts["finished"] = datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M")
    facts["load"][1] = os.getloadavg()[0]


def extra_figures(args: argparse.Namespace, heaps: Sequence[str], results: Mapping[str, Row]) -> list[str]:
    """The figures besides the table: build_tokens scaling, where a C call goes, the bare reference, memory."""
    notes = []
    if "batch_1" in results and "batch_2" in results:
        for implementation in OURS:
            for heap in heaps:
                one = results["batch_1"].get((implementation, heap), {})
                two = results["batch_2"].get((implementation, heap), {})
                if "us" in one and "us" in two:
                    notes.append(
                        f"build_tokens throughput, 2 threads / 1 thread, from the table's rows (separate processes, "
                        f"{LABELS[implementation]}, {heap} heap): {one['us'] / two['us']:.2f}x"
                    )
    if args.scaling_rounds > 0:
        measured = run_worker("scaling", "c", heaps[0], args, repeats=args.scaling_rounds)
        if "paired" in measured:
            notes.append(scaling_note(measured))
        else:
            notes.append(f"build_tokens scaling: {measured.get('skip')}")
    share = run_worker("share", "c", heaps[0], args)
    for case, times in share.items():
        if isinstance(times, dict) and "us" in times:
            kernel_us = times["us"] - times["python_us"]
            notes.append(
                f"{CASES[case]} (C): {times['us']:.2f} µs per call, of which {kernel_us:.2f} µs "
                f"({kernel_us / times['us']:.0%}) in the kernel (checks, pack, sign, deflate, base64) and "
                f"{times['python_us']:.2f} µs in Python (arguments, the kernel call)"
            )
    for heap in heaps:
        bare = bare_reference_us(heap)
        if bare is not None:
            notes.append(
                f"reference Chat user token in a bare interpreter (python -c, nothing else imported), {heap} heap: "
                f"{bare:.2f} µs"
            )
    for implementation in ("c", "pure"):
        memory = run_worker("memory", implementation, heaps[0], args)
        if "before" in memory:
            growth = (memory["after"] - memory["before"]) / 1024
            notes.append(
                f"memory ({LABELS[implementation]}): RSS {memory['before'] / 2**20:.1f} MiB before, "
                f"{memory['after'] / 2**20:.1f} MiB after {memory['builds']:,} builds ({growth:+.0f} KiB)"
            )
        else:
            notes.append(f"memory ({LABELS[implementation]}): {memory.get('skip')}")
    return notes


def worker_main(argv: list[str]) -> None:
    """``--worker CASE IMPLEMENTATION --repeats N --builds N``: one measurement, printed as a Python literal."""
    case, implementation = argv[1], argv[2]
    repeats, builds = int(argv[4]), int(argv[6])
    print(repr(worker(case, implementation, repeats, builds)))


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    import argparse

    def heaps_type(text: str) -> tuple[str, ...]:
        try:
            return parse_heaps(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    def rounds_type(text: str) -> int:
        rounds = int(text)
        if rounds < 0:
            raise argparse.ArgumentTypeError(f"{rounds} is negative: give 0 (none) or more")
        return rounds

    def cases_type(text: str) -> list[str]:
        cases = [case.strip() for case in text.split(",")]
        unknown = [case for case in cases if case not in CASES]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown case(s) {', '.join(unknown)}: choose from {', '.join(CASES)}")
        return cases

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9, help="timed runs per case and process (median)")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per case, implementation and heap")
    parser.add_argument("--builds", type=int, default=1_000_000, help="builds in the memory check")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 round of 5 repeats, 100,000 builds in the memory check, at most 10 scaling rounds",
    )
    parser.add_argument(
        "--heaps",
        type=heaps_type,
        default=None,
        help="comma-separated heap settings, each measured for every implementation in the same run: "
        + "; ".join(f"{name}: {meaning}" for name, meaning in HEAPS.items())
        + " (default: fresh)",
    )
    parser.add_argument(
        "--steady-heap",
        action="store_true",
        help="the same as --heaps steady: glibc never trims the heap, so zlib.compress() (reference and pure path) "
        "always takes its fast path",
    )
    parser.add_argument(
        "--cases", type=cases_type, default=list(CASES), help="comma-separated subset of: " + ", ".join(CASES)
    )
    parser.add_argument("--plot", metavar="PATH.png", help="also draw the table as a bar chart (needs matplotlib)")
    parser.add_argument(
        "--markdown",
        metavar="PATH",
        help="also write the table, the run it came from and the other figures as Markdown: '-' prints it; a file "
        "that holds the generated block's begin/end lines (README.md) gets only that block replaced",
    )
    parser.add_argument(
        "--no-extras",
        action="store_true",
        help="only the table: no build_tokens scaling, kernel share, bare reference or memory check",
    )
    parser.add_argument(
        "--scaling-rounds",
        type=rounds_type,
        default=40,
        help=f"rounds of the paired build_tokens scaling measurement ({SCALING_BATCH:,} tokens each; 0: none)",
    )
    args = parser.parse_args(argv)
    if args.steady_heap and args.heaps is not None and args.heaps != ("steady",):
        parser.error("--steady-heap is --heaps steady; give one of them")
    args.heaps = ("steady",) if args.steady_heap else args.heaps or ("fresh",)
    if args.quick:
        args.rounds, args.repeats, args.builds = 1, 5, 100_000
        args.scaling_rounds = min(args.scaling_rounds, 10)
    return args


def main() -> None:
    args = parse_args(sys.argv[1:])
    if args.plot:
        require_matplotlib()
    heaps: tuple[str, ...] = args.heaps
    facts = run_facts(sys.argv[1:], args, implementation_check())
    print(
        f"python {facts['python']}, {facts['cpus']} CPUs; median us per operation "
        f"(median of {args.rounds} fresh processes x {args.repeats} runs each)"
    )
    for heap in heaps:
        print(f"  {heap}: {HEAPS[heap]}")
    cases: list[str] = args.cases
    for line in table_head_lines(cases, heaps):
        print(line)
    results: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for case in cases:
        # rounds interleave the implementations and heaps, so a burst of load on the machine hits all alike
        rounds: dict[tuple[str, str], list[dict[str, Any]]] = {column: [] for column in columns(heaps)}
        for _ in range(args.rounds):
            for implementation, heap in columns(heaps):
                rounds[implementation, heap].append(run_worker(case, implementation, heap, args))
        results[case] = row = {column: combine(measured) for column, measured in rounds.items()}
        print(table_row_line(case, row, cases, heaps), flush=True)
        for (implementation, heap), result in row.items():
            if "skip" in result:
                print(f"    ({LABELS[implementation]}, {heap} heap: {result['skip']})")
    notes = [] if args.no_extras else extra_figures(args, heaps, results)
    for note in notes:
        print(note)
    finish_facts(facts)
    if args.plot:
        plot(results, heaps, facts, args.plot)
    if args.markdown:
        image = None
        if args.plot:
            target = os.getcwd() if args.markdown == "-" else os.path.dirname(os.path.abspath(args.markdown))
            image = os.path.relpath(os.path.abspath(args.plot), target)
        write_markdown(args.markdown, markdown_block(results, heaps, facts, image, notes))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker_main(sys.argv[1:])
    else:
        main()
