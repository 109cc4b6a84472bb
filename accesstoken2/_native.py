"""The pure-Python kernel: byte-for-byte twin of the compiled ``accesstoken2._speedups``.

Both kernels take and return plain bytes, ints and strings; all validation, defaults and the
object model live in the calling Python code.  Both raise :class:`MalformedTokenError` with
identical messages for every token they refuse.

Functions (same names and signatures in both kernels):

``hmac_sha256(key, msg) -> bytes``
``crc32(data) -> int``
``build007(app_id, app_certificate, issue_ts, expire, salt, services) -> str``
    ``services`` is ``u16(count)`` followed by the packed services, already sorted.
``build_many(jobs, threads) -> list[str]``
    ``jobs`` is a list of ``build007`` argument tuples.
``parse007(token) -> (signature, signing_info, app_id, issue_ts, expire, salt, services, unknown)``
    ``services`` is a list of ``(type, {privilege: value}, fields)`` where ``fields`` follows
    ``LAYOUTS``; ``unknown`` is the type where parsing stopped, or -1.
``verify007(signature, signing_info, app_certificate, issue_ts, salt) -> bool``
``build006(app_id, app_certificate, channel_name, uid, message) -> str``
``compress(data) -> bytes``
    ``zlib.compress(data, 6)``'s bytes, for at most ``MAX_CONTENT`` bytes (the compiled kernel's
    own deflate reproduces them whatever zlib the platform has).
"""

from __future__ import annotations

import binascii
import hmac
import struct
import zlib
from collections.abc import Sequence
from hashlib import sha256
from typing import Any

from ._layout import LAYOUTS, MAX_CONTENT, MAX_TOKEN_CHARS, VERSION_006, VERSION_007
from .errors import InvalidParameterError, MalformedTokenError

_U16 = struct.Struct("<H")
_I16 = struct.Struct("<h")
_U32 = struct.Struct("<I")
_U16U32 = struct.Struct("<HI")
_TIMES = struct.Struct("<III")


_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))


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


def _signature(app_certificate: bytes, issue_ts: int, salt: int, signing_info: bytes) -> bytes:
    key = hmac_sha256(_U32.pack(issue_ts), app_certificate)
    key = hmac_sha256(_U32.pack(salt), key)
    return hmac_sha256(key, signing_info)


def build007(app_id: bytes, app_certificate: bytes, issue_ts: int, expire: int, salt: int, services: bytes) -> str:
    signing_info = b"".join((_U16.pack(len(app_id)), app_id, _TIMES.pack(issue_ts, expire, salt), services))
    signature = _signature(app_certificate, issue_ts, salt, signing_info)
    content = b"".join((_U16.pack(len(signature)), signature, signing_info))
    return VERSION_007 + binascii.b2a_base64(zlib.compress(content), newline=False).decode("ascii")


def build_many(jobs: Sequence[tuple[bytes, bytes, int, int, int, bytes]], threads: int) -> list[str]:
    return [build007(*job) for job in jobs]


def verify007(signature: bytes, signing_info: bytes, app_certificate: bytes, issue_ts: int, salt: int) -> bool:
    expected = _signature(app_certificate, issue_ts, salt, signing_info)
    return hmac.compare_digest(expected, signature)


def build006(app_id: bytes, app_certificate: bytes, channel_name: bytes, uid: bytes, message: bytes) -> str:
    signature = hmac_sha256(app_certificate, app_id + channel_name + uid + message)
    content = b"".join(
        (
            _U16.pack(len(signature)),
            signature,
            _U32.pack(crc32(channel_name)),
            _U32.pack(crc32(uid)),
            _U16.pack(len(message)),
            message,
        )
    )
    return VERSION_006 + app_id.decode("ascii") + binascii.b2a_base64(content, newline=False).decode("ascii")


def compress(data: bytes) -> bytes:
    if len(data) > MAX_CONTENT:
        raise InvalidParameterError("data", f"data is {len(data)} bytes long; at most {MAX_CONTENT} are allowed")
    return zlib.compress(data, 6)


def canonical_base64(body: str) -> bytes | None:
    """The bytes of ``body`` if it is canonical standard base64 with padding, else None."""
    try:
        encoded = body.encode("ascii")
        raw = binascii.a2b_base64(encoded)
    except (UnicodeEncodeError, binascii.Error):
        return None
    return raw if binascii.b2a_base64(raw, newline=False) == encoded else None


def _decode_body(token: str) -> bytes:
    if len(token) > MAX_TOKEN_CHARS:
        raise MalformedTokenError(f"token is {len(token)} characters long; at most {MAX_TOKEN_CHARS} are allowed")
    if not token.startswith(VERSION_007):
        raise MalformedTokenError("token does not start with the version prefix '007'")
    raw = canonical_base64(token[3:])
    if raw is None:
        raise MalformedTokenError("token body is not canonical standard base64 with padding")
    inflater = zlib.decompressobj()
    try:
        content = inflater.decompress(raw, MAX_CONTENT + 1)
    except zlib.error:
        raise MalformedTokenError("token body is not a complete zlib stream") from None
    if len(content) > MAX_CONTENT:
        raise MalformedTokenError(f"token content exceeds {MAX_CONTENT} bytes when decompressed")
    if not inflater.eof:
        raise MalformedTokenError("token body is not a complete zlib stream")
    if inflater.unused_data:
        raise MalformedTokenError("token body has data after the end of its zlib stream")
    return content


class _Reader:
    """A cursor over the decompressed content; every read names what it reads in errors."""

    __slots__ = ("data", "pos", "what")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.what = ""

    def _take(self, size: int) -> int:
        start = self.pos
        end = start + size
        if end > len(self.data):
            raise MalformedTokenError(f"token content ends inside {self.what}")
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
            raise MalformedTokenError(f"token content has invalid UTF-8 in {self.what}") from None

    def privileges(self) -> dict[int, int]:
        result: dict[int, int] = {}
        for _ in range(self.u16()):
            key, value = _U16U32.unpack_from(self.data, self._take(6))
            result[key] = value
        return result

    def permissions(self) -> dict[int, dict[int, list[str]]]:
        tree: dict[int, dict[int, list[str]]] = {}
        for _ in range(self.u16()):
            by_permission = tree.setdefault(self.u16(), {})
            for _ in range(self.u16()):
                permission = self.u16()
                by_permission[permission] = [self.text() for _ in range(self.u16())]
        return tree


def parse007(token: str) -> tuple[Any, ...]:
    content = _decode_body(token)
    reader = _Reader(content)
    reader.what = "the signature"
    signature = reader.raw()
    info_start = reader.pos
    reader.what = "the app id"
    app_id = reader.text()
    reader.what = "the issue time"
    issue_ts = reader.u32()
    reader.what = "the expiry"
    expire = reader.u32()
    reader.what = "the salt"
    salt = reader.u32()
    reader.what = "the service count"
    count = reader.u16()
    services: list[tuple[int, dict[int, int], tuple[Any, ...]]] = []
    unknown = -1
    for index in range(count):
        reader.what = f"service {index + 1} of {count}"
        service_type = reader.u16()
        layout = LAYOUTS.get(service_type)
        if layout is None:
            unknown = service_type
            break
        privileges = reader.privileges()
        fields: list[Any] = []
        for kind in layout:
            if kind == "s":
                fields.append(reader.text())
            elif kind == "h":
                fields.append(reader.i16())
            else:
                fields.append(reader.permissions())
        services.append((service_type, privileges, tuple(fields)))
    else:
        extra = len(content) - reader.pos
        if extra:
            raise MalformedTokenError(f"token content has {extra} unexpected bytes after its last service")
    return (signature, content[info_start:], app_id, issue_ts, expire, salt, services, unknown)
