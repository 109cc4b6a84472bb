"""The C core's own test driver (tests/c/driver.c), built and run natively: the published vectors, deflate and
inflate round trips and the thread shim, through the C API alone.  scripts/check_portability.sh runs the same
driver on aarch64, s390x, i686 and Windows (mingw-w64) too."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DRIVER = ROOT / "tests" / "c" / "driver.c"

pytestmark = [
    pytest.mark.skipif(not DRIVER.exists() or not (ROOT / "src_c").is_dir(), reason="no C sources in this tree"),
    pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler (cc)"),
]


@pytest.mark.slow  # compiles and runs the C driver
def test_the_driver_passes_every_check_natively(tmp_path: Path) -> None:
    header = tmp_path / "vectors.h"
    subprocess.run([sys.executable, str(ROOT / "tests" / "c" / "make_vectors.py"), str(header)], check=True)
    binary = tmp_path / "driver"
    sources = [str(DRIVER), *sorted(str(path) for path in (ROOT / "src_c").glob("*.c"))]
    flags = ["-O2", "-Wall", "-Wextra", "-Wno-enum-compare", f"-I{ROOT / 'src_c'}", f"-I{tmp_path}"]
    subprocess.run(["cc", *flags, *sources, "-o", str(binary), "-lpthread"], check=True, timeout=300)
    run = subprocess.run([str(binary)], capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()[-1]
    passed, failed = (int(part.split()[0]) for part in summary.split(", "))
    assert failed == 0 and passed >= 200, summary
