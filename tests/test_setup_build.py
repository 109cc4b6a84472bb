"""setup.py: a missing toolchain installs pure Python; a broken C source, or ACCESSTOKEN2_REQUIRE_C=1
or cibuildwheel without a toolchain, fails the build.  The decision is tested here without compiling."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

# what pyproject.toml's build-system requires, and so what setup.py is written against
setuptools = pytest.importorskip("setuptools", minversion="77")

SETUP = Path(__file__).resolve().parent.parent / "setup.py"
pytestmark = pytest.mark.skipif(not SETUP.exists(), reason="needs the source tree (setup.py)")


@pytest.fixture
def setup_module(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """setup.py's functions, loaded without running setup() or Cython."""
    monkeypatch.setenv("ACCESSTOKEN2_NO_EXTENSIONS", "1")
    monkeypatch.setattr(setuptools, "setup", lambda **kwargs: None)
    return runpy.run_path(str(SETUP), run_name="setup_under_test")


@pytest.mark.parametrize(
    ("problem", "environ", "decision"),
    [
        (None, {}, "build"),
        (None, {"ACCESSTOKEN2_REQUIRE_C": "1"}, "build"),
        ("ExecError: command 'gcc' failed: No such file or directory", {}, "pure"),
        ("CompileError: Python.h: No such file or directory", {"ACCESSTOKEN2_REQUIRE_C": "0"}, "pure"),
        ("CompileError: Python.h: No such file or directory", {"ACCESSTOKEN2_REQUIRE_C": "1"}, "fail"),
        ("PlatformError: no compiler", {"CIBUILDWHEEL": "1"}, "fail"),
    ],
)
def test_fallback_decision(
    setup_module: dict[str, Any], problem: str | None, environ: dict[str, str], decision: str
) -> None:
    assert setup_module["fallback_decision"](problem, environ) == decision


class FakeCompiler:
    def __init__(self, error: Exception | None) -> None:
        self.error = error
        self.sources: list[str] = []

    def compile(self, sources: list[str], **kwargs: Any) -> list[str]:
        self.sources.extend(Path(source).read_text() for source in sources)
        if self.error is not None:
            raise self.error
        return []


def make_command(setup_module: dict[str, Any], error: Exception | None) -> Any:
    command = setup_module["OptionalBuildExt"].__new__(setup_module["OptionalBuildExt"])
    command.compiler = FakeCompiler(error)
    command.include_dirs = ["/python/include"]
    return command


def test_probe_includes_python_and_not_zlib(setup_module: dict[str, Any]) -> None:
    """The C core needs the Python headers only: no zlib headers (it has its own inflate and CRC-32)."""
    command = make_command(setup_module, None)
    assert command.toolchain_problem(SimpleNamespace(include_dirs=["src_c"])) is None
    (probe,) = command.compiler.sources
    assert "#include <Python.h>" in probe and "zlib" not in probe


def test_missing_toolchain_installs_pure_python(
    setup_module: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ACCESSTOKEN2_REQUIRE_C", raising=False)
    monkeypatch.delenv("CIBUILDWHEEL", raising=False)
    from setuptools.errors import CompileError

    command = make_command(setup_module, CompileError("command 'gcc' failed: No such file or directory"))
    command.build_extension(SimpleNamespace(include_dirs=["src_c"], name="accesstoken2._wire._kernel_cy"))
    assert "Installing the pure-Python implementation instead" in capsys.readouterr().out


@pytest.mark.parametrize("variable", ["ACCESSTOKEN2_REQUIRE_C", "CIBUILDWHEEL"])
def test_missing_toolchain_fails_when_the_c_core_is_required(
    setup_module: dict[str, Any], monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "1")
    from setuptools.errors import ExecError

    command = make_command(setup_module, ExecError("command 'cc' failed: No such file or directory"))
    with pytest.raises(SystemExit, match="the C core is required"):
        command.build_extension(SimpleNamespace(include_dirs=["src_c"], name="accesstoken2._wire._kernel_cy"))


def test_a_broken_source_fails_the_build(setup_module: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The toolchain works (the probe compiles), so the real compile error propagates."""
    from setuptools.command.build_ext import build_ext
    from setuptools.errors import CompileError

    def broken(self: Any, ext: Any) -> None:
        raise CompileError("src_c/token_core.c:1: error: expected ';' before '}' token")

    monkeypatch.setattr(build_ext, "build_extension", broken)
    command = make_command(setup_module, None)
    with pytest.raises(CompileError, match="expected ';'"):
        command.build_extension(SimpleNamespace(include_dirs=["src_c"], name="accesstoken2._wire._kernel_cy"))
