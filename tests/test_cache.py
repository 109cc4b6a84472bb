"""TokenCache and ChatAppTokenCache: renewal, threads, fork, argument checks."""

from __future__ import annotations

import os
import sys
import threading

import pytest

import accesstoken2
from accesstoken2 import ChatAppTokenCache, InvalidParameterError, ParameterTypeError, TokenCache, inspect
from accesstoken2.cache import CachedToken, renewal_margin

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
NOW = 1_700_000_000


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def recording() -> tuple[list[tuple[int, int]], TokenCache, FakeClock]:
    calls: list[tuple[int, int]] = []
    clock = FakeClock()

    def build(issue_ts: int, expire: int) -> str:
        calls.append((issue_ts, expire))
        return f"token-{issue_ts}"

    return calls, TokenCache(build, 600, renew_before=60, clock=clock), clock


def test_renews_when_fewer_than_renew_before_seconds_remain() -> None:
    calls, cache, clock = recording()
    assert cache.get() == f"token-{NOW}" and cache.expires_at == NOW + 600
    clock.now = NOW + 539.5  # 60.5 s left: still served
    assert cache.get() == f"token-{NOW}"
    clock.now = NOW + 540  # exactly 60 s left: renewed, so a caller always gets more than renew_before
    assert cache.get() == f"token-{NOW + 540}"
    assert cache.entry() == CachedToken(f"token-{NOW + 540}", NOW + 540, NOW + 1140)
    assert calls == [(NOW, 600), (NOW + 540, 600)] and cache.builds == 2


def test_every_served_token_has_renew_before_seconds_left() -> None:
    _, cache, clock = recording()
    for step in range(0, 5000, 7):
        clock.now = NOW + step + 0.25
        entry = cache.entry()
        assert entry.expires_at - clock.now >= cache.renew_before
        assert entry.remaining(clock.now) >= cache.renew_before


def test_a_clock_that_goes_back_gets_a_new_token() -> None:
    calls, cache, clock = recording()
    cache.get()
    clock.now = NOW - 100
    assert cache.entry().issue_ts == NOW - 100 and len(calls) == 2


def test_clear_forgets_the_token() -> None:
    calls, cache, _ = recording()
    cache.get()
    cache.clear()
    cache.get()
    assert len(calls) == 2


def test_default_renew_before() -> None:
    assert TokenCache(lambda issue_ts, expire: "t", 3600).renew_before == renewal_margin(3600) == 360
    assert renewal_margin(300) == 60 and renewal_margin(60) == 30 and renewal_margin(1) == 0


def test_threads_build_once() -> None:
    started = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def slow_build(issue_ts: int, expire: int) -> str:
        calls.append(issue_ts)
        started.set()
        release.wait(5)
        return f"t{len(calls)}"

    cache = TokenCache(slow_build, 3600, clock=FakeClock())
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        token = cache.get()
        with lock:
            results.append(token)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    assert started.wait(5)
    release.set()
    for thread in threads:
        thread.join(5)
    assert results == ["t1"] * 16 and calls == [NOW] and cache.builds == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # 3.12+ warns about fork() with threads: the point here
def test_fork_while_another_thread_builds() -> None:
    """A child forked while another thread holds the lock must not deadlock on it."""
    inside = threading.Event()
    release = threading.Event()
    clock = FakeClock()

    def build(issue_ts: int, expire: int) -> str:
        if not inside.is_set():
            inside.set()
            release.wait(5)
        return f"token-{issue_ts}"

    cache = TokenCache(build, 600, clock=clock)
    builder = threading.Thread(target=cache.get)
    builder.start()
    assert inside.wait(5)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the lock was held at fork time; get() must still work
        os.close(read)
        try:
            os.write(write, cache.get().encode())
        finally:
            os._exit(0)
    os.close(write)
    release.set()
    builder.join(5)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and answer == f"token-{NOW}"
    assert cache.get() == f"token-{NOW}"


@pytest.mark.parametrize(
    ("expire", "renew_before", "error", "words"),
    [
        (0, None, InvalidParameterError, "expire must be an integer from 1"),
        (100, 100, InvalidParameterError, "renew_before must be an integer from 0 to 99"),
        (100, -1, InvalidParameterError, "renew_before"),
        ("600", None, ParameterTypeError, "expire"),
        (600, 1.5, ParameterTypeError, "renew_before"),
    ],
)
def test_bad_arguments(expire: object, renew_before: object, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        TokenCache(lambda issue_ts, lifetime: "t", expire, renew_before=renew_before)  # type: ignore[arg-type]


def test_build_must_be_callable() -> None:
    with pytest.raises(ParameterTypeError, match="build must be callable") as caught:
        TokenCache("not a function", 600)  # type: ignore[arg-type]
    assert caught.value.parameter == "build"


@pytest.mark.usefixtures("implementation")
def test_chat_app_token_cache() -> None:
    clock = FakeClock()
    cache = ChatAppTokenCache(APP_ID, CERT, expire=3600, renew_before=300, clock=clock)
    token = cache.get()
    info = inspect(token, now=NOW)
    assert info.issue_ts == NOW and info.expire == 3600 and [s.name for s in info.services] == ["Chat"]
    assert info.services[0].fields == {"user_id": ""} and info.token.verify(CERT)
    assert cache.expires_at == NOW + 3600
    clock.now = NOW + 3300
    renewed = cache.get()
    assert renewed != token and inspect(renewed, now=clock.now).issue_ts == NOW + 3300
    assert CERT not in repr(cache) and cache.builds == 2


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ((APP_ID, "short"), "app_certificate must be 32 hexadecimal characters"),
        (("x" * 32, CERT), "app_id must be 32 hexadecimal characters"),
        ((APP_ID, CERT, 86401), "expire must be an integer from 1 to 86400"),
    ],
)
def test_chat_app_token_cache_checks_its_arguments(arguments: tuple[object, ...], words: str) -> None:
    with pytest.raises(InvalidParameterError, match=words) as caught:
        ChatAppTokenCache(*arguments)  # type: ignore[arg-type]
    assert CERT not in str(caught.value)


def test_exported_lazily() -> None:
    assert "ChatAppTokenCache" in accesstoken2.__all__ and "TokenCache" in dir(accesstoken2)
    assert accesstoken2.TokenCache is sys.modules["accesstoken2.cache"].TokenCache
