"""build007 refuses a token content over MAX_CONTENT as soon as the packed size passes it, on both kernels alike:
4,000 references to one 64 KiB string (as 4,000 services, or as 4,000 names in one RTM2 permission tree) cost a
few hundred KiB, not the 256 MiB (and more) of packing all of it first."""

from __future__ import annotations

import ast
import subprocess
import sys
from typing import Any

import pytest

from accesstoken2 import InvalidParameterError
from accesstoken2._wire.kernel import Kernel
from accesstoken2._wire.limits import MAX_CONTENT, MAX_TEXT

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
REFERENCES = 4000
# the peak a refused build may add to the process (ru_maxrss, KiB); packing everything first took 860 MiB
PEAK_KIB = 16 * 1024

# Run in a fresh interpreter, so that ru_maxrss (the process's peak) measures this build alone.
MEASURE = """
import resource, sys
from accesstoken2 import InvalidParameterError
from accesstoken2._wire import kernel
big = "r" * {text}
services = {services}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    kernel.active.build007({app!r}, {certificate!r}, 1_700_000_000, 600, 1, services)
    outcome = ("built",)
except InvalidParameterError as error:
    outcome = (type(error).__name__, error.parameter, str(error))
print(repr((kernel.active.IMPLEMENTATION, outcome, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)))
"""

SHAPES = {
    "services": f"[(1, {{1: 600}}, (big, '7'))] * {REFERENCES}",
    "tree": f"[(8, {{1: 600}}, ('user', {{0: {{0: [big] * {REFERENCES}}}}}))]",
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_an_oversized_content_is_refused_before_it_is_packed(
    shape: str, implementation: str, impl_env: dict[str, str]
) -> None:
    script = MEASURE.format(text=MAX_TEXT, services=SHAPES[shape], app=APP_ID, certificate=CERTIFICATE)
    run = subprocess.run([sys.executable, "-c", script], env=impl_env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    live, outcome, peak_kib = ast.literal_eval(run.stdout.strip().splitlines()[-1])
    assert live == implementation
    assert outcome[:2] == ("InvalidParameterError", "services"), outcome
    assert str(MAX_CONTENT) in outcome[2]
    assert peak_kib < PEAK_KIB, f"a refused build grew the process by {peak_kib} KiB"


def refusal(kernel: Kernel, services: Any) -> tuple[str, str | None, str]:
    with pytest.raises(InvalidParameterError) as caught:
        kernel.build007(APP_ID, CERTIFICATE, 1_700_000_000, 600, 1, services)
    return type(caught.value).__name__, caught.value.parameter, str(caught.value)


def within(size: int) -> str:
    """A channel name that makes a one-RTC-service content exactly size bytes."""
    head = 2 + 32 + 2 + 32 + 12 + 2  # signature, app id, issue_ts expire salt, service count
    service = 2 + 2 + 6 + 2 + 2 + 1  # type, one privilege, the channel's length, the uid "7"
    return "c" * (size - head - service)


@pytest.mark.parametrize(
    "services",
    [
        pytest.param([(1, {1: 600}, ("r" * MAX_TEXT, "7"))] * 2, id="the second service passes the limit"),
        pytest.param([(1, {1: 600}, (within(MAX_CONTENT + 1), "7"))], id="one byte over"),
        pytest.param([(8, {1: 600}, ("u", {0: {0: ["r" * MAX_TEXT] * 3}}))], id="inside a permission tree"),
        pytest.param([(8, {1: 600}, ("u", {0: {key: [] for key in range(20_000)}}))], id="permission heads alone"),
        # refused before the bad value after it is read: both kernels stop at the same point
        pytest.param(
            [(1, {1: 600}, ("r" * MAX_TEXT, "7"))] * 2 + [(1, {}, (b"not text", "7"))], id="before a bad value"
        ),
    ],
)
def test_both_kernels_refuse_alike(speedups: Kernel, pure_kernel: Kernel, services: Any) -> None:
    expected = refusal(pure_kernel, services)
    assert expected[:2] == ("InvalidParameterError", "services")
    assert refusal(speedups, services) == expected


def test_a_content_of_exactly_the_limit_is_built(kernel: Kernel) -> None:
    services = [(1, {1: 600}, (within(MAX_CONTENT), "7"))]
    token = kernel.build007(APP_ID, CERTIFICATE, 1_700_000_000, 600, 1, services)
    signature, signing_info = kernel.parse007(token)[:2]
    assert 2 + len(signature) + len(signing_info) == MAX_CONTENT
