"""The one place that chooses the kernel: the compiled ``_speedups`` or the pure ``_native``.

Setting ``ACCESSTOKEN2_NO_EXTENSIONS=1`` (any non-empty value other than ``0``) forces the
pure-Python kernel.  ``IMPLEMENTATION`` is ``"c"`` or ``"python"``.  The rest of the package
calls the kernel through this module's attributes (``_kernel.build007(...)``), never through
names copied at import time, so that the test suite can swap implementations.
"""

from __future__ import annotations

import os
from types import ModuleType

FUNCTIONS = ("hmac_sha256", "crc32", "build007", "build_many", "parse007", "verify007", "build006", "compress")

kernel: ModuleType


def extensions_disabled() -> bool:
    """True when ``ACCESSTOKEN2_NO_EXTENSIONS`` asks for the pure-Python kernel."""
    return os.environ.get("ACCESSTOKEN2_NO_EXTENSIONS", "") not in ("", "0")


if extensions_disabled():
    from . import _native as kernel

    IMPLEMENTATION = "python"
else:
    try:
        from . import _speedups as kernel  # type: ignore[attr-defined,no-redef,unused-ignore]

        IMPLEMENTATION = "c"
    except ImportError:
        from . import _native as kernel

        IMPLEMENTATION = "python"

hmac_sha256 = kernel.hmac_sha256
crc32 = kernel.crc32
build007 = kernel.build007
build_many = kernel.build_many
parse007 = kernel.parse007
verify007 = kernel.verify007
build006 = kernel.build006
compress = kernel.compress
