"""The pure parts of benchmarks/load_server.py --compare: ratios within rounds, their medians, the table.

No timing is asserted here (the figures live in benchmarks/README.md); no server is started.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from benchmark_scripts import load_script

pytest.importorskip("httpx")  # the script imports it at the top


@pytest.fixture(scope="module")
def load_server() -> ModuleType:
    return load_script("load_server.py")


def run(rate: float, errors: int = 0) -> dict[str, Any]:
    return {
        "requests_per_second": rate,
        "p50_ms": 1000 / rate,
        "p99_ms": 2000 / rate,
        "errors": errors,
        "cpu_us_per_request": 1e6 / rate / 2,
    }


def results(**rates: list[float]) -> dict[str, list[dict[str, Any]]]:
    names = {
        "off": "accesstoken2 server, JWT off",
        "jwt": "accesstoken2 server, JWT on",
        "fastapi": "minimal FastAPI endpoint",
        "bare": "bare ASGI endpoint",
    }
    return {names[key]: [run(rate) for rate in values] for key, values in rates.items()}


def test_ratios_are_taken_within_each_round(load_server: ModuleType) -> None:
    # The machine gets twice as busy in round 2: every server halves, the ratios do not move.
    measured = results(
        off=[9000, 4500, 9300], jwt=[8000, 4000, 8200], fastapi=[3000, 1500, 3100], bare=[20000, 10000, 20000]
    )
    rows = {row["server"]: row for row in load_server.summarize(measured)}
    off = rows["accesstoken2 server, JWT off"]
    assert off["ratios_to_minimal_fastapi"] == [3.0, 3.0, 3.0]
    assert off["ratio_to_minimal_fastapi"] == 3.0
    assert off["ratios_to_bare_asgi"] == [0.45, 0.45, 0.465]
    assert off["ratio_to_bare_asgi"] == 0.45
    # a ratio of medians would mix rounds: 9000 / 3000 here, but 8000 / 20000 is not 8000's round
    assert rows["accesstoken2 server, JWT on"]["ratio_to_bare_asgi"] == pytest.approx(0.4)
    assert rows["minimal FastAPI endpoint"]["ratio_to_minimal_fastapi"] == 1.0
    assert rows["bare ASGI endpoint"]["ratio_to_bare_asgi"] == 1.0
    assert off["requests_per_second"] == 9000


def test_median_of_ratios_differs_from_ratio_of_medians(load_server: ModuleType) -> None:
    measured = results(off=[1000, 3000, 2000], jwt=[1, 1, 1], fastapi=[100, 3000, 1000], bare=[1, 1, 1])
    off = next(row for row in load_server.summarize(measured) if row["server"].endswith("JWT off"))
    # ratios per round: 10, 1, 2; their median is 2, where the ratio of the medians would be 2000 / 1000
    assert off["ratios_to_minimal_fastapi"] == [10.0, 1.0, 2.0]
    assert off["ratio_to_minimal_fastapi"] == 2.0


def test_errors_add_up_and_rounds_must_pair(load_server: ModuleType) -> None:
    measured = results(off=[10, 10], jwt=[10, 10], fastapi=[10, 10], bare=[10, 10])
    measured["accesstoken2 server, JWT off"][1]["errors"] = 3
    rows = {row["server"]: row for row in load_server.summarize(measured)}
    assert rows["accesstoken2 server, JWT off"]["errors"] == 3
    assert rows["bare ASGI endpoint"]["errors"] == 0
    measured["bare ASGI endpoint"].pop()
    with pytest.raises(ValueError, match="2 rounds of a server against 1 of its baseline"):
        load_server.summarize(measured)


def test_table_shows_both_ratios(load_server: ModuleType) -> None:
    measured = results(off=[9000], jwt=[7500], fastapi=[2500], bare=[25000])
    table = load_server.compare_table(load_server.summarize(measured), 1).splitlines()
    assert table[0].startswith("| server | req/s (median of 1) |")
    assert table[0].endswith("| server CPU µs/request | to minimal FastAPI | to bare ASGI |")
    assert table[2] == "| accesstoken2 server, JWT off | 9,000 | 0.11 | 0.22 | 0 | 56 | 3.60x | 0.36x |"
    assert table[3].endswith("| 0 | 67 | 3.00x | 0.30x |")
    assert len(table) == 6


def test_compare_uses_one_wrk_thread_unless_told(load_server: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    monkeypatch.setattr(load_server.shutil, "which", lambda name: "/usr/bin/wrk")
    monkeypatch.setattr(load_server, "compare", lambda args: seen.append(args.threads) or 0)
    assert load_server.main(["--compare"]) == 0
    assert load_server.main(["--compare", "--threads", "3"]) == 0
    assert seen == [1, 3]


def test_servers_import_the_package_the_script_imported(load_server: ModuleType) -> None:
    import accesstoken2

    assert load_server.PACKAGE_ROOT == str(Path(accesstoken2.__file__).resolve().parent.parent)
    stack = load_server.server_stack()
    assert set(stack) == {"uvicorn", "loop", "http"}
    assert stack["loop"] == "asyncio" or stack["loop"].startswith("uvloop ")


def test_cpu_seconds_counts_this_process(load_server: ModuleType) -> None:
    import os
    import time

    before = load_server.cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    spent = load_server.cpu_seconds(os.getpid()) - before
    assert 0.1 <= spent <= 5  # clock ticks are coarse (1/100 s)
    assert load_server.cpu_seconds(2**22 + 12345) == 0  # no such process


def test_the_sync_fastapi_row_is_an_extra_and_never_a_baseline(load_server: ModuleType) -> None:
    assert "extra" in load_server.SYNC_FASTAPI_ROW
    assert load_server.SYNC_FASTAPI_ROW not in load_server.BASELINES.values()
    # the same endpoint as the minimal one, only not a coroutine (so FastAPI runs it in a thread)
    assert "\ndef get_token(body: Body)" in load_server._SYNC_FASTAPI
    assert load_server._SYNC_FASTAPI.replace("\ndef get_token", "\nasync def get_token") == load_server._MINIMAL_FASTAPI
    measured = results(off=[9000, 9000], jwt=[8000, 8000], fastapi=[6000, 3000], bare=[15000, 15000])
    measured[load_server.SYNC_FASTAPI_ROW] = [run(3000), run(2000)]
    rows = {row["server"]: row for row in load_server.summarize(measured)}
    assert rows["accesstoken2 server, JWT off"]["ratios_to_minimal_fastapi"] == [1.5, 3.0]  # the async endpoint's
    assert rows[load_server.SYNC_FASTAPI_ROW]["ratios_to_bare_asgi"] == [0.2, 0.133]
