"""Canonical base64 and a cursor over decoded token bytes (pure Python; the C kernel has its own)."""

from __future__ import annotations

import binascii
import struct

from ..errors import InvalidParameterError
from .limits import MAX_CONTENT
from .stages import malformed

_U16 = struct.Struct("<H")
_I16 = struct.Struct("<h")
_U32 = struct.Struct("<I")
_U16U32 = struct.Struct("<HI")
#: two u16 in a row: in a permission tree, a type and its count
_HEAD = struct.Struct("<HH")


def canonical_base64(body: str) -> bytes | None:
    """The bytes of ``body`` if it is canonical standard base64 with padding, else None."""
    try:
        encoded = body.encode("ascii")
        raw = binascii.a2b_base64(encoded)
    except (UnicodeEncodeError, binascii.Error):
        return None
    return raw if binascii.b2a_base64(raw, newline=False) == encoded else None


def services_at(where: tuple[int, int, int], size: int, limit: int) -> tuple[int, int, int, int, int]:
    """services007's arguments checked for both kernels: (offset, how many services to make, known, count,
    the budget of each level of a permission tree made).

    ``where`` must be what parse007 returned for a signing_info of ``size`` bytes, else InvalidParameterError
    (services007 is never given anything else; this keeps a C reader inside its buffer whatever it is given);
    ``limit`` may be any int: no list in a token holds more entries than its content has bytes, so the
    budget stops at MAX_CONTENT."""
    offset, known, count = where
    if not (0 <= offset <= size and 0 <= known <= count <= 0xFFFF):
        raise InvalidParameterError("where", "where must be the services' place that parse007 returned")
    budget = min(max(limit, 0), MAX_CONTENT)
    return offset, min(budget, known), known, count, budget


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
        size = 6 * self.u16()
        start = self._take(size)
        # one C loop over the entries (a 006 message holds up to 10,920); a repeated id keeps its last value
        return dict(_U16U32.iter_unpack(self.data[start : start + size]))

    def skip_tree(self, resources: int = 0, permissions: int = 0, names: int = 0) -> int:
        """Steps over ``names`` resource names, then ``permissions`` permission type entries, then ``resources``
        resource type entries of a permission tree (their UTF-8 was checked by parse007); the number of entries
        stepped over, each type entry and each name counting 1.  One loop over the bytes, no call per entry:
        a crafted tree holds 16,000 entries."""
        data = self.data
        pos = self.pos
        head = _HEAD.unpack_from
        u16 = _U16.unpack_from
        skipped = resources + permissions + names
        try:
            for _ in range(names):
                pos += 2 + u16(data, pos)[0]
            while permissions or resources:
                # a type and a count: of names after a permission type, of permission types after a resource type
                count = head(data, pos)[1]
                pos += 4
                skipped += count
                if permissions:
                    permissions -= 1
                    for _ in range(count):
                        pos += 2 + u16(data, pos)[0]
                else:
                    resources -= 1
                    permissions = count
        except struct.error:
            raise malformed("ends_inside", self.what) from None
        if pos > len(data):
            raise malformed("ends_inside", self.what)
        self.pos = pos
        return skipped

    def permissions(self, budget: int) -> tuple[dict[int, dict[int, list[str]]], int]:
        """The RTM2 permission tree, the one parser of the pure kernel (the C one restates it), and the number of
        its entries left out.

        In wire order, at most ``budget`` resource type entries, ``budget`` permission type entries and
        ``budget`` resource names are made (a repeated type merges as the full reading would); every entry
        after that is stepped over and counted: each type entry and each name counts 1."""
        tree: dict[int, dict[int, list[str]]] = {}
        left_out = 0
        resources = permissions = names = budget
        resource_count = self.u16()
        for resource in range(resource_count):
            if not resources:
                left_out += self.skip_tree(resources=resource_count - resource)
                break
            resources -= 1
            resource_type = self.u16()
            permission_count = self.u16()
            by_permission = tree.setdefault(resource_type, {})
            for entry in range(permission_count):
                if not permissions:
                    left_out += self.skip_tree(permissions=permission_count - entry)
                    break
                permissions -= 1
                permission = self.u16()
                name_count = self.u16()
                made = min(name_count, names)
                names -= made
                by_permission[permission] = [self.text() for _ in range(made)]
                left_out += self.skip_tree(names=name_count - made)
        return tree, left_out
