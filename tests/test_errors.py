"""Every bad input raises a documented error naming the parameter, the problem and the range."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest

from accesstoken2 import (
    AccessToken2,
    ChatTokenBuilder,
    EmptyTokenError,
    InvalidParameterError,
    MalformedTokenError,
    ParameterTypeError,
    RtcTokenBuilder,
    ServiceApaas,
    ServiceChat,
    ServiceFpa,
    ServiceRtc,
    ServiceRtm2,
    TokenError,
    build_tokens,
)

# every test here touches a kernel: it runs once per kernel
pytestmark = pytest.mark.usefixtures("implementation")

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"


def test_hierarchy() -> None:
    assert issubclass(TokenError, ValueError)
    assert issubclass(InvalidParameterError, TokenError)
    assert issubclass(MalformedTokenError, TokenError)
    assert issubclass(ParameterTypeError, TypeError) and issubclass(ParameterTypeError, TokenError)
    assert issubclass(EmptyTokenError, InvalidParameterError)


BAD_HEX = [
    ("", "got 0 characters"),
    ("abc", "got 3 characters"),
    ("5CFd2fd1755d40ecb72977518be15d3b1", "got 33 characters"),
    ("zCFd2fd1755d40ecb72977518be15d3b", "not all hexadecimal"),
    ("5CFd2fd1755d40ecb72977518be15d3 ", "not all hexadecimal"),
    ("5CFd2fd1755d40ecb72977518be15d3\u00e9", "not all hexadecimal"),
]


@pytest.mark.parametrize(("value", "problem"), BAD_HEX)
def test_bad_certificate_never_echoed(value: str, problem: str) -> None:
    token = AccessToken2(APP_ID, value, expire=600)
    token.add_service(ServiceChat("u"))
    with pytest.raises(InvalidParameterError) as caught:
        token.build()
    message = str(caught.value)
    assert caught.value.parameter == "app_certificate"
    assert "app_certificate must be 32 hexadecimal characters" in message and problem in message
    if value:
        assert value not in message


@pytest.mark.parametrize(("value", "problem"), BAD_HEX)
def test_bad_app_id(value: str, problem: str) -> None:
    with pytest.raises(InvalidParameterError, match="app_id must be 32 hexadecimal characters") as caught:
        ChatTokenBuilder.build_user_token(value, CERT, "u", 600)
    assert problem in str(caught.value)
    assert CERT not in str(caught.value)


def test_builder_certificate_error_hides_certificate() -> None:
    secret = "5CFd2fd1755d40ecb72977518be15d3Z"
    with pytest.raises(InvalidParameterError) as caught:
        RtcTokenBuilder.build_token_with_uid(APP_ID, secret, "c", 1, 1, 600)
    assert secret not in str(caught.value) and secret not in repr(caught.value)


def test_no_service() -> None:
    with pytest.raises(EmptyTokenError, match="no service"):
        AccessToken2(APP_ID, CERT).build()


INT_CASES: list[tuple[Callable[[], Any], str, str]] = [
    (lambda: AccessToken2(APP_ID, CERT, issue_ts=-1), "issue_ts", "from 0 to 4294967295 (got -1)"),
    (lambda: AccessToken2(APP_ID, CERT, issue_ts=2**32), "issue_ts", "from 0 to 4294967295 (got 4294967296)"),
    (lambda: AccessToken2(APP_ID, CERT, expire=-5), "expire", "from 0 to 4294967295 (got -5)"),
    (lambda: AccessToken2(APP_ID, CERT, salt=2**32), "salt", "from 0 to 4294967295"),
    (lambda: AccessToken2(APP_ID, CERT, salt=-1), "salt", "from 0 to 4294967295"),
    (lambda: ServiceChat("u").add_privilege(2**16, 1), "privilege", "from 0 to 65535 (got 65536)"),
    (lambda: ServiceChat("u").add_privilege(-1, 1), "privilege", "from 0 to 65535 (got -1)"),
    (lambda: ServiceChat("u").add_privilege(1, 2**32), "expire", "from 0 to 4294967295"),
    (lambda: ServiceApaas("r", "u", 2**15), "role", "from -32768 to 32767 (got 32768)"),
    (lambda: ServiceApaas("r", "u", -(2**15) - 1), "role", "from -32768 to 32767"),
    (lambda: ServiceRtc("c", 2**32), "uid", "from 0 to 4294967295 (got 4294967296)"),
    (lambda: ServiceRtc("c", -1), "uid", "from 0 to 4294967295 (got -1)"),
    (lambda: ServiceRtm2.Permissions().add(70000, 0, []), "resource_type", "from 0 to 65535"),
    (lambda: ServiceRtm2.Permissions().add(0, -1, []), "permission_type", "from 0 to 65535"),
    (lambda: RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "c", 1, 1, 600, -1), "expire", "from 0 to 4294967295"),
    (lambda: ChatTokenBuilder.build_user_token(APP_ID, CERT, "u", 2**32), "expire", "from 0 to 4294967295"),
    (lambda: build_tokens([], threads=0), "threads", "from 1 to 256 (got 0)"),
]


@pytest.mark.parametrize(("call", "parameter", "text"), INT_CASES)
def test_integer_ranges(call: Callable[[], Any], parameter: str, text: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        call()
    assert caught.value.parameter == parameter
    assert str(caught.value).startswith(f"{parameter} must be an integer from ")
    assert text in str(caught.value)


TYPE_CASES: list[tuple[Callable[[], Any], str]] = [
    (lambda: AccessToken2(APP_ID, CERT, expire="600"), "expire"),  # type: ignore[arg-type]
    (lambda: AccessToken2(APP_ID, CERT, expire=600.0), "expire"),  # type: ignore[arg-type]
    (lambda: AccessToken2(APP_ID, CERT, issue_ts=True), "issue_ts"),
    (lambda: AccessToken2(12345, CERT), "app_id"),  # type: ignore[arg-type]
    (lambda: AccessToken2(APP_ID, b"5CFd2fd1755d40ecb72977518be15d3b"), "app_certificate"),  # type: ignore[arg-type]
    (lambda: ServiceRtc(b"chan", 1), "channel_name"),  # type: ignore[arg-type]
    (lambda: ServiceRtc("chan", 1.5), "uid"),  # type: ignore[arg-type]
    (lambda: ServiceRtc("chan", None), "uid"),  # type: ignore[arg-type]
    (lambda: ServiceChat(None), "user_id"),  # type: ignore[arg-type]
    (lambda: ServiceApaas("r", "u", "1"), "role"),  # type: ignore[arg-type]
    (lambda: ServiceChat("u").add_privilege("1", 60), "privilege"),  # type: ignore[arg-type]
    (lambda: ServiceRtm2("u", ["not", "permissions"]), "permissions"),  # type: ignore[arg-type]
    (lambda: ServiceRtm2.Permissions().add(0, 0, "abc"), "resources"),
    (lambda: ServiceRtm2.Permissions().add(0, 0, [1, 2]), "resources"),  # type: ignore[list-item]
    (lambda: AccessToken2(APP_ID, CERT).add_service("rtc"), "service"),  # type: ignore[arg-type]
    (lambda: AccessToken2.parse(b"007abc"), "token"),  # type: ignore[arg-type]
    (lambda: AccessToken2.parse(None), "token"),  # type: ignore[arg-type]
    (lambda: AccessToken2().verify(None), "app_certificate"),  # type: ignore[arg-type]
    (lambda: build_tokens(["007abc"]), "tokens"),  # type: ignore[list-item]
]


@pytest.mark.parametrize(("call", "parameter"), TYPE_CASES)
def test_wrong_types(call: Callable[[], Any], parameter: str) -> None:
    with pytest.raises(ParameterTypeError) as caught:
        call()
    assert isinstance(caught.value, TypeError)
    assert caught.value.parameter == parameter
    assert str(caught.value).startswith(parameter.split("[")[0])


def test_string_length_limit() -> None:
    assert ServiceRtc("x" * 65535, 1).channel_name == "x" * 65535
    with pytest.raises(InvalidParameterError, match=r"channel_name is 65536 UTF-8 bytes long; at most 65535"):
        ServiceRtc("x" * 65536, 1)
    with pytest.raises(InvalidParameterError, match=r"user_id is 65536 UTF-8 bytes long"):
        ServiceChat("\u00e9" * 32768)
    with pytest.raises(InvalidParameterError, match="user_id cannot be encoded as UTF-8"):
        ServiceChat("\ud800")
    with pytest.raises(InvalidParameterError, match="resources is 70000 UTF-8 bytes long"):
        ServiceRtm2.Permissions().add(0, 0, ["y" * 70000])


def test_content_cap_on_build() -> None:
    token = AccessToken2(APP_ID, CERT, expire=600)
    token.add_service(ServiceRtc("x" * 40000, "y" * 30000))
    with pytest.raises(InvalidParameterError, match="at most 65536 are allowed") as caught:
        token.build()
    assert caught.value.parameter == "services"


def test_absolute_timestamp_warns() -> None:
    with pytest.warns(UserWarning, match="looks like an absolute Unix timestamp"):
        AccessToken2(APP_ID, CERT, expire=1_700_000_000)
    with pytest.warns(UserWarning, match="seconds counted from the issue time"):
        ServiceChat("u").add_privilege(1, 1_700_000_000)
    with pytest.warns(UserWarning, match="over 24 hours"):
        ServiceChat("u").add_privilege(1, 10 * 365 * 24 * 3600)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AccessToken2(APP_ID, CERT, expire=86400)
        ServiceChat("u").add_privilege(1, 86400)


def test_build_never_returns_empty() -> None:
    for certificate in ("", "0" * 31, "g" * 32):
        token = AccessToken2(APP_ID, certificate)
        token.add_service(ServiceChat("u"))
        with pytest.raises(InvalidParameterError):
            token.build()


def test_counts_over_u16_are_refused_not_struct_errors() -> None:
    service = ServiceChat("u")
    for privilege in range(65536):
        service.add_privilege(privilege, 1)
    token = AccessToken2(APP_ID, CERT, expire=600)
    token.add_service(service)
    with pytest.raises(InvalidParameterError, match="privileges holds 65536 entries; at most 65535") as caught:
        token.build()
    assert caught.value.parameter == "privileges"

    permissions = ServiceRtm2.Permissions()
    for resource_type in range(65536):
        permissions.add(resource_type, 0, [])
    token = AccessToken2(APP_ID, CERT, expire=600)
    token.add_service(ServiceRtm2("u", permissions))
    with pytest.raises(InvalidParameterError, match="permissions holds 65536 entries"):
        token.build()

    token = AccessToken2(APP_ID, CERT, expire=600)
    for _ in range(65536):
        token.add_service(ServiceFpa())
    with pytest.raises(InvalidParameterError, match="the token holds 65536 services; at most 65535"):
        token.build()
