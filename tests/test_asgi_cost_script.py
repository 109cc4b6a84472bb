"""benchmarks/asgi_cost.py drives each server's ASGI application in-process: every answer checked,
the figures' arithmetic right.  No timing is asserted (figures live in docs/performance.md)."""

from __future__ import annotations

from types import ModuleType

import pytest
from benchmark_scripts import load_script

pytest.importorskip("httpx")  # load_server.py, which the script reuses, imports it
pytest.importorskip("fastapi")
pytest.importorskip("jwt")

# the servers build tokens on the default kernel
pytestmark = pytest.mark.default_kernel


@pytest.fixture(scope="module")
def asgi_cost() -> ModuleType:
    return load_script("asgi_cost.py")


@pytest.mark.parametrize("server", ["jwt-off", "jwt-on", "minimal-fastapi", "bare-asgi"])
def test_every_server_answers_the_request_with_a_token_that_verifies(asgi_cost: ModuleType, server: str) -> None:
    assert asgi_cost.cpu_per_request(server, 20) > 0  # check() raises unless 200 with a verifying token


def test_a_refused_request_stops_the_run(asgi_cost: ModuleType) -> None:
    app, headers = asgi_cost.build("jwt-on")
    driver = asgi_cost.Driver(app, [])  # JWT mode without the JWT: 401
    loop = asgi_cost._event_loop()
    try:
        with pytest.raises(SystemExit, match="answered 401"):
            loop.run_until_complete(driver.check())
    finally:
        loop.close()
    assert headers and headers[0][0] == b"authorization"


def test_instructions_per_request_cancel_start_up(asgi_cost: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = {100: 5_000_000 + 100 * 250_000, 300: 5_000_000 + 300 * 250_000}
    monkeypatch.setattr(asgi_cost, "_instructions", lambda server, requests: counts[requests])
    assert asgi_cost.instructions_per_request("jwt-off", 100) == 250_000


def test_the_table_and_unknown_servers(asgi_cost: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert asgi_cost.main(["--requests", "10", "--servers", "bare-asgi,jwt-off"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["| server | CPU µs/request |", "|---|---|"]
    assert [line.split("|")[1].strip() for line in lines[2:]] == ["bare-asgi", "jwt-off"]
    with pytest.raises(SystemExit):
        asgi_cost.main(["--servers", "nginx"])
