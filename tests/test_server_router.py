"""The token endpoints mounted in another FastAPI application under a prefix, with the same checks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

fastapi = pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from accesstoken2 import AccessToken2  # noqa: E402
from accesstoken2.server import Settings, build_router  # noqa: E402
from accesstoken2.server.app import document_security  # noqa: E402
from accesstoken2.server.guard import RequestGuard  # noqa: E402

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
KEY = "mounted-user-key-0123456"


def host_app(guarded: bool) -> Any:
    app = fastapi.FastAPI(title="someone else's app")

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    settings = Settings(app_id=APP_ID, app_certificate=CERT, api_key=KEY)
    app.include_router(build_router(settings), prefix="/agora")
    document_security(app)
    if guarded:
        app.add_middleware(RequestGuard, max_body=100_000, body_timeout=5.0)
    return app


def call(app: Any, method: str, path: str, **kwargs: Any) -> Any:
    async def run() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(run())


@pytest.mark.default_kernel
@pytest.mark.parametrize("guarded", [False, True])
def test_mounted_router_keeps_its_checks(guarded: bool) -> None:
    app = host_app(guarded)
    auth = {"Authorization": f"Bearer {KEY}"}
    assert call(app, "GET", "/hello").json() == {"hello": "world"}
    assert call(app, "GET", "/agora/ping").json() == {"message": "pong"}
    body = {"tokenType": "rtc", "channel": "c", "uid": 5}
    token = call(app, "POST", "/agora/getToken", json=body, headers=auth).json()["token"]
    assert AccessToken2.parse(token).verify(CERT)
    rtc = call(app, "GET", "/agora/rtc/c/publisher/uid/5/", headers=auth).json()["rtcToken"]
    assert AccessToken2.parse(rtc).verify(CERT)
    unauthenticated = call(app, "POST", "/agora/getToken", content=b"\xff{")
    assert unauthenticated.status_code == 401 and unauthenticated.json()["detail"]
    assert call(app, "GET", "/agora/chat/app/token", headers=auth).status_code == 403
    bad = call(app, "POST", "/agora/getToken", json={**body, "expire": 10**6}, headers=auth)
    assert bad.status_code == 400 and "expire" in bad.json()["detail"]
    big = call(app, "POST", "/agora/getToken", content=b" " * 200_000, headers=auth)
    assert big.status_code == 413
    document = call(app, "GET", "/openapi.json").json()
    assert "/agora/getToken" in document["paths"] and "/hello" in document["paths"]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_build_router_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_APP_ID", APP_ID)
    monkeypatch.setenv("AGORA_APP_CERTIFICATE", CERT)
    monkeypatch.delenv("ACCESSTOKEN2_API_KEY", raising=False)
    router = build_router()
    paths = {route.path for route in router.routes}
    assert {"/getToken", "/rtc/{channelName}/{role}/{tokenType}/{rtcuid:maybe_empty}/", "/inspect"} <= paths
