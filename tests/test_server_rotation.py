"""Certificate rotation on the server: the secondary certificate accepted by /inspect, and the
SIGHUP reload of every *_FILE secret (in process, the reload and the signal itself)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
jwt = pytest.importorskip("jwt")

from accesstoken2 import AccessToken2, RtcTokenBuilder  # noqa: E402
from accesstoken2.server import ConfigurationError, Settings, create_app  # noqa: E402
from accesstoken2.server.config import ENV_SECONDARY_APP_CERTIFICATE  # noqa: E402
from accesstoken2.server.rotation import RELOADABLE  # noqa: E402

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
NEW_CERT = "0123456789abcdef0123456789abcdef"
THIRD_CERT = "fedcba9876543210fedcba9876543210"
USER_KEY = "rotation-user-key-0123456789"
NEW_USER_KEY = "rotation-user-key-abcdefghij"
ADMIN_KEY = "rotation-admin-key-0123456789"
JWT_SECRET = "rotation-jwt-secret-0123456789abcdef"
NEW_JWT_SECRET = "rotation-jwt-secret-abcdefghijklmnop"
SECRETS = (CERT, NEW_CERT, THIRD_CERT, USER_KEY, NEW_USER_KEY, ADMIN_KEY, JWT_SECRET, NEW_JWT_SECRET)


def call(app: Any, method: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}

    async def run() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.request(method, path, headers=headers, **kwargs)

    return asyncio.run(run())


def rtc_token(app: Any, key: str | None = None) -> str:
    answer = call(app, "GET", "/v1/token?channel_name=room", key)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


def signed_with(token: str) -> str | None:
    parsed = AccessToken2.parse(token)
    return next((cert for cert in (CERT, NEW_CERT, THIRD_CERT) if parsed.verify(cert)), None)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret.lower() not in text.lower()


# ---------------------------------------------------------------- the secondary certificate


def test_secondary_certificate_from_the_environment_or_a_file(tmp_path: Path) -> None:
    base = {"AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT}
    assert Settings.from_env(base).checking_certificates == (CERT,)
    loaded = Settings.from_env({**base, ENV_SECONDARY_APP_CERTIFICATE: NEW_CERT})
    assert loaded.checking_certificates == (CERT, NEW_CERT)
    assert NEW_CERT not in repr(loaded)
    secondary_file = tmp_path / "secondary"
    secondary_file.write_text(NEW_CERT + "\n")
    from_file = Settings.from_env({**base, f"{ENV_SECONDARY_APP_CERTIFICATE}_FILE": str(secondary_file)})
    assert from_file.secondary_app_certificate == NEW_CERT


@pytest.mark.parametrize(
    ("secondary", "phrase"),
    [
        (NEW_CERT[:-1], "must be 32 hexadecimal characters (got 31 characters)"),
        (NEW_CERT[:-1] + "x", "not all hexadecimal"),
        (CERT.upper(), "equals AGORA_APP_CERTIFICATE: the secondary must be the other certificate"),
        (APP_ID.lower(), "equals AGORA_APP_ID"),
    ],
)
def test_bad_secondary_certificates_are_refused(secondary: str, phrase: str) -> None:
    env = {"AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT, ENV_SECONDARY_APP_CERTIFICATE: secondary}
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(env)
    assert caught.value.parameter == ENV_SECONDARY_APP_CERTIFICATE and phrase in str(caught.value)
    assert_no_secret(str(caught.value))


@pytest.mark.parametrize("secondary", [42, b"0123456789abcdef0123456789abcdef", [NEW_CERT]])
def test_secondary_of_a_wrong_type(secondary: object) -> None:
    with pytest.raises(ConfigurationError, match="secondary_app_certificate must be a str"):
        Settings(APP_ID, CERT, secondary_app_certificate=secondary)  # type: ignore[arg-type]


@pytest.mark.default_kernel
def test_inspect_accepts_the_secondary_certificate() -> None:
    app = create_app(Settings(APP_ID, CERT, secondary_app_certificate=NEW_CERT))
    for cert, expected in ((CERT, True), (NEW_CERT, True), (THIRD_CERT, False)):
        token = RtcTokenBuilder.build_token_with_uid(APP_ID, cert, "room", 1, 1, 600)
        answer = call(app, "POST", "/inspect", json={"token": token, "channel": "room", "uid": 1})
        assert answer.status_code == 200
        body = answer.json()
        assert body["signature_valid"] is expected, (cert, body)
        codes = {finding["code"] for finding in body["findings"]}
        assert ("signature-mismatch" in codes) is not expected
        matched = [finding["detail"] for finding in body["findings"] if finding["code"] == "signature-ok"]
        assert matched == ([{"certificate": [CERT, NEW_CERT].index(cert), "certificates": 2}] if expected else [])
        assert_no_secret(answer.text)
    # tokens are signed with the primary only
    assert signed_with(rtc_token(app)) == CERT
    alone = create_app(Settings(APP_ID, CERT))
    token = RtcTokenBuilder.build_token_with_uid(APP_ID, NEW_CERT, "room", 1, 1, 600)
    assert call(alone, "POST", "/inspect", json={"token": token}).json()["signature_valid"] is False


# ---------------------------------------------------------------- reload


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {name: tmp_path / name for name in ("cert", "secondary", "user", "admin", "jwt")}
    paths["cert"].write_text(CERT)
    paths["secondary"].write_text(THIRD_CERT)
    paths["user"].write_text(USER_KEY)
    paths["admin"].write_text(ADMIN_KEY)
    paths["jwt"].write_text(JWT_SECRET)
    return paths


def file_settings(files: dict[str, Path]) -> Settings:
    return Settings.from_env(
        {
            "AGORA_APP_ID": APP_ID,
            "AGORA_APP_CERTIFICATE_FILE": str(files["cert"]),
            "ACCESSTOKEN2_SECONDARY_APP_CERTIFICATE_FILE": str(files["secondary"]),
            "ACCESSTOKEN2_API_KEY_FILE": str(files["user"]),
            "ACCESSTOKEN2_ADMIN_API_KEY_FILE": str(files["admin"]),
            "ACCESSTOKEN2_JWT_SECRET_FILE": str(files["jwt"]),
        }
    )


def test_every_secret_file_is_listed_for_reload(files: dict[str, Path]) -> None:
    settings = file_settings(files)
    assert set(settings.secret_files) == set(RELOADABLE) - {"jwt_public_key"}
    assert settings.secret_files["api_key"] == ("ACCESSTOKEN2_API_KEY_FILE", str(files["user"]))
    assert Settings.from_env({"AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT}).secret_files == {}


@pytest.mark.default_kernel
def test_reload_takes_new_secrets(files: dict[str, Path], caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(file_settings(files))
    assert signed_with(rtc_token(app, USER_KEY)) == CERT
    old_jwt = jwt.encode({"sub": "7", "exp": 2**40}, JWT_SECRET, algorithm="HS256")
    assert call(app, "GET", "/rtc/room/publisher/uid/7/", old_jwt).status_code == 200
    files["cert"].write_text(NEW_CERT + "\n")
    files["secondary"].write_text(CERT)
    files["user"].write_text(NEW_USER_KEY)
    files["jwt"].write_text(NEW_JWT_SECRET)
    with caplog.at_level(logging.INFO, logger="accesstoken2.server"):
        assert app.state.operations.reload() == []
    assert signed_with(rtc_token(app, NEW_USER_KEY)) == NEW_CERT
    assert call(app, "GET", "/v1/token?channel_name=room", USER_KEY).status_code == 401
    assert call(app, "GET", "/rtc/room/publisher/uid/7/", old_jwt).status_code == 401  # no stale cache
    new_jwt = jwt.encode({"sub": "7", "exp": 2**40}, NEW_JWT_SECRET, algorithm="HS256")
    assert call(app, "GET", "/rtc/room/publisher/uid/7/", new_jwt).status_code == 200
    # the old certificate, now the secondary, is still accepted by /inspect
    old_token = RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "room", 1, 1, 600)
    inspected = call(app, "POST", "/inspect", NEW_USER_KEY, json={"token": old_token})
    assert inspected.json()["signature_valid"] is True
    # the Chat app token is rebuilt with the new certificate
    chat = call(app, "GET", "/chat/app/token", ADMIN_KEY)
    assert signed_with(chat.json()["token"]) == NEW_CERT
    assert signed_with(app.state.issuer.cached_chat_app().token) == NEW_CERT  # app.state follows the reload
    messages = [record.getMessage() for record in caplog.records]
    assert any("new value of" in message and "AGORA_APP_CERTIFICATE_FILE" in message for message in messages)
    assert_no_secret("\n".join(messages))


@pytest.mark.parametrize(
    ("name", "content", "variable", "phrase"),
    [
        ("cert", NEW_CERT[:-2], "AGORA_APP_CERTIFICATE_FILE", "must be 32 hexadecimal characters"),
        ("cert", APP_ID, "AGORA_APP_CERTIFICATE_FILE", "equals"),
        ("cert", THIRD_CERT.upper(), "ACCESSTOKEN2_SECONDARY_APP_CERTIFICATE_FILE", "equals"),
        ("cert", "", "AGORA_APP_CERTIFICATE_FILE", "the file is empty"),
        ("secondary", CERT.lower(), "ACCESSTOKEN2_SECONDARY_APP_CERTIFICATE_FILE", "equals"),
        ("user", "short", "ACCESSTOKEN2_API_KEY_FILE", "at least 16 characters"),
        ("jwt", "too-short", "ACCESSTOKEN2_JWT_SECRET_FILE", "at least 32 bytes"),
    ],
)
@pytest.mark.default_kernel
def test_a_bad_new_value_is_refused_and_the_old_one_kept(
    files: dict[str, Path], caplog: pytest.LogCaptureFixture, name: str, content: str, variable: str, phrase: str
) -> None:
    app = create_app(file_settings(files))
    files[name].write_text(content)
    files["admin"].write_text(ADMIN_KEY + "-new")  # a good change beside the bad one is taken
    with caplog.at_level(logging.INFO, logger="accesstoken2.server"):
        refused = app.state.operations.reload()
    assert len(refused) == 1
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1 and variable in errors[0] and phrase in errors[0] and "old value is kept" in errors[0]
    assert "\n" not in errors[0]
    assert_no_secret(errors[0])
    if content:
        assert content.lower() not in errors[0].lower()
    assert signed_with(rtc_token(app, USER_KEY)) == CERT
    assert call(app, "GET", "/chat/app/token", ADMIN_KEY + "-new").status_code == 200
    assert call(app, "GET", "/chat/app/token", ADMIN_KEY).status_code == 401


@pytest.mark.default_kernel
def test_an_unreadable_file_keeps_the_old_value(files: dict[str, Path], caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(file_settings(files))
    files["cert"].unlink()
    with caplog.at_level(logging.INFO, logger="accesstoken2.server"):
        assert app.state.operations.reload() == ["AGORA_APP_CERTIFICATE_FILE"]
    assert any("cannot read the file" in record.getMessage() for record in caplog.records)
    assert signed_with(rtc_token(app, USER_KEY)) == CERT


@pytest.mark.default_kernel
def test_nothing_to_reload_without_files(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Settings(APP_ID, CERT))
    with caplog.at_level(logging.INFO, logger="accesstoken2.server"):
        assert app.state.operations.reload() == []
    assert any("no secret file changed" in record.getMessage() for record in caplog.records)
    assert signed_with(rtc_token(app)) == CERT


@pytest.mark.skipif(not hasattr(signal, "SIGHUP") or sys.platform == "win32", reason="no SIGHUP")
@pytest.mark.default_kernel
def test_sighup_reloads_while_the_app_runs(files: dict[str, Path]) -> None:
    """The signal itself, in this process: the app's lifespan installs the handler on its loop."""
    app = create_app(file_settings(files))

    async def scenario() -> tuple[str | None, str | None, bool]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                headers = {"Authorization": f"Bearer {USER_KEY}"}
                before = (await client.get("/v1/token?channel_name=room", headers=headers)).json()["token"]
                files["cert"].write_text(NEW_CERT)
                os.kill(os.getpid(), signal.SIGHUP)
                for _ in range(100):  # the handler runs on the loop, soon after the signal
                    await asyncio.sleep(0.01)
                    after = (await client.get("/v1/token?channel_name=room", headers=headers)).json()["token"]
                    if signed_with(after) == NEW_CERT:
                        break
        installed_after = signal.getsignal(signal.SIGHUP) is signal.SIG_DFL
        return signed_with(before), signed_with(after), installed_after

    previous = signal.getsignal(signal.SIGHUP)
    try:
        assert asyncio.run(scenario()) == (CERT, NEW_CERT, True)
    finally:
        signal.signal(signal.SIGHUP, previous)
