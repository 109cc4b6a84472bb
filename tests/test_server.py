"""The token server, in process: every endpoint, every error path, the settings and the Chat app token cache."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as settings_
from hypothesis import strategies as st

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from accesstoken2 import AccessToken2, ServiceChat, ServiceRtc, ServiceRtm, ServiceType  # noqa: E402
from accesstoken2.server import ConfigurationError, Settings, create_app, serve  # noqa: E402
from accesstoken2.server.app import MAX_BODY_BYTES  # noqa: E402

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
OTHER_CERT = "0123456789abcdef0123456789abcdef"
API_KEY = "k" * 12 + "-test-key-2026"
ADMIN_KEY = "a" * 12 + "-admin-key-2026"
NOW = 1_700_000_000

ENV = {"AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT}
SERVER_ENV_NAMES = (
    "AGORA_APP_ID",
    "AGORA_APP_CERTIFICATE",
    "ACCESSTOKEN2_DEFAULT_EXPIRE",
    "ACCESSTOKEN2_MAX_EXPIRE",
    "ACCESSTOKEN2_CORS_ORIGINS",
    "ACCESSTOKEN2_API_KEY",
)


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Client:
    """A synchronous face on httpx.AsyncClient over the ASGI app (no network)."""

    def __init__(self, app: Any, raise_app_exceptions: bool = True) -> None:
        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def gather(self, calls: list[Callable[[], Any]]) -> list[Any]:
        async def run() -> list[Any]:
            return list(await asyncio.gather(*(call() for call in calls)))

        return self._loop.run_until_complete(run())

    @property
    def raw(self) -> Any:
        return self._client

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"app_id": APP_ID, "app_certificate": CERT}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[Callable[..., Client]]:
    clients: list[Client] = []

    def make(raise_app_exceptions: bool = True, **overrides: Any) -> Client:
        client = Client(create_app(settings(**overrides), clock=clock), raise_app_exceptions)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    return make_client()


@pytest.fixture
def lenient_client(make_client: Callable[..., Client]) -> Client:
    """A client that turns an exception escaping the app into a 500 answer instead of raising."""
    return make_client(raise_app_exceptions=False)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in SERVER_ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def parse_verified(token: str) -> AccessToken2:
    parsed = AccessToken2.parse(token)
    assert parsed.verify(CERT)
    assert not parsed.verify(OTHER_CERT)
    assert parsed.app_id == APP_ID
    return parsed


def only_service(parsed: AccessToken2, kind: int) -> Any:
    assert [service.kServiceType for service in parsed.services] == [kind]
    return parsed.services[0]


def detail(response: Any) -> str:
    body = response.json()
    # every error body: the detail, and one human-readable message beside it
    assert set(body) - {"problems"} == {"detail", "message"} and isinstance(body["message"], str)
    return str(body["detail"])


# ---------------------------------------------------------------- settings


def test_settings_from_env_defaults() -> None:
    loaded = Settings.from_env(ENV)
    assert loaded.app_id == APP_ID and loaded.app_certificate == CERT
    assert (loaded.default_expire, loaded.max_expire) == (3600, 86400)
    assert loaded.cors_origins == () and loaded.api_key is None


def test_settings_from_env_all_values() -> None:
    loaded = Settings.from_env(
        {
            **ENV,
            "ACCESSTOKEN2_DEFAULT_EXPIRE": "600",
            "ACCESSTOKEN2_MAX_EXPIRE": "7200",
            "ACCESSTOKEN2_CORS_ORIGINS": " https://a.example , http://localhost:3000,, ",
            "ACCESSTOKEN2_API_KEY": API_KEY,
        }
    )
    assert (loaded.default_expire, loaded.max_expire) == (600, 7200)
    assert loaded.cors_origins == ("https://a.example", "http://localhost:3000")
    assert loaded.api_key == API_KEY


def test_settings_repr_hides_secrets() -> None:
    text = repr(settings(api_key=API_KEY))
    assert APP_ID in text
    assert CERT not in text and API_KEY not in text


@pytest.mark.parametrize("missing", ["AGORA_APP_ID", "AGORA_APP_CERTIFICATE"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_settings_missing_credentials(missing: str, value: str | None) -> None:
    env = dict(ENV)
    if value is None:
        del env[missing]
    else:
        env[missing] = value
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(env)
    assert caught.value.parameter == missing
    assert f"{missing} is not set" in str(caught.value)


@pytest.mark.parametrize("name", ["AGORA_APP_ID", "AGORA_APP_CERTIFICATE"])
@pytest.mark.parametrize("bad", [CERT[:31], CERT + "0", "g" + CERT[1:]])
def test_settings_malformed_credentials_never_echoed(name: str, bad: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({**ENV, name: bad})
    message = str(caught.value)
    assert caught.value.parameter == name
    assert "32 hexadecimal characters" in message
    assert bad not in message and CERT not in message


@pytest.mark.parametrize(
    ("overrides", "name", "phrase"),
    [
        ({"ACCESSTOKEN2_DEFAULT_EXPIRE": "1h"}, "ACCESSTOKEN2_DEFAULT_EXPIRE", "whole number of seconds"),
        ({"ACCESSTOKEN2_DEFAULT_EXPIRE": "-5"}, "ACCESSTOKEN2_DEFAULT_EXPIRE", "whole number of seconds"),
        ({"ACCESSTOKEN2_DEFAULT_EXPIRE": "0"}, "ACCESSTOKEN2_DEFAULT_EXPIRE", "from 1 to 86400"),
        ({"ACCESSTOKEN2_MAX_EXPIRE": "86401"}, "ACCESSTOKEN2_MAX_EXPIRE", "from 1 to 86400"),
        (
            {"ACCESSTOKEN2_DEFAULT_EXPIRE": "7200", "ACCESSTOKEN2_MAX_EXPIRE": "3600"},
            "ACCESSTOKEN2_DEFAULT_EXPIRE",
            "must not exceed ACCESSTOKEN2_MAX_EXPIRE",
        ),
        ({"ACCESSTOKEN2_CORS_ORIGINS": "example.com"}, "ACCESSTOKEN2_CORS_ORIGINS", "http:// or https://"),
        ({"ACCESSTOKEN2_API_KEY": "short"}, "ACCESSTOKEN2_API_KEY", "at least 16 characters"),
        ({"ACCESSTOKEN2_API_KEY": "x" * 16 + "\u00e9"}, "ACCESSTOKEN2_API_KEY", "printable ASCII"),
    ],
)
def test_settings_malformed_values(overrides: dict[str, str], name: str, phrase: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({**ENV, **overrides})
    assert caught.value.parameter == name
    assert phrase in str(caught.value)
    assert "\n" not in str(caught.value)


def test_settings_direct_construction_is_checked() -> None:
    with pytest.raises(ConfigurationError) as caught:
        settings(default_expire=100_000)
    assert caught.value.parameter == "default_expire"
    with pytest.raises(ConfigurationError):
        settings(app_certificate="nope")
    with pytest.raises(ConfigurationError):
        settings(api_key="")


def test_create_app_refuses_without_configuration(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="AGORA_APP_ID is not set"):
        create_app()
    clean_env.setenv("AGORA_APP_ID", APP_ID)
    clean_env.setenv("AGORA_APP_CERTIFICATE", "z" * 32)
    with pytest.raises(ConfigurationError, match="AGORA_APP_CERTIFICATE must be 32 hexadecimal"):
        create_app()


@pytest.mark.default_kernel
def test_create_app_reads_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("AGORA_APP_ID", APP_ID)
    clean_env.setenv("AGORA_APP_CERTIFICATE", CERT)
    client = Client(create_app())
    try:
        token = client.post("/getToken", json={"tokenType": "rtm", "uid": "alice"}).json()["token"]
    finally:
        client.close()
    assert only_service(parse_verified(token), ServiceType.RTM).user_id == "alice"


@pytest.mark.parametrize(
    ("env", "phrase"),
    [
        ({}, "AGORA_APP_ID is not set"),
        ({"AGORA_APP_ID": APP_ID}, "AGORA_APP_CERTIFICATE is not set"),
        ({"AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT[:-1] + "q"}, "AGORA_APP_CERTIFICATE must be"),
        ({**ENV, "ACCESSTOKEN2_MAX_EXPIRE": "lots"}, "ACCESSTOKEN2_MAX_EXPIRE must be"),
    ],
)
def test_serve_refuses_to_start_with_one_line(clean_env: pytest.MonkeyPatch, env: dict[str, str], phrase: str) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    stream = io.StringIO()
    assert serve(port=1, stderr=stream) == 2
    output = stream.getvalue()
    assert output.startswith("accesstoken2 serve: ") and phrase in output
    assert output.count("\n") == 1
    assert CERT not in output and CERT[:-1] not in output


@pytest.mark.parametrize(("kwargs", "phrase"), [({"workers": 0}, "workers"), ({"port": 70000}, "port")])
def test_serve_refuses_bad_arguments(clean_env: pytest.MonkeyPatch, kwargs: dict[str, int], phrase: str) -> None:
    for name, value in ENV.items():
        clean_env.setenv(name, value)
    stream = io.StringIO()
    assert serve(stderr=stream, **kwargs) == 2
    assert phrase in stream.getvalue()


def test_serve_without_the_extra(clean_env: pytest.MonkeyPatch) -> None:
    from accesstoken2.server import runner

    for name, value in ENV.items():
        clean_env.setenv(name, value)
    real = runner.importlib.util.find_spec
    clean_env.setattr(runner.importlib.util, "find_spec", lambda name: None if name == "uvicorn" else real(name))
    stream = io.StringIO()
    assert serve(stderr=stream) == 2
    assert "uvicorn is not installed" in stream.getvalue() and "accesstoken2[server]" in stream.getvalue()


# ---------------------------------------------------------------- health and documents


def test_ping(client: Client) -> None:
    response = client.get("/ping")
    assert response.status_code == 200
    assert response.json() == {"message": "pong"}


@pytest.mark.default_kernel
def test_healthz(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["cache-control"] == "no-store"


def test_openapi_document(client: Client) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert set(document["paths"]) >= {
        "/ping",
        "/healthz",
        "/getToken",
        "/v1/token",
        "/chat/app/token",
        "/chat/user/{user_id}/token",
        "/inspect",
    }
    body = document["paths"]["/getToken"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert document["paths"]["/inspect"]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "required"
    ] == ["token"]
    assert set(body["properties"]) == {
        "tokenType",
        "channel",
        "role",
        "uid",
        "expire",
    }


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nothing/here"), ("GET", "/chat/user//token"), ("POST", "/v2/x")]
)
def test_unknown_path_is_json_404(client: Client, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 404
    assert detail(response) == "Not Found"


def test_wrong_method_is_json_405(client: Client) -> None:
    response = client.get("/getToken")
    assert response.status_code == 405
    assert "Not Allowed" in detail(response)


# ---------------------------------------------------------------- POST /getToken


@pytest.mark.parametrize(
    ("role", "privileges"),
    [("publisher", {1, 2, 3, 4}), ("subscriber", {1}), (None, {1})],
)
@pytest.mark.default_kernel
def test_get_token_rtc_roles(client: Client, clock: FakeClock, role: str | None, privileges: set) -> None:
    body: dict[str, Any] = {"tokenType": "rtc", "channel": "room-1", "uid": 42}
    if role is not None:
        body["role"] = role
    response = client.post("/getToken", json=body)
    assert response.status_code == 200
    assert response.json()["expires_at"] == NOW + 3600 and response.json()["expires_in"] == 3600
    assert set(response.json()) == {"token", "expires_at", "expires_in"}
    parsed = parse_verified(response.json()["token"])
    assert parsed.issue_ts == NOW and parsed.expire == 3600
    service = only_service(parsed, ServiceType.RTC)
    assert isinstance(service, ServiceRtc)
    assert (service.channel_name, service.uid) == ("room-1", "42")
    assert set(service.privileges) == privileges


@pytest.mark.parametrize(
    ("uid", "wire"), [(0, ""), ("0", ""), ("123", "123"), (4294967295, "4294967295"), ("bob", "bob")]
)
@pytest.mark.default_kernel
def test_get_token_rtc_uid_forms(client: Client, uid: Any, wire: str) -> None:
    response = client.post("/getToken", json={"tokenType": "rtc", "channel": "c", "uid": uid, "role": "publisher"})
    assert response.status_code == 200
    assert only_service(parse_verified(response.json()["token"]), ServiceType.RTC).uid == wire


@pytest.mark.default_kernel
def test_get_token_rtc_numeric_string_equals_number(client: Client) -> None:
    tokens = [
        AccessToken2.parse(
            client.post("/getToken", json={"tokenType": "rtc", "channel": "c", "uid": uid}).json()["token"]
        )
        for uid in (77, "77")
    ]
    assert tokens[0].services == tokens[1].services


@pytest.mark.default_kernel
def test_get_token_expire(client: Client) -> None:
    body = {"tokenType": "rtc", "channel": "c", "uid": 1, "role": "publisher", "expire": 600}
    parsed = parse_verified(client.post("/getToken", json=body).json()["token"])
    assert parsed.expire == 600
    max_body = {**body, "expire": 86400}
    assert AccessToken2.parse(client.post("/getToken", json=max_body).json()["token"]).expire == 86400


@pytest.mark.default_kernel
def test_get_token_default_expire_from_settings(make_client: Callable[..., Client]) -> None:
    client = make_client(default_expire=900, max_expire=1800)
    parsed = AccessToken2.parse(client.post("/getToken", json={"tokenType": "rtm", "uid": "u"}).json()["token"])
    assert parsed.expire == 900
    too_long = client.post("/getToken", json={"tokenType": "rtm", "uid": "u", "expire": 1801})
    assert too_long.status_code == 400
    assert detail(too_long) == "expire must be an integer from 1 to 1800 (got 1801)"


@pytest.mark.default_kernel
def test_get_token_rtm(client: Client) -> None:
    for uid, user in (("alice", "alice"), (42, "42")):
        response = client.post("/getToken", json={"tokenType": "rtm", "uid": uid})
        assert response.status_code == 200
        service = only_service(parse_verified(response.json()["token"]), ServiceType.RTM)
        assert isinstance(service, ServiceRtm)
        assert service.user_id == user
        assert dict(service.privileges) == {1: 3600}


@pytest.mark.default_kernel
def test_get_token_rtm_with_channel_adds_the_stream_channel(client: Client) -> None:
    response = client.post("/getToken", json={"tokenType": "rtm", "uid": "ann", "channel": "stream-1", "expire": 600})
    assert response.status_code == 200
    parsed = parse_verified(response.json()["token"])
    assert parsed.expire == 600
    assert sorted(service.kServiceType for service in parsed.services) == [ServiceType.RTC, ServiceType.RTM]
    rtc, rtm = sorted(parsed.services, key=lambda service: service.kServiceType)
    assert isinstance(rtc, ServiceRtc)
    assert (rtc.channel_name, rtc.uid) == ("stream-1", "ann")
    assert dict(rtc.privileges) == {ServiceRtc.kPrivilegeJoinChannel: 600, ServiceRtc.kPrivilegePublishDataStream: 600}
    assert isinstance(rtm, ServiceRtm) and rtm.user_id == "ann" and dict(rtm.privileges) == {1: 600}


@pytest.mark.default_kernel
@pytest.mark.parametrize("expire", [0, None])
def test_get_token_expire_zero_or_absent_is_the_default(make_client: Callable[..., Client], expire: Any) -> None:
    client = make_client(default_expire=1200)
    body: dict[str, Any] = {"tokenType": "rtc", "channel": "c", "uid": 5}
    if expire is not None:
        body["expire"] = expire
    answer = client.post("/getToken", json=body).json()
    assert parse_verified(answer["token"]).expire == 1200
    assert (answer["expires_at"], answer["expires_in"]) == (NOW + 1200, 1200)


@pytest.mark.default_kernel
def test_get_token_chat_user_and_app(make_client: Callable[..., Client]) -> None:
    client = make_client(public_chat_app_token=True)
    user = client.post("/getToken", json={"tokenType": "chat", "uid": "carol", "expire": 120})
    service = only_service(parse_verified(user.json()["token"]), ServiceType.CHAT)
    assert isinstance(service, ServiceChat)
    assert (service.user_id, dict(service.privileges)) == ("carol", {ServiceChat.kPrivilegeUser: 120})
    for body in ({"tokenType": "chat"}, {"tokenType": "chat", "uid": ""}):
        app = client.post("/getToken", json=body)
        assert app.status_code == 200
        service = only_service(parse_verified(app.json()["token"]), ServiceType.CHAT)
        assert (service.user_id, dict(service.privileges)) == ("", {ServiceChat.kPrivilegeApp: 3600})


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        ({"tokenType": "rtc", "uid": 1}, "channel is required"),
        ({"tokenType": "rtc", "channel": "", "uid": 1}, "channel is required"),
        ({"tokenType": "rtc", "channel": "c"}, "uid is required"),
        ({"tokenType": "rtc", "channel": "c", "uid": ""}, "uid is required"),
        ({"tokenType": "rtc", "channel": "c", "uid": 4294967296}, "uid must be an integer from 0 to 4294967295"),
        ({"tokenType": "rtc", "channel": "c", "uid": "4294967296"}, "uid must be an integer from 0 to 4294967295"),
        ({"tokenType": "rtc", "channel": "c", "uid": -1}, "uid must be an integer from 0 to 4294967295"),
        ({"tokenType": "rtc", "channel": "c", "uid": "9" * 5000}, "uid must be an integer from 0 to 4294967295"),
        ({"tokenType": "rtc", "channel": "c", "uid": "0" * 30 + "4294967296"}, "uid must be an integer from 0"),
        ({"tokenType": "rtc", "channel": "c" * 65536, "uid": 1}, "a channel name is 65536 bytes; Agora allows"),
        ({"tokenType": "rtc", "channel": "c", "uid": 1, "expire": -3}, "expire must be an integer from 1 to 86400"),
        ({"tokenType": "rtc", "channel": "c", "uid": 1, "expire": 86401}, "expire must be an integer from 1 to 86400"),
        ({"tokenType": "rtm"}, "uid is required"),
        ({"tokenType": "rtm", "uid": ""}, "uid is required"),
        ({"tokenType": "rtm", "uid": "u", "expire": -1}, "expire must be an integer from 1 to 86400"),
        ({"tokenType": "chat", "uid": "u", "expire": 10**12}, "expire must be an integer from 1 to 86400"),
    ],
)
@pytest.mark.default_kernel
def test_get_token_bad_values_are_400(client: Client, body: dict[str, Any], phrase: str) -> None:
    response = client.post("/getToken", json=body)
    assert response.status_code == 400
    assert phrase in detail(response)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"tokenType": "video"},
        {"tokenType": "RTC", "channel": "c", "uid": 1},
        {"tokenType": 1},
        {"tokenType": "rtc", "channel": 5, "uid": 1},
        {"tokenType": "rtc", "channel": "c", "uid": 1.5},
        {"tokenType": "rtc", "channel": "c", "uid": True},
        {"tokenType": "rtc", "channel": "c", "uid": [1]},
        {"tokenType": "rtc", "channel": "c", "uid": {"n": 1}},
        {"tokenType": "rtc", "channel": "c", "uid": 1, "role": "admin"},
        {"tokenType": "rtc", "channel": "c", "uid": 1, "role": 1},
        {"tokenType": "rtc", "channel": "c", "uid": 1, "expire": "3600"},
        {"tokenType": "rtc", "channel": "c", "uid": 1, "expire": 3600.0},
        {"tokenType": "rtc", "channel": "c", "uid": 1, "expire": False},
        [],
        "rtc",
        None,
        17,
    ],
)
def test_get_token_wrong_shapes_are_422(client: Client, body: Any) -> None:
    response = client.post("/getToken", json=body)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list) and response.json()["detail"]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"not json",
        b'{"tokenType": "rtc",}',
        b"\xff\xfe",
        b'{"tokenType": "rtc", "uid": NaN}',
        b'{"tokenType": "rtc", "expire": -Infinity}',
    ],
)
def test_get_token_invalid_json_is_422(client: Client, content: bytes) -> None:
    response = client.post("/getToken", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"]


@pytest.mark.parametrize("path", ["/getToken", "/inspect"])
@pytest.mark.parametrize(
    "content",
    [
        b'{"token": "007\\ud800"}',
        b'{"token": "007", "channel": "\\udfff"}',
        b'{"tokenType": "rtc", "channel": "c", "uid": "\\ud800"}',
        b'{"tokenType": "rtc", "channel": "\\ud800", "uid": 1}',
        b'{"tokenType": "\\ud800"}',
        b'{"tokenType": "rtc", "channel": "c", "uid": ' + b"7" * 5000 + b"}",
        b"[" * 50000,
    ],
)
@pytest.mark.default_kernel
def test_hostile_bodies_are_client_errors(make_client: Callable[..., Client], path: str, content: bytes) -> None:
    client = make_client(raise_app_exceptions=False)
    response = client.post(path, content=content, headers={"content-type": "application/json"})
    assert response.status_code in (400, 422)
    assert response.json()["detail"]


def test_oversized_body_is_413(client: Client) -> None:
    response = client.post(
        "/getToken", content=b"{" + b" " * MAX_BODY_BYTES + b"}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "larger than" in detail(response)


# ---------------------------------------------------------------- GET /v1/token


@pytest.mark.default_kernel
def test_sample_service_token(client: Client) -> None:
    response = client.get("/v1/token", params={"channel_name": "demo room"})
    assert response.status_code == 200
    parsed = parse_verified(response.json()["token"])
    service = only_service(parsed, ServiceType.RTC)
    assert (service.channel_name, service.uid) == ("demo room", "")
    assert set(service.privileges) == {1, 2, 3, 4}
    assert parsed.expire == 3600
    longer = client.get("/v1/token", params={"channel_name": "x", "expire": 7200})
    assert AccessToken2.parse(longer.json()["token"]).expire == 7200


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({}, 422),
        ({"channel_name": ""}, 400),
        ({"channel_name": "x", "expire": "soon"}, 422),
        ({"channel_name": "x", "expire": 86401}, 400),
    ],
)
def test_sample_service_errors(client: Client, query: dict[str, Any], status: int) -> None:
    response = client.get("/v1/token", params=query)
    assert response.status_code == status
    assert response.json()["detail"]


# ---------------------------------------------------------------- Chat token server


@pytest.mark.default_kernel
def test_chat_user_token(client: Client) -> None:
    response = client.get("/chat/user/dave%20smith/token", params={"expire": 300})
    assert response.status_code == 200
    body = response.json()
    assert (body["expires_in"], body["expires_at"]) == (300, NOW + 300)
    service = only_service(parse_verified(body["token"]), ServiceType.CHAT)
    assert (service.user_id, dict(service.privileges)) == ("dave smith", {ServiceChat.kPrivilegeUser: 300})


@pytest.mark.parametrize(
    ("query", "status"), [({"expire": 86401}, 400), ({"expire": 90000}, 400), ({"expire": "x"}, 422)]
)
def test_chat_user_token_errors(client: Client, query: dict[str, Any], status: int) -> None:
    response = client.get("/chat/user/eve/token", params=query)
    assert response.status_code == status
    assert response.json()["detail"]


@pytest.mark.default_kernel
def test_chat_app_token_is_cached_and_renewed_before_expiry(
    make_client: Callable[..., Client], clock: FakeClock
) -> None:
    client = make_client(public_chat_app_token=True)
    first = client.get("/chat/app/token").json()
    assert (first["expires_at"], first["expires_in"]) == (NOW + 3600, 3600)
    service = only_service(parse_verified(first["token"]), ServiceType.CHAT)
    assert dict(service.privileges) == {ServiceChat.kPrivilegeApp: 3600}

    clock.now = NOW + 3600 - 361  # 10 % of 3600 is the margin: still more than it left
    second = client.get("/chat/app/token").json()
    assert second["token"] == first["token"]
    assert second["expires_in"] == 361

    clock.now = NOW + 3600 - 360  # margin reached: renewed before the token expires
    third = client.get("/chat/app/token").json()
    assert third["token"] != first["token"]
    assert (third["expires_at"], third["expires_in"]) == (NOW + 3240 + 3600, 3600)
    assert AccessToken2.parse(third["token"]).issue_ts == NOW + 3240


@pytest.mark.default_kernel
def test_chat_app_token_concurrent_requests_build_once(make_client: Callable[..., Client]) -> None:
    client = make_client(admin_api_key=ADMIN_KEY)
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    responses = client.gather([lambda: client.raw.get("/chat/app/token", headers=admin) for _ in range(32)])
    assert {response.status_code for response in responses} == {200}
    assert len({response.json()["token"] for response in responses}) == 1


# ---------------------------------------------------------------- POST /inspect


def codes(body: dict[str, Any], severity: str | None = None) -> set[str]:
    return {finding["code"] for finding in body["findings"] if severity is None or finding["severity"] == severity}


@pytest.mark.default_kernel
def test_inspect_valid_token(client: Client) -> None:
    body = {"tokenType": "rtc", "channel": "c", "uid": 9, "role": "publisher", "expire": 600}
    token = client.post("/getToken", json=body).json()["token"]
    response = client.post("/inspect", json={"token": token, "channel": "c", "uid": 9})
    assert response.status_code == 200
    result = response.json()
    assert result["signature_valid"] is True
    info = result["info"]
    assert (info["version"], info["app_id"], info["issue_ts"], info["expire"]) == ("007", APP_ID, NOW, 600)
    assert [(service["type"], service["fields"]) for service in info["services"]] == [
        (1, {"channel_name": "c", "uid": "9"})
    ]
    assert "signature-ok" in codes(result) and not codes(result, "error")
    assert CERT not in response.text


@pytest.mark.default_kernel
def test_inspect_reports_mismatches(client: Client) -> None:
    token = client.post("/getToken", json={"tokenType": "rtc", "channel": "c", "uid": 9}).json()["token"]
    result = client.post("/inspect", json={"token": token, "channel": "other", "uid": "10"}).json()
    assert {"channel-mismatch", "uid-mismatch"} <= codes(result, "error")
    rtm = client.post("/getToken", json={"tokenType": "rtm", "uid": "ann"}).json()["token"]
    assert "user-id-mismatch" in codes(client.post("/inspect", json={"token": rtm, "user_id": "bob"}).json(), "error")


@pytest.mark.default_kernel
def test_inspect_foreign_token(client: Client) -> None:
    from accesstoken2 import RtmTokenBuilder

    token = RtmTokenBuilder.build_token(APP_ID, OTHER_CERT, "mallory", 600)
    result = client.post("/inspect", json={"token": token}).json()
    assert result["signature_valid"] is False
    assert "signature-mismatch" in codes(result, "error")
    other_app = RtmTokenBuilder.build_token(OTHER_CERT, CERT, "mallory", 600)
    assert "app-id-mismatch" in codes(client.post("/inspect", json={"token": other_app}).json(), "error")


@pytest.mark.default_kernel
def test_inspect_expired_token(client: Client, clock: FakeClock) -> None:
    token = client.post("/getToken", json={"tokenType": "rtm", "uid": "u", "expire": 60}).json()["token"]
    clock.now = NOW + 61
    result = client.post("/inspect", json={"token": token}).json()
    assert result["signature_valid"] is True
    assert result["info"]["seconds_left"] == -1
    assert "expired" in codes(result, "error")


@pytest.mark.default_kernel
def test_inspect_token_with_copy_paste_accident(client: Client) -> None:
    token = client.post("/getToken", json={"tokenType": "rtm", "uid": "u"}).json()["token"]
    response = client.post("/inspect", json={"token": f" {token}\n"})
    assert response.status_code == 200
    result = response.json()
    # the content is explained as diagnose read it (repaired), and the accident is an error finding
    assert result["info"]["services"][0]["type"] == 2 and result["signature_valid"] is True
    assert "surrounding-whitespace" in codes(result, "error")


@pytest.mark.default_kernel
def test_inspect_legacy_006_token(client: Client) -> None:
    from accesstoken2.legacy import access_token

    legacy = access_token.AccessToken(APP_ID, CERT, "c", "5")
    legacy.add_privilege(access_token.kJoinChannel, NOW + 600)
    result = client.post("/inspect", json={"token": legacy.build(), "channel": "c", "uid": "5"}).json()
    assert result["info"]["version"] == "006"
    assert result["signature_valid"] is True


@pytest.mark.parametrize(
    "token", ["", "007", "007!!!!", "006abc", "hello", "007eJxTYA==", "005" + "A" * 40, CERT + APP_ID]
)
@pytest.mark.default_kernel
def test_inspect_undecodable_token_answers_the_findings(client: Client, token: str) -> None:
    response = client.post("/inspect", json={"token": token})
    assert response.status_code == 200
    result = response.json()
    assert result["info"] is None and result["signature_valid"] is None
    assert codes(result, "error")
    assert CERT not in response.text


@pytest.mark.default_kernel
def test_inspect_explains_the_tokens_people_paste(client: Client) -> None:
    """Cut short, missing its '=', an App ID: the diagnose findings, not a parser message."""
    # a token's base64 ends with padding or not, as the random salt makes its deflated length: take one that does
    request = {"tokenType": "rtc", "channel": "c", "uid": 1}
    tokens = (client.post("/getToken", json=request).json()["token"] for _ in range(64))
    token = next((token for token in tokens if token.endswith("=")), "")
    assert token, "64 tokens and none ends with base64 padding"
    pastes = ((token[: len(token) // 2], "truncated"), (token.rstrip("="), "truncated"), (APP_ID, "malformed"))
    for pasted, code in pastes:
        result = client.post("/inspect", json={"token": pasted}).json()
        assert code in codes(result, "error"), (pasted, result)
        assert result["info"] is None


@pytest.mark.parametrize("body", [{}, {"token": 7}, {"token": "007x", "cert": CERT}, {"token": "007x", "uid": 1.5}])
def test_inspect_wrong_shapes_are_422(client: Client, body: dict[str, Any]) -> None:
    assert client.post("/inspect", json=body).status_code == 422


# ---------------------------------------------------------------- authentication

TOKEN_CALLS = [
    ("POST", "/getToken", {"json": {"tokenType": "rtm", "uid": "u"}}),
    ("GET", "/v1/token?channel_name=c", {}),
    ("GET", "/chat/app/token", {}),
    ("GET", "/chat/user/u/token", {}),
    ("POST", "/inspect", {"json": {"token": "007"}}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), TOKEN_CALLS)
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        f"Bearer {API_KEY}x",
        f"Bearer {API_KEY[:-1]}",
        f"Basic {API_KEY}",
        API_KEY,
        "Bearer \u00e9".encode("latin-1"),
    ],
)
def test_api_key_required(
    make_client: Callable[..., Client],
    method: str,
    path: str,
    kwargs: dict[str, Any],
    authorization: str | bytes | None,
) -> None:
    client = make_client(api_key=API_KEY)
    headers = {} if authorization is None else {"authorization": authorization}
    response = client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert detail(response)
    assert API_KEY not in response.text


@pytest.mark.default_kernel
@pytest.mark.parametrize(("method", "path", "kwargs"), TOKEN_CALLS)
def test_api_key_accepted(make_client: Callable[..., Client], method: str, path: str, kwargs: dict[str, Any]) -> None:
    client = make_client(api_key=API_KEY, admin_api_key=ADMIN_KEY)
    response = client.request(method, path, headers={"Authorization": f"Bearer {API_KEY}"}, **kwargs)
    # the user key gets everything but the Chat app token
    assert response.status_code == (403 if path == "/chat/app/token" else 200)
    admin = client.request(method, path, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, **kwargs)
    assert admin.status_code == 200


@pytest.mark.parametrize(
    ("overrides", "authorization", "status", "phrase"),
    [
        ({}, None, 403, "set ACCESSTOKEN2_ADMIN_API_KEY"),
        ({"api_key": API_KEY}, API_KEY, 403, "ACCESSTOKEN2_PUBLIC_CHAT_APP_TOKEN=1"),
        ({"api_key": API_KEY, "admin_api_key": ADMIN_KEY}, API_KEY, 403, "needs the admin API key"),
        ({"api_key": API_KEY, "admin_api_key": ADMIN_KEY}, None, 401, "missing"),
        ({"admin_api_key": ADMIN_KEY}, None, 401, "missing"),
        ({"api_key": API_KEY, "admin_api_key": ADMIN_KEY}, ADMIN_KEY, 200, None),
        ({"public_chat_app_token": True}, None, 200, None),
        ({"api_key": API_KEY, "public_chat_app_token": True}, API_KEY, 200, None),
    ],
)
@pytest.mark.default_kernel
def test_chat_app_token_needs_admin_key(
    make_client: Callable[..., Client], overrides: dict[str, Any], authorization: str | None, status: int, phrase: str
) -> None:
    client = make_client(**overrides)
    headers = {"Authorization": f"Bearer {authorization}"} if authorization else {}
    for response in (
        client.get("/chat/app/token", headers=headers),
        client.post("/getToken", json={"tokenType": "chat"}, headers=headers),
        client.post("/getToken", json={"tokenType": "chat", "uid": ""}, headers=headers),
    ):
        assert response.status_code == status
        if phrase is None:
            assert only_service(parse_verified(response.json()["token"]), ServiceType.CHAT).user_id == ""
        else:
            assert phrase in detail(response)
            assert API_KEY not in response.text and ADMIN_KEY not in response.text
    if status == 403:  # the same caller still gets a Chat user token
        user = client.post("/getToken", json={"tokenType": "chat", "uid": "u"}, headers=headers)
        assert user.status_code == 200


@pytest.mark.default_kernel
@pytest.mark.parametrize("path", ["/ping", "/healthz", "/openapi.json"])
def test_open_endpoints_need_no_key(make_client: Callable[..., Client], path: str) -> None:
    assert make_client(api_key=API_KEY).get(path).status_code == 200


@pytest.mark.default_kernel
def test_without_api_key_token_endpoints_are_open(client: Client) -> None:
    assert client.post("/getToken", json={"tokenType": "rtm", "uid": "u"}).status_code == 200
    assert "securitySchemes" not in client.get("/openapi.json").json().get("components", {})


def test_openapi_declares_bearer_scheme_with_api_key(make_client: Callable[..., Client]) -> None:
    document = make_client(api_key=API_KEY).get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "401" in document["paths"]["/getToken"]["post"]["responses"]
    assert document["paths"]["/getToken"]["post"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in document["paths"]["/ping"]["get"]


# ---------------------------------------------------------------- CORS


def test_no_cors_headers_unless_configured(client: Client) -> None:
    response = client.get("/ping", headers={"Origin": "https://app.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    preflight = client.request(
        "OPTIONS", "/getToken", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_headers_when_configured(make_client: Callable[..., Client]) -> None:
    client = make_client(cors_origins=("https://app.example",), api_key=API_KEY)
    response = client.get("/ping", headers={"Origin": "https://app.example"})
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    preflight = client.request(
        "OPTIONS",
        "/getToken",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    other = client.get("/ping", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


# ---------------------------------------------------------------- errors and logging


def test_unexpected_error_is_generic_500(make_client: Callable[..., Client], monkeypatch: pytest.MonkeyPatch) -> None:
    from accesstoken2.server import issuer

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError(f"boom {CERT}")

    monkeypatch.setattr(issuer.RtmTokenBuilder, "build_token", broken)
    client = make_client(raise_app_exceptions=False)
    response = client.post("/getToken", json={"tokenType": "rtm", "uid": "u"})
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error", "message": "internal server error"}


@pytest.mark.default_kernel
def test_logs_hold_neither_certificate_nor_tokens(
    make_client: Callable[..., Client], caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(api_key=API_KEY, admin_api_key=ADMIN_KEY)
    auth = {"Authorization": f"Bearer {API_KEY}"}
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    tokens: list[str] = []
    with caplog.at_level(logging.DEBUG):
        tokens.append(
            client.post("/getToken", json={"tokenType": "rtc", "channel": "c", "uid": 1}, headers=auth).json()["token"]
        )
        tokens.append(client.post("/getToken", json={"tokenType": "chat"}, headers=admin).json()["token"])
        tokens.append(client.get("/v1/token?channel_name=c", headers=auth).json()["token"])
        tokens.append(client.get("/chat/app/token", headers=admin).json()["token"])
        tokens.append(client.get("/chat/user/u/token", headers=auth).json()["token"])
        client.post("/inspect", json={"token": tokens[0]}, headers=auth)
        client.post("/inspect", json={"token": tokens[0][:-4]}, headers=auth)
        client.post("/getToken", json={"tokenType": "rtc"}, headers={"Authorization": "Bearer wrong-key-1234567"})
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert "POST /getToken 200" in logged and "GET /chat/app/token 200" in logged
    assert "POST /getToken 401" in logged
    assert CERT not in logged and API_KEY not in logged and ADMIN_KEY not in logged
    for token in tokens:
        assert token not in logged
        assert token[3:40] not in logged


# ---------------------------------------------------------------- never a 500

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
_token_fields = st.fixed_dictionaries(
    {},
    optional={
        "tokenType": st.sampled_from(["rtc", "rtm", "chat", "RTC", ""]) | _json_values,
        "channel": st.text(max_size=20) | _json_values,
        "role": st.sampled_from(["publisher", "subscriber", "admin"]) | _json_values,
        "uid": st.integers(-5, 2**33) | st.text(max_size=20) | _json_values,
        "expire": st.integers(-5, 10**6) | _json_values,
    },
)


@pytest.mark.default_kernel
@settings_(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_token_fields | _json_values)
def test_get_token_never_500(lenient_client: Client, body: Any) -> None:
    response = lenient_client.post(
        "/getToken", content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code in (200, 400, 403, 422), response.text
    answer = response.json()
    if response.status_code == 200:
        parse_verified(answer["token"])
    else:
        assert answer["detail"]
