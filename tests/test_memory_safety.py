"""The compiled kernel's failure paths, forced: every fallible step of build_many in turn (each allocation, each
step of publishing a chunk) fails once, and the batch ends with its error and frees each block exactly once.

Under AddressSanitizer (scripts/check_sanitizers.sh) a double free or a use after free aborts the run; without it
glibc usually does.  Either way the kernel must still build correctly afterwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from accesstoken2._wire.kernel import Kernel

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
# 256 jobs (one full chunk, batch.h's AT2_CHUNK_JOBS) of about 60 KB each, then a second, small chunk: its publish
# runs while a worker may be sealing the first one
BIG_JOBS = 256
SMALL_JOBS = 40
BIG_CHANNEL = "room-" + "0123456789abcdef" * 3750  # 60,005 bytes


def jobs() -> list[tuple[Any, ...]]:
    big = [
        (APP_ID, CERTIFICATE, 1_700_000_000, 600, index + 1, [(1, {1: 600}, (f"{BIG_CHANNEL}{index}", "7"))])
        for index in range(BIG_JOBS)
    ]
    small = [
        (APP_ID, CERTIFICATE, 1_700_000_000, 600, index + 1, [(5, {1: 600}, (f"user-{index}",))])
        for index in range(SMALL_JOBS)
    ]
    return big + small


@pytest.fixture
def armed(speedups: Kernel) -> Iterator[Any]:
    """The compiled module, its fault hook disarmed again whatever the test does."""
    yield speedups
    speedups._arm_fault(0)  # type: ignore[attr-defined]


def test_every_fallible_step_of_build_many_fails_cleanly(armed: Any) -> None:
    batch = jobs()
    expected = armed.build_many(batch, 2)
    assert len(expected) == len(batch) and len(set(expected)) == len(batch)
    failures: Counter[str] = Counter()
    step = 0
    while True:
        step += 1
        armed._arm_fault(step)
        try:
            built = armed.build_many(batch, 2)
        except (MemoryError, RuntimeError) as error:
            # the armed step fired (the hook disarmed itself), and nothing else went wrong
            assert armed._arm_fault(0) == 0, f"step {step}: {error!r} without the armed failure"
            failures[type(error).__name__] += 1
        else:
            # the build took fewer fallible steps than step: every step has failed once, in turn
            assert armed._arm_fault(0) > 0
            assert built == expected
            break
        # each forced failure leaves the kernel whole: the next build is right
        assert armed.build_many(batch[-SMALL_JOBS:], 2) == expected[-SMALL_JOBS:]
    # the buffer growths and both chunks' allocations (MemoryError), and both publishes' lock, queue and signal
    # steps (RuntimeError for a lock or signal that fails; the queue's growth is a MemoryError)
    assert failures["RuntimeError"] == 4, failures
    assert failures["MemoryError"] >= 2 + 2 + 1 + 1, failures
    assert armed.build_many(batch, 2) == expected


def test_a_fault_in_the_single_build_path_is_a_memory_error(armed: Any) -> None:
    # build007 grows its buffer past the stack for a 60 KB channel: the hook fails that growth
    job = jobs()[0]
    expected = armed.build007(*job)
    armed._arm_fault(1)
    with pytest.raises(MemoryError):
        armed.build007(*job)
    assert armed._arm_fault(0) == 0
    assert armed.build007(*job) == expected
