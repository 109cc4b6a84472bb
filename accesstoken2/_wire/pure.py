"""The pure-Python kernel: byte-for-byte twin of the compiled ``_speedups`` (contract: :mod:`.kernel`)."""

from __future__ import annotations

import binascii
import hmac
import struct
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from hashlib import sha256
from typing import TYPE_CHECKING, Any

from ..errors import InvalidParameterError
from . import packing, shapes
from .checks import ONE_DAY, checked_lifetimes, is_hex32, require_str, uid_text
from .limits import (
    APP_ID_END_006,
    DEFAULT_LIFETIME_006,
    MAX_CONTENT,
    MAX_PRIVILEGES_006,
    MAX_TEXT,
    MAX_TOKEN_CHARS,
    MAX_TOKEN_CHARS_006,
    MESSAGE006_HEAD,
    PRIVILEGE_ENTRY,
    SIGNATURE_HEAD,
    SIGNATURE_SIZE,
    U16_MAX,
    U32_MAX,
    VERSION_006,
    VERSION_007,
)
from .reader import Reader, canonical_base64, services_at
from .salts import random_salt as random_salt  # the pure kernel's salt pool
from .specs import LAYOUTS
from .stages import PARTS_007, malformed, service_part

if TYPE_CHECKING:
    from .values import ParsedService, ServicesRead

IMPLEMENTATION = "python"

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
#: a service's type and privilege count (and, in an RTM2 tree, any two u16 in a row)
_HEAD = struct.Struct("<HH")
#: the wire codes of specs.LAYOUTS, as bytes iterate
_TEXT = ord("s")
_I16 = ord("h")
_CRCS = struct.Struct("<II")
_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))
_HEX = frozenset(b"0123456789abcdefABCDEF")


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    # RFC 2104 over hashlib: about twice as fast as hmac.digest() for the short inputs of a token.
    if len(key) > 64:
        key = sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = sha256(key.translate(_INNER_PAD))
    inner.update(msg)
    return sha256(key.translate(_OUTER_PAD) + inner.digest()).digest()


def crc32(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def compress(data: bytes) -> bytes:
    if len(data) > MAX_CONTENT:
        raise InvalidParameterError("data", f"data is {len(data)} bytes long; at most {MAX_CONTENT} are allowed")
    return zlib.compress(data, 6)


def _signature(certificate: bytes, issue_ts: int, salt: int, signing_info: bytes) -> bytes:
    key = hmac_sha256(_U32.pack(issue_ts), certificate)
    key = hmac_sha256(_U32.pack(salt), key)
    return hmac_sha256(key, signing_info)


def build007(app_id: str, app_certificate: str, issue_ts: int, expire: int, salt: int, services: Any) -> str:
    app, certificate = packing.ids(app_id, app_certificate)
    issue_ts = packing.u32("issue_ts", issue_ts)
    expire = packing.u32("expire", expire)
    salt = packing.u32("salt", salt)
    return _seal007(certificate, packing.signing_info(app, issue_ts, expire, salt, services), issue_ts, salt)


def _seal007(certificate: bytes, info: bytes, issue_ts: int, salt: int) -> str:
    packing.check_content_size(SIGNATURE_HEAD + len(info))
    content = b"".join((_U16.pack(SIGNATURE_SIZE), _signature(certificate, issue_ts, salt, info), info))
    return VERSION_007 + binascii.b2a_base64(zlib.compress(content), newline=False).decode("ascii")


# a builder's program is decoded once (a few constant shapes; the bound only guards against misuse)
_PROGRAMS: dict[bytes, shapes.Program] = {}


def _program(shape: bytes) -> shapes.Program:
    program = _PROGRAMS.get(shape)
    if program is None:
        program = shapes.decode(shape)
        if len(_PROGRAMS) >= 64:
            _PROGRAMS.clear()
        _PROGRAMS[shape] = program
    return program


def build007_shape(
    shape: bytes,
    app_id: str,
    app_certificate: str,
    issue_ts: int | None,
    salt: int | None,
    lifetimes: tuple[Any, ...],
    values: tuple[Any, ...],
) -> str:
    # the order of the checks is the compiled kernel's: shape, lifetimes, accounts, issue_ts, salt, ids, fields
    program = _program(shape)
    if len(lifetimes) < program.lifetimes or len(values) < program.values:
        raise shapes.shape_mismatch()
    # fast path: exact ints up to 24 hours, as checked_lifetimes would pass them without a warning
    for value in lifetimes:
        if not (type(value) is int and 0 <= value <= ONE_DAY):
            lifetimes = checked_lifetimes(lifetimes)
            break
    for slot, service_type, index in program.accounts:
        value = values[slot]
        # fast path: an exact int in u32 range or a str, as uid_text demands
        if not ((type(value) is int and 0 <= value <= U32_MAX) or isinstance(value, str)):
            values = (*values[:slot], uid_text(packing.field_name(service_type, index), value), *values[slot + 1 :])
    if issue_ts is None:
        issue_ts = int(time.time())
    else:
        issue_ts = packing.u32("issue_ts", issue_ts) or int(time.time())
    salt = random_salt() if salt is None else packing.u32("salt", salt)
    app, certificate = packing.ids(app_id, app_certificate)
    # plain loops: a builder's few entries cost less than the frames of comprehensions
    services = []
    for service_type, privileges, fields in program.services:
        granted = {}
        for privilege, slot in privileges:
            granted[privilege] = lifetimes[slot]
        packed = []
        for rule, slot in fields:
            packed.append(_account(values[slot]) if rule == shapes.ACCOUNT else values[slot])
        services.append((service_type, granted, packed))
    return _seal007(certificate, packing.signing_info(app, issue_ts, lifetimes[0], salt, services), issue_ts, salt)


def _account(value: Any) -> Any:
    """A uid or account as the wire writes it: a number as decimal text (0 as ""), a str as it is."""
    if type(value) is int:
        return str(value) if value else ""
    return value


def build_many(jobs: Iterable[tuple[Any, ...]], threads: int) -> list[str]:
    return [build007(*job) for job in jobs]


def verify007(signature: bytes, signing_info: bytes, app_certificate: str, issue_ts: int, salt: int) -> bool:
    if not is_hex32(app_certificate):
        return False
    expected = _signature(app_certificate.encode("ascii"), issue_ts, salt, signing_info)
    return hmac.compare_digest(expected, signature)


def _check_head(token: str, limit: int, version: str) -> None:
    """The checks before the body: a str, not too long, the version prefix."""
    require_str("token", token)
    if len(token) > limit:
        raise malformed("too_long", length=len(token), limit=limit)
    if not token.startswith(version):
        raise malformed("prefix", version=version)


def _decode007(token: str) -> bytes:
    _check_head(token, MAX_TOKEN_CHARS, VERSION_007)
    raw = canonical_base64(token[3:])
    if raw is None:
        raise malformed("base64")
    inflater = zlib.decompressobj()
    try:
        content = inflater.decompress(raw, MAX_CONTENT + 1)
    except zlib.error:
        raise malformed("zlib_incomplete") from None
    if len(content) > MAX_CONTENT:
        raise malformed("zlib_too_large", limit=MAX_CONTENT)
    if not inflater.eof:
        raise malformed("zlib_incomplete")
    if inflater.unused_data:
        raise malformed("zlib_trailing")
    return content


def _make_services(
    reader: Reader, first: int, end: int, count: int, out: list[ParsedService], budget: int, cut: dict[int, int]
) -> None:
    """Makes services ``first..end-1`` from ``reader.pos`` as the table lays them out, into ``out``; a
    permission tree is made within ``budget`` (:meth:`Reader.permissions`) and ``cut`` gets the entries it left
    out by the service's position in ``out``."""
    for index in range(first, end):
        reader.what = service_part(index, count)
        service_type = reader.u16()
        layout = LAYOUTS.get(service_type)
        if layout is None:  # not after parse007; as the C kernel, stop
            return
        privileges = reader.privileges()
        fields: list[Any] = []
        left_out = 0
        for code in layout:
            if code == _TEXT:
                fields.append(reader.text())
            elif code == _I16:
                fields.append(reader.i16())
            else:
                tree, omitted = reader.permissions(budget)
                fields.append(tree)
                left_out += omitted
        if left_out:
            cut[len(out)] = left_out
        out.append((service_type, privileges, tuple(fields)))


def _skip_tree(data: bytes, pos: int, size: int) -> int:
    """The end of the RTM2 permission tree at ``pos``, its names checked: struct.error when the content ends
    inside it, UnicodeDecodeError at a name that is not UTF-8 (the first problem in reading order)."""
    head = _HEAD.unpack_from
    u16 = _U16.unpack_from
    (resources,) = u16(data, pos)
    pos += 2
    for _ in range(resources):
        permissions = head(data, pos)[1]
        pos += 4
        for _ in range(permissions):
            names = head(data, pos)[1]
            pos += 4
            for _ in range(names):
                (length,) = u16(data, pos)
                pos += 2 + length
                if length:
                    if pos > size:
                        raise struct.error("short")
                    data[pos - length : pos].decode("utf-8")
    return pos


def _check_services(
    data: bytes, pos: int, first: int, end: int, count: int, types: list[int] | None
) -> tuple[int, int, int]:
    """Checks services ``first..end-1`` from ``pos`` without making them, appending their types to ``types``
    if given: (the position after them, the index reached, the first unknown type or -1).

    One walk over the raw bytes, in the order a reader reads them, so the first problem met is the one
    reported: the content ends inside the service, or a text in it is not UTF-8.  Two bytes of an unknown
    type are no error: reading stops there."""
    size = len(data)
    head = _HEAD.unpack_from
    u16 = _U16.unpack_from
    layouts = LAYOUTS
    add = None if types is None else types.append
    index = first
    try:
        for index in range(first, end):
            if size - pos < 4:
                # too short for a type and a privilege count: an unknown type alone still ends the reading
                service_type = u16(data, pos)[0]
                if service_type not in layouts:
                    return pos, index, service_type
                raise struct.error("short")
            service_type, privileges = head(data, pos)
            layout = layouts.get(service_type)
            if layout is None:
                return pos, index, service_type
            pos += 4 + 6 * privileges
            for code in layout:
                if code == _TEXT:
                    (length,) = u16(data, pos)
                    pos += 2 + length
                    if pos > size:
                        raise struct.error("short")
                    if length:
                        data[pos - length : pos].decode("utf-8")
                elif code == _I16:
                    pos += 2
                elif u16(data, pos)[0]:
                    pos = _skip_tree(data, pos, size)
                else:  # an empty permission tree
                    pos += 2
            if pos > size:
                raise struct.error("short")
            if add is not None:
                add(service_type)
    except struct.error:
        raise malformed("ends_inside", service_part(index, count)) from None
    except UnicodeDecodeError:
        raise malformed("utf8", service_part(index, count)) from None
    return pos, end, -1


def parse007(token: str) -> tuple[Any, ...]:
    content = _decode007(token)
    reader = Reader(content)
    reader.what = PARTS_007[0]
    signature = reader.raw()
    info_start = reader.pos
    reader.what = PARTS_007[1]
    app_id = reader.text()
    reader.what = PARTS_007[2]
    issue_ts = reader.u32()
    reader.what = PARTS_007[3]
    expire = reader.u32()
    reader.what = PARTS_007[4]
    salt = reader.u32()
    reader.what = PARTS_007[5]
    count = reader.u16()
    services_start = reader.pos
    # the services are checked here and made only when someone reads them (services007)
    end, known, unknown = _check_services(content, services_start, 0, count, count, None)
    if unknown < 0:
        extra = len(content) - end
        if extra:
            raise malformed("after_services", extra=extra)
    where = (services_start - info_start, known, count)
    return (signature, content[info_start:], app_id, issue_ts, expire, salt, where, unknown)


def services007(signing_info: bytes, where: tuple[int, int, int], limit: int) -> ServicesRead:
    offset, made, known, count, budget = services_at(where, len(signing_info), limit)
    reader = Reader(signing_info)
    reader.pos = offset
    services: list[ParsedService] = []
    cut: dict[int, int] = {}
    _make_services(reader, 0, made, count, services, budget, cut)
    types: list[int] = []
    _check_services(signing_info, reader.pos, made, known, count, types)
    # Counter keeps the order types first appear in, as the C kernel's dict does
    return services, dict(Counter(types)), cut


# --- 006 -----------------------------------------------------------------------------------------


def build006(
    app_id: str,
    app_certificate: str,
    channel_name: bytes,
    uid: bytes,
    salt: int | None,
    ts: int | None,
    privileges: Mapping[int, int],
) -> str:
    app, certificate = packing.ids(app_id, app_certificate)
    salt = random_salt() if salt is None else packing.u32("salt", salt)
    ts = packing.u32("ts", int(time.time()) + DEFAULT_LIFETIME_006 if ts is None else ts)
    message = packing.message006(salt, ts, privileges)
    signature = hmac_sha256(certificate, app + channel_name + uid + message)
    content = b"".join(
        (
            _U16.pack(len(signature)),
            signature,
            _CRCS.pack(crc32(channel_name), crc32(uid)),
            _U16.pack(len(message)),
            message,
        )
    )
    return VERSION_006 + app.decode("ascii") + binascii.b2a_base64(content, newline=False).decode("ascii")


def _common_text(value: Any) -> bool:
    """An exact str of ASCII characters, at most MAX_TEXT: build006_grant's form of a channel name or uid."""
    return type(value) is str and len(value) <= MAX_TEXT and value.isascii()


def build006_grant(
    app_id: Any, app_certificate: Any, channel_name: Any, uid: Any, privilege_ids: Any, expire: Any
) -> str | None:
    if type(app_id) is not str or type(app_certificate) is not str or not _common_text(channel_name):
        return None
    if type(expire) is not int or not 0 <= expire <= U32_MAX:
        return None
    if type(privilege_ids) is not tuple or len(privilege_ids) > MAX_PRIVILEGES_006:
        return None
    previous = -1
    for privilege in privilege_ids:
        if type(privilege) is not int or not previous < privilege <= U16_MAX:
            return None
        previous = privilege
    if type(uid) is int:
        if not 0 <= uid <= U32_MAX:
            return None
        uid = str(uid) if uid else ""
    elif not _common_text(uid):
        return None
    return build006(
        app_id,
        app_certificate,
        channel_name.encode("ascii"),
        uid.encode("ascii"),
        None,
        None,
        dict.fromkeys(privilege_ids, expire),
    )


def parse006(token: str) -> tuple[Any, ...]:
    _check_head(token, MAX_TOKEN_CHARS_006, VERSION_006)
    app_id = token[len(VERSION_006) : APP_ID_END_006]
    if (
        len(app_id) != APP_ID_END_006 - len(VERSION_006)
        or not app_id.isascii()
        or not _HEX.issuperset(app_id.encode("ascii"))
    ):
        raise malformed("app_id_006")
    content = canonical_base64(token[APP_ID_END_006:])
    if content is None:
        raise malformed("base64_006")
    reader = Reader(content)
    reader.what = "the signature"
    signature = reader.raw()
    if len(signature) != SIGNATURE_SIZE:
        raise malformed("signature_006", size=len(signature), expected=SIGNATURE_SIZE)
    reader.what = "the channel name CRC"
    crc_channel_name = reader.u32()
    reader.what = "the uid CRC"
    crc_uid = reader.u32()
    reader.what = "the message"
    message = reader.raw()
    extra = len(content) - reader.pos
    if extra:
        raise malformed("after_message", extra=extra)
    reader = Reader(message)
    reader.what = "the message salt"
    salt = reader.u32()
    reader.what = "the message timestamp"
    ts = reader.u32()
    reader.what = "the privilege map"
    privileges = reader.privileges()
    if (reader.pos - MESSAGE006_HEAD) // PRIVILEGE_ENTRY != len(privileges):
        raise malformed("duplicate_privilege")
    extra = len(message) - reader.pos
    if extra:
        raise malformed("after_privileges", extra=extra)
    return (app_id, signature, crc_channel_name, crc_uid, message, salt, ts, privileges)


def verify006(
    signature: bytes, app_id: bytes, app_certificate: bytes, channel_name: bytes, uid: bytes, message: bytes
) -> bool:
    expected = hmac_sha256(app_certificate, app_id + channel_name + uid + message)
    return hmac.compare_digest(expected, signature)
