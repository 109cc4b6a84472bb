"""Build script for the compiled form of the kernel, ``accesstoken2._wire._kernel_cy``.

Project metadata lives in pyproject.toml.  The kernel is one Python module in Cython's pure-Python mode,
``accesstoken2/_wire/_kernel_cy.py``: with Cython installed it is compiled (``_ccore.pxd`` declares the C core
of ``src_c/``, linked into the same extension), else the generated ``accesstoken2/_wire/_kernel_cy.c`` that the
sdist carries is.  Set ``ACCESSTOKEN2_NO_EXTENSIONS=1`` to skip it: the same module then runs as plain Python.
When there is no toolchain to compile it (no compiler, no Python headers: a probe that includes them fails) the
package still installs, as pure Python, and says so.  Any other build error fails the install, and so does a
missing toolchain when ``ACCESSTOKEN2_REQUIRE_C=1`` is set or under cibuildwheel (``CIBUILDWHEEL=1``).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

HERE = Path(__file__).resolve().parent
C_SOURCES = [
    "src_c/sha256.c",
    "src_c/base64.c",
    "src_c/crc32.c",
    "src_c/inflate.c",
    "src_c/threads.c",
    "src_c/token_core.c",
    "src_c/batch.c",
    "src_c/deflate.c",
    "src_c/deflate_floor.c",
]
FALLBACK_NOTICE = """
************************************************************************************
accesstoken2: the compiled kernel (accesstoken2._wire._kernel_cy) could not be built:
    {reason}
Installing the pure-Python implementation instead: everything works, only slower.
(accesstoken2.IMPLEMENTATION will be "python".)  To get the C core, install a C
compiler and the Python development headers, then reinstall.
************************************************************************************
"""


def extensions_disabled() -> bool:
    return os.environ.get("ACCESSTOKEN2_NO_EXTENSIONS", "") not in ("", "0")


def kernel_extension() -> list[Any]:
    have_cython = importlib.util.find_spec("Cython") is not None
    if not have_cython and not (HERE / "accesstoken2" / "_wire" / "_kernel_cy.c").exists():
        print(FALLBACK_NOTICE.format(reason="Cython is not installed and accesstoken2/_wire/_kernel_cy.c is missing"))
        return []
    main_source = "accesstoken2/_wire/_kernel_cy.py" if have_cython else "accesstoken2/_wire/_kernel_cy.c"
    extension = Extension(
        "accesstoken2._wire._kernel_cy",
        sources=[main_source, *C_SOURCES],
        include_dirs=["src_c"],
    )
    if not have_cython:
        return [extension]
    from Cython.Build import cythonize

    return list(cythonize([extension], language_level=3, compiler_directives={"embedsignature": True}))


# What a missing toolchain raises: no compiler executable (ExecError, or OSError from spawning it),
# a platform without a C compiler setup (PlatformError), or a failed compile of the probe (CCompilerError).
NO_TOOLCHAIN = (CCompilerError, ExecError, PlatformError, OSError)
PROBE = "#include <Python.h>\nint accesstoken2_probe(void) { return (int)Py_IsInitialized(); }\n"


def c_core_required(environ: Mapping[str, str] = os.environ) -> bool:
    """True when a missing toolchain must fail the build instead of installing pure Python."""
    required = environ.get("ACCESSTOKEN2_REQUIRE_C", "") not in ("", "0")
    return required or environ.get("CIBUILDWHEEL", "") == "1"


def fallback_decision(toolchain_problem: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """``"build"`` (errors fail the install), ``"pure"`` (install without the C core) or ``"fail"``."""
    if toolchain_problem is None:
        return "build"
    return "fail" if c_core_required(environ) else "pure"


class OptionalBuildExt(build_ext):
    """build_ext that installs pure Python when, and only when, there is no toolchain for the C core."""

    def run(self) -> None:
        try:
            super().run()
        except PlatformError as error:  # raised before any compile: no C compiler set up for this platform
            self._no_toolchain(f"{type(error).__name__}: {error}")

    def build_extension(self, ext: Any) -> None:
        problem = self.toolchain_problem(ext)
        if problem is None:
            super().build_extension(ext)  # the toolchain works: any error here is real and fails the build
        else:
            self._no_toolchain(problem)

    def toolchain_problem(self, ext: Any) -> str | None:
        """Why the compiler cannot build a probe with the Python headers, or None if it can."""
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "probe.c"
            source.write_text(PROBE, encoding="ascii")
            try:
                self.compiler.compile(
                    [str(source)], output_dir=folder, include_dirs=list(ext.include_dirs) + list(self.include_dirs)
                )
            except NO_TOOLCHAIN as error:
                return f"{type(error).__name__}: {error}"
        return None

    def _no_toolchain(self, problem: str) -> None:
        if fallback_decision(problem) == "fail":
            raise SystemExit(
                "accesstoken2: the C core is required (ACCESSTOKEN2_REQUIRE_C=1 or cibuildwheel) but there is no "
                f"toolchain to build it: {problem}"
            )
        print(FALLBACK_NOTICE.format(reason=problem))


setup(
    ext_modules=[] if extensions_disabled() else kernel_extension(),
    cmdclass={"build_ext": OptionalBuildExt},
)
