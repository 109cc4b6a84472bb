"""benchmarks/deflate_bench.py: the contents it times and the agreement check of its C driver.

No timing is asserted here (figures live in benchmarks/README.md).  The script is loaded from its path:
benchmarks/ is not a package.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

import pytest
from benchmark_scripts import BENCHMARKS, load_script

SCRIPT = BENCHMARKS / "deflate_bench.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return load_script("deflate_bench.py")


@pytest.mark.default_kernel
def test_every_kind_gets_distinct_contents_of_its_size_the_same_every_run(script: ModuleType) -> None:
    sets = script.content_sets(5)
    assert {name: {len(content) for content in contents} for name, contents in sets.items()} == {
        "chat_user_104": {104},
        "rtc_publisher_156": {156},
        "rtc_chat_1024": {1024},
    }
    for contents in sets.values():
        assert len(set(contents)) == 5  # salts, and with them signatures, differ
    assert script.content_sets(5) == sets
    assert {name: contents[0] for name, contents in sets.items()} == script.contents(12345)


@pytest.mark.parametrize("text", ["0", "-5", "100001", "many"])
def test_content_counts_outside_what_the_driver_reads_are_refused(script: ModuleType, text: str) -> None:
    finished = subprocess.run(
        [sys.executable, str(SCRIPT), "--contents", text], capture_output=True, text=True, check=False, timeout=60
    )
    assert finished.returncode == 2
    assert "--contents" in finished.stderr and finished.stdout == ""


@pytest.mark.slow
def test_the_c_driver_checks_every_content_against_zlib_and_reports_each_way(script: ModuleType) -> None:
    include = Path(sysconfig.get_paths()["include"]).parent
    if shutil.which("cc") is None or not any((path / "zlib.h").exists() for path in (Path("/usr/include"), include)):
        pytest.skip("needs a C compiler and zlib's headers")
    finished = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "1", "--calls", "40", "--contents", "20"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    lines = finished.stdout.splitlines()
    for name, size in (("chat_user_104", 104), ("rtc_publisher_156", 156), ("rtc_chat_1024", 1024)):
        assert any(name in line and f"20 contents of {size}-{size} bytes" in line for line in lines), lines
    assert sum(line.lstrip().startswith("ours") for line in lines) == 3
    assert sum(line.lstrip().startswith("zlib reset") for line in lines) == 3


def test_the_content_limit_is_the_c_drivers(script: ModuleType) -> None:
    driver = (BENCHMARKS / "deflate_bench.c").read_text(encoding="utf-8")
    assert f"#define CONTENT_LIMIT {script.CONTENT_LIMIT}\n" in driver
