"""The compiled kernel's own deflate (src_c/deflate.c) against zlib.compress(data, 6).

The encoder must give exactly zlib 1.2.x/1.3.x's bytes at level 6 for every input up to
MAX_CONTENT bytes.  Where the interpreter's zlib is not canonical zlib (zlib-ng, Chromium's
fork), comparing bytes with it proves nothing: those tests then check the round trip only and
end as a skip saying why (report_round_trip_only), never as a quiet pass.  The published vectors are
canonical zlib output and are checked byte for byte whatever zlib the interpreter has.
benchmarks/deflate_longrun.py checks a million inputs; this file is the fast subset.
"""

from __future__ import annotations

import base64
import json
import random
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from kernel_strategies import build_args

from accesstoken2._wire import kernel as selector
from accesstoken2._wire.kernel import pure
from accesstoken2._wire.limits import MAX_CONTENT
from accesstoken2.errors import InvalidParameterError

VECTORS = [
    entry
    for entry in json.loads((Path(__file__).parent / "vectors" / "token007.json").read_text("utf-8"))["vectors"]
    if entry["byte_exact"]
]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _body(entry: dict[str, str]) -> bytes:
    return base64.b64decode(entry["token"][3:])


# the compiled kernel, when it is the one in use (not built, or ACCESSTOKEN2_NO_EXTENSIONS set: None)
SPEEDUPS = selector.kernels().get("c")
# canonical zlib reproduces every published vector; zlib-ng and Chromium's zlib do not
CANONICAL_ZLIB = all(zlib.compress(zlib.decompress(_body(entry)), 6) == _body(entry) for entry in VECTORS)
NOT_CANONICAL = (
    f"the interpreter's zlib ({zlib.ZLIB_RUNTIME_VERSION}) does not reproduce the published vectors, so it is not "
    "canonical zlib and its bytes prove nothing: only the round trip was checked"
)


def c_compress(data: bytes) -> bytes:
    if SPEEDUPS is None:
        pytest.skip("the C core (accesstoken2._wire._kernel_cy) is not compiled or is disabled")
    result: bytes = SPEEDUPS.compress(data)
    return result


# byte comparisons left out because zlib is not canonical, in the running test (see report_round_trip_only)
_LEFT_OUT = [0]


def same_bytes_as_zlib(ours: bytes, zlibs: bytes, what: str) -> None:
    """ours must equal zlib's bytes where zlib is canonical; elsewhere the comparison is counted as left out."""
    if CANONICAL_ZLIB:
        assert ours == zlibs, what
    else:
        _LEFT_OUT[0] += 1


@pytest.fixture(autouse=True)
def report_round_trip_only() -> Iterator[None]:
    """A test that left out a byte comparison (zlib not canonical) ends as a skip saying why, after every round
    trip it checked: never a quiet pass."""
    before = _LEFT_OUT[0]
    yield
    if _LEFT_OUT[0] != before:
        pytest.skip(NOT_CANONICAL)


def assert_like_zlib(data: bytes) -> None:
    """The C encoder's stream decodes to data, and equals zlib's level-6 bytes when zlib is canonical."""
    ours = c_compress(data)
    assert zlib.decompress(ours) == data
    same_bytes_as_zlib(ours, zlib.compress(data, 6), f"{len(data)}-byte input: {data[:40]!r}...")


def skip_unless_canonical() -> None:
    if not CANONICAL_ZLIB:
        pytest.skip(NOT_CANONICAL)


def token_content(args: tuple[Any, ...]) -> bytes:
    try:
        token = pure.build007(*args)
    except (TypeError, ValueError):  # odd values the strategy draws on purpose: no token, no content
        assume(False)
        raise
    return zlib.decompress(base64.b64decode(token[3:]))


# ---- the published vectors: byte for byte, whatever the interpreter's zlib ----


def test_published_vectors_are_reproduced_by_the_c_encoder() -> None:
    assert len(VECTORS) >= 10
    for entry in VECTORS:
        content = zlib.decompress(_body(entry))
        assert content.hex() == entry["payload_hex"]
        assert c_compress(content) == _body(entry), entry["id"]


def test_zlib_ng_differs_on_published_vectors_where_the_c_encoder_does_not() -> None:
    zlib_ng = pytest.importorskip("zlib_ng.zlib_ng", reason="the zlib-ng package (test extra) is not installed")
    contents = [(zlib.decompress(_body(entry)), _body(entry)) for entry in VECTORS]
    differing = [body for content, body in contents if zlib_ng.compress(content, 6) != body]
    # zlib-ng is a valid deflate, just not zlib's: its bytes differ on most vectors
    assert len(differing) >= len(VECTORS) // 2
    assert all(zlib_ng.decompress(body) == content for content, body in contents)
    assert [c_compress(content) for content, _ in contents] == [body for _, body in contents]


def test_canonical_zlib_is_detected_from_a_vector() -> None:
    content = zlib.decompress(_body(VECTORS[0]))
    assert CANONICAL_ZLIB == (zlib.compress(content, 6) == _body(VECTORS[0]))
    skip_unless_canonical()
    assert zlib.ZLIB_RUNTIME_VERSION.startswith("1.")


# ---- both kernels: same bytes, same refusal ----


@SETTINGS
@given(data=st.binary(max_size=400))
def test_kernels_compress_alike(kernel: ModuleType, data: bytes) -> None:
    ours = kernel.compress(data)
    assert zlib.decompress(ours) == data
    # the pure kernel is zlib.compress itself: its bytes match the C encoder's where zlib is canonical
    if SPEEDUPS is not None:
        same_bytes_as_zlib(SPEEDUPS.compress(data), pure.compress(data), f"{len(data)}-byte input")


@pytest.mark.parametrize("size", [MAX_CONTENT + 1, MAX_CONTENT + 4096])
def test_kernels_refuse_more_than_the_content_cap(kernel: ModuleType, size: int) -> None:
    with pytest.raises(InvalidParameterError, match=f"data is {size} bytes long; at most {MAX_CONTENT}") as caught:
        kernel.compress(bytes(size))
    assert caught.value.parameter == "data"


def test_kernels_take_exactly_the_content_cap(kernel: ModuleType) -> None:
    data = random.Random(7).randbytes(MAX_CONTENT)
    assert zlib.decompress(kernel.compress(data)) == data


@pytest.mark.parametrize("services_size", [MAX_CONTENT - 81, MAX_CONTENT - 80])
def test_kernels_build_tokens_up_to_the_content_cap(kernel: ModuleType, services_size: int) -> None:
    # 2 + 32 (signature) + 2 + 32 (app id) + 12 (times, salt): the services take the rest of the cap;
    # one RTC service: u16 count, u16 type, u16 privilege count, then the channel and an empty uid (2 + 2)
    rng = random.Random(services_size)
    channel = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(services_size - 10))
    args = ("a" * 32, "c" * 32, 1, 2, 3, [(1, {}, (channel, ""))])
    token = kernel.build007(*args)
    content = zlib.decompress(base64.b64decode(token[3:]))
    assert len(content) == services_size + 80
    assert channel.encode() in content
    same_bytes_as_zlib(token, pure.build007(*args), "the token of either kernel")


# ---- the C encoder against zlib: generated inputs ----


@pytest.mark.slow
@SETTINGS
@given(args=build_args())
def test_token_contents(args: tuple[Any, ...]) -> None:
    content = token_content(args)
    assert_like_zlib(content)
    # and the lower bound of the dynamic block (see "the shortcut" below), on the same contents
    c_audit(content)


@SETTINGS
@given(data=st.binary(max_size=2000))
def test_binary(data: bytes) -> None:
    assert_like_zlib(data)


@SETTINGS
@given(alphabet=st.binary(min_size=1, max_size=6), size=st.integers(0, 3000), seed=st.integers(0, 2**32))
def test_small_alphabets(alphabet: bytes, size: int, seed: int) -> None:
    # few distinct bytes: many matches, every length and most distance codes
    rng = random.Random(seed)
    assert_like_zlib(bytes(rng.choice(alphabet) for _ in range(size)))


@SETTINGS
@given(pieces=st.lists(st.tuples(st.binary(min_size=1, max_size=12), st.integers(1, 40)), max_size=30))
def test_repeated_pieces(pieces: list[tuple[bytes, int]]) -> None:
    assert_like_zlib(b"".join(piece * count for piece, count in pieces))


# ---- hostile inputs ----


def test_empty_and_one_byte() -> None:
    assert_like_zlib(b"")
    for value in range(256):
        assert_like_zlib(bytes([value]))


@pytest.mark.parametrize("size", [2, 3, 4, 5, 257, 258, 259, 260, 261, 262, 263, 1000, 40000, MAX_CONTENT])
def test_all_bytes_equal(size: int) -> None:
    assert_like_zlib(b"\0" * size)
    assert_like_zlib(b"\xa5" * size)


def test_all_bytes_distinct() -> None:
    rng = random.Random(1)
    for _ in range(20):
        order = list(range(256))
        rng.shuffle(order)
        assert_like_zlib(bytes(order))
    assert_like_zlib(bytes(range(256)))


@pytest.mark.parametrize("period", [1, 2, 3, 4, 7, 100, 257, 258, 259, 4095, 4097, 32506, 32507])
def test_periodic(period: int) -> None:
    rng = random.Random(period)
    unit = rng.randbytes(period)
    for size in (period * 3 + 1, 5000, 70000):
        assert_like_zlib((unit * (size // period + 1))[: min(size, MAX_CONTENT)])


def test_long_runs() -> None:
    rng = random.Random(2)
    for _ in range(30):
        data = b"".join(bytes([rng.randrange(4)]) * rng.choice((1, 2, 3, 300, 5000)) for _ in range(40))
        assert_like_zlib(data[:MAX_CONTENT])


def test_random() -> None:
    rng = random.Random(3)
    for _ in range(200):
        assert_like_zlib(rng.randbytes(rng.randrange(3000)))


def test_skewed_frequencies() -> None:
    # Fibonacci-like symbol counts make Huffman codes deeper than 15 (and 7) bits: the length limit repair runs
    rng = random.Random(4)
    counts = [1, 1]
    while len(counts) < 24:
        counts.append(counts[-1] + counts[-2])
    for limit in (2000, 16000, MAX_CONTENT):
        symbols = [symbol for symbol, count in enumerate(counts) for _ in range(min(count, limit))]
        rng.shuffle(symbols)
        assert_like_zlib(bytes(symbols[:MAX_CONTENT]))


def _kinds(rng: random.Random, size: int) -> list[bytes]:
    words = [rng.randbytes(rng.randrange(1, 9)) for _ in range(50)]
    text = b"".join(rng.choice(words) for _ in range(size // 2 + 1))[:size]
    return [
        rng.randbytes(size),
        text,
        bytes(rng.randrange(16) for _ in range(size)),
        (rng.randbytes(1000) * (size // 1000 + 1))[:size],
        bytes(size // 2) + rng.randbytes(size - size // 2),
    ]


# 32 KiB and one more (the window), 60 and 64 KiB; around 16383 symbols (a full block); around where zlib's
# window slides (65274: a block that began before 32 KiB can no longer be stored there)
LARGE_SIZES = [16382, 16383, 16384, 32768, 32769, 61440, 65273, 65274, 65275, 65400, MAX_CONTENT - 1, MAX_CONTENT]


@pytest.mark.parametrize("size", LARGE_SIZES)
def test_large_inputs(size: int) -> None:
    for data in _kinds(random.Random(size), size):
        assert len(data) == size
        assert_like_zlib(data)


def test_seeded_mixed_sizes() -> None:
    rng = random.Random(5)
    for _ in range(300):
        size = rng.choice((rng.randrange(64, 400), rng.randrange(400, 5000), rng.randrange(5000, MAX_CONTENT + 1)))
        if size > 5000 and rng.random() < 0.8:
            size = rng.randrange(64, 400)
        assert_like_zlib(rng.choice(_kinds(rng, size)))


def test_token_shaped_seeded() -> None:
    rng = random.Random(6)
    for _ in range(500):
        head = struct.pack("<H", 32) + rng.randbytes(32) + struct.pack("<H", 32)
        app_id = bytes(rng.choice(b"0123456789abcdef") for _ in range(32))
        tail = struct.pack("<III", rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(32))
        services = struct.pack("<HH", 1, rng.randrange(1, 11)) + rng.randbytes(rng.randrange(60))
        assert_like_zlib(head + app_id + tail + services)


# ---- the shortcut: a lower bound of the dynamic block's size decides without building codes ----
#
# src_c/deflate_floor.c bounds a block's size with dynamic codes from its frequencies alone, and deflate.c
# skips building the codes when the bound already says zlib would send fixed codes.  The bytes above prove
# the decisions on these inputs; deflate_audit proves the bound itself on every block, whether or not it
# decided: it builds every block's codes and counts the blocks whose bound was above their real size.


def c_audit(data: bytes) -> tuple[int, int, int]:
    if SPEEDUPS is None:
        pytest.skip("the C core (accesstoken2._wire._kernel_cy) is not compiled or is disabled")
    blocks, floor_above, decided = SPEEDUPS.deflate_audit(data)
    assert blocks >= 1
    assert floor_above == 0, f"{len(data)}-byte input: the bound exceeded a block's size: {data[:40]!r}..."
    return blocks, floor_above, decided


@SETTINGS
@given(data=st.binary(max_size=3000))
def test_floor_is_a_lower_bound_on_binary(data: bytes) -> None:
    c_audit(data)


@SETTINGS
@given(alphabet=st.binary(min_size=1, max_size=40), size=st.integers(0, 3000), seed=st.integers(0, 2**32))
def test_floor_is_a_lower_bound_on_small_alphabets(alphabet: bytes, size: int, seed: int) -> None:
    # few distinct bytes, unevenly drawn: ties between equal frequencies everywhere, runs of equal lengths
    rng = random.Random(seed)
    weights = [rng.random() ** 3 for _ in alphabet]
    c_audit(bytes(rng.choices(alphabet, weights, k=size)))


def test_floor_is_a_lower_bound_on_seeded_kinds() -> None:
    rng = random.Random(8)
    for size in (0, 1, 2, 3, 10, 100, 300, 1000, 5000, 16383, 40000, MAX_CONTENT):
        for data in _kinds(rng, size):
            c_audit(data)


def _token_contents(service: tuple[int, dict[int, int], tuple[str, ...]], count: int) -> list[bytes]:
    rng = random.Random(service[0])
    app_id = "970CA35de60c44645bbae8a215061b33"
    certificate = "5CFd2fd1755d40ecb72977518be15d3b"
    return [
        zlib.decompress(base64.b64decode(pure.build007(app_id, certificate, 1_700_000_000 + rng.randrange(10**6), 600,
                                                       rng.randrange(1, 2**32), [service])[3:]))
        for _ in range(count)
    ]


@pytest.mark.parametrize(
    ("service", "share"),
    [
        # RTC publisher: the bound decides about 96% of these blocks, Chat user: all (see benchmarks/README.md)
        ((1, {1: 600, 2: 600, 3: 600, 4: 600}, ("7d72365eb983485397e3e3f9d460bdda", "2882341273")), 0.85),
        ((5, {1: 600}, ("user-12345",)), 0.95),
    ],
)
def test_floor_decides_most_token_blocks(service: tuple[int, dict[int, int], tuple[str, ...]], share: float) -> None:
    decided = blocks = 0
    for content in _token_contents(service, 300):
        audit = c_audit(content)
        blocks += audit[0]
        decided += audit[2]
    assert blocks == 300  # one block each
    assert decided >= share * blocks, f"the bound decided {decided} of {blocks} token blocks"
