"""Mutation fuzzing of the 007 parser, over both kernels (through the autouse fixture), and of 006.

Valid tokens are mutated at three levels (the decompressed content, the zlib stream and the
token text) with bit flips, truncations, splices, huge length prefixes, inserted and deleted
bytes; zlib bombs and odd zlib streams are added by hand.  Every outcome must be a parsed
token or one :class:`MalformedTokenError` with a message, never any other exception.  The
wall-clock guard is a hang detector (a parse takes well under a millisecond), not a benchmark.
"""

from __future__ import annotations

import base64
import struct
import time
import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vector_data import load_vectors

from accesstoken2 import (
    AccessToken2,
    ApaasTokenBuilder,
    MalformedTokenError,
    RtcTokenBuilder,
    RtmTokenBuilder,
    ServiceRtm2,
    diagnose,
    inspect,
)
from accesstoken2._wire.limits import MAX_CONTENT, MAX_TOKEN_CHARS
from accesstoken2.errors import Stage
from accesstoken2.legacy import AccessToken as AccessToken006
from accesstoken2.legacy import RtcTokenBuilder as RtcTokenBuilder006
from accesstoken2.legacy import RtmTokenBuilder as RtmTokenBuilder006

# every test here touches a kernel: it runs once per kernel
pytestmark = pytest.mark.usefixtures("implementation")

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
HANG_LIMIT = 2.0  # seconds; generous so that a loaded shared machine never trips it
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


def _rtm2_token() -> str:
    permissions = ServiceRtm2.Permissions()
    permissions.add(ServiceRtm2.Permissions.kMessageChannels, ServiceRtm2.Permissions.kRead, ["a", "b"])
    permissions.add(ServiceRtm2.Permissions.kUsers, ServiceRtm2.Permissions.kWrite, ["u\u00e9"])
    return RtmTokenBuilder.build_token_with_permissions(APP_ID, CERT, "user", permissions, 600, issue_ts=1, salt=1)


def _seed_tokens() -> list[str]:
    built = [
        RtcTokenBuilder.build_token_with_rtm(APP_ID, CERT, "room", 42, 1, 600, issue_ts=1111111, salt=1),
        ApaasTokenBuilder.build_room_user_token(APP_ID, CERT, "room", "user", 1, 600, issue_ts=1111111, salt=2),
        _rtm2_token(),
    ]
    published = [vector["token"] for vector in load_vectors("parse007") if vector["expect"] == "ok"]
    return built + published


SEEDS = _seed_tokens()


def _content(token: str) -> bytes:
    return zlib.decompress(base64.b64decode(token[3:]))


def _wrap(raw: bytes) -> str:
    return "007" + base64.b64encode(raw).decode("ascii")


CONTENTS = [_content(token) for token in SEEDS]


def _outcome(parse: Callable[[str], Any], token: str) -> tuple[str, Any]:
    """("ok", result) or ("malformed", message); anything else fails the test."""
    start = time.monotonic()
    try:
        result = parse(token)
    except MalformedTokenError as error:
        message = str(error)
        assert message, "MalformedTokenError without a message"
        assert isinstance(error.stage, Stage)
        outcome: tuple[str, Any] = ("malformed", message)
    else:
        outcome = ("ok", result)
    elapsed = time.monotonic() - start
    assert elapsed < HANG_LIMIT, f"parsing took {elapsed:.2f} s"
    return outcome


def _check(token: str, kernel: ModuleType) -> None:
    kind, value = _outcome(kernel.parse007, token)
    api_kind, parsed = _outcome(AccessToken2.parse, token)
    if kind == "ok":
        assert isinstance(value, tuple) and len(value) == 8
        assert len(parsed.services) == value[6][1]  # the Service objects, made on demand
        # The object model may still refuse a field the kernel accepted, but only as MalformedTokenError.
    else:
        assert api_kind == "malformed"


# --- mutation strategies ---------------------------------------------------------------------


@st.composite
def _mutated(draw: st.DrawFn, base: bytes, others: list[bytes]) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "splice", "huge", "insert", "delete", "set"]))
        size = len(data)
        if op == "flip" and size:
            at = draw(st.integers(0, size - 1))
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[draw(st.integers(0, size)) :]
        elif op == "splice":
            other = draw(st.sampled_from(others))
            data = data[: draw(st.integers(0, size))] + other[draw(st.integers(0, len(other))) :]
        elif op == "huge" and size >= 2:
            at = draw(st.integers(0, size - 2))
            data[at : at + 2] = struct.pack("<H", draw(st.sampled_from([0xFFFF, 0xFFFE, 0x8000, 0x7FFF])))
        elif op == "insert":
            at = draw(st.integers(0, size))
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and size:
            at = draw(st.integers(0, size - 1))
            del data[at : at + draw(st.integers(1, 8))]
        elif op == "set" and size:
            data[draw(st.integers(0, size - 1))] = draw(st.integers(0, 255))
    return bytes(data)


content_mutations = st.sampled_from(CONTENTS).flatmap(lambda base: _mutated(base, CONTENTS))
raw_mutations = st.sampled_from([zlib.compress(c) for c in CONTENTS]).flatmap(
    lambda base: _mutated(base, [zlib.compress(c) for c in CONTENTS])
)
text_mutations = st.sampled_from([t.encode("ascii") for t in SEEDS]).flatmap(
    lambda base: _mutated(base, [t.encode("ascii") for t in SEEDS])
)


@FUZZ
@given(content=content_mutations)
def test_mutated_content(content: bytes, kernel: ModuleType) -> None:
    _check(_wrap(zlib.compress(content)), kernel)


@FUZZ
@given(raw=raw_mutations)
def test_mutated_zlib_stream(raw: bytes, kernel: ModuleType) -> None:
    _check(_wrap(raw), kernel)


@FUZZ
@given(text=text_mutations)
def test_mutated_token_text(text: bytes, kernel: ModuleType) -> None:
    _check(text.decode("latin-1"), kernel)


@FUZZ
@given(token=st.text(max_size=200))
def test_arbitrary_text(token: str, kernel: ModuleType) -> None:
    _check(token, kernel)
    _check("007" + token, kernel)


@FUZZ
@given(content=st.binary(max_size=300))
def test_arbitrary_content(content: bytes, kernel: ModuleType) -> None:
    _check(_wrap(zlib.compress(content)), kernel)


def _explain(token: str) -> None:
    _outcome(inspect, token)
    findings = diagnose(token, app_certificate=CERT, app_id=APP_ID, channel_name="room", uid=42, now=1111200)
    assert findings


@FUZZ
@given(content=content_mutations)
def test_explain_never_raises_anything_else(content: bytes) -> None:
    _explain(_wrap(zlib.compress(content)))


BODIES_006 = [
    base64.b64decode(
        RtcTokenBuilder006.buildTokenWithUid(APP_ID, CERT, "room", 42, 1, 2000000000, ts=1111111, salt=1)[35:]
    ),
    base64.b64decode(RtmTokenBuilder006.buildToken(APP_ID, CERT, "bob", 1, 0, ts=1111111, salt=1)[35:]),
]


@FUZZ
@given(body=st.sampled_from(BODIES_006).flatmap(lambda base: _mutated(base, BODIES_006)))
def test_mutated_006_tokens(body: bytes) -> None:
    token = "006" + APP_ID + base64.b64encode(body).decode("ascii")
    _outcome(AccessToken006.parse, token)
    _explain(token)


# --- hand-made hostile inputs ----------------------------------------------------------------


def _malformed(kernel: ModuleType, token: str) -> str:
    kind, message = _outcome(kernel.parse007, token)
    assert kind == "malformed"
    assert _outcome(AccessToken2.parse, token) == ("malformed", message)
    return str(message)


@pytest.mark.parametrize("size", [MAX_CONTENT + 1, 4 * MAX_CONTENT, 64 * 1024 * 1024])
def test_zlib_bomb(kernel: ModuleType, size: int) -> None:
    # A valid prefix followed by zeros: the bomb must be stopped at MAX_CONTENT, not inflated.
    inflater = zlib.compressobj(9)
    head = CONTENTS[0]
    raw = inflater.compress(head)
    chunk = bytes(1 << 20)
    left = size - len(head)
    while left > 0:
        raw += inflater.compress(chunk[: min(left, len(chunk))])
        left -= len(chunk)
    raw += inflater.flush()
    token = _wrap(raw)
    assert len(token) <= MAX_TOKEN_CHARS
    assert "exceeds" in _malformed(kernel, token)


def test_too_long_token(kernel: ModuleType) -> None:
    assert "at most" in _malformed(kernel, "007" + "A" * (MAX_TOKEN_CHARS + 1))


def test_content_at_the_size_limit_is_read(kernel: ModuleType) -> None:
    # Exactly MAX_CONTENT bytes are allowed; here they end in trailing bytes, which must be reported.
    content = CONTENTS[0] + bytes(MAX_CONTENT - len(CONTENTS[0]))
    assert "unexpected bytes" in _malformed(kernel, _wrap(zlib.compress(content)))


@pytest.mark.parametrize(
    "raw",
    [
        zlib.compress(CONTENTS[0]) + b"\x00",  # trailing data after the stream
        zlib.compress(CONTENTS[0])[:-1],  # missing Adler-32 byte
        zlib.compress(CONTENTS[0])[:-4] + b"\x00\x00\x00\x00",  # bad Adler-32
        zlib.compress(CONTENTS[0])[2:],  # raw deflate, no zlib header
        b"\x78\xbb\x00\x00\x00\x01" + zlib.compress(CONTENTS[0])[2:],  # preset dictionary flag
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",  # a gzip header
        b"",
    ],
    ids=["trailing", "short-adler", "bad-adler", "raw-deflate", "preset-dict", "gzip", "empty"],
)
def test_bad_zlib(kernel: ModuleType, raw: bytes) -> None:
    assert "zlib" in _malformed(kernel, _wrap(raw))


@pytest.mark.parametrize(
    "token",
    ["007", "007A", "007AB=", "007AAA=A", "007" + "\u00e9" * 8, "007 eJw=", "007eJw=\n", "007-_8=", "007eJw"],
)
def test_bad_base64(kernel: ModuleType, token: str) -> None:
    message = _malformed(kernel, token)
    assert "base64" in message or "zlib" in message


def _header(count: int) -> bytes:
    app_id = APP_ID.encode("ascii")
    return struct.pack("<H", 32) + bytes(32) + struct.pack("<H", 32) + app_id + struct.pack("<IIIH", 1, 600, 1, count)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (struct.pack("<H", 0xFFFF) + bytes(10), "the signature"),
        (struct.pack("<H", 32) + bytes(32) + struct.pack("<H", 0xFFFF), "the app id"),
        (_header(0)[:-1], "the service count"),
        (_header(0xFFFF), "service 1 of 65535"),
        (_header(1) + struct.pack("<HH", 1, 0xFFFF), "service 1 of 1"),
        (_header(1) + struct.pack("<HHH", 2, 0, 0xFFFF) + b"x", "service 1 of 1"),
        (_header(1) + struct.pack("<HHH", 8, 0, 0) + struct.pack("<HHH", 0xFFFF, 0, 0), "service 1 of 1"),
        (_header(1) + struct.pack("<HHH", 8, 0, 0) + struct.pack("<HHHHH", 1, 0, 1, 0, 0xFFFF), "service 1 of 1"),
        (_header(1) + struct.pack("<HHH", 7, 0, 0) + struct.pack("<H", 0) + b"\x01", "service 1 of 1"),
    ],
    ids=["signature", "app-id", "count", "services", "privileges", "text", "rtm2-types", "rtm2-names", "role"],
)
def test_huge_length_prefixes_and_truncation(kernel: ModuleType, body: bytes, where: str) -> None:
    message = _malformed(kernel, _wrap(zlib.compress(body)))
    assert where in message


def test_bad_utf8(kernel: ModuleType) -> None:
    body = _header(1) + struct.pack("<HH", 2, 0) + struct.pack("<H", 3) + b"\xed\xa0\x80"  # an encoded surrogate
    assert "UTF-8" in _malformed(kernel, _wrap(zlib.compress(body)))


def test_trailing_bytes(kernel: ModuleType) -> None:
    assert "1 unexpected bytes" in _malformed(kernel, _wrap(zlib.compress(CONTENTS[0] + b"\x00")))


def test_huge_counts_are_bounded_by_the_content(kernel: ModuleType) -> None:
    # 65,535 empty RTM2 permission trees would need far more bytes than there are.
    body = _header(0xFFFF) + struct.pack("<HHHH", 8, 0, 0, 0) * 100
    kind, message = _outcome(kernel.parse007, _wrap(zlib.compress(body)))
    assert kind == "malformed"
    assert "service 101 of 65535" in message


# --- the two kernels agree -------------------------------------------------------------------


@FUZZ
@given(content=content_mutations)
def test_kernels_agree(speedups: ModuleType, pure_kernel: ModuleType, content: bytes) -> None:
    token = _wrap(zlib.compress(content))
    assert _outcome(speedups.parse007, token) == _outcome(pure_kernel.parse007, token)
