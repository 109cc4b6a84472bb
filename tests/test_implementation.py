"""Which kernel is live: ACCESSTOKEN2_REQUIRE_C=1 makes a missing C core a failure (for CI)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from vector_data import load_vectors

import accesstoken2

PACKAGE_ROOT = str(Path(accesstoken2.__file__).parents[1])


def implementation_in_subprocess(**env: str) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "ACCESSTOKEN2_NO_EXTENSIONS"}
    environment.update(env, PYTHONPATH=PACKAGE_ROOT)
    result = subprocess.run(
        [sys.executable, "-c", "import accesstoken2; print(accesstoken2.IMPLEMENTATION)"],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.default_kernel
def test_c_core_present_when_required() -> None:
    if os.environ.get("ACCESSTOKEN2_REQUIRE_C") != "1":
        pytest.skip("set ACCESSTOKEN2_REQUIRE_C=1 to require the compiled C core")
    module = importlib.import_module("accesstoken2._wire._kernel_cy")
    assert accesstoken2.IMPLEMENTATION == "c", "ACCESSTOKEN2_REQUIRE_C=1 but the pure-Python kernel is live"
    assert implementation_in_subprocess() == "c"
    # and the compiled module works: it gives a published vector's bytes with its own encoder
    (vector,) = [v for v in load_vectors("token007") if v["id"] == "python3/AccessToken2Test/test_service_chat_user"]
    (service,) = vector["services"]
    args = (vector["app_id"], vector["app_certificate"], vector["issue_ts"], vector["expire"], vector["salt"])
    privileges = {int(key): value for key, value in service["privileges"].items()}
    assert module.build007(*args, [(service["type"], privileges, (service["user_id"],))]) == vector["token"]


def test_no_extensions_forces_python() -> None:
    assert implementation_in_subprocess(ACCESSTOKEN2_NO_EXTENSIONS="1") == "python"


def test_no_extensions_zero_means_default() -> None:
    # the extension, not the kernel source of the same name (which always imports)
    spec = importlib.util.find_spec("accesstoken2._wire._kernel_cy")
    compiled = spec is not None and spec.origin is not None and not spec.origin.endswith(".py")
    assert implementation_in_subprocess(ACCESSTOKEN2_NO_EXTENSIONS="0") == ("c" if compiled else "python")


@pytest.mark.default_kernel
def test_implementation_names_the_live_kernel() -> None:
    from accesstoken2._wire import kernel

    expected = "c" if kernel.active.__name__ == "accesstoken2._wire._kernel_cy" else "python"  # type: ignore[attr-defined]
    assert accesstoken2.IMPLEMENTATION == expected == kernel.IMPLEMENTATION


def test_implementation_follows_the_selector(implementation: str) -> None:
    # the fixture switches the selector; the package, the selector and the kernel all say which one is live
    from accesstoken2._wire import kernel

    assert accesstoken2.IMPLEMENTATION == kernel.IMPLEMENTATION == kernel.active.IMPLEMENTATION == implementation
