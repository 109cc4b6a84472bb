"""The selection of CI's pure-kernel pass cannot drift: with ACCESSTOKEN2_CHECK_KERNEL_MARKS=1 a test that uses
the default kernel without the ``default_kernel`` mark (or a kernel fixture) fails, naming the mark."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

SAMPLE = '''
import pytest
from accesstoken2 import ChatTokenBuilder

APP, CERT = "970CA35de60c44645bbae8a215061b33", "5CFd2fd1755d40ecb72977518be15d3b"


def test_unmarked_uses_the_kernel():
    assert ChatTokenBuilder.build_user_token(APP, CERT, "u", 60).startswith("007")


@pytest.mark.default_kernel
def test_marked_uses_the_kernel():
    assert ChatTokenBuilder.build_user_token(APP, CERT, "u", 60).startswith("007")


def test_with_the_fixture(implementation):
    assert ChatTokenBuilder.build_user_token(APP, CERT, "u", 60).startswith("007")


def test_touches_no_kernel():
    assert APP != CERT
'''


def test_an_unmarked_test_that_uses_the_default_kernel_fails(tmp_path: Path) -> None:
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    # this checkout's package, whatever else is installed
    env = {**os.environ, "ACCESSTOKEN2_CHECK_KERNEL_MARKS": "1", "PYTHONPATH": str(TESTS.parent)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "markers=default_kernel", "-rf"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    failed = [line for line in run.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and "test_unmarked_uses_the_kernel" in failed[0], run.stdout
    assert "without the default_kernel mark" in run.stdout
