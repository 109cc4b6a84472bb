"""AccessToken2 behaviour: round trips, ordering, unknown services, secrets."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import zlib

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from wire_helpers import unknown_service_token

from accesstoken2 import (
    AccessToken,
    AccessToken2,
    ServiceApaas,
    ServiceChat,
    ServiceConvoAI,
    ServiceFCdn,
    ServiceFpa,
    ServiceRtc,
    ServiceRtm,
    ServiceRtm2,
    ServiceStreaming,
    ServiceStt,
)
from accesstoken2.services import Service
from accesstoken2.token2 import random_salt

# every test here touches a kernel: it runs once per kernel
pytestmark = pytest.mark.usefixtures("implementation")

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
OTHER_CERT = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

hex32 = st.text(alphabet="0123456789abcdefABCDEF", min_size=32, max_size=32)
u32 = st.integers(0, 2**32 - 1)
u16 = st.integers(0, 2**16 - 1)
texts = st.text(max_size=40)
privileges = st.dictionaries(u16, st.integers(0, 86400), max_size=4)
uids = st.one_of(st.integers(0, 2**32 - 1), texts)


@st.composite
def services(draw: st.DrawFn) -> Service:
    kind = draw(st.integers(1, 10))
    service: Service
    if kind == 1:
        service = ServiceRtc(draw(texts), draw(uids))
    elif kind == 2:
        service = ServiceRtm(draw(texts))
    elif kind == 3:
        service = ServiceStreaming(draw(texts), draw(uids))
    elif kind == 4:
        service = ServiceFpa()
    elif kind == 5:
        service = ServiceChat(draw(texts))
    elif kind == 6:
        service = ServiceFCdn(draw(texts), draw(uids))
    elif kind == 7:
        service = ServiceApaas(draw(texts), draw(texts), draw(st.integers(-(2**15), 2**15 - 1)))
    elif kind == 8:
        permissions = ServiceRtm2.Permissions()
        for resource, by_permission in draw(
            st.dictionaries(st.integers(0, 4), st.dictionaries(st.integers(0, 1), st.lists(texts, max_size=3)))
        ).items():
            for permission, names in by_permission.items():
                permissions.add(resource, permission, names)
        service = ServiceRtm2(draw(texts), permissions)
    elif kind == 9:
        service = ServiceConvoAI()
    else:
        service = ServiceStt()
    for key, value in draw(privileges).items():
        service.add_privilege(key, value)
    return service


@settings(max_examples=150, deadline=None)
@given(
    app_id=hex32,
    cert=hex32,
    issue_ts=st.integers(1, 2**32 - 1),
    expire=st.integers(0, 86400),
    salt=u32,
    items=st.lists(services(), min_size=1, max_size=5),
)
def test_round_trip(app_id: str, cert: str, issue_ts: int, expire: int, salt: int, items: list[Service]) -> None:
    assume(app_id.lower() != cert.lower())  # the same id twice is refused by every builder
    token = AccessToken2(app_id, cert, issue_ts, expire, salt=salt)
    for service in items:
        token.add_service(service)
    built = token.build()
    assert built == token.build()
    parsed = AccessToken2.parse(built)
    assert (parsed.app_id, parsed.issue_ts, parsed.expire, parsed.salt) == (app_id, issue_ts, expire, salt)
    assert list(parsed.services) == sorted(items, key=lambda s: s.kServiceType)
    assert parsed.verify(cert)
    wrong = ("0" if cert[0] != "0" else "1") + cert[1:]
    assert not parsed.verify(wrong)
    assert token.verify(cert)


def test_services_sorted_by_type_stably() -> None:
    first = ServiceStreaming("c", "first")
    second = ServiceStreaming("c", "second")
    token = AccessToken2(APP_ID, CERT, 1111111, 600, salt=1)
    token.add_service(ServiceRtm("u"))
    token.add_service(first)
    token.add_service(ServiceRtc("c", 1))
    token.add_service(second)
    parsed = AccessToken2.parse(token.build())
    assert [s.kServiceType for s in parsed.services] == [1, 2, 3, 3]
    assert [s.account for s in parsed.get_services(3)] == ["first", "second"]  # type: ignore[attr-defined]
    assert token.get_services(ServiceStreaming.kServiceType) == [first, second]


def test_build_twice_gives_same_token() -> None:
    token = AccessToken2(APP_ID, CERT, expire=600)
    token.add_service(ServiceChat("user"))
    assert token.build() == token.build()


def test_defaults_now_and_random_salt() -> None:
    before = int(time.time())
    salts = set()
    for _ in range(50):
        token = AccessToken2(APP_ID, CERT)
        assert before <= token.issue_ts <= int(time.time())
        assert 1 <= token.salt <= 99_999_999
        assert token.expire == 900
        salts.add(token.salt)
    assert len(salts) > 40


def _unknown_type_token(unknown: int) -> str:
    known = ServiceRtc("chan", 7)
    known.add_privilege(1, 600)
    return unknown_service_token(APP_ID, CERT, known, unknown, 1111111, tail="\x01\x02tail")


@pytest.mark.parametrize("unknown", [0, 11, 999, 65535])
def test_unknown_service_type_keeps_known_and_verifies(unknown: int) -> None:
    parsed = AccessToken2.parse(_unknown_type_token(unknown))
    assert [s.kServiceType for s in parsed.services] == [1]
    assert parsed.unknown_service_type == unknown
    assert parsed.verify(CERT)
    assert not parsed.verify(OTHER_CERT)


def test_signature_covers_raw_bytes() -> None:
    token = AccessToken2(APP_ID, CERT, 1111111, 600, salt=1)
    token.add_service(ServiceRtm("user"))
    content = bytearray(zlib.decompress(base64.b64decode(token.build()[3:])))
    content[-1] ^= 1  # change the user id without re-signing
    forged = "007" + base64.b64encode(zlib.compress(bytes(content))).decode()
    parsed = AccessToken2.parse(forged)
    assert parsed.get_services(2)[0].user_id != "user"  # type: ignore[attr-defined]
    assert not parsed.verify(CERT)


def test_repr_and_dict_never_show_certificate() -> None:
    token = AccessToken2(APP_ID, CERT, 1111111, 600, salt=1)
    token.add_service(ServiceRtc("chan", 5))
    token.build()
    assert CERT not in repr(token)
    assert CERT.lower() not in repr(token).lower()
    assert CERT not in str(token.to_dict())


def test_verify_needs_a_token() -> None:
    assert AccessToken2(APP_ID, CERT).verify(CERT) is False
    parsed = AccessToken2.parse(_unknown_type_token(99))
    assert parsed.verify("zz" * 16) is False
    assert parsed.verify(CERT + "123") is False


def test_accesstoken_alias_is_accesstoken2() -> None:
    assert AccessToken is AccessToken2


def test_uid_zero_and_string_zero_differ() -> None:
    assert ServiceRtc("c", 0).uid == ""
    assert ServiceRtc("c", "0").uid == "0"
    assert ServiceRtc("c", 2882341273).pack() == ServiceRtc("c", "2882341273").pack()
    assert ServiceFCdn("c", 0).account == "" and ServiceStreaming("c", 12).account == "12"


def test_rtm2_permissions_add_replaces() -> None:
    permissions = ServiceRtm2.Permissions()
    permissions.add(ServiceRtm2.Permissions.kMessageChannels, ServiceRtm2.Permissions.kRead, ["a"])
    permissions.add(0, 0, ("b", "c"))
    permissions.add(4, 1, [])
    assert permissions.details == {0: {0: ["b", "c"]}, 4: {1: []}}
    service = ServiceRtm2("user", permissions)
    service.add_privilege(ServiceRtm2.kPrivilegeLogin, 600)
    token = AccessToken2(APP_ID, CERT, 1111111, 600, salt=1)
    token.add_service(service)
    parsed = AccessToken2.parse(token.build())
    assert parsed.services[0] == service
    assert parsed.to_dict()["services"][0]["permissions"] == {0: {0: ["b", "c"]}, 4: {1: []}}


def test_service_privileges_view_is_read_only() -> None:
    service = ServiceChat("u")
    service.add_privilege(ServiceChat.kPrivilegeUser, 60)
    with pytest.raises(TypeError):
        service.privileges[2] = 5  # type: ignore[index]
    assert dict(service.privileges) == {1: 60}
    assert service.name == "Chat" and service.service_type() == 5


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_draws_its_own_salts() -> None:
    random_salt()  # the parent now holds a pool of random bytes
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read_end)
        os.write(write_end, json.dumps([random_salt() for _ in range(16)]).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        child = json.loads(pipe.read())
    os.waitpid(pid, 0)
    parent = [random_salt() for _ in range(16)]
    assert len(child) == 16
    assert child != parent
    assert all(1 <= salt <= 99_999_999 for salt in child + parent)


def test_salts_cover_the_range() -> None:
    salts = [random_salt() for _ in range(4000)]
    assert min(salts) >= 1 and max(salts) <= 99_999_999
    assert len(set(salts)) > 3990
    # roughly uniform: each tenth of the range gets its share
    tenths = [0] * 10
    for salt in salts:
        tenths[(salt - 1) * 10 // 99_999_999] += 1
    assert min(tenths) > 300


def test_threads_drawing_salts_at_once_never_share_a_pool() -> None:
    # 8 threads x 4,000 salts cross many refills of the pool; salts handed out twice would show as thousands of
    # repeats, while 32,000 independent draws from 99,999,999 values repeat about 5 times
    drawn: list[list[int]] = [[] for _ in range(8)]
    start = threading.Barrier(8)

    def draw(into: list[int]) -> None:
        start.wait()
        into.extend(random_salt() for _ in range(4000))

    workers = [threading.Thread(target=draw, args=(into,)) for into in drawn]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    salts = [salt for into in drawn for salt in into]
    assert len(salts) == 32_000 and all(1 <= salt <= 99_999_999 for salt in salts)
    assert len(salts) - len(set(salts)) < 40
