"""What a rule checks is what the token gets: user accounts stay accounts, the authorizer sees the
settled grant (lifetime, role, uid kind) that is then built as it is, Agora's naming rules are
enforced, and a failing authorizer is one log line.  In process (httpx over ASGI)."""

from __future__ import annotations

import json
import logging
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import pytest

pytest.importorskip("fastapi")
jwt = pytest.importorskip("jwt")
httpx = pytest.importorskip("httpx")

from asgi_clients import Client  # noqa: E402

from accesstoken2 import AccessToken2, ServiceRtc, ServiceRtm  # noqa: E402
from accesstoken2.server import Settings  # noqa: E402
from accesstoken2.server.logs import JsonFormatter  # noqa: E402

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
SECRET = "grant-tests-jwt-secret-0123456789abcdef"


@pytest.fixture
def make_client() -> Iterator[Callable[..., Client]]:
    clients: list[Client] = []

    def make(**overrides: Any) -> Client:
        # an exception escaping the app fails the test
        client = Client(Settings(app_id=APP_ID, app_certificate=CERT, **overrides), raise_app_exceptions=True)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def jwt_for(sub: str) -> str:
    encoded: str = jwt.encode({"sub": sub, "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")
    return encoded


def rtc_services(answer: dict[str, Any]) -> list[ServiceRtc]:
    """The RTC services of every token in an answer."""
    found = []
    for key, value in answer.items():
        if key in ("token", "rtcToken", "rtmToken"):
            found += [service for service in AccessToken2.parse(value).services if isinstance(service, ServiceRtc)]
    return found


# ---------------------------------------------------------------- finding 1: accounts stay accounts


@pytest.mark.parametrize("account", ["0", "042", "00", "4294967296"])
@pytest.mark.default_kernel
def test_a_digit_only_account_stays_that_account(make_client: Callable[..., Client], account: str) -> None:
    client = make_client(jwt_secret=SECRET)
    paths = [f"/rtc/room/publisher/userAccount/{account}/"]
    if account != "0":  # /rte refuses the RTM user "0", as agora-token-service does
        paths.append(f"/rte/room/publisher/userAccount/{account}/")
    for path in paths:
        response = client.request("GET", path, bearer=jwt_for(account))
        assert response.status_code == 200, (path, response.text)
        services = rtc_services({"rtcToken": response.json()["rtcToken"]})
        assert [service.uid for service in services] == [account]


def test_a_numeric_identity_gets_no_other_uid_through_an_account(make_client: Callable[..., Client]) -> None:
    client = make_client(jwt_secret=SECRET)
    # the account "042" is not the uid 42, and the uid 42 is not the account "042"
    assert client.request("GET", "/rtc/room/publisher/uid/42/", bearer=jwt_for("042")).status_code == 403
    assert client.request("GET", "/rtc/room/publisher/userAccount/042/", bearer=jwt_for("42")).status_code == 403
    zero = client.request("GET", "/rtc/room/publisher/uid/0/", bearer=jwt_for("0"))
    assert zero.status_code == 403 and "any uid" in zero.json()["detail"]


@pytest.mark.parametrize(
    "path",
    ["/rtc/room/publisher/userAccount//", "/rte/room/publisher/userAccount//", "/rte/room/publisher/userAccount//bob/"],
)
def test_an_empty_account_is_400(make_client: Callable[..., Client], path: str) -> None:
    response = make_client().request("GET", path)
    assert response.status_code == 400
    assert "rtcuid" in response.json()["message"] and "empty" in response.json()["message"]


REFUSE_ANY_UID = textwrap.dedent(
    """
    SEEN = []

    def authorize(grant, headers):
        SEEN.append(grant)
        return grant.uid != 0
    """
)


@pytest.fixture
def hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], str]]:
    """Writes a hook module and returns its ``module:authorize`` path."""
    names: list[str] = []

    def write(source: str) -> str:
        name = f"grant_hook_{len(names)}_{tmp_path.name.replace('-', '_')}"
        (tmp_path / f"{name}.py").write_text(source)
        names.append(name)
        return f"{name}:authorize"

    monkeypatch.syspath_prepend(str(tmp_path))
    yield write
    for name in names:
        sys.modules.pop(name, None)


WILDCARD_ATTEMPTS: list[tuple[str, str, Any]] = [
    ("GET", "/rtc/room/publisher/userAccount/0/", None),
    ("GET", "/rtc/room/publisher/userAccount/00/", None),
    ("GET", "/rtc/room/publisher/userAccount//", None),
    ("GET", "/rte/room/publisher/userAccount/0/bob/", None),
    ("GET", "/rte/room/publisher/userAccount//bob/", None),
    ("GET", "/rtc/room/publisher/uid/0/", None),
    ("GET", "/rtc/room/publisher/uid//", None),
    ("GET", "/rtc/room/publisher/uid/000/", None),
    ("GET", "/rte/room/publisher/uid/0/bob/", None),
    ("GET", "/v1/token?channel_name=room", None),
    ("POST", "/getToken", {"tokenType": "rtc", "channel": "room", "uid": 0}),
    ("POST", "/getToken", {"tokenType": "rtc", "channel": "room", "uid": "0"}),
    ("POST", "/getToken", {"tokenType": "rtc", "channel": "room", "uid": "000"}),
    ("POST", "/getToken", {"tokenType": "rtc", "channel": "room", "uid": ""}),
]


@pytest.mark.parametrize(("method", "path", "body"), WILDCARD_ATTEMPTS)
@pytest.mark.default_kernel
def test_an_authorizer_refusing_uid_0_is_not_bypassed(
    make_client: Callable[..., Client], hook: Callable[[str], str], method: str, path: str, body: Any
) -> None:
    client = make_client(authorizer=hook(REFUSE_ANY_UID))
    response = client.request(method, path, json=body)
    if response.status_code == 200:
        # whatever came out is not the wildcard: the hook saw the uid that went into the token
        assert all(service.uid != "" for service in rtc_services(response.json())), path
    else:
        assert response.status_code in (400, 403)


CHECKED_SOURCE = textwrap.dedent(
    """
    SEEN = []

    def authorize(grant, headers):
        SEEN.append(grant)
        return None
    """
)

REQUESTS: list[tuple[str, str, Any]] = [
    ("POST", "/getToken", {"tokenType": "rtc", "channel": "room", "uid": 7}),
    ("POST", "/getToken", {"tokenType": "rtc", "channel": "room", "uid": "042", "role": "publisher"}),
    ("POST", "/getToken", {"tokenType": "rtc", "channel": "room", "uid": "ann", "expire": 0}),
    ("POST", "/getToken", {"tokenType": "rtm", "uid": "ann", "channel": "stream", "role": "publisher"}),
    ("POST", "/getToken", {"tokenType": "chat", "uid": "ann"}),
    ("GET", "/rtc/room/subscriber/userAccount/042/", None),
    ("GET", "/rtc/room/publisher/uid/042/?expiry=0", None),
    ("GET", "/rte/room/publisher/userAccount/007/", None),
    ("GET", "/rtm/ann/", None),
    ("GET", "/chat/account/ann/", None),
    ("GET", "/chat/user/ann/token?expire=600", None),
    ("GET", "/v1/token?channel_name=room", None),
]


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS)
@pytest.mark.default_kernel
def test_the_authorizer_sees_what_the_token_gets(
    make_client: Callable[..., Client], hook: Callable[[str], str], method: str, path: str, body: Any
) -> None:
    """Lifetime, role, channel, uid and user id: the grant the hook saw, field by field, against the token."""
    target = hook(CHECKED_SOURCE)
    client = make_client(authorizer=target, default_expire=1200)
    response = client.request(method, path, json=body)
    assert response.status_code == 200, response.text
    (grant,) = sys.modules[target.split(":")[0]].SEEN
    tokens = {key: value for key, value in response.json().items() if key in ("token", "rtcToken", "rtmToken")}
    for key, token in tokens.items():
        parsed = AccessToken2.parse(token)
        assert parsed.expire == grant.expire, "the hook saw another lifetime than the token's"
        stream = grant.kind == "rtm" or key == "rtmToken"  # the RTC stream channel of an RTM token
        for service in parsed.services:
            if isinstance(service, ServiceRtc):
                assert service.channel_name == grant.channel
                uid = grant.user_id if stream else grant.uid
                written = uid if isinstance(uid, str) else str(uid) if uid else ""
                assert service.uid == written, "the uid was built in another form than the hook saw"
                if not stream:
                    publisher = ServiceRtc.kPrivilegePublishAudioStream in service.privileges
                    assert publisher == (grant.role == "publisher"), "the hook saw another role"
            elif isinstance(service, ServiceRtm):
                assert service.user_id == grant.user_id
    assert response.json()["expires_in"] == grant.expire


@pytest.mark.default_kernel
def test_a_narrowed_grant_is_settled_and_checked_again(
    make_client: Callable[..., Client], hook: Callable[[str], str]
) -> None:
    narrowing = textwrap.dedent(
        """
        import dataclasses

        def authorize(grant, headers):
            if grant.channel == "bad-name":
                return dataclasses.replace(grant, channel="bad\\x00name")
            return dataclasses.replace(grant, role="subscriber", expire=0)
        """
    )
    client = make_client(authorizer=hook(narrowing))
    narrowed = client.request("POST", "/getToken", json={"tokenType": "rtc", "channel": "room", "uid": 5})
    assert narrowed.status_code == 200
    assert narrowed.json()["expires_in"] == 3600 and AccessToken2.parse(narrowed.json()["token"]).expire == 3600
    refused = client.request("POST", "/getToken", json={"tokenType": "rtc", "channel": "bad-name", "uid": 5})
    assert refused.status_code == 400 and "channel" in refused.json()["message"]


# ---------------------------------------------------------------- finding 7: Agora's naming rules


BAD_CHANNELS = {
    "65 bytes": "c" * 65,
    "NUL": "room\x00",
    "ESC": "room\x1b[31m",
    "emoji": "room\U0001f600",
    "60 KB": "c" * 60_000,
    "slash": "a/b",
}


@pytest.mark.parametrize("what", sorted(BAD_CHANNELS))
def test_channels_agora_refuses_are_4xx(make_client: Callable[..., Client], what: str) -> None:
    client = make_client()
    channel = BAD_CHANNELS[what]
    answers = [
        client.request("POST", "/getToken", json={"tokenType": "rtc", "channel": channel, "uid": 1}),
        client.request("POST", "/getToken", json={"tokenType": "rtm", "channel": channel, "uid": "ann"}),
        client.request("GET", "/v1/token", params={"channel_name": channel}),
    ]
    answers.append(client.request("GET", f"/rtc/{quote(channel, safe='')}/publisher/uid/1/"))
    for response in answers:
        assert 400 <= response.status_code < 500, (what, response.status_code)
        if response.status_code == 400:
            body = response.json()
            assert "channel" in body["message"] and "Agora allows" in body["message"]
            assert body["problems"][0]["kind"] == "channel_name"
            assert channel not in response.text


@pytest.mark.parametrize(
    ("method", "path", "body", "rule"),
    [
        ("GET", "/rtc/room/publisher/userAccount/ann%F0%9F%98%80/", None, "user_account"),
        ("GET", f"/rtc/room/publisher/userAccount/{'a' * 256}/", None, "user_account"),
        ("POST", "/getToken", {"tokenType": "rtc", "channel": "room", "uid": "ann\x1b"}, "user_account"),
        ("GET", f"/rtm/{'u' * 65}/", None, "rtm_user_id"),
        ("GET", "/rtm/%C3%A9/", None, "rtm_user_id"),
        ("POST", "/getToken", {"tokenType": "rtm", "uid": "ann\n"}, "rtm_user_id"),
        ("GET", "/rte/room/publisher/userAccount/ann/b%C3%B6b/", None, "rtm_user_id"),
    ],
)
def test_accounts_and_rtm_user_ids_agora_refuses_are_400(
    make_client: Callable[..., Client], method: str, path: str, body: Any, rule: str
) -> None:
    response = make_client().request(method, path, json=body)
    assert response.status_code == 400, response.text
    assert [problem["kind"] for problem in response.json()["problems"]] == [rule]


@pytest.mark.default_kernel
def test_names_agora_allows_still_get_tokens(make_client: Callable[..., Client]) -> None:
    client = make_client()
    channel = "Room 1!#$%&()+-:;<=.>?@[]^_{}|~," + "x" * 32
    assert len(channel) == 64
    response = client.request("POST", "/getToken", json={"tokenType": "rtc", "channel": channel, "uid": "a" * 255})
    assert response.status_code == 200
    (service,) = rtc_services(response.json())
    assert (service.channel_name, service.uid) == (channel, "a" * 255)


# ---------------------------------------------------------------- finding 6: a failing authorizer


RAISING = textwrap.dedent(
    """
    class Forged(Exception):
        pass

    Forged.__name__ = "Forged\\nINFO fake line"

    def authorize(grant, headers):
        raise Forged("boom\\n2026-01-01 INFO forged line " + headers.get("x-text", ""))
    """
)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_raising_authorizer_logs_one_escaped_line(
    make_client: Callable[..., Client],
    hook: Callable[[str], str],
    caplog: pytest.LogCaptureFixture,
    log_format: str,
) -> None:
    client = make_client(authorizer=hook(RAISING), log_format=log_format)
    with caplog.at_level(logging.INFO):
        response = client.request(
            "POST", "/getToken", json={"tokenType": "rtc", "channel": "room", "uid": 1}, headers={"X-Text": "x"}
        )
    assert response.status_code == 500 and response.json()["message"].startswith("internal server error")
    errors = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(errors) == 1
    (record,) = errors
    assert record.exc_info is None and record.stack_info is None
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter("%(levelname)s %(message)s")
    line = formatter.format(record)
    assert "\n" not in line and "forged line" not in line and "boom" not in line
    assert "Forged\\x0aINFO fake line" in (json.loads(line)["message"] if log_format == "json" else line)
