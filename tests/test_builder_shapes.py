"""The builders' one-call kernel path (``build007_shape``, see ``accesstoken2/_wire/shapes.py``).

Every public builder writes the same bytes as the object model (AccessToken2 + Service objects) would; the
compiled and the pure kernel agree byte for byte on any values, and error for error (class, ``.parameter``,
message, warnings) on bad ones; a malformed shape is refused alike and never crashes either kernel.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kernel_strategies import Markup
from shape_programs import decode

from accesstoken2 import (
    AccessToken2,
    ApaasTokenBuilder,
    ChatTokenBuilder,
    ConvoAITokenBuilder,
    FpaTokenBuilder,
    RtcTokenBuilder,
    RtmTokenBuilder,
    ServiceApaas,
    ServiceChat,
    ServiceConvoAI,
    ServiceFpa,
    ServiceRtc,
    ServiceRtm,
    ServiceRtm2,
    ServiceStt,
    SttTokenBuilder,
)
from accesstoken2 import builders as b
from accesstoken2._wire.checks import HEX32
from accesstoken2._wire.kernel import Kernel
from accesstoken2._wire.shapes import Account, builder_shape
from accesstoken2.errors import InvalidParameterError

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
T0 = 1_700_000_000
FIXED = {"issue_ts": T0, "salt": 4242}
SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


class Lying(int):
    """An int subclass whose __int__ lies: only operator.index gives its value."""

    def __int__(self) -> int:
        return 1 << 40


def model(*services: Any, expire: int) -> str:
    """The token the object model builds for the same content (the reference for the shapes)."""
    token = AccessToken2(APP_ID, CERT, T0, expire, salt=FIXED["salt"])
    for service in services:
        token.add_service(service)
    return token.build()


def with_privileges(service: Any, privileges: dict[int, int]) -> Any:
    for privilege, seconds in privileges.items():
        service.add_privilege(privilege, seconds)
    return service


def rtm2(user_id: str, permissions: Any, seconds: int) -> ServiceRtm2:
    return with_privileges(ServiceRtm2(user_id, permissions), {1: seconds})


PERMISSIONS = ServiceRtm2.Permissions()
PERMISSIONS.add(ServiceRtm2.Permissions.kStreamChannels, ServiceRtm2.Permissions.kWrite, ["s1", "s2"])
PUBLISHER = {1: 300, 2: 300, 3: 300, 4: 300}

# (builder call, the same content through the object model)
SAME_AS_MODEL: list[tuple[Callable[[], str], Callable[[], str]]] = [
    (
        lambda: ChatTokenBuilder.build_user_token(APP_ID, CERT, "u-1", 600, **FIXED),
        lambda: model(with_privileges(ServiceChat("u-1"), {1: 600}), expire=600),
    ),
    (
        lambda: ChatTokenBuilder.build_app_token(APP_ID, CERT, 600, **FIXED),
        lambda: model(with_privileges(ServiceChat(""), {2: 600}), expire=600),
    ),
    (
        lambda: RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "c", 2882341273, 1, 600, 300, **FIXED),
        lambda: model(with_privileges(ServiceRtc("c", 2882341273), PUBLISHER), expire=600),
    ),
    (
        lambda: RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "c", 0, 2, 600, 300, **FIXED),
        lambda: model(with_privileges(ServiceRtc("c", 0), {1: 300}), expire=600),
    ),
    (
        lambda: RtcTokenBuilder.build_token_with_user_account(APP_ID, CERT, "c", "0", 2, 600, 300, **FIXED),
        lambda: model(with_privileges(ServiceRtc("c", "0"), {1: 300}), expire=600),
    ),
    (
        lambda: RtcTokenBuilder.build_token_with_uid_and_privilege(APP_ID, CERT, "c", 7, 900, 1, 2, 3, 4, **FIXED),
        lambda: model(with_privileges(ServiceRtc("c", 7), {1: 1, 2: 2, 3: 3, 4: 4}), expire=900),
    ),
    (
        lambda: RtcTokenBuilder.build_token_with_rtm(APP_ID, CERT, "c", 42, 1, 900, 300, **FIXED),
        lambda: model(
            with_privileges(ServiceRtc("c", 42), PUBLISHER), with_privileges(ServiceRtm("42"), {1: 900}), expire=900
        ),
    ),
    (
        lambda: RtcTokenBuilder.build_token_with_rtm2(APP_ID, CERT, "c", "a", 2, 900, 1, 2, 3, 4, "r", 500, **FIXED),
        lambda: model(
            with_privileges(ServiceRtc("c", "a"), {1: 1}), with_privileges(ServiceRtm("r"), {1: 500}), expire=900
        ),
    ),
    (
        lambda: ConvoAITokenBuilder.build_token(APP_ID, CERT, "c", 9, 1, 900, 1, 2, 3, 4, "agent", 800, **FIXED),
        lambda: model(
            with_privileges(ServiceRtc("c", 9), {1: 1, 2: 2, 3: 3, 4: 4}),
            with_privileges(ServiceRtm("agent"), {1: 800}),
            ServiceConvoAI(),
            expire=900,
        ),
    ),
    (
        lambda: SttTokenBuilder.build_token(APP_ID, CERT, "c", 9, 2, 900, 1, 2, 3, 4, "agent", 800, **FIXED),
        lambda: model(
            with_privileges(ServiceRtc("c", 9), {1: 1}),
            with_privileges(ServiceRtm("agent"), {1: 800}),
            ServiceStt(),
            expire=900,
        ),
    ),
    (
        lambda: RtmTokenBuilder.build_token(APP_ID, CERT, "bob", 600, **FIXED),
        lambda: model(with_privileges(ServiceRtm("bob"), {1: 600}), expire=600),
    ),
    (
        lambda: RtmTokenBuilder.build_token_with_permissions(APP_ID, CERT, "bob", PERMISSIONS, 600, **FIXED),
        lambda: model(rtm2("bob", PERMISSIONS, 600), expire=600),
    ),
    (
        lambda: FpaTokenBuilder.build_token(APP_ID, CERT, **FIXED),
        lambda: model(with_privileges(ServiceFpa(), {1: 0}), expire=86400),
    ),
    (
        lambda: ApaasTokenBuilder.build_user_token(APP_ID, CERT, "user-1", 600, **FIXED),
        lambda: model(with_privileges(ServiceApaas("", "user-1", -1), {2: 600}), expire=600),
    ),
    (
        lambda: ApaasTokenBuilder.build_app_token(APP_ID, CERT, 600, **FIXED),
        lambda: model(with_privileges(ServiceApaas("", "", -1), {3: 600}), expire=600),
    ),
]


@pytest.mark.parametrize(("build", "expected"), SAME_AS_MODEL)
@pytest.mark.usefixtures("implementation")
def test_each_builder_writes_what_the_object_model_writes(
    build: Callable[[], str], expected: Callable[[], str]
) -> None:
    assert build() == expected()


@pytest.mark.usefixtures("implementation")
def test_apaas_room_user_writes_the_md5_of_the_user() -> None:
    chat = with_privileges(ServiceChat(hashlib.md5(b"user-1").hexdigest()), {1: 600})
    expected = model(
        with_privileges(ServiceRtm("user-1"), {1: 600}),
        chat,
        with_privileges(ServiceApaas("room", "user-1", 1), {1: 600}),
        expire=600,
    )
    assert ApaasTokenBuilder.build_room_user_token(APP_ID, CERT, "room", "user-1", 1, 600, **FIXED) == expected


@pytest.mark.usefixtures("implementation")
def test_now_and_a_random_salt_by_default() -> None:
    before = int(time.time())
    tokens = [ChatTokenBuilder.build_user_token(APP_ID, CERT, "u", 600) for _ in range(50)]
    tokens.append(RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "c", 1, 1, 600, issue_ts=0))
    after = int(time.time())
    parsed = [AccessToken2.parse(token) for token in tokens]
    assert all(before <= token.issue_ts <= after + 1 for token in parsed)
    salts = [token.salt for token in parsed]
    assert all(1 <= salt <= 99_999_999 for salt in salts) and len(set(salts)) > 45


# --- both kernels, byte for byte and error for error ---------------------------------------------------------


def outcome(kernel: Kernel, *args: Any) -> tuple[Any, ...]:
    """("ok", token, warnings) or ("error", class, message, parameter, warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            token = kernel.build007_shape(*args)
        except (TypeError, ValueError) as error:
            result: tuple[Any, ...] = ("error", type(error), str(error), getattr(error, "parameter", None))
        else:
            result = ("ok", token)
    return (*result, [str(warning.message) for warning in caught])


INTS = st.one_of(
    st.integers(0, 86400),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 86400, 86401, 2**32 - 1, 2**32, -1, T0]),
    st.builds(Lying, st.integers(0, 2**33)),
)
ODD = st.sampled_from([None, True, False, 1.0, "600", b"600", [600], Markup("x")])
LIFETIMES = st.one_of(INTS, ODD)
TEXTS = st.one_of(
    st.text(max_size=12),
    st.builds(Markup, st.text(max_size=6)),
    st.sampled_from(["\ud800", "x" * 65535, "é" * 32768, CERT]),
)
ACCOUNTS = st.one_of(TEXTS, INTS, ODD)
IDS = st.one_of(
    st.just(APP_ID),
    st.just(CERT),
    st.builds(Markup, st.just(APP_ID)),
    st.sampled_from([APP_ID.upper(), APP_ID[:-1] + "g", APP_ID[:31], "", 12345, None, b"x" * 32]),
)
RTC_SHAPES = st.sampled_from(
    [
        b._RTC[1],
        b._RTC[2],
        b._RTC_PRIVILEGES,
        b._RTC_RTM[1],
        *(shape for by_role in b._RTC_RTM2.values() for shape in by_role.values()),
    ]
)


def sometimes(draw: st.DrawFn, hostile: st.SearchStrategy[Any], usual: st.SearchStrategy[Any]) -> Any:
    """A value from ``hostile`` one time in four, else from ``usual`` (so that most calls get far)."""
    return draw(hostile if draw(st.integers(0, 3)) == 0 else usual)


@st.composite
def shape_calls(draw: st.DrawFn) -> tuple[Any, ...]:
    """A builder's shape with random (often hostile) lifetimes, values, issue_ts, salt and ids."""
    kind = draw(st.sampled_from(["rtc", "chat", "apaas", "rtm2"]))
    plain = st.integers(0, 86400)
    if kind == "rtc":
        shape = draw(RTC_SHAPES)
        program = decode(shape)
        lifetimes = tuple(sometimes(draw, LIFETIMES, plain) for _ in range(program.lifetimes))
        values = tuple(sometimes(draw, TEXTS, st.text(max_size=12)) for _ in range(program.values))
        values = (values[0], sometimes(draw, ACCOUNTS, st.one_of(st.integers(0, 2**32 - 1), TEXTS)), *values[2:])
    elif kind == "chat":
        shape = draw(st.sampled_from([b._CHAT_USER, b._CHAT_APP, b._RTM_LOGIN]))
        lifetimes, values = (sometimes(draw, LIFETIMES, plain),), (sometimes(draw, ODD, TEXTS),)
    elif kind == "apaas":
        shape = draw(st.sampled_from([b._APAAS_USER, b._APAAS_APP]))
        role = sometimes(draw, st.one_of(st.integers(-40000, 40000), ODD), st.integers(-0x8000, 0x7FFF))
        lifetimes, values = (sometimes(draw, LIFETIMES, plain),), (draw(TEXTS), draw(TEXTS), role)
    else:
        shape = b._RTM2_LOGIN
        tree = draw(st.sampled_from([{}, {1: {1: ["a", "b"]}}, {4: {0: [], 1: ["x"]}}, {70000: {0: []}}, [1], None]))
        lifetimes, values = (sometimes(draw, LIFETIMES, plain),), (draw(TEXTS), tree)
    issue_ts = sometimes(draw, st.one_of(INTS, ODD), st.integers(1, 2**32 - 1))
    salt = sometimes(draw, st.one_of(INTS, ODD), st.integers(0, 2**32 - 1))
    if issue_ts is None or issue_ts == 0 or salt is None:
        issue_ts, salt = T0, 1  # now and random salts cannot be compared across kernels
    app_id = sometimes(draw, IDS, st.just(APP_ID))
    certificate = sometimes(draw, IDS, st.just(CERT))
    return (shape, app_id, certificate, issue_ts, salt, lifetimes, values)


@SETTINGS
@given(call=shape_calls())
def test_kernels_agree_on_any_builder_call(speedups: Kernel, pure_kernel: Kernel, call: tuple[Any, ...]) -> None:
    expected = outcome(pure_kernel, *call)
    assert outcome(speedups, *call) == expected
    if expected[0] == "error":
        # documented errors only; a certificate (even in the wrong place) is never echoed
        assert issubclass(expected[1], InvalidParameterError)
        assert CERT not in expected[2] and CERT.lower() not in expected[2].lower()
        assert expected[3] is not None


BAD_CALLS: list[tuple[str, tuple[Any, ...], str, str]] = [
    # (what, (lifetimes, values, issue_ts, salt, app_id, certificate), parameter, message part)
    ("expire too large", ((2**32, 600), ("c", 1), T0, 1, APP_ID, CERT), "expire", "from 0 to 4294967295"),
    ("privilege expire negative", ((600, -1), ("c", 1), T0, 1, APP_ID, CERT), "expire", "(got -1)"),
    ("expire a float", ((600.0, 600), ("c", 1), T0, 1, APP_ID, CERT), "expire", "not float"),
    ("expire a bool", ((True, 600), ("c", 1), T0, 1, APP_ID, CERT), "expire", "not bool"),
    ("uid negative", ((600, 600), ("c", -1), T0, 1, APP_ID, CERT), "uid", "(got -1)"),
    ("uid a float", ((600, 600), ("c", 1.5), T0, 1, APP_ID, CERT), "uid", "not float"),
    ("uid too large", ((600, 600), ("c", 2**32), T0, 1, APP_ID, CERT), "uid", "from 0 to 4294967295"),
    ("uid text too long", ((600, 600), ("c", "é" * 32768), T0, 1, APP_ID, CERT), "uid", "at most 65535"),
    ("issue_ts a str", ((600, 600), ("c", 1), "1", 1, APP_ID, CERT), "issue_ts", "not str"),
    ("issue_ts too large", ((600, 600), ("c", 1), 2**32, 1, APP_ID, CERT), "issue_ts", "from 0 to 4294967295"),
    ("salt negative", ((600, 600), ("c", 1), T0, -1, APP_ID, CERT), "salt", "(got -1)"),
    ("app id short", ((600, 600), ("c", 1), T0, 1, APP_ID[:31], CERT), "app_id", "got 31 characters"),
    ("certificate not hex", ((600, 600), ("c", 1), T0, 1, APP_ID, CERT[:-1] + "z"), "app_certificate", "not all"),
    ("certificate is the app id", ((600, 600), ("c", 1), T0, 1, APP_ID, APP_ID.lower()), "app_certificate", "app id"),
    ("channel a bytes", ((600, 600), (b"c", 1), T0, 1, APP_ID, CERT), "channel_name", "not bytes"),
    ("channel a lone surrogate", ((600, 600), ("\udc00", 1), T0, 1, APP_ID, CERT), "channel_name", "surrogate"),
    ("uid lone surrogate", ((600, 600), ("c", "\udc00"), T0, 1, APP_ID, CERT), "uid", "surrogate"),
]


@pytest.mark.parametrize(("what", "args", "parameter", "part"), BAD_CALLS, ids=[case[0] for case in BAD_CALLS])
@pytest.mark.usefixtures("implementation")
def test_bad_values_on_the_rtc_fast_path(what: str, args: tuple[Any, ...], parameter: str, part: str) -> None:
    lifetimes, values, issue_ts, salt, app_id, certificate = args
    channel, account = values
    with pytest.raises(InvalidParameterError) as caught:
        RtcTokenBuilder.build_token_with_uid(
            app_id, certificate, channel, account, 1, *lifetimes, issue_ts=issue_ts, salt=salt
        )
    assert caught.value.parameter == parameter
    assert part in str(caught.value)
    assert CERT not in str(caught.value)


@pytest.mark.usefixtures("implementation")
def test_checks_come_in_the_documented_order() -> None:
    # lifetimes, then the accounts, then issue_ts, salt, the ids, the text fields
    order = [
        ((600, -1), ("\udc00", -1), -1, -1, "x", "y", "expire"),
        ((600, 600), ("\udc00", -1), -1, -1, "x", "y", "uid"),
        ((600, 600), ("\udc00", 1), -1, -1, "x", "y", "issue_ts"),
        ((600, 600), ("\udc00", 1), T0, -1, "x", "y", "salt"),
        ((600, 600), ("\udc00", 1), T0, 1, "x", "y", "app_id"),
        ((600, 600), ("\udc00", 1), T0, 1, APP_ID, "y", "app_certificate"),
        ((600, 600), ("\udc00", 1), T0, 1, APP_ID, CERT, "channel_name"),
    ]
    for lifetimes, (channel, uid), issue_ts, salt, app_id, certificate, parameter in order:
        with pytest.raises(InvalidParameterError) as caught:
            RtcTokenBuilder.build_token_with_uid(
                app_id, certificate, channel, uid, 1, *lifetimes, issue_ts=issue_ts, salt=salt
            )
        assert caught.value.parameter == parameter


@pytest.mark.usefixtures("implementation")
def test_int_and_str_subclasses_build_the_plain_token() -> None:
    plain = RtcTokenBuilder.build_token_with_rtm(APP_ID, CERT, "c", 5, 1, 600, 300, **FIXED)
    odd = RtcTokenBuilder.build_token_with_rtm(
        Markup(APP_ID), Markup(CERT), Markup("c"), Lying(5), Lying(1), Lying(600), Lying(300),
        issue_ts=Lying(T0), salt=Lying(4242),
    )  # fmt: skip
    assert odd == plain
    assert RtcTokenBuilder.build_token_with_rtm(APP_ID, CERT, "c", Markup("5"), 1, 600, 300, **FIXED) == plain


@pytest.mark.parametrize("position", [0, 7, 8, 15, 31])
@pytest.mark.usefixtures("implementation")
def test_ids_are_checked_character_by_character(position: int) -> None:
    # the compiled kernel checks 8 characters at a time: every ASCII character in every lane of a word
    for code in range(128):
        app_id = APP_ID[:position] + chr(code) + APP_ID[position + 1 :]
        try:
            ChatTokenBuilder.build_user_token(app_id, CERT, "u", 600, **FIXED)
        except InvalidParameterError as error:
            assert error.parameter == "app_id"
            accepted = False
        else:
            accepted = True
        assert accepted == bool(HEX32.fullmatch(app_id)), repr(chr(code))


# --- the shape programs --------------------------------------------------------------------------------------

CHAT = builder_shape((5, {1: "expire"}, ("user_id",)), values=("user_id",))
MALFORMED = {
    "empty": b"",
    "no service": b"\x00",
    "cut in the head": CHAT[:2],
    "cut in the privileges": CHAT[:5],
    "cut in the fields": CHAT[:-1],
    "trailing byte": CHAT + b"\x00",
    "unknown rule": CHAT[:-2] + b"?\x00",
    "privileges not ascending": bytes.fromhex("0105000202000001000001") + b"=\x00",
    "repeated privilege": bytes.fromhex("0105000201000001000001") + b"=\x00",
    "lifetime slot past the lifetimes": bytes.fromhex("01050001010001") + b"=\x00",
    "value slot past the values": CHAT[:-1] + b"\x01",
}


@pytest.mark.parametrize("program", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_programs_are_refused_alike(speedups: Kernel, pure_kernel: Kernel, program: bytes) -> None:
    for kernel in (speedups, pure_kernel):
        with pytest.raises(ValueError, match="builder shape is malformed") as caught:
            kernel.build007_shape(program, APP_ID, CERT, T0, 1, (600,), ("u",))
        assert not isinstance(caught.value, InvalidParameterError)


@SETTINGS
@given(program=st.binary(max_size=40), lifetimes=st.lists(st.integers(0, 600), max_size=3))
def test_random_programs_never_crash_either_kernel(
    speedups: Kernel, pure_kernel: Kernel, program: bytes, lifetimes: list[int]
) -> None:
    call = (program, APP_ID, CERT, T0, 1, tuple(lifetimes), ("u", 7, -1))
    assert outcome(speedups, *call) == outcome(pure_kernel, *call)


def test_a_program_reads_back_as_written() -> None:
    shape = builder_shape(
        (1, {4: "publish", 1: "join"}, ("channel", Account("account"))),
        (2, {1: "expire"}, (Account("account"),)),
        (9, {}, ()),
        lifetimes=("expire", "publish", "join"),
        values=("channel", "account"),
    )
    program = decode(shape)
    assert program.services == (
        (1, ((1, 2), (4, 1)), ((ord("="), 0), (ord("u"), 1))),
        (2, ((1, 0),), ((ord("u"), 1),)),
        (9, (), ()),
    )
    assert program.accounts == ((1, 1, 1), (1, 2, 0))
    assert (program.lifetimes, program.values) == (3, 2)


@pytest.mark.parametrize(
    "services",
    [
        (),
        ((99, {}, ()),),  # unknown type
        ((5, {1: "expire"}, ()),),  # Chat has one field
        ((5, {1: "expire"}, ("a",)), (1, {1: "expire"}, ("a", "b"))),  # not sorted by type
        ((5, {1: "later"}, ("a",)),),  # a lifetime slot the shape does not name
        ((5, {1: "expire"}, ("z",)),),  # a value slot the shape does not name
        ((5, {70000: "expire"}, ("a",)),),  # privilege not a u16
        ((7, {1: "expire"}, ("a", "b", Account("c"))),),  # an account in an i16 field
    ],
)
def test_builder_shape_refuses_what_the_table_does_not_allow(services: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError):
        builder_shape(*services, values=("a", "b", "c"))


@pytest.mark.parametrize(
    ("lifetimes", "values", "problem"),
    [
        (("expire", "expire"), ("user_id",), "one name each"),
        (("expire",), ("user_id", "user_id"), "one name each"),
        (tuple(f"l{i}" for i in range(257)), ("user_id",), "from 0 to 255"),
    ],
)
def test_builder_shape_slots_have_one_name_each(
    lifetimes: tuple[str, ...], values: tuple[str, ...], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        builder_shape((5, {1: lifetimes[0]}, ("user_id",)), lifetimes=lifetimes, values=values)


def test_a_service_type_removed_from_the_table_is_refused_by_both_kernels(
    speedups: Kernel, pure_kernel: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from accesstoken2._wire import specs

    monkeypatch.delitem(specs.LAYOUTS, 5)
    for kernel in (speedups, pure_kernel):
        with pytest.raises(InvalidParameterError, match="service type 5 is not a known service") as caught:
            kernel.build007_shape(b._CHAT_USER, APP_ID, CERT, T0, 1, (600,), ("u",))
        assert caught.value.parameter == "service_type"
