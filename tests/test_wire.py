"""The wire subpackage: the service table drives both kernels, and errors carry their stage as data."""

from __future__ import annotations

import base64
import zlib

import pytest
from wire_helpers import extra_spec

from accesstoken2 import AccessToken2, MalformedTokenError, ServiceRtm2, inspect
from accesstoken2._wire.kernel import Kernel
from accesstoken2._wire.specs import LAYOUTS, SPECS, FieldSpec, ServiceSpec
from accesstoken2.errors import Stage
from accesstoken2.services import SERVICE_CLASSES, service_class

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
SYNTHETIC = ServiceSpec(
    99,
    "Synthetic",
    (FieldSpec("room", "s"), FieldSpec("level", "h"), FieldSpec("grants", "P"), FieldSpec("user", "s")),
    None,
)


@pytest.mark.usefixtures("implementation")
def test_a_service_added_through_the_table_alone_round_trips(kernel: Kernel) -> None:
    values = (99, {2: 60, 1: 30}, ("r\u00e9", -5, {4: {1: ["a", "b"]}, 0: {0: []}}, "u"))
    with extra_spec(SYNTHETIC):
        token = kernel.build007(APP_ID, CERT, 1_700_000_000, 600, 7, [(1, {1: 0}, ("c", "")), values])
        parsed = AccessToken2.parse(token)
        assert parsed.verify(CERT)
        rtc, synthetic = parsed.services
        assert type(synthetic) is service_class(99) and synthetic.name == "Synthetic"
        assert synthetic.fields() == {
            "room": "r\u00e9",
            "level": -5,
            "grants": {0: {0: []}, 4: {1: ["a", "b"]}},
            "user": "u",
        }
        assert dict(synthetic.privileges) == {1: 30, 2: 60}
        # the object model builds it again, to the same bytes
        again = AccessToken2(APP_ID, CERT, 1_700_000_000, 600, salt=7)
        again.add_service(rtc)
        again.add_service(synthetic)
        assert again.build() == token
    # without the row the type is unknown: parsing stops there and the signature still verifies
    parsed = AccessToken2.parse(token)
    assert parsed.unknown_service_type == 99 and len(parsed.services) == 1 and parsed.verify(CERT)


def test_the_table_has_a_row_per_service_class() -> None:
    for kind, cls in SERVICE_CLASSES.items():
        spec = SPECS[kind]
        assert cls.FIELDS == tuple(field.name for field in spec.fields)
        assert cls.Privilege is spec.privileges
        assert LAYOUTS[kind] == spec.layout


@pytest.mark.usefixtures("implementation")
def test_rtm2_permissions_pack_one_way() -> None:
    permissions = ServiceRtm2.Permissions()
    permissions.add(4, 1, ["x"])
    permissions.add(0, 0, ["a", "b"])
    service = ServiceRtm2("u", permissions)
    service.add_privilege(1, 0)
    token = AccessToken2(APP_ID, CERT, 1, 60, salt=1)
    token.add_service(service)
    content = zlib.decompress(base64.b64decode(token.build()[3:]))
    # the object model's pack() and the kernel write the same bytes
    assert content.endswith(service.pack())
    assert service.pack().endswith(permissions.pack())


BAD_TOKENS = {
    "007" + "A" * 200_000: (Stage.LENGTH, None),
    "008abc": (Stage.PREFIX, None),
    "007e\u00e9": (Stage.BASE64, None),
    "007" + base64.b64encode(zlib.compress(b"abc")[:-2]).decode(): (Stage.ZLIB, None),
    "007" + base64.b64encode(zlib.compress(b"\x20\x00" + bytes(5))).decode(): (Stage.CONTENT, "the signature"),
}


@pytest.mark.usefixtures("implementation")
@pytest.mark.parametrize("token", sorted(BAD_TOKENS), ids=lambda token: token[:12])
def test_malformed_errors_carry_stage_and_field(token: str) -> None:
    with pytest.raises(MalformedTokenError) as caught:
        AccessToken2.parse(token)
    assert (caught.value.stage, caught.value.field) == BAD_TOKENS[token]


@pytest.mark.usefixtures("implementation")
def test_006_errors_carry_stage_and_field() -> None:
    with pytest.raises(MalformedTokenError) as caught:
        inspect("006" + "z" * 40)
    assert (caught.value.stage, caught.value.field) == (Stage.CONTENT, "the app id")
    with pytest.raises(MalformedTokenError) as caught:
        inspect("006" + APP_ID + "a=")
    assert caught.value.stage is Stage.BASE64


def test_healthz_names_the_selected_kernel(implementation: str) -> None:
    pytest.importorskip("fastapi")
    import asyncio

    import httpx

    from accesstoken2.server import Settings, create_app

    app = create_app(Settings(app_id=APP_ID, app_certificate=CERT))

    async def health() -> dict[str, str]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer: dict[str, str] = (await client.get("/healthz")).json()
            return answer

    assert asyncio.run(health())["implementation"] == implementation
