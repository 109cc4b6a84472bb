"""accesstoken2.configuration: the order of the sources (flags, environment, *_FILE, .env) shared
by the CLI and the server, the .env reader and the secret-file reader, and that no message ever
holds a value that was read.  Needs no server extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from server_processes import server_env

import accesstoken2
from accesstoken2 import inspect
from accesstoken2.configuration import (
    APP_CERTIFICATE_FILE_VARIABLE,
    APP_CERTIFICATE_VARIABLES,
    MAX_SECRET_FILE_BYTES,
    ConfigurationError,
    Sources,
    check_hex32,
    read_env_file,
    read_secret_file,
)
from accesstoken2.errors import InvalidParameterError

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
FILE_CERT = "0123456789abcdef0123456789abcdef"
DOTENV_CERT = "fedcba9876543210fedcba9876543210"
PACKAGE_ROOT = str(Path(accesstoken2.__file__).resolve().parent.parent)


def find_certificate(sources: Sources) -> tuple[str, str, str] | None:
    found = sources.find(APP_CERTIFICATE_VARIABLES, APP_CERTIFICATE_FILE_VARIABLE, flag="--certificate")
    return None if found is None else (found.value, found.variable, found.source)


def test_each_source_in_order(tmp_path: Path) -> None:
    cert_file = tmp_path / "cert"
    cert_file.write_text(FILE_CERT + "\n")
    dotenv = {"AGORA_APP_CERTIFICATE": DOTENV_CERT}
    environ = {"APP_CERTIFICATE": CERT}
    # 1. a flag beats everything
    flagged = Sources({"APP_CERTIFICATE": FILE_CERT}, dotenv, {"--certificate": CERT, "--other": FILE_CERT})
    assert find_certificate(flagged) == (CERT, "--certificate", "flag")
    # 2. the environment (agora-token-service's name too) beats .env, even .env's own first name
    assert find_certificate(Sources(environ, dotenv)) == (CERT, "APP_CERTIFICATE", "environment")
    # 3. a *_FILE of the environment beats .env
    by_file = Sources({APP_CERTIFICATE_FILE_VARIABLE: str(cert_file)}, dotenv)
    assert find_certificate(by_file) == (FILE_CERT, APP_CERTIFICATE_FILE_VARIABLE, "file")
    # 4. .env, last
    assert find_certificate(Sources({}, dotenv)) == (DOTENV_CERT, "AGORA_APP_CERTIFICATE", ".env")
    assert find_certificate(Sources({}, {})) is None
    # blank values count as unset
    assert find_certificate(Sources({"AGORA_APP_CERTIFICATE": "  "}, dotenv)) == (
        DOTENV_CERT,
        "AGORA_APP_CERTIFICATE",
        ".env",
    )


def test_a_variable_and_its_file_in_one_place_are_refused(tmp_path: Path) -> None:
    cert_file = tmp_path / "cert"
    cert_file.write_text(FILE_CERT)
    both = {"APP_CERTIFICATE": CERT, APP_CERTIFICATE_FILE_VARIABLE: str(cert_file)}
    for sources in (Sources(both), Sources({}, both)):
        with pytest.raises(ConfigurationError) as caught:
            find_certificate(sources)
        assert caught.value.parameter == APP_CERTIFICATE_FILE_VARIABLE and "not both" in str(caught.value)
        assert CERT not in str(caught.value)
    # in different places, the order decides
    split = Sources({"APP_CERTIFICATE": CERT}, {APP_CERTIFICATE_FILE_VARIABLE: str(cert_file)})
    assert find_certificate(split) == (CERT, "APP_CERTIFICATE", "environment")


def test_found_describes_its_source_never_its_value(tmp_path: Path) -> None:
    cert_file = tmp_path / "cert"
    cert_file.write_text(FILE_CERT)
    found = Sources({APP_CERTIFICATE_FILE_VARIABLE: str(cert_file)}).find(
        APP_CERTIFICATE_VARIABLES, APP_CERTIFICATE_FILE_VARIABLE
    )
    assert found is not None
    text = found.describe() + repr(found)
    assert APP_CERTIFICATE_FILE_VARIABLE in text and str(cert_file) in found.describe()
    assert FILE_CERT.lower() not in text.lower()


def test_env_file_syntax(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        "# a comment\n"
        "\n"
        "PLAIN=value # a comment\n"
        "export EXPORTED=yes\n"
        "SINGLE='a # b \\n'\n"
        'DOUBLE="line\\nnext \\"quoted\\""\n'
        "  SPACED = padded  \n"
        "EMPTY=\n"
        "HASH=a#b\n"
    )
    assert read_env_file(str(path)) == {
        "PLAIN": "value",
        "EXPORTED": "yes",
        "SINGLE": "a # b \\n",
        "DOUBLE": 'line\nnext "quoted"',
        "SPACED": "padded",
        "EMPTY": "",
        "HASH": "a#b",
    }
    assert read_env_file(str(tmp_path / "absent")) == {}


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (f"{CERT}\n".encode(), "line 1: expected NAME=value"),
        (f"OK=1\n1BAD={CERT}\n".encode(), "line 2: expected NAME=value"),
        (f"CERT='{CERT}\n".encode(), "line 1 (CERT): the quoted value is not closed"),
        (f'CERT="{CERT}\n'.encode(), "line 1 (CERT): the quoted value is not closed"),
        (b"CERT=\xff\xfe" + CERT.encode(), "is not UTF-8 text"),
    ],
)
def test_bad_env_files_are_refused_without_echo(tmp_path: Path, content: bytes, phrase: str) -> None:
    path = tmp_path / ".env"
    path.write_bytes(content)
    with pytest.raises(ConfigurationError) as caught:
        read_env_file(str(path))
    message = str(caught.value)
    assert caught.value.parameter == "env_file" and phrase in message
    assert CERT.lower() not in message.lower() and "\n" not in message


def test_unreadable_env_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the file"):
        read_env_file(str(tmp_path))  # a directory: exists, cannot be read as a file


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (b"", "the file is empty"),
        (b"  \n\t\n", "the file is empty"),
        (b"\xff" + CERT.encode(), "not UTF-8 text"),
        (CERT.encode() * (MAX_SECRET_FILE_BYTES // 32 + 1), f"larger than {MAX_SECRET_FILE_BYTES} bytes"),
    ],
)
def test_bad_secret_files(tmp_path: Path, content: bytes, phrase: str) -> None:
    path = tmp_path / "secret"
    path.write_bytes(content)
    with pytest.raises(ConfigurationError) as caught:
        read_secret_file("SOME_FILE", str(path))
    assert caught.value.parameter == "SOME_FILE" and phrase in str(caught.value)
    assert CERT.lower() not in str(caught.value).lower()


def test_missing_secret_file_and_bad_path_types(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"SOME_FILE: cannot read the file \(No such file"):
        read_secret_file("SOME_FILE", str(tmp_path / "absent"))
    with pytest.raises(ConfigurationError, match="SOME_FILE must name a file"):
        read_secret_file("SOME_FILE", 42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        (42, "must be a str of 32 hexadecimal characters, not int"),
        (None, "not NoneType"),
        ([CERT], "not list"),
        (CERT[:-1], "(got 31 characters)"),
        (CERT[:-1] + "g", "(got 32 characters, not all hexadecimal)"),
        (CERT.upper() + "0", "(got 33 characters)"),
    ],
)
def test_check_hex32_never_echoes(value: object, phrase: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_hex32("AGORA_APP_CERTIFICATE", value)
    assert isinstance(caught.value, InvalidParameterError) and phrase in str(caught.value)
    assert CERT[:-1].lower() not in str(caught.value).lower()
    assert check_hex32("X", CERT) == CERT


def test_server_uses_the_same_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("fastapi")
    from accesstoken2.server import Settings
    from accesstoken2.server.config import ENV_NAMES

    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"APP_ID={APP_ID}\nAGORA_APP_CERTIFICATE={DOTENV_CERT}\n")
    assert Settings.from_env().app_certificate == DOTENV_CERT
    cert_file = tmp_path / "cert"
    cert_file.write_text(FILE_CERT)
    monkeypatch.setenv(APP_CERTIFICATE_FILE_VARIABLE, str(cert_file))
    loaded = Settings.from_env()  # the environment's *_FILE before .env, as for the CLI
    assert (loaded.app_id, loaded.app_certificate) == (APP_ID, FILE_CERT)
    assert loaded.secret_files["app_certificate"] == (APP_CERTIFICATE_FILE_VARIABLE, str(cert_file))
    with pytest.raises(ConfigurationError, match="AGORA_APP_ID is not set"):
        Settings.from_env({})  # an explicit environment: no .env


# ------------------------------------------------------------------------------------------ CLI


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # the process's environment without any credential (blank counts as unset), plus ``env``
    blank = dict.fromkeys(("AGORA_APP_ID", "AGORA_APP_CERTIFICATE", "APP_ID", "APP_CERTIFICATE"), "")
    base = {**server_env(), **blank, "PYTHONPATH": PACKAGE_ROOT}
    result = subprocess.run(
        [sys.executable, "-m", "accesstoken2", *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        cwd=tmp_path,
        timeout=120,
    )
    for secret in (CERT, FILE_CERT, DOTENV_CERT):
        output = (result.stdout + result.stderr).lower()
        assert secret.lower() not in output
    assert "Traceback" not in result.stderr
    return result


def signed_with(result: subprocess.CompletedProcess[str]) -> str:
    token = inspect(result.stdout.strip()).token
    return next(cert for cert in (CERT, FILE_CERT, DOTENV_CERT) if token.verify(cert))


@pytest.mark.default_kernel
def test_cli_reads_the_servers_dotenv(tmp_path: Path) -> None:
    """Issue 20: after setting up .env for the server, ``accesstoken2 build`` works."""
    (tmp_path / ".env").write_text(f"APP_ID={APP_ID}\nAPP_CERTIFICATE={DOTENV_CERT}\n")
    built = run_cli(tmp_path, "build", "rtm", "--user-id", "u", "-v")
    assert built.returncode == 0, built.stderr
    assert signed_with(built) == DOTENV_CERT
    assert "app id from APP_ID (the .env file)" in built.stderr
    assert "app certificate from APP_CERTIFICATE (the .env file)" in built.stderr


@pytest.mark.default_kernel
def test_cli_order_flags_environment_file_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"AGORA_APP_ID={APP_ID}\nAGORA_APP_CERTIFICATE={DOTENV_CERT}\n")
    cert_file = tmp_path / "cert"
    cert_file.write_text(FILE_CERT)
    flag_file = tmp_path / "flag"
    flag_file.write_text(CERT)
    args = ("build", "rtm", "--user-id", "u", "--verbose")
    by_file = run_cli(tmp_path, *args, AGORA_APP_CERTIFICATE_FILE=str(cert_file))
    assert signed_with(by_file) == FILE_CERT
    assert f"app certificate from AGORA_APP_CERTIFICATE_FILE (a file named in the environment: {cert_file})" in (
        by_file.stderr
    )
    by_env = run_cli(tmp_path, *args, APP_CERTIFICATE=CERT)
    assert signed_with(by_env) == CERT and "from APP_CERTIFICATE (the environment)" in by_env.stderr
    by_flag = run_cli(
        tmp_path, *args, "--app-certificate-file", str(flag_file), AGORA_APP_CERTIFICATE_FILE=str(cert_file)
    )
    assert signed_with(by_flag) == CERT and "from --app-certificate-file (the command line" in by_flag.stderr
    quiet = run_cli(tmp_path, "build", "rtm", "--user-id", "u")
    assert signed_with(quiet) == DOTENV_CERT and quiet.stderr == ""


@pytest.mark.parametrize(
    ("env", "phrase"),
    [
        ({"AGORA_APP_CERTIFICATE": CERT[:-1]}, "AGORA_APP_CERTIFICATE must be 32 hexadecimal characters"),
        ({"AGORA_APP_CERTIFICATE_FILE": "absent"}, "AGORA_APP_CERTIFICATE_FILE: cannot read the file"),
        ({"AGORA_APP_CERTIFICATE_FILE": "bad"}, "the file named by AGORA_APP_CERTIFICATE_FILE must be 32"),
        ({"AGORA_APP_CERTIFICATE": CERT, "AGORA_APP_CERTIFICATE_FILE": "bad"}, "not both"),
    ],
)
def test_cli_credential_errors_are_one_line(tmp_path: Path, env: dict[str, str], phrase: str) -> None:
    (tmp_path / "bad").write_text(CERT + "00")
    full = {key: str(tmp_path / value) if key.endswith("_FILE") else value for key, value in env.items()}
    result = run_cli(tmp_path, "build", "rtm", "--user-id", "u", "--app-id", APP_ID, **full)
    assert result.returncode == 2 and phrase in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


def test_cli_bad_dotenv_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"{CERT}\n")
    result = run_cli(tmp_path, "build", "rtm", "--user-id", "u")
    assert result.returncode == 2 and ".env line 1: expected NAME=value" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.default_kernel
def test_cli_verify_takes_the_servers_secondary_certificate(tmp_path: Path) -> None:
    from accesstoken2 import RtcTokenBuilder

    token = RtcTokenBuilder.build_token_with_uid(APP_ID, FILE_CERT, "room", 42, 1, 3600)
    secondary = tmp_path / "secondary"
    secondary.write_text(FILE_CERT + "\n")
    env = {"AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT}
    alone = run_cli(tmp_path, "verify", token, **env)
    assert alone.returncode == 1 and "signature-mismatch" in alone.stdout
    both = run_cli(tmp_path, "verify", token, "-v", ACCESSTOKEN2_SECONDARY_APP_CERTIFICATE_FILE=str(secondary), **env)
    assert both.returncode == 0 and "certificate 2 of 2" in both.stdout
    assert "secondary app certificate from ACCESSTOKEN2_SECONDARY_APP_CERTIFICATE_FILE" in both.stderr
    # build still signs with the primary
    built = run_cli(tmp_path, "build", "rtm", "--user-id", "u", ACCESSTOKEN2_SECONDARY_APP_CERTIFICATE=FILE_CERT, **env)
    assert signed_with(built) == CERT
