"""Hypothesis strategies shared by the kernel tests: random services built with the real object model."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from accesstoken2 import services as svc
from accesstoken2.services import Rtm2Permissions, Service

HEX = "0123456789abcdefABCDEF"
U16 = st.integers(0, 0xFFFF)
U32 = st.integers(0, 0xFFFFFFFF)
TEXT = st.text(max_size=20)
hex32 = st.text(alphabet=HEX, min_size=32, max_size=32)
uids = st.one_of(U32, TEXT)


class Markup(str):
    """A str subclass, as markupsafe's Markup or Django's SafeString."""


@st.composite
def permissions(draw: st.DrawFn) -> Rtm2Permissions:
    result = Rtm2Permissions()
    for _ in range(draw(st.integers(0, 3))):
        result.add(draw(st.integers(0, 5)), draw(st.integers(0, 2)), draw(st.lists(TEXT, max_size=3)))
    return result


def _service_strategies() -> list[st.SearchStrategy[Service]]:
    return [
        st.builds(svc.ServiceRtc, TEXT, uids),
        st.builds(svc.ServiceRtm, TEXT),
        st.builds(svc.ServiceStreaming, TEXT, uids),
        st.builds(svc.ServiceFpa),
        st.builds(svc.ServiceChat, TEXT),
        st.builds(svc.ServiceFCdn, TEXT, uids),
        st.builds(svc.ServiceApaas, TEXT, TEXT, st.integers(-0x8000, 0x7FFF)),
        st.builds(svc.ServiceRtm2, TEXT, permissions()),
        st.builds(svc.ServiceConvoAI),
        st.builds(svc.ServiceStt),
    ]


@st.composite
def services(draw: st.DrawFn) -> Service:
    service = draw(st.one_of(_service_strategies()))
    for key, value in draw(st.dictionaries(U16, st.integers(0, 86400), max_size=4)).items():
        service.add_privilege(key, value)
    return service


# values a kernel must refuse (or, for a str subclass, accept) exactly as the other one does
ODD_VALUES = st.one_of(
    st.sampled_from([True, -1, 1 << 40, 1.5, None, b"bytes", "\udc80", "x" * 70000, [1], {1: 2}]),
    TEXT.map(Markup),
)


@st.composite
def service_values(draw: st.DrawFn) -> list[tuple[int, Any, tuple[Any, ...]]]:
    """What AccessToken2 hands the kernel: services sorted by type, sometimes with one odd value in them."""
    chosen = sorted(draw(st.lists(services(), max_size=5)), key=lambda service: service.kServiceType)
    values = [service._wire() for service in chosen]
    if values and draw(st.booleans()):
        index = draw(st.integers(0, len(values) - 1))
        kind, privileges, fields = values[index]
        odd = draw(ODD_VALUES)
        where = draw(st.sampled_from(["type", "privilege key", "privilege value", "field"]))
        if where == "type":
            kind = odd
        elif where == "privilege key":
            privileges = {**privileges, odd: 1} if _hashable(odd) else privileges
        elif where == "privilege value":
            privileges = {**privileges, 1: odd}
        elif fields:
            fields = (odd, *fields[1:])
        values[index] = (kind, privileges, fields)
    return values


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


@st.composite
def build_args(draw: st.DrawFn) -> tuple[Any, ...]:
    """Arguments of ``build007``: hex ids (or not), any u32 times and salt, real (or odd) service values."""
    app_id = draw(st.one_of(hex32, hex32.map(Markup)))
    certificate = draw(st.one_of(hex32, hex32, st.text(max_size=40)))
    return (app_id, certificate, draw(U32), draw(U32), draw(U32), draw(service_values()))
