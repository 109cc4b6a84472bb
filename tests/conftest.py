"""Fixtures that choose a kernel.  Nothing here is autouse: a test that touches a kernel asks for it.

``implementation`` (parametrised ``"python"`` and ``"c"``) switches the kernel selector
(``accesstoken2._wire.kernel.active``) for one test, so the whole public API, ``IMPLEMENTATION``
included, runs on that kernel; the ``[c]`` item is skipped, with the reason, when the C core is not
compiled.  A module opts in with ``pytestmark = pytest.mark.usefixtures("implementation")``, a test
with the same mark or by naming the fixture.  Tests that do not ask for it (server, CLI, DynamicKey,
...) run once, on the default kernel.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from accesstoken2._wire import kernel as selector
from accesstoken2._wire.kernel import Kernel

KERNELS: dict[str, Kernel] = selector.kernels()
NO_C_CORE = "the C core (accesstoken2._wire._kernel_cy) is not compiled or is disabled"


@pytest.fixture(params=["python", pytest.param("c", marks=pytest.mark.skipif("c" not in KERNELS, reason=NO_C_CORE))])
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Runs the test once per kernel, with the selector switched to it."""
    monkeypatch.setattr(selector, "active", KERNELS[request.param])
    yield request.param


@pytest.fixture
def kernel(implementation: str) -> Kernel:
    """The kernel under test."""
    return KERNELS[implementation]


@pytest.fixture
def pure_kernel() -> Kernel:
    """The pure-Python kernel (the reference the compiled one is compared with)."""
    return KERNELS["python"]


@pytest.fixture
def speedups() -> Kernel:
    """The compiled kernel; the test is skipped when it is not built."""
    if "c" not in KERNELS:
        pytest.skip(NO_C_CORE)
    return KERNELS["c"]


@pytest.fixture
def impl_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Environment for a subprocess that must run on the kernel of this test (``implementation``, if it
    asks for one, else the default)."""
    if "implementation" in request.fixturenames:
        request.getfixturevalue("implementation")
    env = dict(os.environ)
    if selector.active.IMPLEMENTATION == "python":
        env["ACCESSTOKEN2_NO_EXTENSIONS"] = "1"
    else:
        env.pop("ACCESSTOKEN2_NO_EXTENSIONS", None)
    return env


# --- which tests run again on the pure kernel -----------------------------------------------------------------
# CI runs the suite once as built, then again with ACCESSTOKEN2_NO_EXTENSIONS=1 on only the tests marked
# ``default_kernel``: those that reach the kernel through the default selection (kernel.active: the server, the
# CLI, the public API without the ``implementation`` fixture).  A test that asks for a kernel fixture ran on both
# kernels already; a test that touches no kernel has nothing to learn from a second run.  With
# ACCESSTOKEN2_CHECK_KERNEL_MARKS=1 (CI's first pass) every other test runs with kernel.active behind a proxy
# that notes any use, and a test that uses it without the mark fails: the selection cannot drift.

KERNEL_FIXTURES = {"implementation", "kernel", "pure_kernel", "speedups", "impl_env"}


class _NotingKernel:
    """The active kernel, noting that a test used it."""

    def __init__(self, wrapped: Kernel) -> None:
        self.wrapped = wrapped
        self.used = False

    def __getattr__(self, name: str) -> object:
        self.used = True
        return getattr(self.wrapped, name)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    checked = os.environ.get("ACCESSTOKEN2_CHECK_KERNEL_MARKS") == "1" and not (
        KERNEL_FIXTURES.intersection(getattr(item, "fixturenames", ())) or item.get_closest_marker("default_kernel")
    )
    if not checked:
        return (yield)
    real = selector.active
    noting = _NotingKernel(real)
    selector.active = noting  # type: ignore[assignment]
    try:
        result = yield
    finally:
        selector.active = real
    if noting.used:
        pytest.fail(
            f"{item.nodeid} uses the default kernel without the default_kernel mark (or a kernel fixture): mark it, "
            "so that CI's pure-kernel pass runs it",
            pytrace=False,
        )
    return result
