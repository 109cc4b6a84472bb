"""Hostile and odd inputs (issue 10, items 1, 2, 3, 6, 7 and 14), on both kernels."""

from __future__ import annotations

import inspect as pyinspect
import warnings
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from accesstoken2 import (
    AccessToken2,
    ChatTokenBuilder,
    ConvoAITokenBuilder,
    FpaTokenBuilder,
    InvalidParameterError,
    ParameterTypeError,
    RtcTokenBuilder,
    RtmTokenBuilder,
    Service,
    ServiceChat,
    ServiceRtc,
    ServiceRtm2,
    TokenError,
    diagnose,
    inspect,
)
from accesstoken2._wire import kernel as selector
from accesstoken2.legacy import AccessToken as AccessToken006
from accesstoken2.legacy import RtcTokenBuilder as RtcTokenBuilder006
from accesstoken2.legacy import RtmTokenBuilder as RtmTokenBuilder006
from accesstoken2.legacy import dynamic_key, dynamic_key4, dynamic_key5, signaling_token

pytestmark = pytest.mark.usefixtures("implementation")

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
T0 = 1_700_000_000


class Markup(str):
    """A str subclass, as markupsafe's Markup or Django's SafeString."""


class Lying(int):
    """An int subclass whose __int__ lies: only operator.index gives its value."""

    def __int__(self) -> int:
        return 1 << 40


# --- 1. str subclasses ---------------------------------------------------------------------------


def test_str_subclass_tokens_parse_inspect_and_diagnose() -> None:
    token = ChatTokenBuilder.build_user_token(APP_ID, CERT, "u", 600, issue_ts=T0, salt=1)
    legacy = RtcTokenBuilder006.build_token_with_uid(APP_ID, CERT, "room", 7, 1, T0, ts=T0, salt=1)
    assert AccessToken2.parse(Markup(token)).verify(Markup(CERT))
    loaded = AccessToken2()
    assert loaded.from_string(Markup(token)) and loaded.app_id == APP_ID
    assert inspect(Markup(token)).app_id == APP_ID
    assert inspect(Markup(legacy)).app_id == APP_ID
    assert AccessToken006.parse(Markup(legacy)).verify(CERT, "room", 7)
    assert "signature-ok" in {finding.code for finding in diagnose(Markup(token), app_certificate=CERT)}
    assert "truncated" in {finding.code for finding in diagnose(Markup(token[:-4]))}


def test_str_subclass_arguments_build_the_same_token() -> None:
    plain = RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "room", "acc", 1, 600, issue_ts=T0, salt=1)
    odd = RtcTokenBuilder.build_token_with_uid(
        Markup(APP_ID), Markup(CERT), Markup("room"), Markup("acc"), 1, 600, issue_ts=T0, salt=1
    )
    assert odd == plain


# --- 2. int subclasses ----------------------------------------------------------------------------


def test_int_subclasses_count_with_their_index_value() -> None:
    service = ServiceRtc("c", Lying(5))
    assert service.uid == "5"
    service.add_privilege(Lying(1), Lying(600))
    token = AccessToken2(APP_ID, CERT, Lying(T0), Lying(600), salt=Lying(9))
    token.add_service(service)
    built = token.build()
    plain = RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "c", 5, 2, 600, 600, issue_ts=T0, salt=9)
    assert (
        built
        == plain
        == RtcTokenBuilder.build_token_with_uid(
            APP_ID, CERT, "c", Lying(5), Lying(2), Lying(600), Lying(600), issue_ts=Lying(T0), salt=Lying(9)
        )
    )
    parsed = AccessToken2.parse(built)
    assert (parsed.issue_ts, parsed.salt, parsed.services[0].uid) == (T0, 9, "5")
    assert AccessToken2.parse(plain).services[0].privileges[1] == 600


def test_int_subclass_in_privilege_maps_and_006() -> None:
    token = AccessToken006(APP_ID, CERT, "room", Lying(7), ts=Lying(T0), salt=Lying(3))
    token.add_privilege(Lying(1), Lying(T0))
    assert token.build() == RtcTokenBuilder006.build_token_with_uid(APP_ID, CERT, "room", 7, 2, T0, ts=T0, salt=3)


# --- 3. the certificate never appears in a message ----------------------------------------------------

WRONG_PLACES: list[Callable[[], Any]] = [
    lambda: RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "room", 1, CERT, 600),
    lambda: RtcTokenBuilder.build_token_with_rtm(APP_ID, CERT, "room", "a", CERT, 600),
    lambda: ConvoAITokenBuilder.build_token(APP_ID, CERT, "c", 1, CERT, 600, 0, 0, 0, 0, "a", 600),
    lambda: RtcTokenBuilder006.build_token_with_uid(APP_ID, CERT, "room", 1, CERT, T0),
    lambda: RtmTokenBuilder006.build_token(APP_ID, CERT, "user", CERT, T0),
    lambda: selector.active.build007(APP_ID, CERT, T0, 600, 1, [(CERT, {}, ())]),
    lambda: dynamic_key4.generate_dynamic_key(APP_ID, CERT, "room", T0, 1, 2, T0, CERT),
    lambda: ServiceRtm2("u", {CERT: {0: ["a"]}}),
    lambda: ServiceRtm2("u", {0: CERT}),
    lambda: AccessToken2(APP_ID, CERT, CERT),
    lambda: ServiceChat("u").add_privilege(CERT, 1),
]


@pytest.mark.parametrize("call", WRONG_PLACES, ids=lambda call: pyinspect.getsource(call).strip()[8:60])
def test_a_certificate_in_the_wrong_place_is_never_echoed(call: Callable[[], Any]) -> None:
    with pytest.raises(TokenError) as caught:
        call()
    for form in (CERT, CERT.lower(), CERT.upper()):
        assert form not in str(caught.value) and form not in repr(caught.value)


# --- 6. an app id used as the certificate -------------------------------------------------------------

SAME_IDS: list[Callable[[str, str], Any]] = [
    lambda app, cert: ChatTokenBuilder.build_user_token(app, cert, "u", 600),
    lambda app, cert: ChatTokenBuilder.build_app_token(app, cert, 600),
    lambda app, cert: RtcTokenBuilder.build_token_with_uid(app, cert, "room", 1, 1, 600),
    lambda app, cert: RtmTokenBuilder.build_token(app, cert, "u", 600),
    lambda app, cert: FpaTokenBuilder.build_token(app, cert),
    lambda app, cert: RtcTokenBuilder006.build_token_with_uid(app, cert, "room", 1, 1, T0),
    lambda app, cert: RtmTokenBuilder006.build_token(app, cert, "user", 1, T0),
    lambda app, cert: dynamic_key.generate(app, cert, "room", T0, 1),
    lambda app, cert: dynamic_key4.generate_recording_key(app, cert, "room", T0, 1, 2, T0),
    lambda app, cert: dynamic_key5.generate_recording_key(app, cert, "room", T0, 1, 2, T0),
    lambda app, cert: signaling_token.generate_signaling_token("user", app, cert, T0),
]


def _token_build(app: str, cert: str) -> str:
    token = AccessToken2(app, cert, T0, 600)
    token.add_service(ServiceChat("u"))
    return token.build()


@pytest.mark.parametrize("build", [*SAME_IDS, _token_build])
@pytest.mark.parametrize("certificate", [APP_ID, APP_ID.upper(), APP_ID.lower()])
def test_every_builder_refuses_the_app_id_as_certificate(build: Callable[[str, str], Any], certificate: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        build(APP_ID, certificate)
    assert caught.value.parameter == "app_certificate"
    assert APP_ID.lower() not in str(caught.value).lower()
    build(APP_ID, CERT)  # the same call with a real certificate works


# --- 7. wrong types are typed errors ------------------------------------------------------------------


@pytest.mark.parametrize("issue_ts", [False, 0.0, "", 1.5, "1700000000"])
def test_wrong_typed_issue_ts_is_refused(issue_ts: Any) -> None:
    with pytest.raises(ParameterTypeError) as caught:
        ChatTokenBuilder.build_user_token(APP_ID, CERT, "u", 600, issue_ts=issue_ts)
    assert caught.value.parameter == "issue_ts"
    with pytest.raises(ParameterTypeError):
        AccessToken2(APP_ID, CERT, issue_ts)


@pytest.mark.parametrize("role", [1.0, Decimal(2), complex(1, 0), True, "1"])
def test_roles_must_be_ints(role: Any) -> None:
    with pytest.raises(ParameterTypeError, match="role"):
        RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "room", 1, role, 600)
    with pytest.raises(ParameterTypeError, match="role"):
        RtcTokenBuilder006.build_token_with_uid(APP_ID, CERT, "room", 1, role, T0)


@pytest.mark.parametrize(
    "details",
    [{0: [1, 2]}, {0: {0: "abc"}}, {0: {0: [b"x"]}}, {-1: {0: ["a"]}}, {0: {70000: ["a"]}}, {"x": {0: []}}, [1]],
    ids=str,
)
def test_mutated_permissions_give_typed_errors(details: Any) -> None:
    service = ServiceRtm2("u")
    service.add_privilege(1, 0)
    service.permissions.details = details
    token = AccessToken2(APP_ID, CERT, T0, 600)
    token.add_service(service)
    with pytest.raises(InvalidParameterError):
        token.build()


def test_permissions_as_a_tree_of_lists_is_refused_by_type() -> None:
    with pytest.raises(ParameterTypeError, match="permissions"):
        ServiceRtm2("u", {0: ["a"]})  # type: ignore[dict-item]


def test_a_bare_service_cannot_be_added() -> None:
    with pytest.raises(InvalidParameterError, match="known service type"):
        AccessToken2(APP_ID, CERT).add_service(Service())


# --- 14. lifetimes over 24 hours ---------------------------------------------------------------------


def _warnings_of(call: Callable[[], Any]) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return caught


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (lambda: RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "r", 1, 1, 90000, 90000), "over 24 hours"),
        (lambda: RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "r", 1, 1, T0, T0), "absolute Unix timestamp"),
        (lambda: RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "r", 1, 1, 600, T0), "absolute Unix timestamp"),
        (
            lambda: RtcTokenBuilder.build_token_with_uid_and_privilege(APP_ID, CERT, "r", 1, 90000, T0, T0, 90000, 1),
            "absolute Unix timestamp",
        ),
        (lambda: ChatTokenBuilder.build_user_token(APP_ID, CERT, "u", 86401), "over 24 hours"),
        (lambda: RtmTokenBuilder.build_token(APP_ID, CERT, "u", T0), "absolute Unix timestamp"),
        (lambda: AccessToken2(APP_ID, CERT, 0, 90000), "over 24 hours"),
        (lambda: ServiceChat("u").add_privilege(1, T0), "absolute Unix timestamp"),
    ],
)
def test_a_long_lifetime_warns_once_at_the_callers_line(call: Callable[[], Any], text: str) -> None:
    caught = _warnings_of(call)
    assert len(caught) == 1, [str(warning.message) for warning in caught]
    (warning,) = caught
    assert warning.category is UserWarning and text in str(warning.message)
    # the line of the lambda above: the caller's, not one inside accesstoken2
    assert warning.filename == __file__
    assert warning.lineno == call.__code__.co_firstlineno


def test_24_hours_or_less_is_quiet() -> None:
    assert not _warnings_of(lambda: RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "r", 1, 1, 86400, 86400))
    assert not _warnings_of(lambda: FpaTokenBuilder.build_token(APP_ID, CERT))
    assert not _warnings_of(lambda: AccessToken2(APP_ID, CERT, 0, 86400))
