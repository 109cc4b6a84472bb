"""Fixtures for test modules that call the compiled kernel directly (import them into the module).

``implementation`` overrides conftest's parametrized autouse fixture, so each test runs once, and
skips when the C core is not compiled; ``speedups`` is the compiled module.
"""

from __future__ import annotations

from types import ModuleType

import pytest
from conftest import KERNELS


@pytest.fixture(autouse=True)
def implementation() -> str:
    if "c" not in KERNELS:
        pytest.skip("the C core (accesstoken2._speedups) is not compiled")
    return "c"


@pytest.fixture
def speedups(implementation: str) -> ModuleType:
    return KERNELS[implementation]
