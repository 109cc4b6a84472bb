"""The compiled kernel and the pure-Python kernel agree byte for byte, error for error, and never crash.

Each test compares the two kernels directly (the ``speedups`` and ``pure_kernel`` fixtures), so it runs
once, and is skipped when the C core is not compiled.
"""

from __future__ import annotations

import base64
import random
import struct
import zlib
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from kernel_strategies import U32, Markup, build_args, hex32
from vector_data import load_vectors

from accesstoken2._wire.checks import HEX32
from accesstoken2._wire.kernel import Kernel, pure
from accesstoken2._wire.limits import MAX_CONTENT
from accesstoken2.errors import InvalidParameterError, MalformedTokenError

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


def outcome(function: Callable[..., Any], *args: Any) -> tuple[Any, ...]:
    """("ok", result), ("malformed", message, stage, field) or ("invalid", class, message, parameter).

    Any other exception propagates and fails the test.
    """
    try:
        return ("ok", function(*args))
    except MalformedTokenError as error:
        return ("malformed", str(error), error.stage, error.field)
    except InvalidParameterError as error:
        return ("invalid", type(error).__name__, str(error), error.parameter)


def assert_same_parse(speedups: Kernel, pure: Kernel, token: str) -> tuple[Any, ...]:
    expected = outcome(pure.parse007, token)
    assert outcome(speedups.parse007, token) == expected
    if expected[0] == "ok":
        # the services, made on demand from what parse007 checked
        signing_info, where = expected[1][1], expected[1][6]
        services, counts, cut = pure.services007(signing_info, where, MAX_CONTENT)
        assert speedups.services007(signing_info, where, MAX_CONTENT) == (services, counts, cut)
        assert len(services) == where[1] and counts == {} and cut == {}
        # bounded: the first ones made (their permission trees within the limit), the others counted by type
        for limit in (0, 1, 2, where[1] // 2):
            first, rest, cut = pure.services007(signing_info, where, limit)
            assert speedups.services007(signing_info, where, limit) == (first, rest, cut)
            assert [service[:2] for service in first] == [service[:2] for service in services[:limit]]
            assert all(service == services[position] for position, service in enumerate(first) if position not in cut)
            assert rest == dict(Counter(kind for kind, _, _ in services[limit:]))
    return expected


def token_of(raw: bytes) -> str:
    return "007" + base64.b64encode(raw).decode("ascii")


@pytest.mark.slow
@SETTINGS
@given(args=build_args())
def test_build007_agrees(speedups: Kernel, pure_kernel: Kernel, args: tuple[Any, ...]) -> None:
    result = outcome(speedups.build007, *args)
    assert result == outcome(pure_kernel.build007, *args)
    if result[0] == "ok":
        assert result[1].startswith("007")


@pytest.mark.slow
@SETTINGS
@given(args=build_args())
def test_built_tokens_parse_and_verify_alike(speedups: Kernel, pure_kernel: Kernel, args: tuple[Any, ...]) -> None:
    built = outcome(pure_kernel.build007, *args)
    # only a built token has something to parse: other draws do not count as examples of this test
    assume(built[0] == "ok")
    kind, *rest = assert_same_parse(speedups, pure_kernel, built[1])
    assert kind == "ok"
    signature, signing_info, _app_id, issue_ts, _expire, salt, _services, _unknown = rest[0]
    for certificate in (args[1], Markup(args[1]), "0" * 32, "not hexadecimal", args[1] + "0"):
        expected = pure_kernel.verify007(signature, signing_info, certificate, issue_ts, salt)
        assert speedups.verify007(signature, signing_info, certificate, issue_ts, salt) is expected
    assert speedups.verify007(signature, signing_info, args[1], issue_ts, salt) is True


@st.composite
def mutated_tokens(draw: st.DrawFn) -> str:
    """A built token damaged at one of its layers: the text, the zlib stream or the content."""
    args = draw(build_args().filter(lambda args: HEX32.fullmatch(args[1]) and args[0].lower() != args[1].lower()))
    try:
        token = pure.build007(*args)
    except InvalidParameterError:  # an odd value in the services: a token without them
        token = pure.build007(args[0], args[1], 1, 2, 3, [])
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


@pytest.mark.slow
@SETTINGS
@given(token=mutated_tokens())
def test_mutated_tokens_parse_alike(speedups: Kernel, pure_kernel: Kernel, token: str) -> None:
    assert_same_parse(speedups, pure_kernel, token)
    assert_same_parse(speedups, pure_kernel, Markup(token))


@SETTINGS
@given(
    token=st.one_of(
        st.text(max_size=60),
        st.text(max_size=60).map(lambda text: "007" + text),
        st.binary(max_size=80).map(token_of),
        st.binary(max_size=80).map(lambda raw: token_of(zlib.compress(raw))),
    )
)
def test_garbage_never_crashes_either_kernel(speedups: Kernel, pure_kernel: Kernel, token: str) -> None:
    assert_same_parse(speedups, pure_kernel, token)


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
def test_crafted_tokens_parse_alike(speedups: Kernel, pure_kernel: Kernel, name: str) -> None:
    assert_same_parse(speedups, pure_kernel, CRAFTED[name])


def test_crafted_tokens_cover_every_error(pure_kernel: Kernel) -> None:
    outcomes = [outcome(pure_kernel.parse007, token) for token in CRAFTED.values()]
    messages = {str(result[1]) for result in outcomes if result[0] == "malformed"}
    assert {result[2] for result in outcomes if result[0] == "malformed"} == {
        "length",
        "prefix",
        "base64",
        "zlib",
        "content",
    }
    assert any("exceeds" in str(message) for message in messages)
    assert any("after the end of its zlib stream" in str(message) for message in messages)
    assert any("not a complete zlib stream" in str(message) for message in messages)
    assert any("invalid UTF-8" in str(message) for message in messages)
    assert any("characters long" in str(message) for message in messages)


@pytest.mark.parametrize("vector", load_vectors("parse007"), ids=lambda vector: vector["id"])
def test_parse_vectors_agree(speedups: Kernel, pure_kernel: Kernel, vector: dict[str, Any]) -> None:
    assert_same_parse(speedups, pure_kernel, vector["token"])


@SETTINGS
@given(
    app_id=st.one_of(hex32, st.text(max_size=33)),
    certificate=st.one_of(hex32, st.text(max_size=40)),
    channel=st.binary(max_size=70),
    uid=st.binary(max_size=12),
    # None is a random salt (test_legacy_fast_path.py checks it on both kernels): no token to compare
    salt=st.one_of(U32, st.sampled_from([-1, 1 << 33, True, 1.5])),
    ts=U32,
    privileges=st.dictionaries(st.integers(0, 0xFFFF), U32, max_size=5),
)
def test_build006_agrees(
    speedups: Kernel,
    pure_kernel: Kernel,
    app_id: str,
    certificate: str,
    channel: bytes,
    uid: bytes,
    salt: Any,
    ts: int,
    privileges: dict[int, int],
) -> None:
    # any arguments, odd ones included: the same token or the same refusal
    args = (app_id, certificate, channel, uid, salt, ts, privileges)
    assert outcome(speedups.build006, *args) == outcome(pure_kernel.build006, *args)


def _distinct(ids: tuple[str, str]) -> tuple[str, str]:
    """Two ids the kernels accept together: the certificate's first digit changed when it is the app id."""
    app_id, certificate = ids
    if app_id.lower() == certificate.lower():
        certificate = ("1" if certificate[0] == "0" else "0") + certificate[1:]
    return app_id, certificate


@SETTINGS
@given(
    ids=st.tuples(hex32, hex32).map(_distinct),
    channel=st.binary(max_size=70),
    uid=st.binary(max_size=12),
    salt=U32,
    ts=U32,
    privileges=st.dictionaries(st.integers(0, 0xFFFF), U32, max_size=5),
)
def test_built_006_tokens_parse_and_verify_alike(
    speedups: Kernel,
    pure_kernel: Kernel,
    ids: tuple[str, str],
    channel: bytes,
    uid: bytes,
    salt: int,
    ts: int,
    privileges: dict[int, int],
) -> None:
    # valid arguments only: every draw builds a token
    app_id, certificate = ids
    built = outcome(pure_kernel.build006, app_id, certificate, channel, uid, salt, ts, privileges)
    assert built[0] == "ok", built
    token = built[1]
    parsed = outcome(pure_kernel.parse006, token)
    assert outcome(speedups.parse006, token) == parsed
    assert parsed[0] == "ok"
    _app, signature, _crc_channel, _crc_uid, message, *_ = parsed[1]
    for key in (certificate.encode(), b"0" * 32):
        verify_args = (signature, app_id.encode(), key, channel, uid, message)
        assert speedups.verify006(*verify_args) is pure_kernel.verify006(*verify_args)
    for cut in (1, 5, len(token) // 2):
        assert outcome(speedups.parse006, token[:-cut]) == outcome(pure_kernel.parse006, token[:-cut])


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
def test_crc32_agrees(speedups: Kernel, pure_kernel: Kernel, data: bytes) -> None:
    assert speedups.crc32(data) == pure_kernel.crc32(data) == zlib.crc32(data)


@pytest.mark.slow
@SETTINGS
@given(jobs=st.lists(build_args(), max_size=8), threads=st.integers(1, 4))
def test_build_many_agrees(speedups: Kernel, pure_kernel: Kernel, jobs: list[tuple[Any, ...]], threads: int) -> None:
    expected = outcome(lambda: [pure_kernel.build007(*job) for job in jobs])
    assert outcome(speedups.build_many, jobs, threads) == expected
    assert outcome(pure_kernel.build_many, jobs, threads) == expected


@SETTINGS
@given(
    signature=st.binary(max_size=40),
    info=st.binary(max_size=100),
    certificate=st.one_of(hex32, st.text(max_size=33)),
    ts=U32,
    salt=U32,
)
def test_verify007_agrees_on_random_signatures(
    speedups: Kernel, pure_kernel: Kernel, signature: bytes, info: bytes, certificate: str, ts: int, salt: int
) -> None:
    assert speedups.verify007(signature, info, certificate, ts, salt) is pure_kernel.verify007(
        signature, info, certificate, ts, salt
    )


def test_content_at_the_limit_parses_past_decompression(speedups: Kernel, pure_kernel: Kernel) -> None:
    # at exactly MAX_CONTENT bytes decompression succeeds and field parsing runs (and finds no valid token)
    kind, message, stage, _field = assert_same_parse(speedups, pure_kernel, CRAFTED["content at the limit"])
    assert kind == "malformed" and "exceeds" not in message and stage == "content"


@pytest.mark.parametrize("size", [4000, 9000, MAX_CONTENT - 6000, MAX_CONTENT + 10])
@pytest.mark.parametrize("damage", ["none", "trailing", "truncated"])
def test_long_bodies_agree(speedups: Kernel, pure_kernel: Kernel, size: int, damage: str) -> None:
    # incompressible content: the base64 body spans several of the C decoder's 4096-character steps
    raw = zlib.compress(random.Random(size).randbytes(size))
    if damage == "trailing":
        raw += b"\x00" * 5000
    elif damage == "truncated":
        raw = raw[:-1000]
    kind, message, _stage, _field = assert_same_parse(speedups, pure_kernel, token_of(raw))
    assert kind == "malformed"
    if damage == "trailing" and size < MAX_CONTENT:
        assert "after the end of its zlib stream" in message


UTF8_EDGES = [
    b"plain",
    "\u00e9\u4e2d\U0001f600".encode(),
    b"\xed\xa0\x80",  # a surrogate
    b"\xed\x9f\xbf",  # the last code point before the surrogates
    b"\xc0\xaf",  # overlong
    b"\xc2\x80",
    b"\xe0\x80\x80",  # overlong
    b"\xe0\xa0\x80",
    b"\xf0\x8f\xbf\xbf",  # overlong
    b"\xf4\x8f\xbf\xbf",  # U+10FFFF
    b"\xf4\x90\x80\x80",  # above U+10FFFF
    b"\xf5\x80\x80\x80",
    b"\xe2\x82",  # cut short
    b"\x80",
    b"a\xffb",
]


@pytest.mark.parametrize("text", UTF8_EDGES, ids=lambda text: text.hex())
def test_service_text_is_checked_as_python_decodes_it(speedups: Kernel, pure_kernel: Kernel, text: bytes) -> None:
    # parse007 checks the services' text without decoding it; the verdict must be Python's
    token = token_of(zlib.compress(content_of(RTC_HEAD + wire_text(text) + wire_text(b""))))
    result = assert_same_parse(speedups, pure_kernel, token)
    try:
        text.decode("utf-8")
        decodes = True
    except UnicodeDecodeError:
        decodes = False
    assert (result[0] == "ok") is decodes


# The C core keeps the first link of the 007 signature chain, HMAC(issue_ts, certificate), per thread: a
# token must never get a link made for another certificate or another second.
LINK_CERTIFICATES = ["0" * 32, "0" * 31 + "1", "1" + "0" * 31, "5CFd2fd1755d40ecb72977518be15d3b"]


@pytest.mark.parametrize("threads", [1, 2])
def test_kept_signature_link_follows_certificate_and_time(speedups: Kernel, pure_kernel: Kernel, threads: int) -> None:
    rng = random.Random(12)
    services = [(5, {1: 600}, ("user-12345",))]
    # runs of equal (issue_ts, certificate), then changes of one of the two, in every order
    jobs = [
        ("970CA35de60c44645bbae8a215061b33", rng.choice(LINK_CERTIFICATES), 1_700_000_000 + rng.randrange(3), 600,
         rng.randrange(1, 2**32), services)
        for _ in range(600)
    ]
    expected = [pure_kernel.build007(*job) for job in jobs]
    assert [speedups.build007(*job) for job in jobs] == expected
    assert speedups.build_many(jobs, threads) == expected
