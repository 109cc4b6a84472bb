"""Canonical base64 and a cursor over decoded token bytes (pure Python; the C kernel has its own)."""

from __future__ import annotations

import binascii
import struct

from ..errors import InvalidParameterError
from .stages import malformed

_U16 = struct.Struct("<H")
_I16 = struct.Struct("<h")
_U32 = struct.Struct("<I")
_U16U32 = struct.Struct("<HI")


def canonical_base64(body: str) -> bytes | None:
    """The bytes of ``body`` if it is canonical standard base64 with padding, else None."""
    try:
        encoded = body.encode("ascii")
        raw = binascii.a2b_base64(encoded)
    except (UnicodeEncodeError, binascii.Error):
        return None
    return raw if binascii.b2a_base64(raw, newline=False) == encoded else None


def services_at(where: tuple[int, int, int], size: int, limit: int) -> tuple[int, int, int, int]:
    """services007's arguments checked for both kernels: (offset, how many services to make, known, count).

    ``where`` must be what parse007 returned for a signing_info of ``size`` bytes, else InvalidParameterError
    (services007 is never given anything else; this keeps a C reader inside its buffer whatever it is given);
    ``limit`` may be any int."""
    offset, known, count = where
    if not (0 <= offset <= size and 0 <= known <= count <= 0xFFFF):
        raise InvalidParameterError("where", "where must be the services' place that parse007 returned")
    return offset, min(max(limit, 0), known), known, count


class Reader:
    """A cursor over decoded bytes; ``what`` names the part being read, for error messages."""

    __slots__ = ("data", "pos", "what")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.what = ""

    def _take(self, size: int) -> int:
        start = self.pos
        end = start + size
        if end > len(self.data):
            raise malformed("ends_inside", self.what)
        self.pos = end
        return start

    def u16(self) -> int:
        value: int = _U16.unpack_from(self.data, self._take(2))[0]
        return value

    def i16(self) -> int:
        value: int = _I16.unpack_from(self.data, self._take(2))[0]
        return value

    def u32(self) -> int:
        value: int = _U32.unpack_from(self.data, self._take(4))[0]
        return value

    def raw(self) -> bytes:
        size = self.u16()
        start = self._take(size)
        return self.data[start : start + size]

    def text(self) -> str:
        try:
            return self.raw().decode("utf-8")
        except UnicodeDecodeError:
            raise malformed("utf8", self.what) from None

    def privileges(self) -> dict[int, int]:
        """A privilege map; the only place a map is read, for 007 services and 006 messages alike."""
        result: dict[int, int] = {}
        for _ in range(self.u16()):
            key, value = _U16U32.unpack_from(self.data, self._take(6))
            result[key] = value
        return result

    def permissions(self) -> dict[int, dict[int, list[str]]]:
        """The RTM2 permission tree: the one parser of the pure kernel."""
        tree: dict[int, dict[int, list[str]]] = {}
        for _ in range(self.u16()):
            by_permission = tree.setdefault(self.u16(), {})
            for _ in range(self.u16()):
                permission = self.u16()
                by_permission[permission] = [self.text() for _ in range(self.u16())]
        return tree
