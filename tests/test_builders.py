"""Each builder writes the services and privileges the reference builders write."""

from __future__ import annotations

import base64
import hashlib
import inspect
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from vector_data import load_vectors

import accesstoken2
from accesstoken2 import (
    AccessToken2,
    ApaasTokenBuilder,
    ChatTokenBuilder,
    ConvoAITokenBuilder,
    EducationTokenBuilder,
    FpaTokenBuilder,
    InvalidParameterError,
    Role,
    Role_Publisher,
    Role_Subscriber,
    RtcTokenBuilder,
    RtmTokenBuilder,
    ServiceRtm2,
    SttTokenBuilder,
)

# every test here touches a kernel: it runs once per kernel
pytestmark = pytest.mark.usefixtures("implementation")

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
FIXED = {"issue_ts": 1111111, "salt": 1}


def content(token: str) -> list[tuple[int, dict[int, int], dict[str, Any]]]:
    parsed = AccessToken2.parse(token)
    assert parsed.verify(CERT)
    assert parsed.app_id == APP_ID
    return [(s.kServiceType, dict(s.privileges), s.fields()) for s in parsed.services]


def test_roles() -> None:
    assert Role_Publisher == Role.PUBLISHER == 1
    assert Role_Subscriber == Role.SUBSCRIBER == 2


def test_rtc_publisher_and_subscriber() -> None:
    publisher = RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "chan", 42, Role_Publisher, 3600, 1800, **FIXED)
    assert content(publisher) == [(1, {1: 1800, 2: 1800, 3: 1800, 4: 1800}, {"channel_name": "chan", "uid": "42"})]
    assert AccessToken2.parse(publisher).expire == 3600
    subscriber = RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "chan", 0, Role.SUBSCRIBER, 3600)
    assert content(subscriber) == [(1, {1: 0}, {"channel_name": "chan", "uid": ""})]


def test_rtc_uid_and_account_agree() -> None:
    by_uid = RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "c", 2882341273, 1, 600, **FIXED)
    by_account = RtcTokenBuilder.build_token_with_user_account(APP_ID, CERT, "c", "2882341273", 1, 600, **FIXED)
    assert by_uid == by_account


def test_rtc_with_separate_privileges() -> None:
    token = RtcTokenBuilder.build_token_with_uid_and_privilege(APP_ID, CERT, "c", 7, 900, 100, 200, 300, 400, **FIXED)
    assert content(token) == [(1, {1: 100, 2: 200, 3: 300, 4: 400}, {"channel_name": "c", "uid": "7"})]
    same = RtcTokenBuilder.build_token_with_user_account_and_privilege(
        APP_ID, CERT, "c", "7", 900, 100, 200, 300, 400, **FIXED
    )
    assert same == token


def test_rtc_with_rtm() -> None:
    token = RtcTokenBuilder.build_token_with_rtm(APP_ID, CERT, "c", "alice", Role_Subscriber, 900, 60, **FIXED)
    assert content(token) == [
        (1, {1: 60}, {"channel_name": "c", "uid": "alice"}),
        (2, {1: 900}, {"user_id": "alice"}),
    ]


def test_rtc_with_rtm2_separate_ids() -> None:
    token = RtcTokenBuilder.build_token_with_rtm2(
        APP_ID, CERT, "c", 5, Role_Publisher, 900, 10, 20, 30, 40, "rtm-user", 500, **FIXED
    )
    assert content(token) == [
        (1, {1: 10, 2: 20, 3: 30, 4: 40}, {"channel_name": "c", "uid": "5"}),
        (2, {1: 500}, {"user_id": "rtm-user"}),
    ]
    assert AccessToken2.parse(token).expire == 900


def test_rtm_tokens() -> None:
    assert content(RtmTokenBuilder.build_token(APP_ID, CERT, "bob", 600, **FIXED)) == [
        (2, {1: 600}, {"user_id": "bob"})
    ]
    permissions = ServiceRtm2.Permissions()
    permissions.add(ServiceRtm2.Permissions.kStreamChannels, ServiceRtm2.Permissions.kWrite, ["s1", "s2"])
    token = RtmTokenBuilder.build_token_with_permissions(APP_ID, CERT, "bob", permissions, 600, **FIXED)
    [(kind, privileges, fields)] = content(token)
    assert (kind, privileges, fields["user_id"]) == (8, {1: 600}, "bob")
    assert fields["permissions"].details == {1: {1: ["s1", "s2"]}}


def test_chat_tokens() -> None:
    user = ChatTokenBuilder.build_user_token(APP_ID, CERT, "u-1", 600, **FIXED)
    assert content(user) == [(5, {1: 600}, {"user_id": "u-1"})]
    app = ChatTokenBuilder.build_app_token(APP_ID, CERT, 600, **FIXED)
    assert content(app) == [(5, {2: 600}, {"user_id": ""})]
    assert content(accesstoken2.build_user_token(APP_ID, CERT, "u-1", 600)) == content(user)
    assert content(accesstoken2.build_app_token(APP_ID, CERT, 600)) == content(app)


def test_fpa_token_lasts_a_day() -> None:
    token = FpaTokenBuilder.build_token(APP_ID, CERT, **FIXED)
    assert content(token) == [(4, {1: 0}, {})]
    assert AccessToken2.parse(token).expire == 86400


@pytest.mark.parametrize("builder", [ApaasTokenBuilder, EducationTokenBuilder])
def test_apaas_tokens(builder: type[ApaasTokenBuilder]) -> None:
    room_user = builder.build_room_user_token(APP_ID, CERT, "room", "user-1", 1, 600, **FIXED)
    md5 = hashlib.md5(b"user-1").hexdigest()
    assert content(room_user) == [
        (2, {1: 600}, {"user_id": "user-1"}),
        (5, {1: 600}, {"user_id": md5}),
        (7, {1: 600}, {"room_uuid": "room", "user_uuid": "user-1", "role": 1}),
    ]
    assert content(builder.build_user_token(APP_ID, CERT, "user-1", 600)) == [
        (7, {2: 600}, {"room_uuid": "", "user_uuid": "user-1", "role": -1})
    ]
    assert content(builder.build_app_token(APP_ID, CERT, 600)) == [
        (7, {3: 600}, {"room_uuid": "", "user_uuid": "", "role": -1})
    ]


def test_apaas_room_user_matches_published_vector() -> None:
    # python3/AccessToken2Test/test_service_apaas_room_user: the builder writes the same content
    token = ApaasTokenBuilder.build_room_user_token(APP_ID, CERT, "123", "2882341273", 1, 600, **FIXED)
    vector = next(v for v in load_vectors("token007") if v["id"].endswith("test_service_apaas_room_user"))
    assert zlib.decompress(base64.b64decode(token[3:])).hex() == vector["payload_hex"]


@pytest.mark.parametrize(("builder", "extra_type"), [(ConvoAITokenBuilder, 9), (SttTokenBuilder, 10)])
def test_convoai_and_stt(builder: Any, extra_type: int) -> None:
    token = builder.build_token(APP_ID, CERT, "c", 9, Role_Publisher, 900, 1, 2, 3, 4, "agent", 800, **FIXED)
    assert content(token) == [
        (1, {1: 1, 2: 2, 3: 3, 4: 4}, {"channel_name": "c", "uid": "9"}),
        (2, {1: 800}, {"user_id": "agent"}),
        (extra_type, {}, {}),
    ]
    subscriber = builder.build_token(APP_ID, CERT, "c", 9, Role_Subscriber, 900, 1, 2, 3, 4, "agent", 800)
    assert content(subscriber)[0][1] == {1: 1}


def test_fixed_issue_ts_and_salt_are_reproducible() -> None:
    first = ChatTokenBuilder.build_user_token(APP_ID, CERT, "u", 600, issue_ts=1700000000, salt=77)
    second = ChatTokenBuilder.build_user_token(APP_ID, CERT, "u", 600, issue_ts=1700000000, salt=77)
    assert first == second
    parsed = AccessToken2.parse(first)
    assert (parsed.issue_ts, parsed.salt) == (1700000000, 77)
    assert ChatTokenBuilder.build_user_token(APP_ID, CERT, "u", 600) != first


@pytest.mark.parametrize("role", [0, 3, 101, -1, True])
def test_rtc_rejects_unknown_role(role: int) -> None:
    with pytest.raises(InvalidParameterError, match="role must be Role_Publisher"):
        RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "c", 1, role, 600)


REFERENCE_SIGNATURES: dict[Callable[..., str], list[str]] = {
    RtcTokenBuilder.build_token_with_uid: [
        "app_id", "app_certificate", "channel_name", "uid", "role", "token_expire", "privilege_expire"],
    RtcTokenBuilder.build_token_with_user_account: [
        "app_id", "app_certificate", "channel_name", "account", "role", "token_expire", "privilege_expire"],
    RtcTokenBuilder.build_token_with_rtm2: [
        "app_id", "app_certificate", "channel_name", "rtc_account", "rtc_role", "rtc_token_expire",
        "join_channel_privilege_expire", "pub_audio_privilege_expire", "pub_video_privilege_expire",
        "pub_data_stream_privilege_expire", "rtm_user_id", "rtm_token_expire"],
    ConvoAITokenBuilder.build_token: [
        "app_id", "app_certificate", "channel_name", "rtc_account", "rtc_role", "rtc_token_expire",
        "join_channel_privilege_expire", "pub_audio_privilege_expire", "pub_video_privilege_expire",
        "pub_data_stream_privilege_expire", "rtm_user_id", "rtm_token_expire"],
    SttTokenBuilder.build_token: [
        "app_id", "app_certificate", "channel_name", "rtc_account", "rtc_role", "rtc_token_expire",
        "join_channel_privilege_expire", "pub_audio_privilege_expire", "pub_video_privilege_expire",
        "pub_data_stream_privilege_expire", "rtm_user_id", "rtm_token_expire"],
    RtmTokenBuilder.build_token: ["app_id", "app_certificate", "user_id", "expire"],
    RtmTokenBuilder.build_token_with_permissions: ["app_id", "app_certificate", "user_id", "permissions", "expire"],
    ChatTokenBuilder.build_user_token: ["app_id", "app_certificate", "user_id", "expire"],
    ChatTokenBuilder.build_app_token: ["app_id", "app_certificate", "expire"],
    ApaasTokenBuilder.build_room_user_token: ["app_id", "app_certificate", "room_uuid", "user_uuid", "role", "expire"],
}  # fmt: skip


@pytest.mark.parametrize("method", list(REFERENCE_SIGNATURES), ids=lambda m: m.__qualname__)
def test_reference_argument_names(method: Callable[..., str]) -> None:
    parameters = inspect.signature(method).parameters.values()
    positional = [p.name for p in parameters if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    keyword_only = [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert positional == REFERENCE_SIGNATURES[method]
    assert keyword_only == ["issue_ts", "salt"]
