"""The token server against hostile clients, in process: URL decoding, bodies, errors in JSON, HEAD,
CORS preflights, bounded /inspect answers, escaped log lines and startup refusals."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from accesstoken2 import AccessToken2, ServiceChat, ServiceRtc  # noqa: E402
from accesstoken2.server import ConfigurationError, Settings, create_app, serve  # noqa: E402
from accesstoken2.server.guard import escape  # noqa: E402
from accesstoken2.server.inspection import MAX_ANSWER_BYTES, bound_answer  # noqa: E402

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
API_KEY = "hardening-user-key-0123"
ENV = {"AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT}


class Client:
    """httpx over the ASGI app, driven synchronously (no network)."""

    def __init__(self, **overrides: Any) -> None:
        self._loop = asyncio.new_event_loop()
        app = create_app(Settings(app_id=APP_ID, app_certificate=CERT, **overrides))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def raw_path(self, method: str, raw_path: bytes, **kwargs: Any) -> Any:
        """A request whose target is sent exactly as given (no normalisation by httpx)."""
        url = httpx.URL("http://testserver/").copy_with(raw_path=raw_path)
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


@pytest.fixture
def client() -> Iterator[Client]:
    made = Client()
    yield made
    made.close()


def detail(response: Any) -> str:
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    # every error body: the detail, and one human-readable message beside it
    assert set(body) - {"problems"} == {"detail", "message"} and isinstance(body["message"], str)
    return str(body["detail"])


# ---------------------------------------------------------------- strict percent-decoding


@pytest.mark.parametrize(
    ("raw_path", "name"),
    [
        (b"/v1/token?channel_name=%ED%A0%80", "query parameter channel_name"),
        (b"/v1/token?channel_name=ok&expire=%FF", "query parameter expire"),
        (b"/v1/token?%FF=1", "query parameter name"),
        (b"/chat/user/%FF%FE/token", "path parameter user_id"),
        (b"/chat/user/%C0%AF/token", "path parameter user_id"),
        (b"/nothing/%FF", "path segment 2"),
    ],
)
def test_bad_percent_encoding_is_400_naming_the_parameter(client: Client, raw_path: bytes, name: str) -> None:
    response = client.raw_path("GET", raw_path)
    assert response.status_code == 400
    text = detail(response)
    assert name in text and "UTF-8" in text


@pytest.mark.default_kernel
def test_good_percent_encoding_still_works(client: Client) -> None:
    response = client.raw_path("GET", b"/chat/user/%C3%A9l%C3%A8ve/token?expire=60")
    assert response.status_code == 200
    service = AccessToken2.parse(response.json()["token"]).services[0]
    assert isinstance(service, ServiceChat) and service.user_id == "\u00e9l\u00e8ve"
    spaced = client.raw_path("GET", b"/v1/token?channel_name=a+b%20c")
    rtc = AccessToken2.parse(spaced.json()["token"]).services[0]
    assert isinstance(rtc, ServiceRtc) and rtc.channel_name == "a b c"


# ---------------------------------------------------------------- bodies


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (b'{"tokenType": "rtc", "channel": "\xff\xfe"}', "not valid UTF-8"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b'{"tokenType": "rtc", "channel": "c", "uid": ' + b"7" * 5000 + b"}", "at most 40 are allowed"),
        (b'{"tokenType": "rtc", "channel": "c", "uid": 1, "expire": 1' + b"0" * 400 + b".5}", "at most 40"),
        (b'{"tokenType": "rtc", "expire": Infinity}', "not valid JSON"),
    ],
)
def test_unparsable_bodies_are_json_4xx(client: Client, content: bytes, phrase: str) -> None:
    response = client.request("POST", "/getToken", content=content, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert phrase in detail(response)
    assert "7777777777" not in response.text


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_validation_errors_never_echo_the_body(client: Client, content_type: str | None) -> None:
    secretish = "Z" * 5000
    headers = {"content-type": content_type} if content_type else {}
    for body in (
        {"tokenType": secretish},
        {"tokenType": "rtc", "channel": "c", "uid": [secretish]},
        {secretish: 1, "tokenType": "rtc", "channel": "c", "uid": 1, "role": secretish},
    ):
        response = client.request("POST", "/getToken", content=json.dumps(body).encode(), headers=headers)
        assert response.status_code == 422
        assert isinstance(response.json()["detail"], list)
        assert "Z" * 100 not in response.text
        assert len(response.content) < 4096
    inspected = client.request("POST", "/inspect", content=json.dumps({"token": "007", secretish: 1}).encode())
    assert inspected.status_code == 422 and "Z" * 100 not in inspected.text


def test_query_validation_errors_never_echo_the_input(client: Client) -> None:
    for expire in ("9" * 3000, "x" * 3000):
        response = client.request("GET", "/v1/token", params={"channel_name": "c", "expire": expire})
        assert response.status_code in (400, 422)
        assert expire[:50] not in response.text


def test_body_over_the_cap_is_413_before_authentication() -> None:
    client = Client(api_key=API_KEY)
    try:
        big = b"{" + b" " * (200 * 1024) + b"}"
        response = client.request("POST", "/getToken", content=big)
        assert response.status_code == 413 and "larger than" in detail(response)
        unauthenticated = client.request("POST", "/getToken", content=b"\xff not json")
        assert unauthenticated.status_code == 401
        authenticated = client.request(
            "POST", "/getToken", content=b"\xff not json", headers={"Authorization": f"Bearer {API_KEY}"}
        )
        assert authenticated.status_code == 422
    finally:
        client.close()


@pytest.mark.parametrize(
    "path", ["/v1/token", "/v1/token?expire=soon", "/chat/user/u/token?expire=" + "9" * 100, "/chat/app/token"]
)
def test_authentication_comes_before_query_parsing(path: str) -> None:
    client = Client(api_key=API_KEY)
    try:
        response = client.request("GET", path)
        assert response.status_code == 401 and "Authorization" in detail(response)
        assert client.request("GET", path, headers={"Authorization": f"Bearer {API_KEY}"}).status_code != 401
    finally:
        client.close()


# ---------------------------------------------------------------- HEAD, CORS


@pytest.mark.default_kernel
@pytest.mark.parametrize("path", ["/ping", "/healthz", "/v1/token?channel_name=c", "/chat/user/u/token"])
def test_head_works_wherever_get_does(client: Client, path: str) -> None:
    got = client.request("GET", path)
    head = client.request("HEAD", path)
    assert got.status_code == head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]


def test_refused_cors_preflight_is_json() -> None:
    client = Client(cors_origins=("https://app.example",))
    try:
        refused = client.request(
            "OPTIONS", "/getToken", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert refused.status_code == 400
        assert "CORS preflight refused" in detail(refused)
        accepted = client.request(
            "OPTIONS", "/getToken", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
        )
        assert accepted.status_code == 200
    finally:
        client.close()


# ---------------------------------------------------------------- bounded /inspect


def many_service_token(count: int = 10_000) -> str:
    token = AccessToken2(APP_ID, CERT, expire=600)
    for _ in range(count):
        token.add_service(ServiceChat())
    return token.build()


@pytest.mark.default_kernel
def test_inspect_answer_is_bounded(client: Client) -> None:
    token = many_service_token()
    assert len(token) < 400
    response = client.request("POST", "/inspect", json={"token": token})
    assert response.status_code == 200
    assert len(response.content) <= MAX_ANSWER_BYTES
    answer = response.json()
    assert answer["signature_valid"] is True
    codes = [finding["code"] for finding in answer["findings"]]
    assert len(codes) == len(set(codes))  # repeated findings folded
    assert len(codes) <= 50
    # the 10,000 alike services are told once: folded here with a count, or summarised by the library
    assert any(finding.get("count", 1) >= 10_000 or finding["code"] == "oversized" for finding in answer["findings"])
    info = answer["info"]
    listed = info.get("services", [])
    omitted = info.get("services_omitted", 0) + sum(info.get("omitted_services", {}).values())
    assert len(listed) + omitted == 10_000


def test_bound_answer_folds_cuts_and_shortens() -> None:
    finding = {"severity": "warning", "code": "x", "message": "m", "detail": {}}
    service = {"type": 1, "name": "RTC", "fields": {"channel_name": "c" * 60_000}, "privileges": [{"id": 1}] * 100}
    answer = {
        "info": {"version": "007", "services": [service] * 100},
        "signature_valid": None,
        "findings": [finding] * 500,
    }
    data = bound_answer(answer)
    assert len(data) <= MAX_ANSWER_BYTES
    bounded = json.loads(data)
    assert bounded["findings"] == [{**finding, "count": 500}]
    assert bounded["info"]["services_omitted"] == 68
    assert bounded["info"]["services"][0]["privileges_omitted"] == 68
    assert bounded["info"]["services"][0]["fields"]["channel_name"].endswith("(+59488 chars)")
    small = {"info": None, "signature_valid": True, "findings": [finding]}
    assert json.loads(bound_answer(small)) == small


# ---------------------------------------------------------------- logs


@pytest.mark.default_kernel
def test_log_lines_escape_client_values(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="accesstoken2.server"):
        client.raw_path("GET", b"/ping%0D%0AFAKE%20GET%20/admin%20200%00%1B[31m")
        client.raw_path("GET", b"/chat/user/" + b"%E2%80%AE" * 3 + b"x/token")
    lines = [record.getMessage() for record in caplog.records if record.name == "accesstoken2.server"]
    assert len(lines) == 2
    for line in lines:
        assert all(0x20 <= ord(char) < 0x7F for char in line), line
    assert "\\x0d\\x0aFAKE GET /admin 200\\x00\\x1b[31m 404" in lines[0]
    assert "\\u202e" in lines[1]


def test_escape() -> None:
    assert escape("/plain/path") == "/plain/path"
    assert escape("a\\b\n\u00e9\U0001f600") == "a\\\\b\\x0a\\xe9\\U0001f600"
    assert escape("x" * 300) == "x" * 200 + "...(+100 chars)"


# ---------------------------------------------------------------- startup refusals


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"ACCESSTOKEN2_MAX_EXPIRE": "9" * 5000}, "ACCESSTOKEN2_MAX_EXPIRE"),
        ({"ACCESSTOKEN2_DEFAULT_EXPIRE": "1" * 5000}, "ACCESSTOKEN2_DEFAULT_EXPIRE"),
        ({"ACCESSTOKEN2_BODY_TIMEOUT": "9" * 5000}, "ACCESSTOKEN2_BODY_TIMEOUT"),
        ({"ACCESSTOKEN2_MAX_CONNECTIONS": "0"}, "ACCESSTOKEN2_MAX_CONNECTIONS"),
        ({"ACCESSTOKEN2_INSPECT_CONCURRENCY": "1e3"}, "ACCESSTOKEN2_INSPECT_CONCURRENCY"),
        ({"ACCESSTOKEN2_PUBLIC_CHAT_APP_TOKEN": "maybe"}, "ACCESSTOKEN2_PUBLIC_CHAT_APP_TOKEN"),
        ({"ACCESSTOKEN2_ADMIN_API_KEY": "k" * 5000 + "\n"}, "ACCESSTOKEN2_ADMIN_API_KEY"),
        ({"ACCESSTOKEN2_API_KEY": API_KEY, "ACCESSTOKEN2_ADMIN_API_KEY": API_KEY}, "ACCESSTOKEN2_ADMIN_API_KEY"),
        ({"ACCESSTOKEN2_CORS_ORIGINS": "x" * 5000}, "ACCESSTOKEN2_CORS_ORIGINS"),
        ({"AGORA_APP_ID": "f" * 5000}, "AGORA_APP_ID"),
    ],
)
def test_every_bad_setting_is_one_short_line(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], name: str) -> None:
    for variable, value in {**ENV, **env}.items():
        monkeypatch.setenv(variable, value)
    stream = io.StringIO()
    assert serve(port=0, stderr=stream) == 2
    output = stream.getvalue()
    assert output.count("\n") == 1 and output.startswith(f"accesstoken2 serve: {name}")
    assert len(output) < 300
    assert API_KEY not in output


@pytest.mark.parametrize("certificate", [APP_ID, APP_ID.lower(), APP_ID.upper()])
def test_app_id_equal_to_certificate_is_refused_without_echo(certificate: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({"AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": certificate})
    assert caught.value.parameter == "AGORA_APP_CERTIFICATE"
    assert APP_ID.lower() not in str(caught.value).lower()
    with pytest.raises(ConfigurationError):
        Settings(app_id=APP_ID, app_certificate=certificate)


@pytest.mark.parametrize(("option", "value"), [("port", "9" * 5000), ("workers", "0"), ("port", "-1"), ("host", "")])
def test_bad_serve_arguments_are_one_short_line(monkeypatch: pytest.MonkeyPatch, option: str, value: str) -> None:
    for variable, setting in ENV.items():
        monkeypatch.setenv(variable, setting)
    stream = io.StringIO()
    assert serve(stderr=stream, **{option: value}) == 2
    output = stream.getvalue()
    assert output.count("\n") == 1 and f"--{option} must be" in output and len(output) < 200


def test_depth_limit_counts_brackets_outside_strings_only() -> None:
    from fastapi import HTTPException

    from accesstoken2.server.body import MAX_DEPTH, parse_json

    inside_string = b'{"channel": "' + b"[" * 500 + b'\\"' + b"{" * 500 + b'"}'
    assert parse_json(inside_string) == {"channel": "[" * 500 + '"' + "{" * 500}
    assert parse_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    with pytest.raises(HTTPException) as raised:
        parse_json(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert raised.value.status_code == 422 and "nested too deeply" in str(raised.value.detail)


# ---------------------------------------------------------------- one human-readable message


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "phrase"),
    [
        ("POST", "/getToken", {"json": {"tokenType": "sip", "uid": 5}}, 422, "body.tokenType"),
        ("POST", "/getToken", {"json": {"tokenType": "rtc", "channel": 7, "expire": "x"}}, 422, "body.channel"),
        ("POST", "/inspect", {"json": {}}, 422, "body.token"),
        ("GET", "/v1/token?channel_name=c&expire=soon", {}, 422, "expire must be a whole number"),
        ("POST", "/getToken", {"content": b"{"}, 422, "not valid JSON"),
        ("GET", "/nothing", {}, 404, "Not Found"),
        ("PUT", "/getToken", {}, 405, "Method Not Allowed"),
        ("POST", "/getToken", {"json": {"tokenType": "rtc", "channel": "c"}}, 400, "uid is required"),
    ],
)
def test_every_error_body_has_one_message(
    client: Client, method: str, path: str, kwargs: dict[str, Any], status: int, phrase: str
) -> None:
    """Whatever ``detail`` is (a text, or a list of validation errors), ``message`` is one string."""
    response = client.request(method, path, **kwargs)
    assert response.status_code == status
    body = response.json()
    assert isinstance(body["message"], str) and phrase in body["message"], body
    if isinstance(body["detail"], list):
        assert body["detail"][0]["msg"] in body["message"]
    else:
        assert body["message"] == body["detail"]
