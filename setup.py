"""Build script for the optional C core ``accesstoken2._speedups``.

Project metadata lives in pyproject.toml.  The extension is built from ``src_c/_speedups.pyx`` when
Cython is installed, else from the generated ``src_c/_speedups.c`` that the sdist carries.  Set
``ACCESSTOKEN2_NO_EXTENSIONS=1`` to skip it.  When it cannot be compiled (no compiler, no Python or
zlib headers) the package still installs, as pure Python, and says so.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
C_SOURCES = ["src_c/sha256.c", "src_c/base64.c", "src_c/token_core.c", "src_c/batch.c", "src_c/deflate.c"]
FALLBACK_NOTICE = """
************************************************************************************
accesstoken2: the C core (accesstoken2._speedups) could not be built:
    {reason}
Installing the pure-Python implementation instead: everything works, only slower.
(accesstoken2.IMPLEMENTATION will be "python".)  To get the C core, install a C
compiler, the Python development headers and the zlib headers, then reinstall.
************************************************************************************
"""


def extensions_disabled() -> bool:
    return os.environ.get("ACCESSTOKEN2_NO_EXTENSIONS", "") not in ("", "0")


def speedups_extension() -> list[Any]:
    have_cython = importlib.util.find_spec("Cython") is not None
    if not have_cython and not (HERE / "src_c" / "_speedups.c").exists():
        print(FALLBACK_NOTICE.format(reason="Cython is not installed and src_c/_speedups.c is missing"))
        return []
    main_source = "src_c/_speedups.pyx" if have_cython else "src_c/_speedups.c"
    extension = Extension(
        "accesstoken2._speedups",
        sources=[main_source, *C_SOURCES],
        include_dirs=["src_c"],
        libraries=["z"],
    )
    if not have_cython:
        return [extension]
    from Cython.Build import cythonize

    return list(cythonize([extension], language_level=3, compiler_directives={"embedsignature": True}))


class OptionalBuildExt(build_ext):
    """build_ext that turns a failed compile into a pure-Python install."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # any failure (no compiler, no headers) means: install pure Python
            print(FALLBACK_NOTICE.format(reason=f"{type(error).__name__}: {error}"))

    def build_extension(self, ext: Any) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:
            print(FALLBACK_NOTICE.format(reason=f"{type(error).__name__}: {error}"))


setup(
    ext_modules=[] if extensions_disabled() else speedups_extension(),
    cmdclass={"build_ext": OptionalBuildExt},
)
