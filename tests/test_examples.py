"""Every script in examples/ runs, on a certificate made for the test, and does what its docstring says.

The scripts run as their users run them (a child process, credentials in the environment); the two
web apps are loaded from their files and driven through their frameworks' test clients; the browser
client's renewal logic runs under Node when Node is installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from accesstoken2 import AccessToken2, inspect

# the examples build and check tokens on the default kernel (in this process or a child): the pure pass runs them
pytestmark = pytest.mark.default_kernel

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
APP_ID = "970CA35de60c44645bbae8a215061b33"


@pytest.fixture
def certificate() -> str:
    """A fresh certificate, so that nothing here depends on a published one."""
    return secrets.token_hex(16)


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch, certificate: str) -> dict[str, str]:
    monkeypatch.setenv("AGORA_APP_ID", APP_ID)
    monkeypatch.setenv("AGORA_APP_CERTIFICATE", certificate)
    return dict(os.environ)


def run_example(name: str, env: dict[str, str], *arguments: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def load_example(name: str) -> ModuleType:
    """Imports examples/<name> from its file (the environment must already hold the credentials)."""
    spec = importlib.util.spec_from_file_location(f"example_{Path(name).stem}", EXAMPLES / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_explaining_a_rejected_token_names_each_cause(credentials: dict[str, str]) -> None:
    lines = run_example("explain_rejected_token.py", credentials)
    codes = [line.split()[1] for line in lines if line.startswith(("error", "warning", "info"))]
    assert codes[:3] == ["expired", "channel-mismatch", "uid-mismatch"]
    assert "signature-ok" in codes  # the temporary certificate is the one the token was signed with
    assert lines[-1] == "rejected because: channel-mismatch, expired, uid-mismatch"


def test_chat_app_token_cache_renews_inside_the_margin(credentials: dict[str, str]) -> None:
    lines = run_example("chat_app_token_cache.py", credentials)
    assert lines == [
        "first token expires at 1700003600",
        "after 50 min: same token",
        "after 55 min: renewed, expires at 1700006900",
        "renewed token issued at 2023-11-14T23:08:20+00:00",
    ]


def test_issuing_many_tokens_builds_each_one(credentials: dict[str, str]) -> None:
    lines = run_example("issue_many_tokens.py", credentials, "500")
    assert lines[0].startswith("500 tokens in ")
    assert lines[1] == "the last one is for user-499"


def test_validating_with_primary_and_secondary_certificate(credentials: dict[str, str]) -> None:
    credentials["ACCESSTOKEN2_SECONDARY_APP_CERTIFICATE"] = secrets.token_hex(16)
    lines = run_example("rotate_certificates.py", credentials)
    assert lines == [
        "signed with the primary -> accepted",
        "signed with the secondary -> accepted",
        "for room-2 -> rejected: channel-mismatch",
    ]


def test_flask_app_gives_each_logged_in_user_a_token_for_that_user(credentials: dict[str, str]) -> None:
    pytest.importorskip("flask")
    client = load_example("flask_app.py").app.test_client()
    assert client.get("/rtc-token/room-1").status_code == 401  # not logged in: no token
    assert client.post("/login", data={"user": "alice"}).status_code == 200
    answer = client.get("/rtc-token/room-1").get_json()
    parsed = AccessToken2.parse(answer["rtcToken"])
    assert parsed.verify(credentials["AGORA_APP_CERTIFICATE"])
    assert inspect(answer["rtcToken"]).services[0].fields == {"channel_name": "room-1", "uid": "alice"}


def test_fastapi_app_gives_tokens_and_serves_the_renewing_client(credentials: dict[str, str]) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(load_example("fastapi_app.py").app)
    assert client.get("/token/room-1").status_code == 401
    assert client.post("/login", json={"user": "bob"}).status_code == 200
    answer = client.get("/token/room-1").json()
    info = inspect(answer["rtcToken"])
    assert AccessToken2.parse(answer["rtcToken"]).verify(credentials["AGORA_APP_CERTIFICATE"])
    assert info.services[0].fields == {"channel_name": "room-1", "uid": "bob"}
    assert answer["expires_at"] - answer["expires_in"] == int(info.issued_at.timestamp())
    page = client.get("/")
    assert page.status_code == 200 and 'from "./renew.js"' in page.text and "/token/" in page.text
    script = client.get("/renew.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "export function keepTokenFresh" in script.text


RENEWAL_SCENARIO = """
import { keepTokenFresh, renewalDelaySeconds } from "%s";
const timers = [];
// the first two renewals run at once; the third is only recorded
const fake = {
  setTimeout: (run, ms) => { timers.push(ms); if (timers.length < 3) setImmediate(run); return timers.length; },
  clearTimeout: () => {},
};
const seen = [];
let calls = 0;
console.warn = () => {};
const fetchToken = async () => {
  calls += 1;
  if (calls === 2) throw new Error("network down");
  return { rtcToken: "token-" + calls, expires_in: 120 };
};
keepTokenFresh(fetchToken, (answer) => seen.push(answer.rtcToken), fake);
await new Promise((done) => setTimeout(done, 50));
console.log(JSON.stringify({ seen, timers, delays: [120, 3600, 20, 1].map(renewalDelaySeconds) }));
"""


def test_browser_client_schedules_renewal_before_expiry(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    scenario = tmp_path / "scenario.mjs"
    scenario.write_text(RENEWAL_SCENARIO % (EXAMPLES / "static" / "renew.js").as_uri(), encoding="utf-8")
    done = subprocess.run([node, str(scenario)], capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(done.stdout)
    # each token is handed over and the next fetch set 90 s on (80 % of 120 s, but 30 s before the end);
    # the failed second fetch is retried after 5 s and hands nothing over
    assert result["seen"] == ["token-1", "token-3"]
    assert result["timers"] == [90_000, 5_000, 90_000]
    # 80 % of an hour; 30 s before the end of 120 s; at least 1 s for tiny lifetimes
    assert result["delays"] == [90, 2880, 1, 1]
