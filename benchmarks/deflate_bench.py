"""Our deflate (src_c/deflate.c) against zlib's, in C, on real token contents: see deflate_bench.c.

Builds three kinds of content with the library (a Chat user token's, 104 bytes, an RTC publisher token's,
156 bytes, and an RTC + Chat token's of 1 KiB), 1,000 of each that differ in salt and signature as real
tokens do, compiles benchmarks/deflate_bench.c with ``cc -O2`` against src_c/deflate.c, src_c/deflate_floor.c
and -lz, and runs it: median CPU nanoseconds per call of each way, and zlib's time over ours.  Each way compresses the
contents of a kind in turn: one content compressed again and again lets the CPU's branch predictor learn
its path through Huffman code building, which hides most of that work's cost (``--contents 1`` shows it).

    python benchmarks/deflate_bench.py                 # 31 rounds of 5,000 calls per way and kind
    python benchmarks/deflate_bench.py --rounds 5 --calls 2000
    python benchmarks/deflate_bench.py --contents 1    # one content per kind, repeated
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "970CA35de60c44645bbae8a215061b33"
CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
RTC_CHANNEL = "7d72365eb983485397e3e3f9d460bdda"


def token_content(token: str) -> bytes:
    return zlib.decompress(base64.b64decode(token[3:]))


def contents(salt: int) -> dict[str, bytes]:
    """name -> content of a real token: 104 bytes (Chat user), 156 (RTC publisher), exactly 1024 (RTC + Chat).
    The salt (and with it the signature) is what differs between two tokens of one user."""
    sys.path.insert(0, str(ROOT))
    from accesstoken2 import AccessToken2
    from accesstoken2.services import ServiceChat, ServiceRtc

    # what ChatTokenBuilder.build_user_token(APP_ID, CERTIFICATE, "user-12345", 600) builds, with a fixed
    # issue time and the given salt, so that every run compresses the same bytes
    token = AccessToken2(APP_ID, CERTIFICATE, 1_700_000_000, 600, salt=salt)
    service = ServiceChat("user-12345")
    service.add_privilege(ServiceChat.kPrivilegeUser, 600)
    token.add_service(service)
    chat = token_content(token.build())

    def rtc_chat(channel_size: int) -> bytes:
        token = AccessToken2(APP_ID, CERTIFICATE, 1_700_000_000, 600, salt=salt)
        rtc = ServiceRtc("".join(f"room-{i}-" for i in range(channel_size))[:channel_size], 2882341273)
        for privilege in (1, 2, 3, 4):
            rtc.add_privilege(privilege, 600)
        chat_service = ServiceChat("user-12345")
        chat_service.add_privilege(ServiceChat.kPrivilegeUser, 600)
        token.add_service(rtc)
        token.add_service(chat_service)
        return token_content(token.build())

    # what RtcTokenBuilder.build_token_with_uid(APP_ID, CERTIFICATE, RTC_CHANNEL, 2882341273, Role_Publisher,
    # 600, 600) builds: four privileges of 600 s, whose repeated records once made our deflate slow
    token = AccessToken2(APP_ID, CERTIFICATE, 1_700_000_000, 600, salt=salt)
    rtc = ServiceRtc(RTC_CHANNEL, 2882341273)
    for privilege in (1, 2, 3, 4):
        rtc.add_privilege(privilege, 600)
    token.add_service(rtc)
    publisher = token_content(token.build())

    size = len(rtc_chat(0))
    kib = rtc_chat(1024 - size)
    assert (len(chat), len(publisher), len(kib)) == (104, 156, 1024), (len(chat), len(publisher), len(kib))
    return {"chat_user_104": chat, "rtc_publisher_156": publisher, "rtc_chat_1024": kib}


def content_sets(count: int) -> dict[str, list[bytes]]:
    """name -> `count` contents of that kind, with salts 12345, then from a seeded generator (the same every run)."""
    rng = random.Random(20261201)
    salts = [12345] + [rng.randrange(1, 100_000_000) for _ in range(count - 1)]
    sets: dict[str, list[bytes]] = {}
    for salt in salts:
        for name, content in contents(salt).items():
            sets.setdefault(name, []).append(content)
    return sets


# deflate_bench.c reads at most this many contents from a file
CONTENT_LIMIT = 100_000


def content_count(text: str) -> int:
    """--contents: 1 to CONTENT_LIMIT."""
    count = int(text)
    if not 1 <= count <= CONTENT_LIMIT:
        raise argparse.ArgumentTypeError(f"{count} contents: give 1 to {CONTENT_LIMIT:,}")
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument(
        "--contents",
        type=content_count,
        default=1000,
        help="different contents of each kind (salts differ), compressed in turn; 1 repeats a single content",
    )
    parser.add_argument("--cc", default=os.environ.get("CC", "cc"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        binary = Path(work) / "deflate_bench"
        subprocess.run(
            [
                args.cc,
                "-O2",
                f"-I{ROOT / 'src_c'}",
                str(ROOT / "benchmarks" / "deflate_bench.c"),
                str(ROOT / "src_c" / "deflate.c"),
                str(ROOT / "src_c" / "deflate_floor.c"),
                str(ROOT / "src_c" / "threads.c"),
                "-o",
                str(binary),
                "-lz",
                "-lpthread",
            ],
            check=True,
        )
        files = []
        for name, variants in content_sets(args.contents).items():
            path = Path(work) / name
            path.write_bytes(b"".join(struct.pack("<I", len(content)) + content for content in variants))
            files.append(str(path))
        return subprocess.run([str(binary), str(args.rounds), str(args.calls), *files], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
