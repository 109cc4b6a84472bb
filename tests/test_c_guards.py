"""The C core's guards that no input reaches, forced by a C driver (tests/c/floor_guards.c): deflate_floor.c
makes no bound, instead of writing past an array, when the argument that keeps it inside breaks.  The same
driver checks the bound's entropy step against exact Huffman costs (never above one, exact where the
entropy is a whole number of bits).

The driver is built with AddressSanitizer and UndefinedBehaviorSanitizer when the compiler has them (a write
past an array then fails the run), else plainly; without a C compiler the test is skipped.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DRIVER = ROOT / "tests" / "c" / "floor_guards.c"
SANITIZERS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer"]


def compiler() -> str:
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no C compiler (cc, gcc or clang) on PATH")


def build(tmp_path: Path) -> Path:
    """The driver, with the sanitizers when the compiler can link them."""
    program = tmp_path / "floor_guards"
    base = [compiler(), "-std=c99", "-O1", "-g", f"-I{ROOT / 'src_c'}", str(DRIVER), "-o", str(program)]
    for flags in (SANITIZERS, []):
        if subprocess.run([*base[:1], *flags, *base[1:]], capture_output=True, timeout=120).returncode == 0:
            return program
    failed = subprocess.run(base, capture_output=True, text=True, timeout=120)
    raise AssertionError(f"tests/c/floor_guards.c does not build:\n{failed.stderr}")


@pytest.mark.slow  # compiles and runs a C program
def test_deflate_floor_guards_and_entropy_step(tmp_path: Path) -> None:
    # ASan's runtime must be the first in a process: a preloaded one (scripts/check_sanitizers.sh) is not for it
    env = {"ASAN_OPTIONS": "detect_leaks=0", "PATH": "/usr/bin:/bin"}
    run = subprocess.run([str(build(tmp_path))], capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "every check holds" in run.stdout
