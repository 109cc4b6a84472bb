"""Our compressor against another canonical zlib build, loaded with ctypes: zlib 1.3.x as well as 1.2.x.

The C kernel's deflate must give the bytes of zlib's level 6 for zlib 1.2.x and 1.3.x alike, while the
interpreter links only one zlib (Debian 12: 1.2.13).  This script loads a second libz (by default the one
in the PyPI package cmeel-zlib, a CMake build of upstream zlib, 1.3.2 at the time of writing) and checks,
on the seeded inputs of deflate_longrun.py, that accesstoken2's active kernel compresses every input to
that library's compress2(level 6) bytes (window bits 15, memLevel 8, default strategy: what
zlib.compress(data, 6) calls).  It also checks the published vectors against that library, and counts
the inputs on which the interpreter's own zlib differs from it.  On a mismatch it writes the input to a
file and exits 1.

    pip install cmeel-zlib                          # benchmark-only (Python >= 3.10); or give --libz PATH
    python benchmarks/zlib_versions.py              # 200,000 inputs, seed 0
    python benchmarks/zlib_versions.py --inputs 1000000 --seed 3 --libz /path/to/libz.so.1.3.1
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import glob
import json
import os
import random
import sys
import time
import zlib
from collections import Counter
from pathlib import Path

from deflate_longrun import ROOT, next_input  # the same generators as the long run (benchmarks/ is sys.path[0])


class Libz:
    """compress2(level 6) of one libz shared library."""

    def __init__(self, path: str) -> None:
        # RTLD_DEEPBIND: compress2 must call this library's deflate, not that of a libz the process already
        # exports globally (interposition would compare the interpreter's zlib with itself)
        self.library = ctypes.CDLL(path, mode=os.RTLD_LOCAL | getattr(os, "RTLD_DEEPBIND", 0))
        self.library.zlibVersion.restype = ctypes.c_char_p
        self.library.compressBound.restype = ctypes.c_ulong
        self.library.compressBound.argtypes = [ctypes.c_ulong]
        self.library.compress2.restype = ctypes.c_int
        self.library.compress2.argtypes = [
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_ulong),
            ctypes.c_char_p,
            ctypes.c_ulong,
            ctypes.c_int,
        ]
        self.version: str = self.library.zlibVersion().decode("ascii")

    def compress(self, data: bytes) -> bytes:
        size = ctypes.c_ulong(self.library.compressBound(len(data)))
        out = ctypes.create_string_buffer(size.value)
        status = self.library.compress2(out, ctypes.byref(size), data, len(data), 6)
        if status != 0:
            raise RuntimeError(f"compress2 returned {status}")
        return out.raw[: size.value]


def find_cmeel_libz() -> str | None:
    """The shared libz of the cmeel-zlib package, wherever this interpreter's site-packages are."""
    for entry in sys.path:
        for pattern in ("cmeel.prefix/lib*/libz.so.1.*", "cmeel.prefix/lib*/libz.*.dylib"):
            found = sorted(glob.glob(os.path.join(entry, pattern)))
            if found:
                return found[-1]
    return None


def published_vectors_reproduce(libz: Libz) -> tuple[int, int]:
    """(reproduced, byte-exact vectors): each vector's content compressed by `libz` against its bytes."""
    vectors = json.loads((ROOT / "tests" / "vectors" / "token007.json").read_text("utf-8"))["vectors"]
    exact = [base64.b64decode(entry["token"][3:]) for entry in vectors if entry["byte_exact"]]
    return sum(libz.compress(zlib.decompress(body)) == body for body in exact), len(exact)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--libz", help="path of a libz shared library (default: the one of cmeel-zlib)")
    args = parser.parse_args()
    path = args.libz or find_cmeel_libz()
    if path is None:
        print("no libz to compare with: pip install cmeel-zlib, or give --libz PATH", file=sys.stderr)
        return 2
    import accesstoken2
    from accesstoken2._wire import kernel

    libz = Libz(path)
    print(f"libz {libz.version} from {path}")
    print(f"interpreter's zlib {zlib.ZLIB_RUNTIME_VERSION}; accesstoken2 kernel: {accesstoken2.IMPLEMENTATION}")
    reproduced, vectors = published_vectors_reproduce(libz)
    print(f"published byte-exact vectors reproduced by libz {libz.version}: {reproduced} of {vectors}")
    compress = kernel.active.compress
    rng = random.Random(args.seed)
    kinds: Counter[str] = Counter()
    interpreter_differs = 0
    start = time.perf_counter()
    for index in range(args.inputs):
        kind, data = next_input(rng)
        theirs = libz.compress(data)
        if compress(data) != theirs:
            failed = Path(f"zlib_versions_failure_{args.seed}_{index}.bin").resolve()
            failed.write_bytes(data)
            print(
                f"MISMATCH with libz {libz.version} at input {index} ({kind}, {len(data)} bytes): written to {failed}"
            )
            return 1
        interpreter_differs += zlib.compress(data, 6) != theirs
        kinds[kind] += 1
    elapsed = time.perf_counter() - start
    print(
        f"{args.inputs} inputs (seed {args.seed}) compressed by the {accesstoken2.IMPLEMENTATION} kernel byte for byte "
        f"like libz {libz.version} in {elapsed:.1f} s; the interpreter's zlib {zlib.ZLIB_RUNTIME_VERSION} differed "
        f"from it on {interpreter_differs}"
    )
    print("  kinds:", ", ".join(f"{name} {count}" for name, count in sorted(kinds.items())))
    return 0 if reproduced == vectors else 1


if __name__ == "__main__":
    sys.exit(main())
