"""How many OS threads a batch build may use."""

from __future__ import annotations

import os

from ._wire.checks import check_int
from ._wire.limits import MAX_THREADS


def thread_count(threads: int | None, jobs: int) -> int:
    """``threads`` checked (1..256), or the CPU count; never more than there are jobs."""
    if threads is None:
        threads = os.cpu_count() or 1
    else:
        threads = check_int("threads", threads, 1, MAX_THREADS)
    return max(1, min(threads, jobs, MAX_THREADS))
