"""The server's settings from the environment: agora-token-service's variable names as fallbacks,
a .env file (read by accesstoken2.configuration, shared with the CLI), and errors that name the variable
actually used."""

from __future__ import annotations

from pathlib import Path

import pytest

from accesstoken2.server import ConfigurationError, Settings
from accesstoken2.server.config import ENV_NAMES

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
OTHER_CERT = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """An environment without any of the server's variables, in an empty working directory."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_agora_token_service_names_are_fallbacks(env: pytest.MonkeyPatch) -> None:
    env.setenv("APP_ID", APP_ID)
    env.setenv("APP_CERTIFICATE", CERT)
    env.setenv("CORS_ALLOW_ORIGIN", "https://app.example")
    env.setenv("PORT", "9001")
    loaded = Settings.from_env()
    assert (loaded.app_id, loaded.app_certificate) == (APP_ID, CERT)
    assert loaded.cors_origins == ("https://app.example",)
    assert loaded.port == 9001
    env.setenv("SERVER_PORT", "9002")
    assert Settings.from_env().port == 9002  # SERVER_PORT before PORT, as there


def test_our_names_win(env: pytest.MonkeyPatch) -> None:
    env.setenv("APP_ID", "f" * 32)
    env.setenv("APP_CERTIFICATE", OTHER_CERT)
    env.setenv("AGORA_APP_ID", APP_ID)
    env.setenv("AGORA_APP_CERTIFICATE", CERT)
    loaded = Settings.from_env()
    assert (loaded.app_id, loaded.app_certificate) == (APP_ID, CERT)


def test_dotenv_file_is_read_and_the_environment_wins(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"APP_ID={APP_ID}\nAPP_CERTIFICATE={CERT}\nACCESSTOKEN2_DEFAULT_EXPIRE=600\n")
    loaded = Settings.from_env()
    assert (loaded.app_id, loaded.app_certificate, loaded.default_expire) == (APP_ID, CERT, 600)
    env.setenv("ACCESSTOKEN2_DEFAULT_EXPIRE", "900")
    assert Settings.from_env().default_expire == 900
    with pytest.raises(ConfigurationError, match="AGORA_APP_ID is not set"):
        Settings.from_env(env_file=None)


def test_errors_name_the_variable_used(env: pytest.MonkeyPatch) -> None:
    env.setenv("APP_ID", APP_ID)
    env.setenv("APP_CERTIFICATE", CERT[:-1] + "z")
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env()
    assert caught.value.parameter == "APP_CERTIFICATE"
    assert CERT[:-1] not in str(caught.value)
    env.setenv("APP_CERTIFICATE", CERT)
    env.setenv("PORT", "70000")
    with pytest.raises(ConfigurationError) as port:
        Settings.from_env()
    assert port.value.parameter == "PORT" and "from 0 to 65535" in str(port.value)


def test_missing_credentials_name_our_variable(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env()
    assert caught.value.parameter == "AGORA_APP_ID"
    assert "AGORA_APP_ID is not set" in str(caught.value)
