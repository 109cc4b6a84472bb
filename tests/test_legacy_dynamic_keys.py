"""DynamicKey v1-v5 and SignalingToken: every published vector and the input checks."""

from __future__ import annotations

import base64
import struct
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from vector_data import load_vectors

from accesstoken2 import legacy
from accesstoken2.errors import InvalidParameterError, ParameterTypeError
from accesstoken2.legacy import dynamic_key, dynamic_key2, dynamic_key3, dynamic_key4, dynamic_key5, signaling_token

VECTORS = load_vectors("legacy")
IDS = [vector["id"] for vector in VECTORS]
APP_ID = "970ca35de60c44645bbae8a215061b33"
CERT = "5cfd2fd1755d40ecb72977518be15d3b"
KEY_ARGS = ("app_id", "app_certificate", "channel_name", "unix_ts", "random_int", "uid", "expired_ts")
# channel, unix_ts, random_int, uid, expired_ts of the published vectors
REST = ("7d72365eb983485397e3e3f9d460bdda", 1446455472, 58964981, 2882341273, 1446455471)
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def key_args(inputs: dict[str, Any]) -> list[Any]:
    return [inputs[name] for name in KEY_ARGS]


def generators(vector: dict[str, Any]) -> list[Callable[[], str]]:
    """Each way the package offers to compute ``vector`` (snake_case and reference names)."""
    inputs, variant = vector["inputs"], vector.get("variant")
    algorithm = vector["algorithm"]
    if algorithm == "dynamic_key_v1":
        args = key_args({**inputs, "uid": 0, "expired_ts": 0})[:5]
        return [lambda: dynamic_key.generate(*args)]
    if algorithm in ("dynamic_key_v2", "dynamic_key_v3"):
        module = dynamic_key2 if algorithm.endswith("2") else dynamic_key3
        return [lambda: module.generate(*key_args(inputs))]
    if algorithm == "dynamic_key_v3_signature":
        return [
            lambda: dynamic_key3.generate_signature(*key_args(inputs)),
            lambda: dynamic_key3.generateSignaure(*key_args(inputs)),
            lambda: dynamic_key2.generateSignature(*key_args(inputs)),
        ]
    if algorithm == "dynamic_key_v4":
        camel = "generate" + "".join(part.title() for part in variant.split("_")) + "Key"
        return [
            lambda: getattr(dynamic_key4, f"generate_{variant}_key")(*key_args(inputs)),
            lambda: getattr(dynamic_key4, camel)(*key_args(inputs)),
        ]
    if algorithm == "dynamic_key_v5" and variant == "in_channel_permission":
        permission = inputs["extra"]["1"]
        extra = {dynamic_key5.ALLOW_UPLOAD_IN_CHANNEL: permission}
        return [
            lambda: dynamic_key5.generate_in_channel_permission_key(*key_args(inputs), permission),
            lambda: dynamic_key5.generateInChannelPermissionKey(*key_args(inputs), permission.encode()),
            lambda: dynamic_key5.generate_dynamic_key(dynamic_key5.IN_CHANNEL_PERMISSION, *key_args(inputs), extra),
        ]
    if algorithm == "dynamic_key_v5":
        camel = "generate" + "".join(part.title() for part in variant.split("_")) + "Key"
        return [
            lambda: getattr(dynamic_key5, f"generate_{variant}_key")(*key_args(inputs)),
            lambda: getattr(dynamic_key5, camel)(*key_args(inputs)),
        ]
    if algorithm == "dynamic_key_v5_signature":
        service = getattr(dynamic_key5, variant.upper() + "_SERVICE")
        return [
            lambda: dynamic_key5.generate_signature(service, *key_args(inputs), inputs["extra"], uppercase=False),
            lambda: dynamic_key5.generateSignature(service, *key_args(inputs)).lower(),
        ]
    assert algorithm == "signaling_token"
    args = (inputs["account"], inputs["app_id"], inputs["app_certificate"], inputs["expired_ts"])
    return [
        lambda: signaling_token.generate_signaling_token(*args),
        lambda: legacy.generateSignalingToken(*args),
    ]


def test_every_vector_is_covered() -> None:
    assert len(VECTORS) == 18
    assert {vector["algorithm"] for vector in VECTORS} == {
        "dynamic_key_v1", "dynamic_key_v2", "dynamic_key_v3", "dynamic_key_v3_signature", "dynamic_key_v4",
        "dynamic_key_v5", "dynamic_key_v5_signature", "signaling_token",
    }


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_vector_reproduces(vector: dict[str, Any]) -> None:
    for generate in generators(vector):
        assert generate() == vector["expected"]


def decode_v5(key: str) -> tuple[int, str, bytes, int, int, int, dict[int, bytes]]:
    """An independent reader of a version 5 key."""
    assert key.startswith("005")
    data = base64.b64decode(key[3:], validate=True)
    pos = 0

    def take(size: int) -> bytes:
        nonlocal pos
        pos += size
        assert pos <= len(data)
        return data[pos - size : pos]

    def string() -> bytes:
        return take(struct.unpack("<H", take(2))[0])

    service = struct.unpack("<H", take(2))[0]
    signature = string().decode("ascii")
    app_id = string()
    unix_ts, random_int, expired_ts = struct.unpack("<III", take(12))
    extra = {}
    for _ in range(struct.unpack("<H", take(2))[0]):
        key = struct.unpack("<H", take(2))[0]
        extra[key] = string()
    assert pos == len(data)
    return service, signature, app_id, unix_ts, random_int, expired_ts, extra


def test_v5_key_holds_the_upper_case_signature() -> None:
    expected = next(v for v in VECTORS if v["algorithm"] == "dynamic_key_v5_signature")["expected"]
    key = dynamic_key5.generateRecordingKey(APP_ID, CERT, *REST)
    assert decode_v5(key) == (2, expected.upper(), bytes.fromhex(APP_ID), 1446455472, 58964981, 1446455471, {})
    assert dynamic_key5.generate_signature(2, APP_ID, CERT, *REST) == expected.upper()


def test_v5_extra_is_written_sorted_and_str_equals_bytes() -> None:
    key = dynamic_key5.generate_dynamic_key(4, APP_ID, CERT, *REST, {9: "z", 1: b"3", 2: ""})
    assert decode_v5(key)[6] == {1: b"3", 2: b"", 9: b"z"}
    assert dynamic_key5.generate_dynamic_key(4, APP_ID, CERT, *REST, {9: b"z", 1: "3", 2: b""}) == key
    raw = base64.b64decode(key[3:])
    entries = struct.pack("<HHH", 3, 1, 1) + b"3" + struct.pack("<HH", 2, 0) + struct.pack("<HH", 9, 1) + b"z"
    assert raw.endswith(entries)
    assert dynamic_key5.generate_dynamic_key(4, APP_ID, CERT, *REST, None) == dynamic_key5.generate_dynamic_key(
        4, APP_ID, CERT, *REST, {}
    )


def test_v4_signature_is_the_signature_inside_the_key() -> None:
    key = dynamic_key4.generate_dynamic_key(APP_ID, CERT, *REST, dynamic_key4.RECORDING_SERVICE)
    assert key == dynamic_key4.generate_recording_key(APP_ID, CERT, *REST)
    assert key[3:43] == dynamic_key4.generateSignature(APP_ID, CERT, *REST, "ARS")
    assert key[43:] == APP_ID + "1446455472" + "0383bbf5" + "1446455471"


def test_negative_int32_uid_and_random_int_read_as_unsigned() -> None:
    channel, unix_ts, _, _, expired_ts = REST
    wrapped = dynamic_key2.generate(APP_ID, CERT, channel, unix_ts, -1, -1, expired_ts)
    assert wrapped == dynamic_key2.generate(APP_ID, CERT, channel, unix_ts, 2**32 - 1, 2**32 - 1, expired_ts)
    assert wrapped.endswith("ffffffff" + "4294967295" + str(expired_ts))
    assert dynamic_key5.generate_media_channel_key(APP_ID, CERT, channel, unix_ts, -2, -2**31, expired_ts) == (
        dynamic_key5.generate_media_channel_key(APP_ID, CERT, channel, unix_ts, 2**32 - 2, 2**31, expired_ts)
    )


def test_small_numbers_are_zero_padded() -> None:
    key = dynamic_key2.generate(APP_ID, CERT, "c", 5, 10, 7, 0)
    assert key[40:] == APP_ID + "0000000005" + "0000000a" + "0000000007" + "0000000000"
    assert dynamic_key.generate(APP_ID, CERT, "c", 5, 10)[40:] == APP_ID + "0000000005" + "0000000a"


hex32 = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
u32 = st.integers(0, 2**32 - 1)


@PROPERTY
@given(app_id=hex32, cert=hex32, channel=st.text(max_size=20), numbers=st.tuples(u32, u32, u32, u32))
def test_versions_share_their_parts(app_id: str, cert: str, channel: str, numbers: tuple[int, int, int, int]) -> None:
    assume(app_id.lower() != cert.lower())  # the same id twice is refused by every builder
    unix_ts, random_int, uid, expired_ts = numbers
    args = (app_id, cert, channel, unix_ts, random_int, uid, expired_ts)
    v2 = dynamic_key2.generate(*args)
    assert dynamic_key3.generate(*args) == "003" + v2
    assert v2[:40] == dynamic_key2.generate_signature(*args)
    assert v2[40:] == app_id + f"{unix_ts:010d}{random_int:08x}{uid:010d}{expired_ts:010d}"
    v4 = dynamic_key4.generate_media_channel_key(*args)
    assert v4[43:] == app_id + f"{unix_ts:010d}{random_int:08x}{expired_ts:010d}"
    decoded = decode_v5(dynamic_key5.generate_public_sharing_key(*args))
    assert decoded[0] == 3 and decoded[3:6] == (unix_ts, random_int, expired_ts)
    assert decoded[1] == dynamic_key5.generate_signature(3, *args)


# --- bad input -------------------------------------------------------------------------------------

GENERATORS_7 = [
    dynamic_key2.generate,
    dynamic_key3.generate,
    dynamic_key4.generatePublicSharingKey,
    dynamic_key4.generateRecordingKey,
    dynamic_key4.generateMediaChannelKey,
    dynamic_key5.generatePublicSharingKey,
    dynamic_key5.generateRecordingKey,
    dynamic_key5.generateMediaChannelKey,
]
GOOD = dict(zip(KEY_ARGS, (APP_ID, CERT, *REST)))

BAD_VALUES = [
    ("app_id", APP_ID[:-1], InvalidParameterError),
    ("app_id", "x" * 32, InvalidParameterError),
    ("app_id", 5, ParameterTypeError),
    ("app_certificate", CERT + "a", InvalidParameterError),
    ("app_certificate", "q" * 32, InvalidParameterError),
    ("app_certificate", None, ParameterTypeError),
    ("channel_name", 5, ParameterTypeError),
    ("channel_name", "x" * 65536, InvalidParameterError),
    ("unix_ts", -1, InvalidParameterError),
    ("unix_ts", 2**32, InvalidParameterError),
    ("unix_ts", "1", ParameterTypeError),
    ("random_int", -(2**31) - 1, InvalidParameterError),
    ("random_int", 2**32, InvalidParameterError),
    ("random_int", 1.0, ParameterTypeError),
    ("uid", 2**32, InvalidParameterError),
    ("uid", -(2**31) - 1, InvalidParameterError),
    ("uid", "42", ParameterTypeError),
    ("uid", True, ParameterTypeError),
    ("expired_ts", -1, InvalidParameterError),
    ("expired_ts", 2**32, InvalidParameterError),
]


@pytest.mark.parametrize(("name", "value", "error"), BAD_VALUES)
@pytest.mark.parametrize("generate", GENERATORS_7, ids=lambda f: f"{f.__module__.rsplit('.', 1)[1]}.{f.__name__}")
def test_key_generators_reject_bad_input(generate: Callable[..., str], name: str, value: Any, error: type) -> None:
    with pytest.raises(error) as caught:
        generate(**{**GOOD, name: value})
    assert caught.value.parameter == name
    assert name in str(caught.value)
    assert CERT not in str(caught.value)


@pytest.mark.parametrize(("name", "value", "error"), [row for row in BAD_VALUES if row[0] not in ("uid", "expired_ts")])
def test_version_1_rejects_bad_input(name: str, value: Any, error: type) -> None:
    args = {key: GOOD[key] for key in KEY_ARGS[:5]}
    with pytest.raises(error) as caught:
        dynamic_key.generate(**{**args, name: value})
    assert caught.value.parameter == name


@pytest.mark.parametrize("service", ["", "APS", "aps", 1, None])
def test_v4_rejects_unknown_services(service: Any) -> None:
    with pytest.raises(InvalidParameterError, match="'APSS', 'ARS' or 'ACS'") as caught:
        dynamic_key4.generate_dynamic_key(APP_ID, CERT, *REST, service)
    assert caught.value.parameter == "service_type"


@pytest.mark.parametrize(("service", "error"), [(0, InvalidParameterError), (5, InvalidParameterError),
                                                ("1", ParameterTypeError), (True, ParameterTypeError)])
def test_v5_rejects_unknown_services(service: Any, error: type) -> None:
    with pytest.raises(error, match="from 1 to 4") as caught:
        dynamic_key5.generate_dynamic_key(service, APP_ID, CERT, *REST)
    assert caught.value.parameter == "service_type"


@pytest.mark.parametrize(
    ("extra", "name", "error"),
    [
        ([(1, "0")], "extra", ParameterTypeError),
        ({-1: "0"}, "extra key", InvalidParameterError),
        ({0x10000: "0"}, "extra key", InvalidParameterError),
        ({"1": "0"}, "extra key", ParameterTypeError),
        ({1: 0}, "extra[1]", ParameterTypeError),
        ({1: b"x" * 65536}, "extra[1]", InvalidParameterError),
        ({1: "x" * 65536}, "extra[1]", InvalidParameterError),
    ],
)
def test_v5_rejects_bad_extra(extra: Any, name: str, error: type) -> None:
    with pytest.raises(error) as caught:
        dynamic_key5.generate_dynamic_key(4, APP_ID, CERT, *REST, extra)
    assert caught.value.parameter == name


@pytest.mark.parametrize(("permission", "error"), [(3, ParameterTypeError), (None, ParameterTypeError),
                                                   (b"0" * 65536, InvalidParameterError)])
def test_v5_rejects_bad_permission(permission: Any, error: type) -> None:
    with pytest.raises(error) as caught:
        dynamic_key5.generate_in_channel_permission_key(APP_ID, CERT, *REST, permission)
    assert caught.value.parameter == "permission"


def test_v5_signature_checks_its_inputs() -> None:
    with pytest.raises(InvalidParameterError) as caught:
        dynamic_key5.generate_signature(2, APP_ID, "g" * 32, *REST)
    assert caught.value.parameter == "app_certificate"


@pytest.mark.parametrize(
    ("args", "name", "error"),
    [
        ((5, APP_ID, CERT, 1), "account", ParameterTypeError),
        (("a" * 65536, APP_ID, CERT, 1), "account", InvalidParameterError),
        (("a", APP_ID[1:], CERT, 1), "app_id", InvalidParameterError),
        (("a", APP_ID, "z" * 32, 1), "app_certificate", InvalidParameterError),
        (("a", APP_ID, CERT, -1), "expired_ts_in_seconds", InvalidParameterError),
        (("a", APP_ID, CERT, 2**32), "expired_ts_in_seconds", InvalidParameterError),
        (("a", APP_ID, CERT, "1"), "expired_ts_in_seconds", ParameterTypeError),
    ],
)
def test_signaling_token_rejects_bad_input(args: tuple[Any, ...], name: str, error: type) -> None:
    with pytest.raises(error) as caught:
        signaling_token.generateSignalingToken(*args)
    assert caught.value.parameter == name
    assert CERT not in str(caught.value)
