"""Hypothesis strategies shared by the kernel tests: random services built with the real object model."""

from __future__ import annotations

import struct

from hypothesis import strategies as st

from accesstoken2 import services as svc
from accesstoken2.services import Rtm2Permissions, Service

HEX = "0123456789abcdefABCDEF"
U16 = st.integers(0, 0xFFFF)
U32 = st.integers(0, 0xFFFFFFFF)
TEXT = st.text(max_size=20)
hex32 = st.text(alphabet=HEX, min_size=32, max_size=32)
uids = st.one_of(U32, TEXT)


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


@st.composite
def service_blobs(draw: st.DrawFn) -> bytes:
    """``u16(count)`` + packed services sorted by type, as AccessToken2 hands them to the kernel."""
    chosen = draw(st.lists(services(), max_size=5))
    chosen.sort(key=lambda service: service.kServiceType)
    return struct.pack("<H", len(chosen)) + b"".join(service.pack() for service in chosen)


@st.composite
def build_args(draw: st.DrawFn) -> tuple[bytes, bytes, int, int, int, bytes]:
    """Arguments of ``build007``: hex ids, any u32 times and salt, real service blobs (or random bytes)."""
    blob = draw(st.one_of(service_blobs(), st.binary(max_size=300)))
    app_id = draw(hex32).encode()
    certificate = draw(st.one_of(hex32.map(str.encode), st.binary(max_size=100)))
    return (app_id, certificate, draw(U32), draw(U32), draw(U32), blob)
