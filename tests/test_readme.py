"""The README does what it says for a newcomer: at most 200 lines, links that work on the package index
page (absolute), its Python blocks run in order, and its diagnose session prints what it shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
# the README's code builds and checks tokens on the default kernel: the pure pass runs it too
pytestmark = [
    pytest.mark.skipif(not README.exists(), reason="needs the source tree (README.md)"),
    pytest.mark.default_kernel,
]


def readme() -> str:
    return README.read_text(encoding="utf-8")


def test_readme_is_short() -> None:
    assert len(readme().splitlines()) <= 200


def test_every_link_and_image_is_absolute() -> None:
    # the package index renders the README away from the repository: relative links would break there
    targets = re.findall(r"\]\(([^)\s]+)\)", readme())
    assert targets, "no links found"
    assert [target for target in targets if not target.startswith("https://")] == []


def test_python_blocks_run_in_order() -> None:
    blocks = re.findall(r"```python\n(.*?)```", readme(), flags=re.DOTALL)
    assert len(blocks) >= 2
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # the README's own examples
    assert str(namespace["rtc_token"]).startswith("007")


def test_the_diagnose_session_prints_what_the_readme_shows() -> None:
    session = re.search(r"```console\n(.*?)```", readme(), flags=re.DOTALL)
    assert session is not None
    lines = session.group(1).splitlines()
    exports = dict(re.findall(r"(\w+)=(\S+)", lines[0]))
    build = re.search(r"\$\((accesstoken2 build [^)]*)\)", lines[1])
    diagnose = re.match(r'\$ accesstoken2 diagnose "\$TOKEN" (.*)', lines[2])
    assert build is not None and diagnose is not None
    env = {**os.environ, **exports}
    cli = [sys.executable, "-m", "accesstoken2"]
    token = subprocess.run(
        cli + build.group(1).split()[1:], env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    shown = subprocess.run(
        [*cli, "diagnose", token, *diagnose.group(1).split()],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert shown.returncode == 1  # an error finding
    printed = shown.stdout.splitlines()
    # the first and last lines are the same; the middle one holds the time of the run
    assert printed[0] == lines[3] and printed[-1] == lines[-1]
    assert [line.split()[:2] for line in printed] == [line.split()[:2] for line in lines[3:]]
