"""Our inflate (src_c/inflate.c) against zlib's on millions of streams: see inflate_differential.c.

Compiles benchmarks/inflate_differential.c with ``cc -O2`` against src_c/inflate.c (and the encoder, for
some of its valid streams) and the system's zlib, and runs it.  On every valid stream both must give back
the data that went in; on every corrupt or truncated one both must stop the same way (stream end, data
error, input wanted or output full) after writing the same bytes.  Exits 1 on the first disagreement,
after printing the stream.  The C kernel's decoder is what parse() and verify() use, so this is the check
that it accepts exactly the token bodies zlib accepts.

    python benchmarks/inflate_differential.py                          # 1,000,000 of each, seed 0
    python benchmarks/inflate_differential.py --valid 20000 --corrupt 20000 --seed 7
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["inflate.c", "threads.c", "deflate.c", "deflate_floor.c"]


def stream_count(text: str) -> int:
    """A count of streams: 0 to 100,000,000."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= count <= 100_000_000:
        raise argparse.ArgumentTypeError(f"{count} is out of range: 0 to 100,000,000 streams")
    return count


def build(cc: str, binary: Path) -> None:
    """Compiles the driver against our inflate and the system zlib."""
    subprocess.run(
        [
            cc,
            "-O2",
            f"-I{ROOT / 'src_c'}",
            str(ROOT / "benchmarks" / "inflate_differential.c"),
            *(str(ROOT / "src_c" / name) for name in SOURCES),
            "-o",
            str(binary),
            "-lz",
            "-lpthread",
        ],
        check=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--valid", type=stream_count, default=1_000_000, help="valid streams (default 1,000,000)")
    parser.add_argument("--corrupt", type=stream_count, default=1_000_000, help="corrupt streams (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cc", default=os.environ.get("CC", "cc"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        binary = Path(work) / "inflate_differential"
        build(args.cc, binary)
        started = time.monotonic()
        code = subprocess.run([str(binary), str(args.valid), str(args.corrupt), str(args.seed)], check=False).returncode
        print(f"inflate differential: {time.monotonic() - started:.1f} s")
        return code


if __name__ == "__main__":
    sys.exit(main())
