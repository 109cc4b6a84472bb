"""benchmarks/inflate_differential.py: a short run of the C inflate against zlib (CI runs the million-stream one).

The script is loaded from its path: benchmarks/ is not a package.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from benchmark_scripts import BENCHMARKS

SCRIPT = BENCHMARKS / "inflate_differential.py"
pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="benchmarks/ is not in this tree (an sdist)")


def zlib_header_present() -> bool:
    include = sysconfig.get_config_var("INCLUDEDIR") or "/usr/include"
    return (Path(include) / "zlib.h").exists() or Path("/usr/include/zlib.h").exists()


@pytest.mark.slow  # compiles and runs the C differential
@pytest.mark.skipif(shutil.which("cc") is None or not zlib_header_present(), reason="needs cc and zlib.h")
def test_a_short_run_agrees_with_zlib_on_valid_and_corrupt_streams() -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--valid", "3000", "--corrupt", "3000", "--seed", "11"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "valid streams:   3000" in run.stdout
    assert "corrupt streams: 3000" in run.stdout


@pytest.mark.parametrize("text", ["-1", "100000001", "many"])
def test_counts_out_of_range_are_refused_by_argparse(text: str) -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--valid", text], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 2
    assert "--valid" in run.stderr
