"""server_processes.free_port under pytest-xdist: each worker gets ports no other worker can get."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("httpx")

from server_processes import free_port


@pytest.mark.parametrize(("worker", "workers"), [("gw0", 2), ("gw1", 2), ("gw0", 3), ("gw1", 3), ("gw2", 3)])
def test_each_worker_takes_its_own_share_of_ports(monkeypatch: pytest.MonkeyPatch, worker: str, workers: int) -> None:
    # two workers included: bind(0) on Linux hands out mostly odd ports, so a worker whose share is the
    # even ones must not wait for bind(0) to give it one
    monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(workers))
    ports = {free_port() for _ in range(5)}
    assert {port % workers for port in ports} == {int(worker[2:])}
    for port in ports:  # free when handed out: a server can bind it
        with socket.socket() as server:
            server.bind(("127.0.0.1", port))


def test_without_xdist_any_free_port_will_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    assert 0 < free_port() < 65536
