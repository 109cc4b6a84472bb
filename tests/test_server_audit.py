"""The audit log (ACCESSTOKEN2_AUDIT_LOG): one JSON line per issued token with the documented
fields, X-Request-ID on every answer, no secret in any line in any letter case, reopening, write
failures, and the refusal of an unusable path at startup."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
jwt = pytest.importorskip("jwt")

from accesstoken2 import inspect, token_fingerprint  # noqa: E402
from accesstoken2.server import Settings, create_app, serve  # noqa: E402
from accesstoken2.server.audit import AuditLog, key_fingerprint  # noqa: E402
from accesstoken2.server.config import ENV_NAMES  # noqa: E402

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
SECONDARY = "0123456789abcdef0123456789abcdef"
USER_KEY = "audit-user-key-0123456789"
ADMIN_KEY = "audit-admin-key-0123456789"
JWT_SECRET = "audit-jwt-secret-0123456789abcdef"
NOW = 1_700_000_000
FIELDS = {
    "v",
    "event",
    "time",
    "request_id",
    "client",
    "auth",
    "identity",
    "key_sha256",
    "route",
    "app_id",
    "answer_field",
    "issued_at",
    "expires_at",
    "services",
    "token_sha256",
}


def settings(log: Path | str, **extra: Any) -> Settings:
    return Settings(
        APP_ID,
        CERT,
        api_key=USER_KEY,
        admin_api_key=ADMIN_KEY,
        secondary_app_certificate=SECONDARY,
        audit_log=str(log),
        **extra,
    )


def call(app: Any, method: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
    headers = dict(kwargs.pop("headers", {}))
    if key:
        headers["Authorization"] = f"Bearer {key}"

    async def run() -> Any:
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4711))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.request(method, path, headers=headers, **kwargs)

    return asyncio.run(run())


def lines(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="ascii")
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.default_kernel
def test_one_line_per_token_with_every_field(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    app = create_app(settings(log), clock=lambda: NOW + 0.25)
    answer = call(
        app,
        "POST",
        "/getToken",
        USER_KEY,
        json={"tokenType": "rtc", "channel": "room", "uid": 42, "role": "publisher", "expire": 600},
        headers={"X-Request-ID": "trace-1234"},
    )
    assert answer.status_code == 200 and answer.headers["x-request-id"] == "trace-1234"
    token = answer.json()["token"]
    (record,) = lines(log)
    assert set(record) == FIELDS
    assert record["v"] == 1 and record["event"] == "token-issued"
    assert record["time"] == "2023-11-14T22:13:20.250Z"
    assert record["request_id"] == "trace-1234" and record["client"] == "203.0.113.7"
    assert (record["auth"], record["identity"]) == ("api-key", "api-key")
    assert record["key_sha256"] == key_fingerprint(USER_KEY) and len(record["key_sha256"]) == 8
    assert record["route"] == "/getToken" and record["app_id"] == APP_ID
    assert record["answer_field"] == "token"
    assert (record["issued_at"], record["expires_at"]) == (NOW, NOW + 600)
    assert record["token_sha256"] == token_fingerprint(token)
    (service,) = record["services"]
    assert service["service"] == "rtc" and service["channel"] == "room" and service["uid"] == "42"
    assert service["privileges"] == {
        "join_channel": NOW + 600,
        "publish_audio_stream": NOW + 600,
        "publish_video_stream": NOW + 600,
        "publish_data_stream": NOW + 600,
    }
    # the services agree with what the token holds
    info = inspect(token, now=NOW)
    assert [(item.name.lower(), item.fields["channel_name"]) for item in info.services] == [("rtc", "room")]


@pytest.mark.default_kernel
def test_two_tokens_two_lines_and_route_templates(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    app = create_app(settings(log), clock=lambda: NOW)
    rte = call(app, "GET", "/rte/room/publisher/uid/42/alice/?expiry=900", USER_KEY)
    assert rte.status_code == 200, rte.text
    chat = call(app, "GET", "/chat/user/bob/token", ADMIN_KEY)
    assert chat.status_code == 200
    rtc_line, rtm_line, chat_line = lines(log)
    assert rtc_line["request_id"] == rtm_line["request_id"] == rte.headers["x-request-id"]
    assert rtc_line["route"] == "/rte/{channelName}/{role}/{tokenType}/{rtcuid:maybe_empty}/{rtmuid}/"
    assert (rtc_line["answer_field"], rtm_line["answer_field"]) == ("rtcToken", "rtmToken")
    assert rtc_line["token_sha256"] == token_fingerprint(rte.json()["rtcToken"])
    assert rtm_line["token_sha256"] == token_fingerprint(rte.json()["rtmToken"])
    assert [service["service"] for service in rtm_line["services"]] == ["rtc", "rtm"]
    assert rtm_line["services"][1]["user_id"] == "alice"
    assert chat_line["route"] == "/chat/user/{user_id}/token"
    assert (chat_line["auth"], chat_line["identity"]) == ("admin-key", "admin-key")
    assert chat_line["key_sha256"] == key_fingerprint(ADMIN_KEY) != rtc_line["key_sha256"]
    assert chat_line["services"] == [{"service": "chat", "user_id": "bob", "privileges": {"user": NOW + 3600}}]
    assert chat_line["request_id"] != rtc_line["request_id"]


@pytest.mark.default_kernel
def test_jwt_identity_and_open_servers(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    app = create_app(settings(log, jwt_secret=JWT_SECRET), clock=lambda: NOW)
    bearer = jwt.encode({"sub": "alice", "exp": 2**40}, JWT_SECRET, algorithm="HS256")
    assert call(app, "GET", "/rtm/alice/", bearer).status_code == 200
    (record,) = lines(log)
    assert (record["auth"], record["identity"], record["key_sha256"]) == ("jwt", "alice", None)
    open_log = tmp_path / "open.log"
    open_app = create_app(Settings(APP_ID, CERT, audit_log=str(open_log)), clock=lambda: NOW)
    assert call(open_app, "GET", "/v1/token?channel_name=c").status_code == 200
    (open_record,) = lines(open_log)
    assert (open_record["auth"], open_record["identity"], open_record["key_sha256"]) == ("open", None, None)
    assert open_record["services"][0]["uid"] == ""  # uid 0: any uid


@pytest.mark.default_kernel
def test_nothing_is_logged_for_refusals_or_inspect(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    app = create_app(settings(log))
    assert call(app, "GET", "/v1/token?channel_name=c").status_code == 401
    assert call(app, "GET", "/chat/app/token", USER_KEY).status_code == 403
    assert call(app, "POST", "/getToken", USER_KEY, json={"tokenType": "rtc"}).status_code == 400
    token = call(app, "GET", "/v1/token?channel_name=c", USER_KEY).json()["token"]
    assert call(app, "POST", "/inspect", USER_KEY, json={"token": token}).status_code == 200
    assert len(lines(log)) == 1


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("0f8fad5b-d9cb-469f-a165-70867728950e", True),
        ("a", True),
        ("svc.42:span_7-x", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("-starts-with-dash", False),
        ("has space", False),
        ("new\\nline", False),
        ("caf\u00e9", False),
        ("", False),
        ('"quoted"', False),
    ],
)
def test_request_id_is_taken_only_when_well_formed(tmp_path: Path, given: str, kept: bool) -> None:
    app = create_app(settings(tmp_path / "audit.log"))
    answer = call(app, "GET", "/ping", headers={"X-Request-ID": given.encode("utf-8")})
    returned = answer.headers["x-request-id"]
    assert (returned == given) is kept
    if not kept:
        assert len(returned) == 20 and all(char in "0123456789abcdef" for char in returned)
    assert answer.headers.get_list("x-request-id") == [returned]


def test_every_answer_has_a_request_id(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path / "audit.log"))
    answers = [
        call(app, "GET", "/ping"),
        call(app, "GET", "/nowhere"),
        call(app, "GET", "/v1/token?channel_name=c"),  # 401
        call(app, "GET", "/chat/user/%ff/token", USER_KEY),  # 400 from the guard
        call(app, "POST", "/getToken", USER_KEY, content=b"x" * 200_000),  # 413 from the guard
    ]
    assert [answer.status_code for answer in answers] == [200, 404, 401, 400, 413]
    ids = [answer.headers["x-request-id"] for answer in answers]
    assert len(set(ids)) == len(ids)


def casings(secret: str) -> list[str]:
    return [secret, secret.lower(), secret.upper(), secret.swapcase()]


@pytest.mark.default_kernel
def test_no_line_holds_a_secret_in_any_letter_case(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    jwt_settings = Settings(
        APP_ID,
        CERT,
        admin_api_key=ADMIN_KEY,
        secondary_app_certificate=SECONDARY,
        jwt_secret=JWT_SECRET,
        audit_log=str(log),
    )
    app = create_app(jwt_settings, clock=lambda: NOW)
    served: list[str] = []
    bearers: list[str] = []
    secrets_ = [CERT, SECONDARY, ADMIN_KEY, JWT_SECRET]
    for secret in secrets_:
        for variant in casings(secret):
            # a JWT whose identity is the secret, asking for a channel named like it
            bearer = jwt.encode({"sub": variant, "exp": 2**40}, JWT_SECRET, algorithm="HS256")
            bearers.append(bearer)
            answer = call(app, "GET", f"/rtc/x{variant}y/publisher/userAccount/{variant}/", bearer)
            assert answer.status_code == 200, answer.text
            served.append(answer.json()["rtcToken"])
            answer = call(app, "GET", f"/chat/user/{variant}/token", ADMIN_KEY, headers={"X-Request-ID": variant})
            served.append(answer.json()["token"])
    # a JWT sent back as a user id (a channel name that long breaks Agora's 64-byte rule: refused with 400)
    bearer = jwt.encode({"sub": "carol", "exp": 2**40}, JWT_SECRET, algorithm="HS256")
    channel_jwt = call(app, "GET", f"/rtc/{bearer}/publisher/userAccount/carol/", bearer)
    assert channel_jwt.status_code == 400
    user_jwt = call(app, "GET", f"/chat/user/{bearer}/token", ADMIN_KEY, headers={"X-Request-ID": bearer})
    assert user_jwt.status_code == 200, user_jwt.text
    served.append(user_jwt.json()["token"])
    bearers.append(bearer)
    text = log.read_text()
    records = lines(log)
    assert len(records) == len(served)
    lowered = text.lower()
    for secret in [*secrets_, *bearers, *served]:
        assert secret.lower() not in lowered
    assert "[redacted]" in text
    assert records[0]["services"][0]["channel"] == "x[redacted]y"
    assert {record["token_sha256"] for record in records} == {token_fingerprint(token) for token in served}


@pytest.mark.default_kernel
def test_sighup_reload_reopens_the_file(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    app = create_app(settings(log))
    assert call(app, "GET", "/v1/token?channel_name=a", USER_KEY).status_code == 200
    rotated = tmp_path / "audit.log.1"
    log.rename(rotated)  # what logrotate does
    assert call(app, "GET", "/v1/token?channel_name=b", USER_KEY).status_code == 200
    app.state.operations.reload()
    assert call(app, "GET", "/v1/token?channel_name=c", USER_KEY).status_code == 200
    assert [record["services"][0]["channel"] for record in lines(rotated)] == ["a", "b"]
    assert [record["services"][0]["channel"] for record in lines(log)] == ["c"]
    assert oct(log.stat().st_mode & 0o777) == oct(0o600)


@pytest.mark.default_kernel
def test_failed_reopen_keeps_writing_to_the_old_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    log = folder / "audit.log"
    app = create_app(settings(log))
    moved = tmp_path / "moved"
    folder.rename(moved)
    with caplog.at_level(logging.INFO, logger="accesstoken2.server"):
        app.state.operations.reload()
    assert any("cannot reopen" in record.getMessage() for record in caplog.records)
    assert call(app, "GET", "/v1/token?channel_name=a", USER_KEY).status_code == 200
    assert len(lines(moved / "audit.log")) == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.default_kernel
def test_a_write_failure_is_logged_counted_and_the_token_served(caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("prometheus_client")
    app = create_app(settings("/dev/full", metrics=True))
    with caplog.at_level(logging.INFO, logger="accesstoken2.server"):
        answer = call(app, "GET", "/v1/token?channel_name=a", USER_KEY)
    assert answer.status_code == 200 and answer.json()["token"].startswith("007")
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == ["audit log: cannot write a line (No space left on device); the token is served anyway"]
    exposition = call(app, "GET", "/metrics", ADMIN_KEY).text
    assert "accesstoken2_audit_write_failures_total 1.0" in exposition


@pytest.mark.default_kernel
def test_a_line_that_cannot_be_made_does_not_fail_the_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("prometheus_client")
    from accesstoken2.server import operations

    def broken(**fields: Any) -> dict[str, Any]:
        raise RuntimeError(fields["token"])

    monkeypatch.setattr(operations, "audit_record", broken)
    app = create_app(settings(tmp_path / "audit.log", metrics=True))
    with caplog.at_level(logging.INFO, logger="accesstoken2.server"):
        answer = call(app, "GET", "/v1/token?channel_name=a", USER_KEY)
    assert answer.status_code == 200
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == ["audit log: cannot make a line (RuntimeError); the token is served anyway"]
    assert "accesstoken2_audit_write_failures_total 1.0" in call(app, "GET", "/metrics", ADMIN_KEY).text


@pytest.mark.default_kernel
def test_stderr_audit_log(capfd: pytest.CaptureFixture[str]) -> None:
    app = create_app(Settings(APP_ID, CERT, audit_log="-"), clock=lambda: NOW)
    token = call(app, "GET", "/v1/token?channel_name=a").json()["token"]
    err = capfd.readouterr().err
    (record,) = [json.loads(line) for line in err.splitlines() if line.startswith('{"v":1')]
    assert record["token_sha256"] == token_fingerprint(token)


def test_audit_log_closed_writes_fail_softly(tmp_path: Path) -> None:
    failures: list[int] = []
    audit = AuditLog.open(str(tmp_path / "a.log"), lambda: failures.append(1))
    assert audit.write({"v": 1})
    audit.close()
    assert not audit.write({"v": 1}) and failures == [1]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGORA_APP_ID", APP_ID)
    monkeypatch.setenv("AGORA_APP_CERTIFICATE", CERT)
    return monkeypatch


@pytest.mark.parametrize("where", ["missing/dir/audit.log", "a-directory", "a-file/audit.log"])
def test_unusable_audit_path_is_refused_at_startup(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    (tmp_path / "a-directory").mkdir()
    (tmp_path / "a-file").write_text("")
    clean_env.setenv("ACCESSTOKEN2_AUDIT_LOG", str(tmp_path / where))
    assert serve(port=0, stderr=sys.stderr) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "ACCESSTOKEN2_AUDIT_LOG" in err
    assert CERT.lower() not in err.lower()
