"""The compiled C core links no zlib: its own inflate and CRC-32 (src_c/inflate.c, src_c/crc32.c) replace it.

Read from the built extension itself: no dynamic dependency on libz (readelf -d), no undefined zlib symbol
(nm -D).  Linux ELF only; elsewhere, and on the pure-Python kernel, there is nothing to read.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

# the functions of zlib's API that a C core could have used
ZLIB_FUNCTIONS = re.compile(
    r"^(inflate\w*|deflate\w*|crc32\w*|adler32\w*|compress\w*|uncompress\w*|zlibVersion|zError|get_crc_table)$"
)


@pytest.fixture(scope="module")
def extension() -> str:
    speedups = pytest.importorskip("accesstoken2._wire._kernel_cy", reason="the C core is not built")
    path = str(speedups.__file__)
    if not sys.platform.startswith("linux") or not path.endswith(".so"):
        pytest.skip("an ELF shared object is read on Linux only")
    return path


@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs readelf (binutils)")
def test_the_extension_needs_no_zlib_library(extension: str) -> None:
    dynamic = subprocess.run(["readelf", "-d", extension], capture_output=True, text=True, check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
    assert needed, "readelf listed no NEEDED entry: not the output this test reads"
    assert not [name for name in needed if name.startswith("libz")], needed


@pytest.mark.skipif(shutil.which("nm") is None, reason="needs nm (binutils)")
def test_the_extension_imports_no_zlib_symbol(extension: str) -> None:
    undefined = subprocess.run(
        ["nm", "-D", "--undefined-only", extension], capture_output=True, text=True, check=True
    ).stdout
    names = [line.split()[-1].split("@")[0] for line in undefined.splitlines() if line.strip()]
    assert "malloc" in names, "nm listed no malloc import: not the output this test reads"
    assert [name for name in names if ZLIB_FUNCTIONS.match(name)] == []
