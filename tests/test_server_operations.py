"""Operations: secrets from files, expiry in every answer, JSON logs, Prometheus metrics, serve --help."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import random
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from server_processes import APP_ID, CERT, free_port, start_serve, stop  # noqa: E402

from accesstoken2 import AccessToken2  # noqa: E402
from accesstoken2.cli import main  # noqa: E402
from accesstoken2.server import ConfigurationError, Settings, create_app, serve  # noqa: E402
from accesstoken2.server.config import ENV_NAMES  # noqa: E402
from accesstoken2.server.logs import JsonFormatter, log_request  # noqa: E402

USER_KEY = "operations-user-key-0123"
ADMIN_KEY = "operations-admin-key-0123"
NOW = 1_700_000_000


def call(app: Any, method: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}

    async def run() -> Any:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.request(method, path, headers=headers, **kwargs)

    return asyncio.run(run())


# ---------------------------------------------------------------- secrets from files


def test_secrets_from_files(tmp_path: Path) -> None:
    files = {"cert": CERT, "user": USER_KEY, "admin": ADMIN_KEY}
    for name, value in files.items():
        (tmp_path / name).write_text(value + "\n")
    loaded = Settings.from_env(
        {
            "AGORA_APP_ID": APP_ID,
            "AGORA_APP_CERTIFICATE_FILE": str(tmp_path / "cert"),
            "ACCESSTOKEN2_API_KEY_FILE": str(tmp_path / "user"),
            "ACCESSTOKEN2_ADMIN_API_KEY_FILE": str(tmp_path / "admin"),
        }
    )
    assert (loaded.app_certificate, loaded.api_key, loaded.admin_api_key) == (CERT, USER_KEY, ADMIN_KEY)


@pytest.mark.parametrize(
    ("env", "name", "phrase"),
    [
        ({"AGORA_APP_CERTIFICATE_FILE": "/nonexistent/cert"}, "AGORA_APP_CERTIFICATE_FILE", "cannot read the file"),
        (
            {"AGORA_APP_CERTIFICATE": CERT, "AGORA_APP_CERTIFICATE_FILE": "cert"},
            "AGORA_APP_CERTIFICATE_FILE",
            "not both",
        ),
        ({"ACCESSTOKEN2_API_KEY_FILE": "short"}, "ACCESSTOKEN2_API_KEY_FILE", "at least 16 characters"),
    ],
)
def test_bad_secret_files_are_refused(tmp_path: Path, env: dict[str, str], name: str, phrase: str) -> None:
    (tmp_path / "cert").write_text(CERT)
    (tmp_path / "short").write_text("tiny")
    full = {"AGORA_APP_ID": APP_ID}
    full.update({key: str(tmp_path / value) if key.endswith("_FILE") else value for key, value in env.items()})
    if "AGORA_APP_CERTIFICATE" not in full and "AGORA_APP_CERTIFICATE_FILE" not in full:
        full["AGORA_APP_CERTIFICATE"] = CERT
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(full)
    assert caught.value.parameter == name and phrase in str(caught.value)
    assert CERT not in str(caught.value) and "tiny" not in str(caught.value)


# ---------------------------------------------------------------- expiry in every answer


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "keys"),
    [
        ("POST", "/getToken", {"json": {"tokenType": "rtc", "channel": "c", "uid": 1, "expire": 600}}, ["token"]),
        ("POST", "/getToken", {"json": {"tokenType": "rtm", "uid": "u", "expire": 600}}, ["token"]),
        ("POST", "/getToken", {"json": {"tokenType": "chat", "uid": "u", "expire": 600}}, ["token"]),
        ("POST", "/getToken", {"json": {"tokenType": "chat", "expire": 600}}, ["token"]),
        ("GET", "/v1/token?channel_name=c&expire=600", {}, ["token"]),
        ("GET", "/chat/user/u/token?expire=600", {}, ["token"]),
        ("GET", "/rtc/c/publisher/uid/1/?expiry=600", {}, ["rtcToken"]),
        ("GET", "/rtm/u/?expiry=600", {}, ["rtmToken"]),
        ("GET", "/rte/c/publisher/uid/1/?expiry=600", {}, ["rtcToken", "rtmToken"]),
        ("GET", "/chat/account/u/?expiry=600", {}, ["chatToken"]),
        ("GET", "/chat/app/?expiry=600", {}, ["chatToken"]),
    ],
)
@pytest.mark.default_kernel
def test_every_token_answer_says_when_it_expires(
    method: str, path: str, kwargs: dict[str, Any], keys: list[str]
) -> None:
    settings = Settings(app_id=APP_ID, app_certificate=CERT, public_chat_app_token=True)
    response = call(create_app(settings, clock=lambda: NOW), method, path, **kwargs)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {*keys, "expires_at", "expires_in"}
    assert (answer["expires_at"], answer["expires_in"]) == (NOW + 600, 600)
    for key in keys:
        parsed = AccessToken2.parse(answer[key])
        assert parsed.issue_ts + parsed.expire == answer["expires_at"]


# ---------------------------------------------------------------- logs


def test_json_formatter_writes_one_object_per_request(caplog: pytest.LogCaptureFixture) -> None:
    scope = {"method": "GET", "path": '/ping\n{"status": 200}\x1b[31m', "client": ("127.0.0.1", 5)}
    with caplog.at_level(logging.INFO, logger="accesstoken2.server"):
        log_request(scope, 404, 0.0123)
    (record,) = [record for record in caplog.records if record.name == "accesstoken2.server"]
    line = JsonFormatter().format(record)
    assert "\n" not in line and "\x1b" not in line
    document = json.loads(line)
    assert document["path"] == scope["path"] and document["status"] == 404 and document["method"] == "GET"
    assert document["duration_ms"] == 12.3 and document["timestamp"].endswith("Z") and document["client"] == "127.0.0.1"
    other = JsonFormatter().format(logging.LogRecord("x", logging.ERROR, "f", 1, "boom %s", ("now",), None))
    assert json.loads(other)["message"] == "boom now"


@pytest.mark.slow
def test_json_log_format_in_a_real_process(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "log"
    process = start_serve(tmp_path, log, port, ACCESSTOKEN2_LOG_FORMAT="json", ACCESSTOKEN2_API_KEY=USER_KEY)
    try:
        auth = {"Authorization": f"Bearer {USER_KEY}"}
        token = httpx.post(
            f"http://127.0.0.1:{port}/getToken", json={"tokenType": "rtm", "uid": "u"}, headers=auth, timeout=5
        ).json()["token"]
        httpx.get(f"http://127.0.0.1:{port}/nothing%0Ahere", timeout=5)
    finally:
        stop(process)
    lines = log.read_text().splitlines()
    documents = [json.loads(line) for line in lines]  # every line is one JSON object
    requests = [document for document in documents if "status" in document]
    assert [(document["method"], document["path"], document["status"]) for document in requests][-3:] == [
        ("GET", "/ping", 200),
        ("POST", "/getToken", 200),
        ("GET", "/nothing\nhere", 404),
    ]
    assert all({"timestamp", "duration_ms"} <= set(document) for document in requests)
    text = log.read_text()
    assert token not in text and USER_KEY not in text and CERT not in text


# ---------------------------------------------------------------- metrics


def sample(exposition: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in exposition.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and ",".join(sorted((match.group(1) or "").split(","))) == wanted:
            return float(match.group(2))
    return 0.0


@pytest.mark.default_kernel
def test_metrics_behind_the_admin_key() -> None:
    settings = Settings(app_id=APP_ID, app_certificate=CERT, api_key=USER_KEY, admin_api_key=ADMIN_KEY, metrics=True)
    app = create_app(settings)
    assert call(app, "GET", "/metrics").status_code == 401
    assert call(app, "GET", "/metrics", USER_KEY).status_code == 403
    for _ in range(3):
        body = {"tokenType": "rtc", "channel": "c", "uid": 1, "role": "publisher"}
        assert call(app, "POST", "/getToken", USER_KEY, json=body).status_code == 200
    assert call(app, "GET", "/rtm/u/", USER_KEY).status_code == 200
    assert call(app, "GET", "/chat/app/token", USER_KEY).status_code == 403
    assert call(app, "POST", "/getToken", "wrong-key-0123456789", json={}).status_code == 401
    assert call(app, "POST", "/getToken", USER_KEY, content=b" " * 200_000).status_code == 413
    response = call(app, "GET", "/metrics", ADMIN_KEY)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert sample(text, "accesstoken2_tokens_issued_total", kind="rtc", role="publisher") == 3
    assert sample(text, "accesstoken2_tokens_issued_total", kind="rtm", role="") == 1
    assert sample(text, "accesstoken2_denials_total", reason="chat-app") == 1
    assert sample(text, "accesstoken2_denials_total", reason="invalid-key") == 1
    assert sample(text, "accesstoken2_denials_total", reason="missing") == 1
    assert sample(text, "accesstoken2_denials_total", reason="metrics") == 1
    assert sample(text, "accesstoken2_denials_total", reason="body-too-large") == 1
    assert sample(text, "accesstoken2_request_duration_seconds_count", method="POST", route="/getToken") == 4
    # the body over the cap was refused before routing
    assert sample(text, "accesstoken2_request_duration_seconds_count", method="POST", route="unmatched") == 1
    assert USER_KEY not in text and ADMIN_KEY not in text


def test_metrics_off_by_default() -> None:
    assert call(create_app(Settings(app_id=APP_ID, app_certificate=CERT)), "GET", "/metrics").status_code == 404


def test_metrics_without_the_admin_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings(app_id=APP_ID, app_certificate=CERT, metrics=True)
    assert caught.value.parameter == "metrics" and "admin" in str(caught.value)
    for name in [name for name in os.environ if name.startswith(("ACCESSTOKEN2_", "AGORA_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AGORA_APP_ID", APP_ID)
    monkeypatch.setenv("AGORA_APP_CERTIFICATE", CERT)
    monkeypatch.setenv("ACCESSTOKEN2_METRICS", "1")
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    stream = io.StringIO()
    assert serve(port=0, stderr=stream) == 2
    output = stream.getvalue()
    assert output.count("\n") == 1 and "ACCESSTOKEN2_METRICS=1 needs ACCESSTOKEN2_ADMIN_API_KEY" in output


@pytest.mark.default_kernel
def test_metrics_labels_come_from_a_fixed_set() -> None:
    """Thousands of requests with made-up methods and paths: the scrape stays under 64 KiB, and
    every label is a route template or one of the served methods."""
    settings = Settings(app_id=APP_ID, app_certificate=CERT, admin_api_key=ADMIN_KEY, metrics=True)
    app = create_app(settings)
    randomness = random.Random(18)
    templates = {route.path for route in app.routes}
    paths = [re.sub(r"\{[^}]*\}", "x", template) for template in templates]

    async def flood() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            for index in range(3000):
                method = randomness.choice(["GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", f"M{index}"])
                path = randomness.choice(paths) if index % 2 else f"/p{index}/{randomness.random()}"
                await client.request(method, path)

    asyncio.run(flood())
    response = call(app, "GET", "/metrics", ADMIN_KEY)
    assert response.status_code == 200
    assert len(response.content) < 64 * 1024, len(response.content)
    labels = re.findall(r'method="([^"]*)",route="([^"]*)"', response.text)
    assert labels and {method for method, _ in labels} <= {"GET", "POST", "OPTIONS", "other"}
    assert {route for _, route in labels} <= templates | {"unmatched"}


# ---------------------------------------------------------------- serve --help


@pytest.mark.default_kernel
def test_serve_help_documents_every_option_and_variable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--help"]) == 0
    text = capsys.readouterr().out
    for option, default in (("--host", "127.0.0.1"), ("--port", "8080"), ("--workers", "1"), ("--log-level", "info")):
        assert (option in text and f"default {default}" in text) or f"else {default}" in text, option
    for name in ENV_NAMES:
        assert name in text, name
    assert text.count("default:") >= 20
