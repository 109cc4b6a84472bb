"""Long run of the C kernel's deflate against zlib.compress(data, 6): a million inputs by default.

Mostly token-sized contents (real token layouts and hostile bytes, 0-600 bytes), some up to 4 KiB and
a few up to the 64 KiB content cap, of many kinds (random, few distinct bytes, runs, periodic, text-like,
token-shaped).  Every output must equal zlib's bytes; where the interpreter's zlib is not canonical
(it does not reproduce a published vector) the run checks the round trip only and says so.  Every input
is also audited (deflate_audit): each block's dynamic codes are built and their size compared with the
lower bound src_c/deflate_floor.c gives, which must never be above it, whether or not it decided the
block.  On a mismatch or a bound above a block's size it writes the input to a file and exits 1.
tests/test_deflate.py is the fast subset.

    python benchmarks/deflate_longrun.py                  # 1,000,000 inputs, seed 0
    python benchmarks/deflate_longrun.py --inputs 20000 --seed 7
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import struct
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEX = b"0123456789abcdef"
MAX_CONTENT = 65536


def canonical_zlib() -> bool:
    """True when zlib.compress reproduces every byte-exact published vector."""
    vectors = json.loads((ROOT / "tests" / "vectors" / "token007.json").read_text("utf-8"))["vectors"]
    for entry in vectors:
        if entry["byte_exact"]:
            body = base64.b64decode(entry["token"][3:])
            if zlib.compress(zlib.decompress(body), 6) != body:
                return False
    return True


def token_content(rng: random.Random) -> bytes:
    """The layout of a 007 content: signature, app id, times, salt, then 1-4 services with privileges."""
    parts = [struct.pack("<H", 32), rng.randbytes(32), struct.pack("<H", 32)]
    parts.append(bytes(rng.choice(HEX) for _ in range(32)))
    parts.append(struct.pack("<III", rng.getrandbits(32), rng.randrange(0, 86401), rng.getrandbits(32)))
    services = rng.randrange(1, 5)
    parts.append(struct.pack("<H", services))
    for service_type in sorted(rng.sample(range(1, 11), services)):
        privileges = rng.randrange(1, 5)
        parts.append(struct.pack("<HH", service_type, privileges))
        for key in sorted(rng.sample(range(1, 6), privileges)):
            parts.append(struct.pack("<HI", key, rng.choice((0, 600, 3600, 86400, rng.getrandbits(32)))))
        for _ in range(rng.randrange(0, 3)):
            text = rng.choice((b"user-", b"channel-", b"room-", b"")) + str(rng.getrandbits(32)).encode()
            parts.append(struct.pack("<H", len(text)) + text)
    return b"".join(parts)


def few_bytes(rng: random.Random, size: int) -> bytes:
    alphabet = rng.randbytes(rng.randrange(1, 8))
    return bytes(rng.choices(alphabet, k=size))


def runs(rng: random.Random, size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        out += bytes([rng.randrange(256)]) * rng.choice((1, 2, 3, 4, rng.randrange(1, 300)))
    return bytes(out[:size])


def periodic(rng: random.Random, size: int) -> bytes:
    unit = rng.randbytes(rng.choice((1, 2, 3, rng.randrange(1, 64), rng.randrange(1, 5000))))
    return (unit * (size // len(unit) + 1))[:size]


def text_like(rng: random.Random, size: int) -> bytes:
    words = [bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=rng.randrange(1, 9))) for _ in range(40)]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + b" "
    return bytes(out[:size])


def mutated_token(rng: random.Random, size: int) -> bytes:
    data = bytearray((token_content(rng) * (size // 100 + 1))[:size])
    for _ in range(rng.randrange(0, 8)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


KINDS: dict[str, Callable[[random.Random, int], bytes]] = {
    "random": lambda rng, size: rng.randbytes(size),
    "few_bytes": few_bytes,
    "runs": runs,
    "periodic": periodic,
    "text": text_like,
    "token_repeated": mutated_token,
}


def next_input(rng: random.Random) -> tuple[str, bytes]:
    roll = rng.random()
    if roll < 0.5:
        return "token", token_content(rng)
    if roll < 0.97:
        size = rng.randrange(0, 600)
    elif roll < 0.997:
        size = rng.randrange(600, 4097)
    else:
        size = rng.choice((rng.randrange(4097, MAX_CONTENT + 1), rng.randrange(MAX_CONTENT - 400, MAX_CONTENT + 1)))
    kind = rng.choice(list(KINDS))
    return kind, KINDS[kind](rng, size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    try:
        from accesstoken2._wire._kernel_cy import (  # type: ignore[attr-defined,unused-ignore]
            compress,
            deflate_audit,
        )
    except ImportError:
        print("the C core (accesstoken2._wire._kernel_cy) is not built: nothing to check", file=sys.stderr)
        return 2
    canonical = canonical_zlib()
    if not canonical:
        print(f"zlib {zlib.ZLIB_RUNTIME_VERSION} is not canonical zlib (a published vector does not reproduce):")
        print("checking the round trip only")
    rng = random.Random(args.seed)
    kinds: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    total_bytes = blocks = decided = 0
    start = time.perf_counter()
    for index in range(args.inputs):
        kind, data = next_input(rng)
        ours = compress(data)
        audit = deflate_audit(data)
        wrong = (canonical and ours != zlib.compress(data, 6)) or zlib.decompress(ours) != data
        if wrong or audit[1] != 0:
            failed = Path(f"deflate_longrun_failure_{args.seed}_{index}.bin").resolve()
            failed.write_bytes(data)
            what = "MISMATCH" if wrong else f"BOUND ABOVE THE SIZE of {audit[1]} of {audit[0]} blocks"
            print(f"{what} at input {index} ({kind}, {len(data)} bytes): written to {failed}")
            return 1
        blocks += audit[0]
        decided += audit[2]
        kinds[kind] += 1
        sizes["0-599" if len(data) < 600 else "600-4096" if len(data) <= 4096 else "4097-65536"] += 1
        total_bytes += len(data)
    elapsed = time.perf_counter() - start
    what = "byte for byte like zlib.compress(data, 6)" if canonical else "round trip only"
    print(f"{args.inputs} inputs ({total_bytes / 1e6:.1f} MB) checked {what} in {elapsed:.1f} s (seed {args.seed})")
    print("  kinds:", ", ".join(f"{name} {count}" for name, count in sorted(kinds.items())))
    print("  sizes:", ", ".join(f"{name} bytes: {count}" for name, count in sorted(sizes.items())))
    print(f"  the lower bound was below or at the size of all {blocks} blocks, and decided {decided} of them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
