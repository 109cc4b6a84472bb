"""The legacy "006" AccessToken and its builders: vectors, round trips and every error."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from vector_data import load_vectors

from accesstoken2.errors import InvalidParameterError, MalformedTokenError, ParameterTypeError, TokenError
from accesstoken2.legacy import (
    AccessToken,
    Privileges,
    Role_Admin,
    Role_Attendee,
    Role_Publisher,
    Role_Rtm_User,
    Role_Subscriber,
    RtcTokenBuilder,
    RtmTokenBuilder,
    kJoinChannel,
    kPublishAudioStream,
    kPublishDataStream,
    kPublishVideoStream,
    kRtmLogin,
)

# every test here touches a kernel: it runs once per kernel
pytestmark = pytest.mark.usefixtures("implementation")

VECTORS = load_vectors("token006")
APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
OTHER_CERT = "5CFd2fd1755d40ecb72977518be15d3c"
CHANNEL = "7d72365eb983485397e3e3f9d460bdda"
EXPIRE = 1446455471
FIXED = {"ts": 1111111, "salt": 1}
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def vector_token(vector: dict[str, Any]) -> AccessToken:
    token = AccessToken(
        vector["app_id"], vector["app_certificate"], vector["channel_name"], vector["uid"],
        ts=vector["ts"], salt=vector["salt"],
    )
    for key, value in vector["privileges"].items():
        token.add_privilege(int(key), value)
    return token


def pack_006(
    app_id: str = APP_ID,
    signature: bytes = b"\x01" * 32,
    crcs: tuple[int, int] = (1, 2),
    message: bytes | None = None,
    after: bytes = b"",
) -> str:
    """An independent packer for hand-made (often malformed) 006 tokens."""
    if message is None:
        message = struct.pack("<IIH", 1, 2, 1) + struct.pack("<HI", 1, 3)
    content = (
        struct.pack("<H", len(signature)) + signature + struct.pack("<II", *crcs)
        + struct.pack("<H", len(message)) + message + after
    )
    return "006" + app_id + base64.b64encode(content).decode("ascii")


# --- published vectors -------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector_builds_exactly(vector: dict[str, Any]) -> None:
    assert vector_token(vector).build() == vector["token"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector_builds_with_the_reference_builder(vector: dict[str, Any]) -> None:
    privileges = {int(key): value for key, value in vector["privileges"].items()}
    args = (vector["app_id"], vector["app_certificate"], vector["channel_name"])
    fixed = {"ts": vector["ts"], "salt": vector["salt"]}
    if privileges == {kRtmLogin: EXPIRE}:
        assert vector["uid"] == ""
        token = RtmTokenBuilder.buildToken(*args, Role_Rtm_User, EXPIRE, **fixed)
    else:
        role = Role_Publisher if len(privileges) == 4 else Role_Subscriber
        token = RtcTokenBuilder.buildTokenWithAccount(*args, vector["uid"], role, EXPIRE, **fixed)
    assert token == vector["token"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector_parses_back(vector: dict[str, Any]) -> None:
    parsed = AccessToken.parse(vector["token"])
    assert parsed.app_id == vector["app_id"]
    assert parsed.ts == vector["ts"]
    assert parsed.salt == vector["salt"]
    assert dict(parsed.privileges) == {int(key): value for key, value in vector["privileges"].items()}
    assert parsed.crc_channel_name == zlib.crc32(vector["channel_name"].encode())
    assert parsed.crc_uid == zlib.crc32(vector["uid"].encode())
    assert parsed.channel_name is None and parsed.uid is None
    message = struct.pack("<IIH", vector["salt"], vector["ts"], len(vector["privileges"]))
    privileges = sorted((int(key), value) for key, value in vector["privileges"].items())
    message += b"".join(struct.pack("<HI", key, value) for key, value in privileges)
    signed = (vector["app_id"] + vector["channel_name"] + vector["uid"]).encode() + message
    assert parsed.signature == hmac.new(vector["app_certificate"].encode(), signed, hashlib.sha256).digest()


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector_verifies_only_with_its_certificate_channel_and_uid(vector: dict[str, Any]) -> None:
    parsed = AccessToken.parse(vector["token"])
    cert, channel, uid = vector["app_certificate"], vector["channel_name"], vector["uid"]
    assert parsed.verify(cert, channel, uid)
    assert parsed.verify(cert.lower(), channel, uid) is (cert.lower() == cert)
    assert not parsed.verify(OTHER_CERT, channel, uid)
    assert not parsed.verify(cert, channel + "x", uid)
    assert not parsed.verify(cert, channel, uid + "1")
    assert not parsed.verify(cert, channel, "0" if uid == "" else "")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_from_string_loads_the_vector(vector: dict[str, Any]) -> None:
    token = AccessToken(APP_ID, CERT, "other", 7, ts=5, salt=6)
    assert token.fromString(vector["token"]) is True
    assert (token.ts, token.salt) == (vector["ts"], vector["salt"])
    assert dict(token.messages) == {int(key): value for key, value in vector["privileges"].items()}
    assert token.verify(vector["app_certificate"], vector["channel_name"], vector["uid"])


# --- uid handling ---------------------------------------------------------------------------------


def by_id(suffix: str) -> dict[str, Any]:
    return next(vector for vector in VECTORS if vector["id"].endswith(suffix))


def test_uid_zero_is_the_wildcard_but_string_zero_is_kept() -> None:
    wildcard = by_id("test_parse_rejects_invalid_legacy_tokens")
    string_zero = by_id("uid 0 case")
    for uid, expected in ((0, wildcard), ("", wildcard), ("0", string_zero)):
        token = AccessToken(APP_ID, CERT, CHANNEL, uid, **FIXED)
        token.add_privilege(kJoinChannel, EXPIRE)
        assert token.build() == expected["token"]
    parsed = AccessToken.parse(wildcard["token"])
    assert parsed.verify(CERT, CHANNEL, 0)
    assert not parsed.verify(CERT, CHANNEL, "0")
    assert AccessToken.parse(string_zero["token"]).verify(CERT, CHANNEL, "0")
    assert not AccessToken.parse(string_zero["token"]).verify(CERT, CHANNEL, 0)


def test_numeric_and_string_uid_give_the_same_token() -> None:
    vector = by_id("AccessTokenTest/test_")
    built = RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, CHANNEL, 2882341273, Role_Subscriber, EXPIRE, **FIXED)
    assert built == vector["token"]
    assert AccessToken(APP_ID, CERT, CHANNEL, 2882341273).uid == "2882341273"
    assert AccessToken(APP_ID, CERT, CHANNEL, 2**32 - 1).uid == "4294967295"


# --- builders ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role_Attendee, {1, 2, 3, 4}), (Role_Publisher, {1, 2, 3, 4}), (Role_Admin, {1, 2, 3, 4}), (Role_Subscriber, {1})],
)
def test_rtc_builder_privileges_per_role(role: int, expected: set[int]) -> None:
    for build in (RtcTokenBuilder.buildTokenWithUid, RtcTokenBuilder.build_token_with_account):
        parsed = AccessToken.parse(build(APP_ID, CERT, "room", 42, role, 1700000000))
        assert dict(parsed.privileges) == {privilege: 1700000000 for privilege in expected}
        assert parsed.verify(CERT, "room", 42)
        assert parsed.verify(CERT, "room", "42")


def test_rtc_builder_separate_privilege_expiries() -> None:
    # times before 2000 warn (they look like lifetimes) and are written as given, as the reference writes them
    with pytest.warns(UserWarning, match="joinChannelPrivilegeExpiredTs=10 is before the year 2000"):
        token = RtcTokenBuilder.buildTokenWithUidAndPrivilege(APP_ID, CERT, "room", 42, 10, 20, 30, 40, **FIXED)
    parsed = AccessToken.parse(token)
    assert dict(parsed.privileges) == {kJoinChannel: 10, kPublishAudioStream: 20, kPublishVideoStream: 30,
                                       kPublishDataStream: 40}
    with pytest.warns(UserWarning, match="before the year 2000"):
        same = RtcTokenBuilder.build_token_with_user_account_and_privilege(
            APP_ID, CERT, "room", "42", 10, 20, 30, 40, **FIXED
        )
    assert same == token


def test_rtm_builder_puts_the_account_in_the_channel_slot() -> None:
    parsed = AccessToken.parse(RtmTokenBuilder.build_token(APP_ID, CERT, "alice", Role_Rtm_User, 1700000000))
    assert dict(parsed.privileges) == {1000: 1700000000}
    assert parsed.crc_channel_name == zlib.crc32(b"alice")
    assert parsed.crc_uid == zlib.crc32(b"")
    assert parsed.verify(CERT, "alice", "")


def test_builder_defaults_are_fresh_and_random() -> None:
    before = int(time.time())
    parsed = AccessToken.parse(RtcTokenBuilder.buildTokenWithUid(APP_ID, CERT, "room", 1, Role_Publisher, 0))
    assert before + 24 * 3600 <= parsed.ts <= int(time.time()) + 24 * 3600
    assert 1 <= parsed.salt <= 99_999_999
    assert dict(parsed.privileges) == {1: 0, 2: 0, 3: 0, 4: 0}


@pytest.mark.parametrize("role", [3, -1, 100, True, "1", None, 1.0])
def test_rtc_builder_rejects_unknown_roles(role: Any) -> None:
    with pytest.raises(InvalidParameterError, match=r"role must be .*\(0\).*\(1\).*\(2\).*\(101\)") as caught:
        RtcTokenBuilder.buildTokenWithUid(APP_ID, CERT, "room", 1, role, 0)
    assert caught.value.parameter == "role"


@pytest.mark.parametrize("role", [0, 2, True, "1"])
def test_rtm_builder_rejects_other_roles(role: Any) -> None:
    with pytest.raises(InvalidParameterError, match=r"role must be Role_Rtm_User \(1\)") as caught:
        RtmTokenBuilder.buildToken(APP_ID, CERT, "alice", role, 0)
    assert caught.value.parameter == "role"


@pytest.mark.parametrize("expire", [-1, 2**32, "0", 1.5, None])
def test_builders_reject_bad_expiry(expire: Any) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        RtcTokenBuilder.buildTokenWithUid(APP_ID, CERT, "room", 1, Role_Publisher, expire)
    assert caught.value.parameter == "privilegeExpiredTs"
    with pytest.raises(InvalidParameterError) as caught:
        RtmTokenBuilder.buildToken(APP_ID, CERT, "alice", Role_Rtm_User, expire)
    assert caught.value.parameter == "privilegeExpiredTs"
    with pytest.raises(InvalidParameterError) as caught:
        RtcTokenBuilder.buildTokenWithUidAndPrivilege(APP_ID, CERT, "room", 1, 0, 0, expire, 0)
    assert caught.value.parameter == "pubVideoPrivilegeExpiredTs"


def test_rtm_builder_rejects_a_non_text_account() -> None:
    with pytest.raises(ParameterTypeError) as caught:
        RtmTokenBuilder.buildToken(APP_ID, CERT, 42, Role_Rtm_User, 0)  # type: ignore[arg-type]
    assert caught.value.parameter == "userAccount"


# --- the object model ----------------------------------------------------------------------------


def test_reference_privilege_names() -> None:
    assert (kJoinChannel, kPublishAudioStream, kPublishVideoStream, kPublishDataStream, kRtmLogin) == (1, 2, 3, 4, 1000)
    assert Privileges.kAdministrateChannel == 101 and Privileges["kRtmLogin"] is kRtmLogin


def test_attributes_are_read_only() -> None:
    token = AccessToken(APP_ID, CERT, "room", 1, **FIXED)
    token.addPrivilege(kJoinChannel, 5)
    for name in ("app_id", "ts", "salt", "privileges", "crc_channel_name", "crc_uid", "signature"):
        with pytest.raises(AttributeError):
            setattr(token, name, 1)
    with pytest.raises(TypeError):
        token.privileges[2] = 3  # type: ignore[index]
    assert dict(token.privileges) == {1: 5}


def test_add_privilege_replaces_and_build_sorts() -> None:
    token = AccessToken(APP_ID, CERT, "room", 1, **FIXED)
    for privilege in (kPublishDataStream, kJoinChannel, kPublishAudioStream):
        token.add_privilege(privilege, 7)
    token.add_privilege(kJoinChannel, 9)
    body = base64.b64decode(token.build()[35:])
    assert body[-20:] == struct.pack("<H", 3) + b"".join(struct.pack("<HI", k, v) for k, v in ((1, 9), (2, 7), (4, 7)))


def test_signature_and_crcs_of_a_built_token() -> None:
    token = AccessToken(APP_ID, CERT, "room", 1, **FIXED)
    assert token.signature is None
    assert not token.verify(CERT, "room", 1)
    assert (token.crc_channel_name, token.crc_uid) == (zlib.crc32(b"room"), zlib.crc32(b"1"))
    token.add_privilege(kJoinChannel, 0)
    built = token.build()
    assert token.build() == built
    assert token.signature == AccessToken.parse(built).signature
    assert token.verify(CERT, "room", 1) and not token.verify(OTHER_CERT, "room", 1)


def test_a_parsed_token_cannot_be_rebuilt() -> None:
    parsed = AccessToken.parse(VECTORS[0]["token"])
    with pytest.raises(InvalidParameterError, match="only CRCs"):
        parsed.build()


def test_repr_never_shows_the_certificate() -> None:
    token = AccessToken(APP_ID, CERT, "room", 1, **FIXED)
    token.add_privilege(kJoinChannel, 0)
    token.build()
    assert CERT not in repr(token) and CERT.lower() not in repr(token).lower()
    assert "room" in repr(token) and APP_ID in repr(token)
    assert CERT not in repr(AccessToken.parse(VECTORS[0]["token"]))


def test_channel_and_uid_at_the_length_limit() -> None:
    channel = "é" * (65535 // 2) + "x"
    token = AccessToken(APP_ID, CERT, channel, "u" * 65535, **FIXED)
    token.add_privilege(kJoinChannel, 0)
    assert AccessToken.parse(token.build()).verify(CERT, channel, "u" * 65535)


def test_the_most_privileges_a_message_holds() -> None:
    token = AccessToken(APP_ID, CERT, "room", 1, **FIXED)
    for privilege in range(10920):
        token.add_privilege(privilege, privilege)
    with pytest.raises(InvalidParameterError, match="at most 10920 distinct privileges"):
        token.add_privilege(10920, 0)
    token.add_privilege(5, 0)
    parsed = AccessToken.parse(token.build())
    assert len(parsed.privileges) == 10920 and parsed.privileges[5] == 0
    assert parsed.verify(CERT, "room", 1)


# --- round trips -----------------------------------------------------------------------------------

hex32 = st.text(alphabet="0123456789abcdefABCDEF", min_size=32, max_size=32)
u32 = st.integers(0, 2**32 - 1)


@PROPERTY
@given(
    app_id=hex32,
    cert=hex32,
    channel=st.text(max_size=40),
    uid=st.one_of(u32, st.text(max_size=12)),
    ts=u32,
    salt=u32,
    privileges=st.dictionaries(st.integers(0, 0xFFFF), u32, max_size=8),
)
def test_round_trip(
    app_id: str, cert: str, channel: str, uid: int | str, ts: int, salt: int, privileges: dict[int, int]
) -> None:
    assume(app_id.lower() != cert.lower())  # the same id twice is refused by every builder
    token = AccessToken(app_id, cert, channel, uid, ts=ts, salt=salt)
    for key, value in privileges.items():
        token.add_privilege(key, value)
    parsed = AccessToken.parse(token.build())
    uid_text = "" if uid == 0 else str(uid)
    assert (parsed.app_id, parsed.ts, parsed.salt, dict(parsed.privileges)) == (app_id, ts, salt, privileges)
    assert parsed.crc_channel_name == zlib.crc32(channel.encode())
    assert parsed.crc_uid == zlib.crc32(uid_text.encode())
    assert parsed.verify(cert, channel, uid)
    assert parsed.verify(cert, channel, uid_text)
    wrong = ("0" if cert[0] != "0" else "1") + cert[1:]
    assert not parsed.verify(wrong, channel, uid)


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "error", "text"),
    [
        ("app_id", APP_ID[:31], InvalidParameterError, "got 31 characters"),
        ("app_id", APP_ID + "0", InvalidParameterError, "got 33 characters"),
        ("app_id", "g" * 32, InvalidParameterError, "not all hexadecimal"),
        ("app_id", "", InvalidParameterError, "got 0 characters"),
        ("app_certificate", CERT[:-1], InvalidParameterError, "got 31 characters"),
        ("app_certificate", "z" * 32, InvalidParameterError, "not all hexadecimal"),
    ],
)
def test_build_rejects_bad_app_id_and_certificate(name: str, value: str, error: type, text: str) -> None:
    args = {"app_id": APP_ID, "app_certificate": CERT, name: value}
    token = AccessToken(args["app_id"], args["app_certificate"], "room", 1)
    token.add_privilege(kJoinChannel, 0)
    with pytest.raises(error, match=text) as caught:
        token.build()
    assert caught.value.parameter == name
    assert CERT not in str(caught.value)
    if value:
        assert value not in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "name", "error"),
    [
        ({"app_id": 1}, "app_id", ParameterTypeError),
        ({"app_id": None}, "app_id", ParameterTypeError),
        ({"app_certificate": b"5CFd2fd1755d40ecb72977518be15d3b"}, "app_certificate", ParameterTypeError),
        ({"channel_name": 5}, "channel_name", ParameterTypeError),
        ({"channel_name": None}, "channel_name", ParameterTypeError),
        ({"channel_name": "x" * 65536}, "channel_name", InvalidParameterError),
        ({"channel_name": "é" * 32768}, "channel_name", InvalidParameterError),
        ({"channel_name": "\ud800"}, "channel_name", InvalidParameterError),
        ({"uid": -1}, "uid", InvalidParameterError),
        ({"uid": 2**32}, "uid", InvalidParameterError),
        ({"uid": True}, "uid", ParameterTypeError),
        ({"uid": 1.0}, "uid", ParameterTypeError),
        ({"uid": None}, "uid", ParameterTypeError),
        ({"uid": "9" * 65536}, "uid", InvalidParameterError),
        ({"ts": -1}, "ts", InvalidParameterError),
        ({"ts": 2**32}, "ts", InvalidParameterError),
        ({"ts": "1"}, "ts", ParameterTypeError),
        ({"salt": -1}, "salt", InvalidParameterError),
        ({"salt": 2**32}, "salt", InvalidParameterError),
        ({"salt": 1.0}, "salt", ParameterTypeError),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs: dict[str, Any], name: str, error: type) -> None:
    args: dict[str, Any] = {"app_id": APP_ID, "app_certificate": CERT, "channel_name": "room", "uid": 1, **FIXED}
    args.update(kwargs)
    with pytest.raises(error) as caught:
        AccessToken(**args).build()
    assert caught.value.parameter == name
    assert name in str(caught.value)
    assert CERT not in str(caught.value)


@pytest.mark.parametrize(
    ("privilege", "expire", "name", "error"),
    [
        (-1, 0, "privilege", InvalidParameterError),
        (0x10000, 0, "privilege", InvalidParameterError),
        (True, 0, "privilege", ParameterTypeError),
        ("1", 0, "privilege", ParameterTypeError),
        (1, -1, "expire_ts", InvalidParameterError),
        (1, 2**32, "expire_ts", InvalidParameterError),
        (1, 1.5, "expire_ts", ParameterTypeError),
        (1, None, "expire_ts", ParameterTypeError),
    ],
)
def test_add_privilege_rejects_out_of_range(privilege: Any, expire: Any, name: str, error: type) -> None:
    token = AccessToken(APP_ID, CERT)
    with pytest.raises(error, match=r"from 0 to \d+") as caught:
        token.add_privilege(privilege, expire)
    assert caught.value.parameter == name
    assert dict(token.privileges) == {}


def test_verify_with_a_malformed_certificate_is_false() -> None:
    parsed = AccessToken.parse(VECTORS[0]["token"])
    for cert in ("", CERT[:-1], CERT + "0", "z" * 32, CERT[:-1] + "\u00e9"):
        assert parsed.verify(cert, CHANNEL, 2882341273) is False
    with pytest.raises(ParameterTypeError):
        parsed.verify(CERT.encode(), CHANNEL, 2882341273)  # type: ignore[arg-type]
    with pytest.raises(ParameterTypeError):
        parsed.verify(CERT, None, 2882341273)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        parsed.verify(CERT, CHANNEL, -5)


# --- malformed tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_every_truncation_is_malformed(vector: dict[str, Any]) -> None:
    token = vector["token"]
    holder = AccessToken(APP_ID, CERT, "room", 1, **FIXED)
    for end in range(len(token)):
        with pytest.raises(MalformedTokenError):
            AccessToken.parse(token[:end])
        assert holder.from_string(token[:end]) is False
    assert (holder.ts, holder.salt, holder.channel_name) == (1111111, 1, "room")


GOOD_TOKEN = by_id("AccessTokenTest/test_")["token"]


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "version prefix '006'"),
        ("007" + GOOD_TOKEN[3:], "version prefix '006'"),
        ("006" + "g" * 32 + GOOD_TOKEN[35:], "32 hexadecimal characters of app id"),
        ("006" + APP_ID[:20], "32 hexadecimal characters of app id"),
        (GOOD_TOKEN[:35], "ends inside the signature"),
        (GOOD_TOKEN + "=", "canonical standard base64"),
        (GOOD_TOKEN[:40] + " " + GOOD_TOKEN[40:], "canonical standard base64"),
        (GOOD_TOKEN.replace("+", "-"), "canonical standard base64"),
        (GOOD_TOKEN[:60] + "é" + GOOD_TOKEN[61:], "canonical standard base64"),
        (GOOD_TOKEN + "AAAA", "canonical standard base64|unexpected bytes"),
        (pack_006(after=b"\x00"), "1 unexpected bytes after its message"),
        (pack_006(signature=b"\x01" * 31), "signature is 31 bytes long; a 006 signature is 32 bytes"),
        (pack_006(signature=b""), "signature is 0 bytes long"),
        (pack_006(message=b"\x01\x00\x00\x00\x02\x00"), "ends inside the message timestamp"),
        (pack_006(message=b"\x01\x00"), "ends inside the message salt"),
        (pack_006(message=struct.pack("<IIH", 1, 2, 2) + struct.pack("<HI", 1, 3)), "ends inside the privilege map"),
        (pack_006(message=struct.pack("<IIH", 1, 2, 0) + b"\x00"), "1 unexpected bytes after its privilege map"),
        (pack_006(message=struct.pack("<IIHHIHI", 1, 2, 2, 1, 3, 1, 4)), "privilege id more than once"),
        ("006" + APP_ID + "A" * 90000, "at most 87475 are allowed"),
    ],
)
def test_malformed_tokens_are_refused_precisely(token: str, message: str) -> None:
    with pytest.raises(MalformedTokenError, match=message):
        AccessToken.parse(token)
    assert AccessToken(APP_ID, CERT).from_string(token) is False


def test_hand_packed_token_is_accepted() -> None:
    parsed = AccessToken.parse(pack_006(crcs=(7, 8)))
    assert (parsed.crc_channel_name, parsed.crc_uid, parsed.salt, parsed.ts) == (7, 8, 1, 2)
    assert dict(parsed.privileges) == {1: 3}
    assert not parsed.verify(CERT, "", "")


@pytest.mark.parametrize("token", [None, 6, b"006", ["006"]])
def test_non_string_tokens(token: Any) -> None:
    with pytest.raises(ParameterTypeError) as caught:
        AccessToken.parse(token)
    assert caught.value.parameter == "token"
    assert AccessToken().fromString(token) is False


@PROPERTY
@given(st.text(max_size=80))
def test_garbage_never_escapes_as_another_exception(text: str) -> None:
    for token in (text, "006" + text, "006" + APP_ID + text):
        try:
            AccessToken.parse(token)
        except TokenError:
            pass


@PROPERTY
@given(st.binary(max_size=120))
def test_random_bodies_never_escape_as_another_exception(body: bytes) -> None:
    try:
        parsed = AccessToken.parse("006" + APP_ID + base64.b64encode(body).decode())
    except MalformedTokenError:
        return
    assert parsed.verify(CERT, "", "") is False
