"""agora-token-service's own endpoint tests (service/endpoints_test.go), as data, against this server.

The cases (method, path, body, expected status) are data in ``tests/data/agora-token-service-cases.json``
(a copy of the shared ``docs/agora-token-service-cases.json``), so a clone runs them.  They pass with
the same status for success and not-found, and a 4xx where the peer answers 400.  The peer's tests
run with the Chat app token open, so this server runs with ``public_chat_app_token``; every token
answered is verified.  A URL without its trailing slash is redirected with a relative Location, as
Gin does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from accesstoken2 import AccessToken2, ServiceRtc, ServiceType  # noqa: E402
from accesstoken2.server import Settings, create_app  # noqa: E402

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
CASES_FILE = Path(__file__).parent / "data" / "agora-token-service-cases.json"
CASES: list[dict[str, Any]] = json.loads(CASES_FILE.read_text())["cases"]

ANSWER_KEYS = {"/rtc/": {"rtcToken"}, "/rtm/": {"rtmToken"}, "/rte/": {"rtcToken", "rtmToken"}, "/chat/": {"chatToken"}}


@pytest.fixture(scope="module")
def call() -> Iterator[Any]:
    loop = asyncio.new_event_loop()
    app = create_app(Settings(app_id=APP_ID, app_certificate=CERT, public_chat_app_token=True))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    def request(case: dict[str, Any]) -> Any:
        url = httpx.URL("http://testserver/").copy_with(raw_path=case["path"].encode("ascii"))
        body = case.get("body")
        headers = {"content-type": "application/json"} if body is not None else {}
        headers.update(case.get("headers", {}))
        content = body.encode() if body is not None else None
        return loop.run_until_complete(client.request(case["method"], url, content=content, headers=headers))

    yield request
    loop.run_until_complete(client.aclose())
    loop.close()


def verified(token: str) -> AccessToken2:
    parsed = AccessToken2.parse(token)
    assert parsed.verify(CERT) and parsed.app_id == APP_ID
    return parsed


def test_the_cases_are_there() -> None:
    assert len(CASES) >= 30
    assert {case["status"] for case in CASES} == {200, 400, 404}


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{case['method']} {case['path']} {case.get('body', '')}"[:80] for case in CASES]
)
@pytest.mark.default_kernel
def test_agora_token_service_case(call: Any, case: dict[str, Any]) -> None:
    response = call(case)
    expected = case["status"]
    if expected == 400:
        assert 400 <= response.status_code < 500, response.text
        assert response.json()["detail"] and response.json()["message"]
        return
    assert response.status_code == expected, response.text
    if expected != 200:
        return
    answer = response.json()
    if "json" in case:
        assert answer == case["json"]
        return
    keys = next((names for prefix, names in ANSWER_KEYS.items() if case["path"].startswith(prefix)), {"token"})
    assert set(answer) == keys | {"expires_at", "expires_in"}
    for key in keys:
        verified(answer[key])


@pytest.mark.default_kernel
def test_rte_rtm_token_also_grants_the_stream_channel(call: Any) -> None:
    response = call({"method": "GET", "path": "/rte/room/publisher/uid/0/ann/?expiry=600"})
    answer = response.json()
    rtc = verified(answer["rtcToken"]).services
    assert [service.kServiceType for service in rtc] == [ServiceType.RTC]
    rtm = verified(answer["rtmToken"])
    stream = next(service for service in rtm.services if isinstance(service, ServiceRtc))
    assert (stream.channel_name, stream.uid, rtm.expire) == ("room", "ann", 600)


@pytest.mark.parametrize(
    ("path", "uid"),
    [("/rtc/c/publisher/uid//", ""), ("/rtc/c/publisher/uid/7/", "7"), ("/rtc/c/subscriber/userAccount/bob/", "bob")],
)
@pytest.mark.default_kernel
def test_rtc_route_uid_forms(call: Any, path: str, uid: str) -> None:
    answer = call({"method": "GET", "path": path}).json()
    service = verified(answer["rtcToken"]).services[0]
    assert isinstance(service, ServiceRtc) and service.uid == uid


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/rtc/room/publisher/uid/7", "/rtc/room/publisher/uid/7/"),
        ("/rtm/ann?expiry=600", "/rtm/ann/?expiry=600"),
        ("/rtm/a%20b", "/rtm/a%20b/"),
        ("/ping/", "/ping"),
    ],
)
def test_a_missing_trailing_slash_is_a_relative_redirect(call: Any, path: str, location: str) -> None:
    # the Host header names another server: the Location must not be built from it
    response = call({"method": "GET", "path": path, "headers": {"Host": "evil.example"}})
    assert response.status_code == 307
    assert response.headers["location"] == location


def test_no_redirect_to_another_host(call: Any) -> None:
    response = call({"method": "GET", "path": "//evil.example/rtm/x"})
    assert response.status_code == 404 and "location" not in response.headers
