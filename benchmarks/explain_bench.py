"""CPU time of inspect() and diagnose() on worst-case tokens, against the targets of issue 10.

Targets: for any input up to the token cap, ``inspect()`` at most 10 ms and ``diagnose()`` at most
15 ms of CPU time.  Each kernel runs in its own fresh process, both in one run; the table shows the
median process CPU time per call (milliseconds), the parse alone for comparison, and the ratio
target / measured (above 1.0x: within the target).

    python benchmarks/explain_bench.py             # 15 calls per case and kernel
    python benchmarks/explain_bench.py --calls 5
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import statistics
import subprocess
import sys
import time
import warnings
from typing import Any, Callable

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
T0 = 1_700_000_000
TARGETS = {"inspect": 10.0, "diagnose": 15.0}
CASES = {
    "empty_services": "16,000 empty services (259 chars)",
    "mixed_empty": "16,000 empty, 3 types mixed",
    "rtm2_empty": "8,000 empty RTM2 services",
    "privileges": "10,000 RTC privileges",
    "privileges_32x335": "32 RTC services x 335 privileges",
    "privileges_006": "006 with 10,000 privileges",
    "longest": "near-maximal 007 (72k chars)",
    "truncated": "near-maximal 007 cut short",
    "url_encoded": "URL-encoded 007 + whitespace",
    "huge_input": "9 MB of %41 (diagnose only)",
}


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
    from accesstoken2.legacy import AccessToken
    from accesstoken2.services import Rtm2Permissions

    if case == "empty_services":
        token = AccessToken2(APP_ID, CERTIFICATE, T0, 3600, salt=1)
        for _ in range(16_000):
            token.add_service(ServiceFpa())
        return token.build()
    if case in ("mixed_empty", "rtm2_empty"):
        # the kernel writes services in the order given (AccessToken2 sorts them by type)
        from accesstoken2._wire import kernel

        rnd = random.Random(1)
        if case == "mixed_empty":
            kinds = [ServiceFpa()._wire(), ServiceConvoAI()._wire(), ServiceStt()._wire()]
            services = [rnd.choice(kinds) for _ in range(16_000)]
        else:
            services = [ServiceRtm2("", Rtm2Permissions())._wire()] * 8_000
        return kernel.active.build007(APP_ID, CERTIFICATE, T0, 3600, 1, services)
    if case == "privileges_32x335":
        token = AccessToken2(APP_ID, CERTIFICATE, T0, 3600, salt=1)
        for _ in range(32):
            rtc = ServiceRtc("room", 42)
            for key in range(335):
                rtc.add_privilege(key, 60 + key)
            token.add_service(rtc)
        return token.build()
    if case == "privileges":
        token = AccessToken2(APP_ID, CERTIFICATE, T0, 3600, salt=1)
        rtc = ServiceRtc("room", 42)
        for key in range(10_000):
            rtc.add_privilege(key, 60 + key)
        token.add_service(rtc)
        return token.build()
    if case == "privileges_006":
        legacy = AccessToken(APP_ID, CERTIFICATE, "room", 42, ts=T0 + 86400, salt=1)
        for key in range(10_000):
            legacy.add_privilege(key, T0 + 100 + key)
        return legacy.build()
    if case == "huge_input":
        return "%41" * 3_000_000
    rnd = random.Random(1)
    channel = "".join(chr(rnd.randrange(33, 127)) for _ in range(64_800))
    longest = RtcTokenBuilder.build_token_with_uid(APP_ID, CERTIFICATE, channel, 42, 1, 3600, issue_ts=T0, salt=1)
    if case == "longest":
        return longest
    if case == "truncated":
        return longest[: len(longest) - 1000]
    if case == "url_encoded":
        return longest.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D") + "\n" * 20_000
    raise ValueError(case)


def median_ms(call: Callable[[], Any], calls: int) -> float:
    call()
    samples = []
    for _ in range(calls):
        start = time.process_time()
        call()
        samples.append((time.process_time() - start) * 1000)
    return statistics.median(samples)


def worker(case: str, calls: int) -> dict[str, Any]:
    import accesstoken2
    from accesstoken2 import AccessToken2, diagnose, inspect
    from accesstoken2.legacy import AccessToken

    warnings.simplefilter("ignore")
    token = make_token(case)
    result: dict[str, Any] = {"implementation": accesstoken2.IMPLEMENTATION}
    if case not in ("huge_input", "truncated", "url_encoded"):  # these are not tokens: diagnose only
        parser = AccessToken.parse if token.startswith("006") else AccessToken2.parse
        result["parse"] = median_ms(lambda: parser(token), calls)
        result["inspect"] = median_ms(lambda: inspect(token, now=T0), calls)
    result["diagnose"] = median_ms(
        lambda: diagnose(token, app_certificate=CERTIFICATE, channel_name="room", uid=42, now=T0), calls
    )
    result["findings"] = len(diagnose(token, app_certificate=CERTIFICATE, now=T0))
    return result


def run_worker(case: str, pure: bool, calls: int) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop("ACCESSTOKEN2_NO_EXTENSIONS", None)
    if pure:
        env["ACCESSTOKEN2_NO_EXTENSIONS"] = "1"
    command = [sys.executable, os.path.abspath(__file__), "--worker", case, "--calls", str(calls)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    answer: dict[str, Any] = ast.literal_eval(done.stdout.strip())
    return answer


def cell(result: dict[str, Any], key: str) -> str:
    if key not in result:
        return "n/a"
    text = f"{result[key]:.2f}"
    if key in TARGETS:
        text += f" ({TARGETS[key] / max(result[key], 1e-3):.1f}x)"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=15)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(repr(worker(args.worker, args.calls)))
        return
    print("median CPU ms per call (target / measured); each kernel in a fresh process")
    print(f"{'case':<36} {'kernel':<7} {'parse':>7} {'inspect':>14} {'diagnose':>14} {'findings':>8}")
    for case, title in CASES.items():
        for pure in (False, True):
            result = run_worker(case, pure, args.calls)
            print(
                f"{title:<36} {result['implementation']:<7} {cell(result, 'parse'):>7} "
                f"{cell(result, 'inspect'):>14} {cell(result, 'diagnose'):>14} {result['findings']:>8}"
            )


if __name__ == "__main__":
    main()
