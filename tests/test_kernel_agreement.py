"""The compiled kernel and the pure-Python kernel agree byte for byte, and parsing never crashes.

Each test compares the two kernels directly, so this module replaces the autouse ``implementation``
fixture of conftest with one that runs each test once, and skips it when the C core is not compiled.
"""

from __future__ import annotations

import base64
import random
import struct
import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import c_kernel_fixtures
import pytest
from conftest import load_vectors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kernel_strategies import U32, build_args, hex32

from accesstoken2 import _native
from accesstoken2._layout import MAX_CONTENT
from accesstoken2.errors import MalformedTokenError

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)

# run each test once, on the compiled kernel (skipped without it)
implementation = c_kernel_fixtures.implementation
speedups = c_kernel_fixtures.speedups


def outcome(function: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """("ok", result) or ("malformed", message); any other exception propagates and fails the test."""
    try:
        return ("ok", function(*args))
    except MalformedTokenError as error:
        return ("malformed", str(error))


def assert_same_parse(speedups: ModuleType, token: str) -> tuple[str, Any]:
    expected = outcome(_native.parse007, token)
    assert outcome(speedups.parse007, token) == expected
    return expected


def token_of(raw: bytes) -> str:
    return "007" + base64.b64encode(raw).decode("ascii")


@SETTINGS
@given(args=build_args())
def test_build007_agrees(speedups: ModuleType, args: tuple[bytes, bytes, int, int, int, bytes]) -> None:
    token = speedups.build007(*args)
    assert token == _native.build007(*args)
    assert token.startswith("007")


@SETTINGS
@given(args=build_args())
def test_built_tokens_parse_and_verify_alike(
    speedups: ModuleType, args: tuple[bytes, bytes, int, int, int, bytes]
) -> None:
    token = _native.build007(*args)
    kind, parsed = assert_same_parse(speedups, token)
    if kind == "ok":
        signature, signing_info, _app_id, issue_ts, _expire, salt, _services, _unknown = parsed
        for certificate in (args[1], b"0" * 32):
            expected = _native.verify007(signature, signing_info, certificate, issue_ts, salt)
            assert speedups.verify007(signature, signing_info, certificate, issue_ts, salt) is expected
        assert speedups.verify007(signature, signing_info, args[1], issue_ts, salt) is True


@st.composite
def mutated_tokens(draw: st.DrawFn) -> str:
    """A built token damaged at one of its layers: the text, the zlib stream or the content."""
    args = draw(build_args())
    token = _native.build007(*args)
    content = zlib.decompress(base64.b64decode(token[3:]))
    layer = draw(st.sampled_from(["text", "stream", "content", "content-tail"]))
    if layer == "text":
        position = draw(st.integers(0, len(token) - 1))
        replacement = draw(st.text(alphabet="AZaz09+/=\u00e9-_ ", max_size=3))
        return token[:position] + replacement + token[position + draw(st.integers(0, 3)) :]
    if layer == "stream":
        raw = base64.b64decode(token[3:])
        cut = draw(st.integers(0, len(raw)))
        return token_of(raw[:cut] + draw(st.binary(max_size=4)) + raw[cut + draw(st.integers(0, 2)) :])
    if layer == "content":
        position = draw(st.integers(0, len(content)))
        damaged = content[:position] + draw(st.binary(max_size=3)) + content[position + draw(st.integers(0, 3)) :]
    else:
        damaged = content[: draw(st.integers(0, len(content)))] + draw(st.binary(max_size=6))
    return token_of(zlib.compress(damaged, draw(st.integers(0, 9))))


@SETTINGS
@given(token=mutated_tokens())
def test_mutated_tokens_parse_alike(speedups: ModuleType, token: str) -> None:
    assert_same_parse(speedups, token)


@SETTINGS
@given(
    token=st.one_of(
        st.text(max_size=60),
        st.text(max_size=60).map(lambda text: "007" + text),
        st.binary(max_size=80).map(token_of),
        st.binary(max_size=80).map(lambda raw: token_of(zlib.compress(raw))),
    )
)
def test_garbage_never_crashes_either_kernel(speedups: ModuleType, token: str) -> None:
    assert_same_parse(speedups, token)


def wire_text(text: bytes) -> bytes:
    return struct.pack("<H", len(text)) + text


def content_of(services: bytes, signature: bytes = b"\x01" * 32) -> bytes:
    app_id = wire_text(b"970CA35de60c44645bbae8a215061b33")
    return wire_text(signature) + app_id + struct.pack("<IIIH", 1, 600, 7, 1) + services


# service type and an empty privilege map
RTC_HEAD = b"\x01\x00\x00\x00"
APAAS_HEAD = b"\x07\x00\x00\x00"

CRAFTED = {
    "empty body": "007",
    "prefix only lowercase": "006abc",
    "non-ascii body": "007\u00e9AAA",
    "bad padding": "007eJ=x",
    "unused bits set": "007eJx=",
    "incomplete stream": token_of(zlib.compress(b"x" * 200)[:-3]),
    "trailing data": token_of(zlib.compress(b"abc") + b"\x00"),
    "content too large": token_of(zlib.compress(b"\x00" * (MAX_CONTENT + 1))),
    "content at the limit": token_of(zlib.compress(b"\x00" * MAX_CONTENT)),
    "bomb": token_of(zlib.compress(b"\x00" * (MAX_CONTENT * 40))),
    "raw deflate": token_of(zlib.compress(b"abc")[2:-4]),
    "preset dictionary": token_of(bytes([0x78, 0xBB]) + b"\x00\x00\x00\x01" + zlib.compress(b"abc")[2:]),
    "bad utf-8 in rtc": token_of(zlib.compress(content_of(RTC_HEAD + wire_text(b"\xff") + wire_text(b"")))),
    "unknown service": token_of(zlib.compress(content_of(b"\x63\x00garbage"))),
    "apaas role": token_of(zlib.compress(content_of(APAAS_HEAD + wire_text(b"r") + wire_text(b"u") + b"\xff"))),
    "rtm2 tree": token_of(
        zlib.compress(
            content_of(b"\x08\x00\x00\x00" + wire_text(b"u") + b"\x02\x00" + b"\x01\x00\x01\x00\x00\x00\x01\x00")
        )
    ),
    "extra bytes": token_of(zlib.compress(content_of(b"\x04\x00\x00\x00" + b"\x00\x00"))),
    "huge length": "007" + "A" * 200_000,
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_tokens_parse_alike(speedups: ModuleType, name: str) -> None:
    assert_same_parse(speedups, CRAFTED[name])


def test_crafted_tokens_cover_every_error() -> None:
    outcomes = [outcome(_native.parse007, token) for token in CRAFTED.values()]
    messages = {str(message) for kind, message in outcomes if kind == "malformed"}
    assert any("exceeds" in str(message) for message in messages)
    assert any("after the end of its zlib stream" in str(message) for message in messages)
    assert any("not a complete zlib stream" in str(message) for message in messages)
    assert any("invalid UTF-8" in str(message) for message in messages)
    assert any("characters long" in str(message) for message in messages)


@pytest.mark.parametrize("vector", load_vectors("parse007"), ids=lambda vector: vector["id"])
def test_parse_vectors_agree(speedups: ModuleType, vector: dict[str, Any]) -> None:
    assert_same_parse(speedups, vector["token"])


@SETTINGS
@given(
    app_id=hex32.map(str.encode),
    certificate=st.binary(max_size=80),
    channel=st.binary(max_size=70),
    uid=st.binary(max_size=12),
    message=st.binary(max_size=120),
)
def test_build006_agrees(
    speedups: ModuleType, app_id: bytes, certificate: bytes, channel: bytes, uid: bytes, message: bytes
) -> None:
    assert speedups.build006(app_id, certificate, channel, uid, message) == _native.build006(
        app_id, certificate, channel, uid, message
    )


@SETTINGS
@given(
    data=st.one_of(
        st.binary(max_size=300),
        # large inputs (the C core releases the GIL for them), made from a seed: hypothesis stays fast
        st.builds(
            lambda seed, size: random.Random(seed).randbytes(size), st.integers(0, 2**32), st.integers(16384, 40000)
        ),
    )
)
def test_crc32_agrees(speedups: ModuleType, data: bytes) -> None:
    assert speedups.crc32(data) == _native.crc32(data) == zlib.crc32(data)


@SETTINGS
@given(jobs=st.lists(build_args(), max_size=8), threads=st.integers(1, 4))
def test_build_many_agrees(
    speedups: ModuleType, jobs: list[tuple[bytes, bytes, int, int, int, bytes]], threads: int
) -> None:
    expected = [_native.build007(*job) for job in jobs]
    assert speedups.build_many(jobs, threads) == expected
    assert _native.build_many(jobs, threads) == expected


@SETTINGS
@given(
    signature=st.binary(max_size=40),
    info=st.binary(max_size=100),
    certificate=hex32.map(str.encode),
    ts=U32,
    salt=U32,
)
def test_verify007_agrees_on_random_signatures(
    speedups: ModuleType, signature: bytes, info: bytes, certificate: bytes, ts: int, salt: int
) -> None:
    assert speedups.verify007(signature, info, certificate, ts, salt) is _native.verify007(
        signature, info, certificate, ts, salt
    )


def test_content_at_the_limit_parses_past_decompression(speedups: ModuleType) -> None:
    # at exactly MAX_CONTENT bytes decompression succeeds and field parsing runs (and finds no valid token)
    kind, message = assert_same_parse(speedups, CRAFTED["content at the limit"])
    assert kind == "malformed" and "exceeds" not in message


@pytest.mark.parametrize("size", [4000, 9000, MAX_CONTENT - 6000, MAX_CONTENT + 10])
@pytest.mark.parametrize("damage", ["none", "trailing", "truncated"])
def test_long_bodies_agree(speedups: ModuleType, size: int, damage: str) -> None:
    # incompressible content: the base64 body spans several of the C decoder's 4096-character steps
    raw = zlib.compress(random.Random(size).randbytes(size))
    if damage == "trailing":
        raw += b"\x00" * 5000
    elif damage == "truncated":
        raw = raw[:-1000]
    kind, message = assert_same_parse(speedups, token_of(raw))
    assert kind == "malformed"
    if damage == "trailing" and size < MAX_CONTENT:
        assert "after the end of its zlib stream" in message
