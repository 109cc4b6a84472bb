"""The one fixture that runs every test over both kernels.

``implementation`` is autouse and parametrized over ``"python"`` and, when the compiled core
is importable and not disabled, ``"c"``: it swaps the functions that ``accesstoken2._kernel``
exposes, so the whole public API runs on the chosen kernel.  ``impl_env`` gives the
environment for a subprocess that must use the same kernel.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from accesstoken2 import _kernel, _native

VECTORS = Path(__file__).parent / "vectors"


def _compiled() -> ModuleType | None:
    if _kernel.extensions_disabled():
        return None
    try:
        return importlib.import_module("accesstoken2._speedups")
    except ImportError:
        return None


KERNELS: dict[str, ModuleType] = {"python": _native}
_c = _compiled()
if _c is not None:
    KERNELS["c"] = _c


@pytest.fixture(params=sorted(KERNELS), autouse=True)
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    module = KERNELS[request.param]
    for name in _kernel.FUNCTIONS:
        monkeypatch.setattr(_kernel, name, getattr(module, name))
    yield request.param


@pytest.fixture
def kernel(implementation: str) -> ModuleType:
    """The kernel module under test."""
    return KERNELS[implementation]


@pytest.fixture
def impl_env(implementation: str) -> dict[str, str]:
    """Environment for a subprocess that must run on the same kernel."""
    env = dict(os.environ)
    if implementation == "python":
        env["ACCESSTOKEN2_NO_EXTENSIONS"] = "1"
    else:
        env.pop("ACCESSTOKEN2_NO_EXTENSIONS", None)
    return env


def load_vectors(name: str) -> list[dict[str, Any]]:
    with open(VECTORS / f"{name}.json", encoding="utf-8") as handle:
        vectors: list[dict[str, Any]] = json.load(handle)["vectors"]
    return vectors
