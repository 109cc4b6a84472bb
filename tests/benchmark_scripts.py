"""Loads a script of benchmarks/ (not a package) as a module, for the tests of its pure parts."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load_script(name: str) -> ModuleType:
    """benchmarks/<name> as a fresh module; skips the test when the tree has no benchmarks/ (an sdist)."""
    path = BENCHMARKS / name
    if not path.exists():
        pytest.skip(f"benchmarks/{name} is not in this tree (an sdist)")
    spec = importlib.util.spec_from_file_location(f"{path.stem}_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
