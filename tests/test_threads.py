"""Many threads at once through the public API: every token checked; build_tokens keeps input order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import pytest

from accesstoken2 import (
    AccessToken2,
    ChatTokenBuilder,
    InvalidParameterError,
    ParameterTypeError,
    Role_Publisher,
    RtcTokenBuilder,
    ServiceChat,
    ServiceRtc,
    build_tokens,
)

# every test here touches a kernel: it runs once per kernel
pytestmark = pytest.mark.usefixtures("implementation")

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
THREADS = 8
TOKENS_PER_THREAD = 400


def check_rtc(token: str, channel: str, uid: int, salt: int) -> None:
    parsed = AccessToken2.parse(token)
    assert parsed.verify(CERTIFICATE)
    assert not parsed.verify("0" * 32)
    assert (parsed.app_id, parsed.issue_ts, parsed.expire, parsed.salt) == (APP_ID, 1_700_000_000, 600, salt)
    (service,) = parsed.services
    assert isinstance(service, ServiceRtc)
    assert (service.channel_name, service.uid) == (channel, str(uid))
    assert dict(service.privileges) == {1: 300, 2: 300, 3: 300, 4: 300}


def hammer(worker: int, failures: list[BaseException], start: threading.Barrier) -> None:
    start.wait()
    try:
        for index in range(TOKENS_PER_THREAD):
            channel, uid, salt = f"room-{worker}-{index}", 1 + worker * 100_000 + index, 1 + index
            token = RtcTokenBuilder.build_token_with_uid(
                APP_ID, CERTIFICATE, channel, uid, Role_Publisher, 600, 300, issue_ts=1_700_000_000, salt=salt
            )
            check_rtc(token, channel, uid, salt)
            user = f"user-{worker}-{index}"
            chat = AccessToken2.parse(ChatTokenBuilder.build_user_token(APP_ID, CERTIFICATE, user, 600))
            assert chat.verify(CERTIFICATE)
            assert isinstance(chat.services[0], ServiceChat) and chat.services[0].user_id == user
    except BaseException as error:  # reported by the main thread
        failures.append(error)


def test_many_threads_build_and_verify() -> None:
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS)
    threads = [threading.Thread(target=hammer, args=(worker, failures, start)) for worker in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_threads_give_the_bytes_of_the_pure_kernel(pure_kernel: ModuleType) -> None:
    def job(index: int) -> tuple[str, str]:
        token = AccessToken2(APP_ID, CERTIFICATE, 1_700_000_000, 600, salt=index + 1)
        token.add_service(ServiceRtc(f"channel-{index}", index))
        return token.build(), pure_kernel.build007(*token._kernel_job())

    with ThreadPoolExecutor(max_workers=6) as pool:
        for built, expected in pool.map(job, range(600)):
            assert built == expected


def make_tokens(count: int) -> list[AccessToken2]:
    tokens = []
    for index in range(count):
        token = AccessToken2(APP_ID, CERTIFICATE, 1_700_000_000 + index, 600 + index % 7, salt=1 + index)
        service = ServiceRtc(f"channel-{index % 13}", index)
        service.add_privilege(ServiceRtc.kPrivilegeJoinChannel, index % 600)
        token.add_service(service)
        if index % 3 == 0:
            token.add_service(ServiceChat(f"user-{index}"))
        tokens.append(token)
    return tokens


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_build_tokens_matches_sequential_builds(threads: int) -> None:
    tokens = make_tokens(2000)
    sequential = [token.build() for token in tokens]
    assert len(set(sequential)) == len(sequential)
    assert build_tokens(tokens, threads=threads) == sequential
    assert build_tokens(iter(tokens), threads=threads) == sequential


def test_build_tokens_default_threads_and_empty() -> None:
    tokens = make_tokens(300)
    assert build_tokens(tokens) == [token.build() for token in tokens]
    assert build_tokens([]) == []


def test_build_tokens_results_verify() -> None:
    tokens = make_tokens(200)
    for token, built in zip(tokens, build_tokens(tokens, threads=3)):
        parsed = AccessToken2.parse(built)
        assert parsed.verify(CERTIFICATE)
        assert parsed.issue_ts == token.issue_ts and parsed.salt == token.salt


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_build_tokens_invalid_token_midway(threads: int) -> None:
    tokens = make_tokens(1500)
    tokens[1200] = AccessToken2("not an app id", CERTIFICATE, 1_700_000_000, 600, salt=1)
    tokens[1200].add_service(ServiceChat("user"))
    with pytest.raises(InvalidParameterError, match="app_id"):
        build_tokens(tokens, threads=threads)
    # the kernel is still usable afterwards
    assert build_tokens(tokens[:1000], threads=threads) == [token.build() for token in tokens[:1000]]


def test_build_many_takes_any_iterable_and_stops_on_its_error(kernel: ModuleType, pure_kernel: ModuleType) -> None:
    jobs = [token._kernel_job() for token in make_tokens(700)]

    def failing() -> Iterator[tuple[bytes, bytes, int, int, int, bytes]]:
        yield from jobs[:600]
        raise RuntimeError("producer failed")

    assert kernel.build_many(iter(jobs), 2) == [pure_kernel.build007(*job) for job in jobs]
    with pytest.raises(RuntimeError, match="producer failed"):
        kernel.build_many(failing(), 2)
    with pytest.raises(ParameterTypeError, match="fields"):
        kernel.build_many([*jobs[:300], (*jobs[0][:5], [(1, {}, "not a tuple of fields")])], 2)
    with pytest.raises(ParameterTypeError, match="app_certificate"):
        kernel.build_many([*jobs[:300], (jobs[0][0], b"not a str", *jobs[0][2:])], 2)


def test_build_many_keeps_each_certificate_alive_until_sealed(kernel: ModuleType, pure_kernel: ModuleType) -> None:
    # The workers read a job's certificate in place after the producer has dropped the job: every certificate
    # here is a new string object that only its (generated, then discarded) job refers to, over many chunks,
    # and the certificates alternate so that no two neighbouring jobs share one.
    certificates = ["5CFd2fd1755d40ecb72977518be15d3b", "0123456789abcdef0123456789abcdef"]
    template = make_tokens(1500)

    def jobs() -> Iterator[tuple[object, ...]]:
        for index, token in enumerate(template):
            job = token._kernel_job()
            fresh = "".join(reversed(certificates[index % 2][::-1]))  # equal text, a new object
            yield (job[0], fresh, *job[2:])

    expected = [
        pure_kernel.build007(job[0], certificates[index % 2], *job[2:])
        for index, job in enumerate(token._kernel_job() for token in template)
    ]
    assert kernel.build_many(jobs(), 2) == expected
    assert len(set(expected)) == len(expected)
