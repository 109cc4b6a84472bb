"""The 006 RTC builders' fast path (one kernel call for the common arguments) and build006's defaults.

The fast path must give exactly the token the full path gives for the same salt and ts, and for any argument
it does not take, fall back so that every error and warning is the full path's own."""

from __future__ import annotations

import time
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accesstoken2._wire.kernel import Kernel
from accesstoken2._wire.limits import DEFAULT_LIFETIME_006, SALT_MAX, SALT_MIN, U32_MAX
from accesstoken2.errors import TokenError
from accesstoken2.legacy import AccessToken, RtcTokenBuilder, builders

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
CHANNEL = "7d72365eb983485397e3e3f9d460bdda"
EXPIRE = 2_000_000_000
ROLES = (0, 1, 2, 101)
METHODS = ("build_token_with_uid", "build_token_with_account", "buildTokenWithUid", "buildTokenWithAccount")

# the builders under test run on the default kernel: CI's pure-kernel pass runs them again there
pytestmark = pytest.mark.default_kernel


def near_default_ts(ts: int, before: float, after: float) -> bool:
    return int(before) + DEFAULT_LIFETIME_006 <= ts <= int(after) + DEFAULT_LIFETIME_006


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("uid", [2882341273, 0, 1, U32_MAX, "2882341273", "", "0", "user-1"])
@pytest.mark.parametrize("expire", [EXPIRE, 0, U32_MAX])
def test_the_fast_token_is_the_full_paths_token(
    method: str, role: int, uid: int | str, expire: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = time.time()
    token = getattr(RtcTokenBuilder, method)(APP_ID, CERTIFICATE, CHANNEL, uid, role, expire)
    after = time.time()
    parsed = AccessToken.parse(token)
    assert SALT_MIN <= parsed.salt <= SALT_MAX
    assert near_default_ts(parsed.ts, before, after)
    assert parsed.verify(CERTIFICATE, CHANNEL, uid)
    # the full path with the fast token's salt and ts (given, so never the fast path) writes the same bytes
    full = getattr(RtcTokenBuilder, method)(
        APP_ID, CERTIFICATE, CHANNEL, uid, role, expire, ts=parsed.ts, salt=parsed.salt
    )
    assert full == token
    # and it was the kernel's one call: AccessToken (the full path) builds nothing
    full_builds: list[str] = []
    monkeypatch.setattr(AccessToken, "build", lambda self: full_builds.append("full") or "")
    assert getattr(RtcTokenBuilder, method)(APP_ID, CERTIFICATE, CHANNEL, uid, role, expire).startswith("006")
    assert full_builds == []
    # with the common form declined, the full path builds
    monkeypatch.setattr(builders, "_ROLE_PRIVILEGES", {})
    assert getattr(RtcTokenBuilder, method)(APP_ID, CERTIFICATE, CHANNEL, uid, role, expire) == ""
    assert full_builds == ["full"]


def outcome(call: Any) -> tuple[Any, ...]:
    """What a call did: its error (type, parameter, message) or 'ok', and the warnings' texts."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call()
            result: tuple[Any, ...] = ("ok",)
        except TokenError as error:
            result = (type(error), error.parameter, str(error))
    return (*result, tuple(str(warning.message) for warning in caught))


class IntSub(int):
    pass


ODD_VALUES = st.sampled_from(
    [
        True,
        False,
        1.0,
        -1,
        U32_MAX + 1,
        100,
        IntSub(1),
        IntSub(EXPIRE),
        "",
        "x" * 20_000,
        "\ud800",
        "é" * 17_000,
        "chännel",
        b"bytes",
        None,
        APP_ID,
        APP_ID.upper(),
        CERTIFICATE,
        "g" * 32,
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    app_id=st.one_of(st.just(APP_ID), ODD_VALUES),
    certificate=st.one_of(st.just(CERTIFICATE), ODD_VALUES),
    channel=st.one_of(st.just(CHANNEL), ODD_VALUES),
    uid=st.one_of(st.just(2882341273), ODD_VALUES),
    role=st.one_of(st.sampled_from(ROLES), ODD_VALUES),
    expire=st.one_of(st.just(EXPIRE), ODD_VALUES),
)
def test_every_other_argument_gets_the_full_paths_error_and_warning(
    app_id: Any, certificate: Any, channel: Any, uid: Any, role: Any, expire: Any
) -> None:
    def fast() -> Any:
        return RtcTokenBuilder.build_token_with_uid(app_id, certificate, channel, uid, role, expire)

    def full() -> Any:
        # no role in the table: the common form is never tried
        original = builders._ROLE_PRIVILEGES
        builders._ROLE_PRIVILEGES = {}
        try:
            return fast()
        finally:
            builders._ROLE_PRIVILEGES = original

    assert outcome(fast) == outcome(full)


def test_build006_draws_the_salt_and_reads_the_clock(kernel: Kernel) -> None:
    before = time.time()
    token = kernel.build006(APP_ID, CERTIFICATE, b"channel", b"42", None, None, {1: EXPIRE})
    after = time.time()
    parsed = AccessToken.parse(token)
    assert SALT_MIN <= parsed.salt <= SALT_MAX
    assert near_default_ts(parsed.ts, before, after)
    assert dict(parsed.privileges) == {1: EXPIRE}
    assert parsed.verify(CERTIFICATE, "channel", 42)
    # and given, they are written as given
    given_token = kernel.build006(APP_ID, CERTIFICATE, b"channel", b"42", parsed.salt, parsed.ts, {1: EXPIRE})
    assert given_token == token


def granted(kernel: Kernel, *args: Any) -> tuple[Any, ...]:
    """What build006_grant did: None, its error, or the token as parse006 reads it less the salt, ts and
    signature (drawn and dated per call), with whether it verifies."""
    try:
        token = kernel.build006_grant(*args)
    except TokenError as error:
        return ("error", type(error), error.parameter, str(error))
    if token is None:
        return (None,)
    app_id, signature, crc_channel, crc_uid, message, salt, _ts, privileges = kernel.parse006(token)
    channel, uid = args[2], args[3]
    uid_bytes = (str(uid) if uid else "").encode() if type(uid) is int else uid.encode()
    signed = kernel.verify006(signature, app_id.encode(), args[1].encode(), channel.encode(), uid_bytes, message)
    assert SALT_MIN <= salt <= SALT_MAX
    return ("token", app_id, crc_channel, crc_uid, privileges, signed, len(token))


TEXTS = st.one_of(
    st.text(alphabet=st.characters(max_codepoint=127), max_size=20),
    st.sampled_from(["é", "\ud800", "x" * 65_535, "x" * 65_536, b"bytes", 7, None]),
)


# the kernel fixtures hold no state between examples
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    app_id=st.sampled_from([APP_ID, APP_ID.upper(), CERTIFICATE, "g" * 32, "", 1, None]),
    channel=TEXTS,
    uid=st.one_of(TEXTS, st.integers(-1, U32_MAX + 1), st.sampled_from([True, IntSub(5), 1.0])),
    privilege_ids=st.one_of(
        st.lists(st.integers(-1, 0x10000), max_size=5).map(tuple),
        st.sampled_from([(1, 2, 3, 4), (1,), (), [1, 2], (True,), (IntSub(1),), (2, 1), (1, 1)]),
    ),
    expire=st.one_of(st.integers(-1, U32_MAX + 1), st.sampled_from([True, 1.0, IntSub(EXPIRE), None])),
)
def test_build006_grant_agrees(
    speedups: Kernel, pure_kernel: Kernel, app_id: Any, channel: Any, uid: Any, privilege_ids: Any, expire: Any
) -> None:
    args = (app_id, CERTIFICATE, channel, uid, privilege_ids, expire)
    result = granted(pure_kernel, *args)
    assert granted(speedups, *args) == result
    if result[0] == "token":
        assert result[5] is True


def test_build006_grant_is_build006(kernel: Kernel) -> None:
    before = time.time()
    token = kernel.build006_grant(APP_ID, CERTIFICATE, CHANNEL, 2882341273, (1, 2, 3, 4), EXPIRE)
    after = time.time()
    assert token is not None
    parsed = AccessToken.parse(token)
    assert near_default_ts(parsed.ts, before, after)
    expected = kernel.build006(
        APP_ID,
        CERTIFICATE,
        CHANNEL.encode(),
        b"2882341273",
        parsed.salt,
        parsed.ts,
        dict.fromkeys((1, 2, 3, 4), EXPIRE),
    )
    assert token == expected
    # the uid 0 is the empty text, and an empty channel name is a channel name
    token = kernel.build006_grant(APP_ID, CERTIFICATE, "", 0, (), 0)
    assert token is not None
    parsed = AccessToken.parse(token)
    assert kernel.build006(APP_ID, CERTIFICATE, b"", b"", parsed.salt, parsed.ts, {}) == token
