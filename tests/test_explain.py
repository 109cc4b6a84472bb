"""inspect() and TokenInfo: 007 and 006 content, names, times, JSON, legacy formats."""

from __future__ import annotations

import json
import zlib
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from vector_data import load_vectors
from wire_helpers import unknown_service_token

from accesstoken2 import (
    MalformedTokenError,
    ParameterTypeError,
    RtcTokenBuilder,
    RtmTokenBuilder,
    ServiceRtc,
    ServiceRtm2,
    TokenInfo,
    inspect,
)
from accesstoken2.errors import LegacyTokenError
from accesstoken2.legacy import RtcTokenBuilder as RtcTokenBuilder006
from accesstoken2.legacy import RtmTokenBuilder as RtmTokenBuilder006

# every test here touches a kernel: it runs once per kernel
pytestmark = pytest.mark.usefixtures("implementation")

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
T0 = 1_700_000_000
NAMES = {1: "RTC", 2: "RTM", 3: "Streaming", 4: "FPA", 5: "Chat", 6: "FCDN", 7: "APaaS", 8: "RTM2"}
PARSE_OK = [vector for vector in load_vectors("parse007") if vector["expect"] == "ok"]
# RTM2 resource and permission type names, from docs/FORMAT.md
RESOURCES = ["message_channels", "stream_channels", "group_channels", "server_groups", "users"]
PERMISSIONS = ["read", "write"]


def _named(tree: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
    return {
        RESOURCES[int(rtype)]: {PERMISSIONS[int(ptype)]: names for ptype, names in by_permission.items()}
        for rtype, by_permission in tree.items()
    }


@pytest.mark.parametrize("vector", PARSE_OK, ids=[vector["id"] for vector in PARSE_OK])
def test_inspect_published_tokens(vector: dict[str, Any]) -> None:
    decoded = vector["decoded"]
    info = inspect(vector["token"], now=decoded["issue_ts"])
    assert (info.version, info.app_id, info.issue_ts, info.expire, info.salt) == (
        "007",
        decoded["app_id"],
        decoded["issue_ts"],
        decoded["expire"],
        decoded["salt"],
    )
    assert info.expire_ts == decoded["issue_ts"] + decoded["expire"]
    assert info.seconds_left == decoded["expire"]
    assert len(info.services) == len(decoded["services"])
    for service, expected in zip(info.services, decoded["services"]):
        assert service.type == expected["type"]
        assert service.name == NAMES[expected["type"]]
        fields = {key: value for key, value in expected.items() if key not in ("type", "privileges")}
        if "permissions" in fields:
            fields["permissions"] = _named(fields["permissions"])
        assert {key: service.fields[key] for key in fields} == fields
        assert {p.id: p.value for p in service.privileges} == {int(k): v for k, v in expected["privileges"].items()}
        for privilege in service.privileges:
            base = decoded["issue_ts"] + (privilege.value or decoded["expire"])
            assert privilege.expire_ts == base
            assert privilege.name != "unknown"


def test_privilege_names_and_times() -> None:
    token = RtcTokenBuilder.build_token_with_rtm(APP_ID, CERT, "room", 42, 1, 3600, 600, issue_ts=T0, salt=5)
    info = inspect(token, now=T0 + 100)
    rtc, rtm = info.services
    assert [p.name for p in rtc.privileges] == [
        "join_channel",
        "publish_audio_stream",
        "publish_video_stream",
        "publish_data_stream",
    ]
    assert all(p.expire_ts == T0 + 600 and not p.follows_token for p in rtc.privileges)
    assert rtc.fields == {"channel_name": "room", "uid": "42"}
    assert [p.name for p in rtm.privileges] == ["login"]
    assert rtm.privileges[0].expires_at == datetime(2023, 11, 14, 23, 13, 20, tzinfo=timezone.utc)
    assert info.issued_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert info.expires_at - info.issued_at == timedelta(hours=1)  # type: ignore[operator]
    assert info.seconds_left == 3500 and not info.expired
    assert rtc.privilege("publish_video_stream") is rtc.privileges[2]
    assert rtc.privilege("login") is None


def test_zero_privilege_follows_the_token() -> None:
    token = RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "room", 0, 2, 900, issue_ts=T0, salt=5)
    (rtc,) = inspect(token, now=T0).services
    assert rtc.fields["uid"] == ""
    (join,) = rtc.privileges
    assert join.follows_token and join.value == 0 and join.expire_ts == T0 + 900


def test_to_dict_is_json_with_the_required_keys() -> None:
    token = RtcTokenBuilder.build_token_with_rtm(APP_ID, CERT, "r\u00e9", "bob", 2, 60, issue_ts=T0, salt=9)
    data = json.loads(json.dumps(inspect(token, now=T0 + 61).to_dict()))
    for key in ("version", "app_id", "issue_ts", "expire", "salt", "services"):
        assert key in data
    assert data["version"] == "007" and data["issue_ts"] == T0 and data["expire"] == 60 and data["salt"] == 9
    assert [(s["type"], s["name"]) for s in data["services"]] == [(1, "RTC"), (2, "RTM")]
    assert data["services"][0]["fields"] == {"channel_name": "r\u00e9", "uid": "bob"}
    assert data["seconds_left"] == -1
    assert data["expires_at"] == "2023-11-14T22:14:20+00:00"
    assert CERT not in json.dumps(data)


def test_rtm2_permissions_are_named() -> None:
    permissions = ServiceRtm2.Permissions()
    permissions.add(ServiceRtm2.Permissions.kMessageChannels, ServiceRtm2.Permissions.kRead, ["lobby"])
    permissions.add(ServiceRtm2.Permissions.kUsers, ServiceRtm2.Permissions.kWrite, ["a", "b"])
    token = RtmTokenBuilder.build_token_with_permissions(APP_ID, CERT, "u", permissions, 60, issue_ts=T0, salt=1)
    (service,) = inspect(token).services
    assert service.name == "RTM2"
    assert service.fields["permissions"] == {"message_channels": {"read": ["lobby"]}, "users": {"write": ["a", "b"]}}
    json.dumps(inspect(token).to_dict())


def test_unknown_service_type_and_privilege() -> None:
    known = ServiceRtc("chan", 7)
    known.add_privilege(9, 600)
    token = unknown_service_token(APP_ID, CERT, known, 77, T0)
    info = inspect(token)
    assert info.unknown_service_type == 77
    assert info.to_dict()["unknown_service_type"] == 77
    assert [p.name for p in info.services[0].privileges] == ["unknown"]


def test_now_as_datetime() -> None:
    token = RtmTokenBuilder.build_token(APP_ID, CERT, "u", 600, issue_ts=T0, salt=1)
    moment = datetime.fromtimestamp(T0 + 60, tz=timezone.utc)
    assert inspect(token, now=moment).seconds_left == 540
    assert inspect(token, now=float(T0 + 600)).expired
    with pytest.raises(ParameterTypeError):
        inspect(token, now=datetime(2024, 1, 1))
    with pytest.raises(ParameterTypeError):
        inspect(token, now="soon")  # type: ignore[arg-type]


@pytest.mark.parametrize("vector", load_vectors("token006"), ids=lambda vector: vector["id"])
def test_inspect_006_vectors(vector: dict[str, Any]) -> None:
    info = inspect(vector["token"], now=vector["ts"])
    assert (info.version, info.app_id, info.salt, info.expire_ts) == (
        "006",
        vector["app_id"],
        vector["salt"],
        vector["ts"],
    )
    assert info.issue_ts is None and info.expire is None and info.issued_at is None
    assert info.crc_channel_name == zlib.crc32(vector["channel_name"].encode())
    assert info.crc_uid == zlib.crc32(vector["uid"].encode())
    granted = {p.id: p.value for service in info.services for p in service.privileges}
    assert granted == {int(key): value for key, value in vector["privileges"].items()}
    json.dumps(info.to_dict())


def test_inspect_006_built_tokens() -> None:
    rtc = RtcTokenBuilder006.buildTokenWithUid(APP_ID, CERT, "room", 42, 2, T0 + 600, ts=T0 + 86400, salt=3)
    (service,) = inspect(rtc, now=T0).services
    assert (service.type, service.name) == (1, "RTC")
    assert [(p.name, p.expire_ts) for p in service.privileges] == [("join_channel", T0 + 600)]
    assert service.fields == {"crc_channel_name": zlib.crc32(b"room"), "crc_uid": zlib.crc32(b"42")}
    rtm = RtmTokenBuilder006.buildToken(APP_ID, CERT, "bob", 1, 0, ts=T0 + 86400, salt=3)
    (service,) = inspect(rtm, now=T0).services
    assert (service.type, service.name) == (2, "RTM")
    (login,) = service.privileges
    assert login.id == 1000 and login.name == "rtm_login" and login.follows_token and login.expire_ts == T0 + 86400


LEGACY = [vector for vector in load_vectors("legacy") if not vector["algorithm"].endswith("_signature")]
LEGACY_NAMES = {
    "dynamic_key_v1": "DynamicKey v1",
    "dynamic_key_v2": "DynamicKey v2",
    "dynamic_key_v3": "DynamicKey v3",
    "dynamic_key_v4": "DynamicKey v4",
    "dynamic_key_v5": "DynamicKey v5",
    "signaling_token": "SignalingToken",
}


@pytest.mark.parametrize("vector", LEGACY, ids=[vector["id"] for vector in LEGACY])
def test_legacy_formats_are_recognised(vector: dict[str, Any]) -> None:
    with pytest.raises(LegacyTokenError) as caught:
        inspect(vector["expected"])
    assert caught.value.format == LEGACY_NAMES[vector["algorithm"]]
    assert LEGACY_NAMES[vector["algorithm"]] in str(caught.value)
    assert isinstance(caught.value, MalformedTokenError)


@pytest.mark.parametrize(
    ("token", "words"),
    [
        ("", "version prefix"),
        ("7666966591a93ee5a3f712e22633f31f0cbc8f13", "version prefix"),  # a bare v3 signature
        ("008abc", "version prefix"),
        ("007!!", "base64"),
        ("006" + APP_ID + "!!", "base64"),
        ("006xyz", "app id"),
    ],
)
def test_malformed(token: str, words: str) -> None:
    with pytest.raises(MalformedTokenError) as caught:
        inspect(token)
    assert not isinstance(caught.value, LegacyTokenError)
    assert words in str(caught.value)


def test_wrong_type() -> None:
    with pytest.raises(ParameterTypeError):
        inspect(b"007")  # type: ignore[arg-type]


def test_token_info_is_exported_and_frozen() -> None:
    info = inspect(RtmTokenBuilder.build_token(APP_ID, CERT, "u", 600, issue_ts=T0, salt=1))
    assert isinstance(info, TokenInfo)
    with pytest.raises(AttributeError):
        info.salt = 2  # type: ignore[misc]
