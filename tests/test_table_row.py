"""A new service is one row of the spec table (``add_spec``): diagnose and explain treat it as they treat the
built-in services, by the row, without a ServiceType member or a class of its own."""

from __future__ import annotations

from enum import IntEnum

import pytest
from wire_helpers import extra_spec

from accesstoken2 import AccessToken2, diagnose, inspect
from accesstoken2._wire.specs import FieldSpec, ServiceSpec
from accesstoken2.explain import privilege_name
from accesstoken2.services import service_class

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
ROW_TYPE = 11


class WhiteboardPrivilege(IntEnum):
    JOIN = 1
    DRAW = 2


ROW = ServiceSpec(ROW_TYPE, "Whiteboard", (FieldSpec("room", "s"),), WhiteboardPrivilege)


def token_with_the_row() -> str:
    token = AccessToken2(APP_ID, CERT, expire=600)
    service = service_class(ROW_TYPE)("board-1")
    service.add_privilege(WhiteboardPrivilege.DRAW, 0)
    token.add_service(service)
    return token.build()


@pytest.mark.usefixtures("implementation")
def test_diagnose_asks_for_a_service_of_an_added_row() -> None:
    with extra_spec(ROW):
        token = token_with_the_row()
        for wanted in (ROW_TYPE, "whiteboard"):
            codes = [finding.code for finding in diagnose(token, app_certificate=CERT, service=wanted)]
            assert "missing-service" not in codes and "ok" in codes, codes
        # a token without it: the finding names the row's service, not a bare ValueError from ServiceType(11)
        chat = AccessToken2(APP_ID, CERT, expire=600)
        chat.add_service(service_class(5)("user"))
        (finding,) = [f for f in diagnose(chat.build(), service=ROW_TYPE) if f.code == "missing-service"]
        assert finding.detail["service"] == "Whiteboard"
        assert "cannot use Whiteboard" in finding.message


@pytest.mark.usefixtures("implementation")
def test_privilege_name_and_inspect_agree_on_an_added_row() -> None:
    with extra_spec(ROW):
        (service,) = inspect(token_with_the_row()).services
        (privilege,) = service.privileges
        assert privilege.name == "draw"
        assert privilege_name(ROW_TYPE, 2) == privilege.name
    assert privilege_name(ROW_TYPE, 2) == "unknown"  # without the row
