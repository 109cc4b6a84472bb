# cython: language_level=3, cdivision=True, embedsignature=True
"""The token kernel, written once (contract: :class:`.kernel.Kernel`).

This is an ordinary Python module in Cython's pure-Python mode, as SQLAlchemy 2.1's ``*_cy.py`` modules
are: when Cython is present at build time it is compiled, with the C core of ``src_c/`` linked in, into
the extension ``accesstoken2._wire._kernel_cy`` ("c"); otherwise, or when the extension is disabled, the
same file runs as plain Python ("python").  :mod:`.kernel` can load both forms side by side, so the
differential tests compare the compiled and the interpreted forms of one source.

Everything that packs, reads and checks is written once, here: the packers, the builders' shape
programs, the salts, the reader, every value's fast path (each falls back to the matching check of
:mod:`.checks`, which raises the documented error).  Only the C boundary branches on
``cython.compiled``: the functions under "The C boundary" below, each a few lines on either side.  The
compiled side calls the C core (sign, deflate and base64 a content; base64 and inflate a body; HMAC,
CRC-32, UTF-8 validation) on plain buffers; the interpreted side calls :mod:`hmac`, :mod:`zlib`,
:mod:`binascii`.  Memory is reached through one pointer per buffer: in compiled code ``_at(buffer)`` is
the bytes' address, interpreted it is the ``bytearray`` or ``bytes`` itself, and ``p[i]`` means the
same in both.
"""

from __future__ import annotations

import os
import secrets
import threading
from typing import Any, Optional

try:
    import cython
except ModuleNotFoundError:  # no Cython installed: the interpreted form, with the project's stand-in
    from . import _cython as cython  # type: ignore[no-redef]

from ..errors import InvalidParameterError
from .checks import (
    ONE_DAY,
    check_count,
    check_hex32,
    check_i16,
    check_text,
    check_u32,
    checked_lifetimes,
    content_too_large,
    normal_permissions,
    normal_privileges,
    refuse_service,
    require_str,
    same_ids,
    too_many_privileges_006,
    uid_text,
)
from .limits import (
    APP_ID_END_006,
    DEFAULT_LIFETIME_006,
    ID_SIZE,
    MAX_CONTENT,
    MAX_PRIVILEGES_006,
    MAX_TEXT,
    MAX_THREADS,
    MAX_TOKEN_CHARS,
    MAX_TOKEN_CHARS_006,
    MESSAGE006_HEAD,
    PRIVILEGE_ENTRY,
    SALT_MAX,
    SALT_MIN,
    SIGNATURE_HEAD,
    SIGNATURE_SIZE,
    SIGNING_INFO_HEAD,
    VERSION_006,
    VERSION_007,
)
from .shapes import ACCOUNT, AS_SPEC, shape_mismatch
from .specs import LAYOUTS, field_name
from .stages import PARTS_007, malformed, service_part
from .values import Parsed006, Parsed007, ServicesRead

if cython.compiled:
    from cython.cimports.accesstoken2._wire._ccore import (  # type: ignore[import-not-found]
        AT2_BAD_BASE64,
        AT2_CHUNK_JOBS,
        AT2_CONTENT_TOO_LARGE,
        AT2_INCOMPLETE_ZLIB,
        AT2_NO_MEMORY,
        AT2_OK,
        AT2_SIGNATURE_HEAD,
        AT2_TRAILING_DATA,
        PyUnicode_IS_ASCII,
        at2_base64_decode,
        at2_body006,
        at2_body006_size,
        at2_chunk,
        at2_codec,
        at2_crc32,
        at2_decode007,
        at2_deflate_audit,
        at2_deflate_bound,
        at2_deflate_thread,
        at2_fault_arm,
        at2_fault_step,
        at2_hmac_sha256,
        at2_job,
        at2_pipeline,
        at2_pipeline_finish,
        at2_pipeline_init,
        at2_pipeline_publish,
        at2_pipeline_release,
        at2_seal007,
        at2_thread_codec,
        at2_thread_key_init,
        at2_token007_bound,
        at2_unix_seconds,
        at2_utf8_valid,
        at2_verify006,
        at2_verify007,
    )
    from cython.cimports.cpython.bytearray import (
        PyByteArray_AS_STRING,
        PyByteArray_FromStringAndSize,
        PyByteArray_Resize,
    )
    from cython.cimports.cpython.bytes import PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
    from cython.cimports.cpython.long import PyLong_AsLongLongAndOverflow
    from cython.cimports.cpython.unicode import (
        PyUnicode_AsUTF8AndSize,
        PyUnicode_Check,
        PyUnicode_DATA,
        PyUnicode_GET_LENGTH,
        PyUnicode_New,
    )
    from cython.cimports.libc.stdint import uint64_t
    from cython.cimports.libc.stdlib import free, malloc
    from cython.cimports.libc.string import memcpy
else:
    import binascii
    import hmac as _hmac
    import struct
    import time
    import zlib
    from hashlib import sha256

    from .checks import is_hex32

IMPLEMENTATION = "c" if cython.compiled else "python"

#: the spec table's wire codes by service type (the one dict specs.add_spec and remove_spec change)
_LAYOUTS = cython.declare(dict, LAYOUTS)
#: what _exact_int answers for a value outside its range (no range reaches it)
_NOT_IN = cython.declare(cython.longlong, -(1 << 62))
_U16_MAX = cython.declare(cython.longlong, 0xFFFF)
_U32_MAX = cython.declare(cython.longlong, 0xFFFFFFFF)
_MAX_CONTENT = cython.declare(cython.Py_ssize_t, MAX_CONTENT)
_ONE_DAY = cython.declare(cython.longlong, ONE_DAY)
#: a packing buffer's first room, where most tokens' contents fit: in compiled code the room inside the buffer
#: object (the size of _Buffer.stack, which must say the same number)
_FIRST_CAPACITY = cython.declare(cython.Py_ssize_t, 480)
#: the wire codes of specs.LAYOUTS and the rules of a shape program, as a layout's bytes iterate
_TEXT = cython.declare(cython.int, ord("s"))
_I16 = cython.declare(cython.int, ord("h"))
_AS_SPEC = cython.declare(cython.int, AS_SPEC)
_ACCOUNT = cython.declare(cython.int, ACCOUNT)
#: where the issue time and salt sit in a 007 content (signature head, app id, issue_ts, expire)
_ISSUE_TS_AT = cython.declare(cython.Py_ssize_t, SIGNATURE_HEAD + 2 + ID_SIZE)
_SALT_AT = cython.declare(cython.Py_ssize_t, SIGNATURE_HEAD + 2 + ID_SIZE + 8)
#: the format's sizes as C constants in compiled code
_SIGNATURE_HEAD = cython.declare(cython.Py_ssize_t, SIGNATURE_HEAD)
_SIGNING_INFO_HEAD = cython.declare(cython.Py_ssize_t, SIGNING_INFO_HEAD)
_ID_SIZE = cython.declare(cython.Py_ssize_t, ID_SIZE)
_SIGNATURE_SIZE = cython.declare(cython.Py_ssize_t, SIGNATURE_SIZE)
_MESSAGE006_HEAD = cython.declare(cython.Py_ssize_t, MESSAGE006_HEAD)
_PRIVILEGE_ENTRY = cython.declare(cython.Py_ssize_t, PRIVILEGE_ENTRY)
_MAX_PRIVILEGES_006 = cython.declare(cython.Py_ssize_t, MAX_PRIVILEGES_006)
_APP_ID_END_006 = cython.declare(cython.Py_ssize_t, APP_ID_END_006)
_DEFAULT_LIFETIME_006 = cython.declare(cython.Py_ssize_t, DEFAULT_LIFETIME_006)
_MAX_TEXT = cython.declare(cython.Py_ssize_t, MAX_TEXT)
# Inputs shorter than this are decoded or verified with the GIL held: the work takes about a microsecond, less
# than releasing and retaking the GIL costs the caller; longer ones release it so that other threads run.
_NOGIL_BYTES = cython.declare(cython.Py_ssize_t, 1024)

if cython.compiled:
    if SIGNATURE_HEAD != AT2_SIGNATURE_HEAD:
        raise ImportError("accesstoken2._wire._kernel_cy: limits.SIGNATURE_HEAD does not match the C core's")
    if at2_thread_key_init() != AT2_OK:
        raise ImportError("accesstoken2._wire._kernel_cy could not create its thread-local storage key")


# --- buffers --------------------------------------------------------------------------------------


@cython.freelist(8)
@cython.final
@cython.cclass
class _Buffer:
    """Bytes being packed: the first ``size`` are written, the rest (up to ``cap``) is room.

    Interpreted, the bytes are the bytearray ``data``.  Compiled, they start in ``stack`` (inside the object,
    which a free list recycles: a token's buffer costs no allocation) and move to the bytearray ``data`` when
    they outgrow it."""

    data: bytearray
    size: cython.Py_ssize_t
    cap: cython.Py_ssize_t
    stack: cython.uchar[480]


@cython.cfunc
def _buffer(capacity: cython.Py_ssize_t) -> _Buffer:
    buffer: _Buffer = _Buffer.__new__(_Buffer)
    buffer.size = 0
    if cython.compiled:
        buffer.data = None
        buffer.cap = _FIRST_CAPACITY
        if capacity > _FIRST_CAPACITY:
            _grow(buffer, capacity)
    else:
        buffer.data = bytearray(capacity)
        buffer.cap = capacity
    return buffer


@cython.cfunc
@cython.exceptval(-1)
def _reserve(buffer: _Buffer, more: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """Where the next ``more`` bytes go (take ``_at(buffer)`` after this call: growing moves the bytes)."""
    at: cython.Py_ssize_t = buffer.size
    if at + more > buffer.cap:
        _grow(buffer, at + more)
    buffer.size = at + more
    return at


@cython.cfunc
@cython.exceptval(-1)
def _grow(buffer: _Buffer, needed: cython.Py_ssize_t) -> cython.int:
    cap: cython.Py_ssize_t = max(2 * buffer.cap, needed)
    if cython.compiled:
        if at2_fault_step():  # the test hook of _arm_fault
            raise MemoryError()
        if buffer.data is None:
            buffer.data = PyByteArray_FromStringAndSize(cython.NULL, cap)
            memcpy(PyByteArray_AS_STRING(buffer.data), buffer.stack, buffer.size)
        else:
            PyByteArray_Resize(buffer.data, cap)
    else:
        buffer.data.extend(bytes(cap - buffer.cap))
    buffer.cap = cap
    return 0


@cython.cfunc
@cython.inline
def _at(buffer: _Buffer) -> cython.p_uchar:
    """The buffer's bytes: their address (compiled) or the bytearray (interpreted); p[i] reads and writes both."""
    if cython.compiled:
        if buffer.data is None:
            return buffer.stack
        return cython.cast(cython.p_uchar, PyByteArray_AS_STRING(buffer.data))
    else:
        return buffer.data  # type: ignore[return-value]


@cython.cfunc
def _packed(buffer: _Buffer, start: cython.Py_ssize_t) -> bytes:
    """A copy of the bytes packed from ``start`` on."""
    if cython.compiled:
        return PyBytes_FromStringAndSize(cython.cast(cython.p_char, _at(buffer) + start), buffer.size - start)
    else:
        return bytes(buffer.data[start : buffer.size])


@cython.cfunc
@cython.inline
def _bytes_at(data: bytes) -> cython.p_const_uchar:
    """The bytes of ``data``, as _at gives a buffer's."""
    if cython.compiled:
        return cython.cast(cython.p_const_uchar, PyBytes_AS_STRING(data))
    else:
        return data  # type: ignore[return-value]


@cython.cfunc
@cython.inline
def _slice(data: bytes, start: cython.Py_ssize_t, end: cython.Py_ssize_t) -> bytes:
    """``data[start:end]`` (0 <= start <= end <= len(data)), in compiled code without a slice object."""
    if cython.compiled:
        return PyBytes_FromStringAndSize(PyBytes_AS_STRING(data) + start, end - start)
    else:
        return data[start:end]


@cython.cfunc
@cython.inline
def _text_at(value: object) -> cython.p_const_uchar:
    """The bytes of a bytes object or of an ASCII str (compiled only)."""
    if isinstance(value, str):
        return cython.cast(cython.p_const_uchar, PyUnicode_DATA(value))
    return cython.cast(cython.p_const_uchar, PyBytes_AS_STRING(value))


@cython.cfunc
@cython.inline
@cython.exceptval(check=False)
def _put_u16(p: cython.p_uchar, at: cython.Py_ssize_t, value: cython.ulonglong) -> cython.void:
    p[at] = value & 0xFF
    p[at + 1] = (value >> 8) & 0xFF


@cython.cfunc
@cython.inline
@cython.exceptval(check=False)
def _put_u32(p: cython.p_uchar, at: cython.Py_ssize_t, value: cython.ulonglong) -> cython.void:
    p[at] = value & 0xFF
    p[at + 1] = (value >> 8) & 0xFF
    p[at + 2] = (value >> 16) & 0xFF
    p[at + 3] = (value >> 24) & 0xFF


@cython.cfunc
@cython.inline
@cython.exceptval(check=False)
def _u16_at(p: cython.p_const_uchar, at: cython.Py_ssize_t) -> cython.uint:
    return p[at] | (p[at + 1] << 8)


@cython.cfunc
@cython.inline
@cython.exceptval(check=False)
def _u32_at(p: cython.p_const_uchar, at: cython.Py_ssize_t) -> cython.uint:
    high: cython.uint = p[at + 3]  # unsigned before the shift: a C int would overflow
    return p[at] | (p[at + 1] << 8) | (p[at + 2] << 16) | (high << 24)


# --- the C boundary: each function's compiled side calls the C core, its interpreted side the standard library


@cython.cfunc
@cython.exceptval(-1)
def _put_text(
    buffer: _Buffer, value: object, name: object, service_type: object, index: cython.Py_ssize_t
) -> cython.int:
    """str(x): u16 length and UTF-8 bytes (``name``, or the spec's name of the field, for errors)."""
    size: cython.Py_ssize_t = 0
    at: cython.Py_ssize_t
    if cython.compiled:
        text: cython.p_const_char = cython.NULL
        # fast path: a str (subclasses included) that encodes to at most 65,535 bytes, as check_text demands
        if PyUnicode_Check(value):
            try:
                text = PyUnicode_AsUTF8AndSize(value, cython.address(size))
            except UnicodeEncodeError:
                text = cython.NULL
        if text == cython.NULL or size > _U16_MAX:
            data = check_text(name if name is not None else field_name(service_type, index), value)
            text = PyBytes_AS_STRING(data)
            size = PyBytes_GET_SIZE(data)
        at = _reserve(buffer, 2 + size)
        _put_u16(_at(buffer), at, size)
        memcpy(_at(buffer) + at + 2, text, size)
        return 0
    else:
        encoded = None
        if type(value) is str:
            try:
                encoded = value.encode("utf-8")
            except UnicodeEncodeError:
                pass
        if encoded is None or len(encoded) > _MAX_TEXT:
            encoded = check_text(name if name is not None else field_name(service_type, index), value)
        size = len(encoded)
        at = _reserve(buffer, 2 + size)
        _put_u16(_at(buffer), at, size)
        buffer.data[at + 2 : at + 2 + size] = encoded
        return 0


# _id_chars's constants, one byte each per lane of a 64-bit word: the high bit; the case bit; what lifts "0" and
# "a" to 0x80 and what lifts past "9" and "f" (see _id_chars)
_HIGH_BITS = cython.declare(cython.ulonglong, 0x8080808080808080)
_CASE_BITS = cython.declare(cython.ulonglong, 0x2020202020202020)
_FROM_0 = cython.declare(cython.ulonglong, 0x5050505050505050)
_PAST_9 = cython.declare(cython.ulonglong, 0x4646464646464646)
_FROM_A = cython.declare(cython.ulonglong, 0x1F1F1F1F1F1F1F1F)
_PAST_F = cython.declare(cython.ulonglong, 0x1919191919191919)


@cython.cfunc
def _id_chars(value: object) -> cython.bint:
    """True for a str (subclasses included) of 32 hexadecimal characters: the rule of checks.is_hex32."""
    if cython.compiled:
        if not (PyUnicode_Check(value) and PyUnicode_IS_ASCII(value) and PyUnicode_GET_LENGTH(value) == _ID_SIZE):
            return False
        # 8 characters a step, no branch per character: per byte x < 0x80, x + (0x80 - low) has its high bit set
        # when x >= low, and x + (0x7F - high) when x > high; neither sum carries into the next byte.  Digits
        # are 0x30-0x39; x | 0x20 folds A-F onto a-f (0x61-0x66).
        text: cython.p_const_uchar = cython.cast(cython.p_const_uchar, PyUnicode_DATA(value))
        inside: cython.ulonglong = _HIGH_BITS
        word: cython.ulonglong
        folded: cython.ulonglong
        i: cython.int
        for i in range(4):
            memcpy(cython.address(word), text + 8 * i, 8)
            folded = word | _CASE_BITS
            inside &= ((word + _FROM_0) & ~(word + _PAST_9)) | ((folded + _FROM_A) & ~(folded + _PAST_F))
        return inside == _HIGH_BITS
    else:
        return is_hex32(value)


@cython.cfunc
@cython.exceptval(-1)
def _put_id(buffer: _Buffer, at: cython.Py_ssize_t, value: object) -> cython.int:
    """Copies the 32 ASCII characters of a checked app id to the buffer."""
    if cython.compiled:
        memcpy(_at(buffer) + at, PyUnicode_DATA(value), _ID_SIZE)
    else:
        buffer.data[at : at + 32] = value.encode("ascii")
    return 0


@cython.cfunc
def _seal007(buffer: _Buffer, start: cython.Py_ssize_t, certificate: object) -> str:
    """The token of the 007 content packed at ``buffer.data[start:buffer.size]`` (room for the signature, then
    signing_info, whose issue_ts and salt key the signature): signed, compressed and base64-encoded."""
    size: cython.Py_ssize_t = buffer.size - start
    if cython.compiled:
        return _seal007_c(_at(buffer) + start, size, certificate)
    else:
        content = buffer.data[start : buffer.size]
        info = bytes(content[_SIGNATURE_HEAD:])
        ts, salt = _u32_at(content, _ISSUE_TS_AT), _u32_at(content, _SALT_AT)
        content[:_SIGNATURE_HEAD] = _U16.pack(SIGNATURE_SIZE) + _signature(certificate.encode("ascii"), ts, salt, info)
        return VERSION_007 + binascii.b2a_base64(zlib.compress(content), newline=False).decode("ascii")


@cython.cfunc
def _seal007_c(content: cython.p_uchar, size: cython.Py_ssize_t, certificate: object) -> str:
    """_seal007's compiled side: the C core signs, deflates and encodes, without the GIL."""
    token_stack: cython.char[4096]
    out: cython.p_char = token_stack
    out_size: cython.size_t = 0
    bound: cython.size_t = at2_token007_bound(size)
    codec: cython.pointer(at2_codec) = _codec()
    key: cython.p_const_uchar = cython.cast(cython.p_const_uchar, PyUnicode_DATA(certificate))
    ts: cython.uint = _u32_at(content, _ISSUE_TS_AT)
    salt: cython.uint = _u32_at(content, _SALT_AT)
    status: cython.int
    if bound > 4096:
        out = cython.cast(cython.p_char, malloc(bound))
        if out == cython.NULL:
            raise MemoryError()
    try:
        with cython.nogil:
            status = at2_seal007(codec, content, size, key, _ID_SIZE, ts, salt, out, cython.address(out_size))
        if status != AT2_OK:
            _raise_status(status)
        return _ascii(out, out_size)
    finally:
        if out != token_stack:
            free(out)


@cython.cfunc
def _ascii(text: cython.p_const_char, size: cython.size_t) -> str:
    """A str of ASCII bytes (compiled only)."""
    result = PyUnicode_New(size, 127)
    memcpy(PyUnicode_DATA(result), text, size)
    return result


@cython.cfunc
@cython.exceptval(-1)
def _raise_status(status: cython.int) -> cython.int:
    """The exception for a failed C core call's status (compiled only)."""
    if status == AT2_NO_MEMORY:
        raise MemoryError()
    raise RuntimeError(f"accesstoken2._wire._kernel_cy: the C core failed (status {status})")


@cython.cfunc
def _codec() -> cython.pointer(at2_codec):
    """This thread's C codec (compiled only)."""
    codec: cython.pointer(at2_codec) = at2_thread_codec()
    if codec == cython.NULL:
        raise MemoryError()
    return codec


if not cython.compiled:
    _U16 = struct.Struct("<H")
    _U32 = struct.Struct("<I")
    _INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
    _OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))

    def _signature(certificate: bytes, issue_ts: int, salt: int, signing_info: bytes) -> bytes:
        key = hmac_sha256(_U32.pack(issue_ts), certificate)
        key = hmac_sha256(_U32.pack(salt), key)
        return hmac_sha256(key, signing_info)


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    """HMAC-SHA256."""
    if cython.compiled:
        mac: cython.uchar[32]  # SIGNATURE_SIZE
        key_data: cython.p_const_uchar = _bytes_at(key)
        msg_data: cython.p_const_uchar = _bytes_at(msg)
        key_size: cython.size_t = len(key)
        msg_size: cython.size_t = len(msg)
        with cython.nogil:
            at2_hmac_sha256(key_data, key_size, msg_data, msg_size, mac)
        return PyBytes_FromStringAndSize(cython.cast(cython.p_char, mac), _SIGNATURE_SIZE)
    else:
        # RFC 2104 over hashlib: about twice as fast as hmac.digest() for the short inputs of a token
        if not isinstance(key, bytes) or not isinstance(msg, bytes):
            raise TypeError("hmac_sha256() takes bytes")
        if len(key) > 64:
            key = sha256(key).digest()
        key = key.ljust(64, b"\0")
        inner = sha256(key.translate(_INNER_PAD))
        inner.update(msg)
        return sha256(key.translate(_OUTER_PAD) + inner.digest()).digest()


def crc32(data: bytes) -> int:
    """zlib's CRC-32."""
    if cython.compiled:
        raw: cython.p_const_uchar = _bytes_at(data)
        size: cython.size_t = len(data)
        result: cython.uint
        if size < 16384:
            result = at2_crc32(raw, size)
        else:  # worth releasing the GIL
            with cython.nogil:
                result = at2_crc32(raw, size)
        return result
    else:
        return zlib.crc32(data) & 0xFFFFFFFF


def compress(data: bytes) -> bytes:
    """The bytes of ``zlib.compress(data, 6)``: zlib itself (interpreted) or the project's own encoder (compiled)."""
    if len(data) > MAX_CONTENT:
        raise InvalidParameterError("data", f"data is {len(data)} bytes long; at most {MAX_CONTENT} are allowed")
    if cython.compiled:
        raw: cython.p_const_uchar = _bytes_at(data)
        size: cython.size_t = len(data)
        out_size: cython.size_t = 0
        bound: cython.size_t = at2_deflate_bound(size)
        status: cython.int
        out: bytes = PyBytes_FromStringAndSize(cython.NULL, bound)
        out_data: cython.p_uchar = cython.cast(cython.p_uchar, PyBytes_AS_STRING(out))
        with cython.nogil:
            status = at2_deflate_thread(raw, size, out_data, bound, cython.address(out_size))
        if status != AT2_OK:
            _raise_status(status)
        return _slice(out, 0, out_size)
    else:
        return zlib.compress(data, 6)


def deflate_audit(data: bytes) -> tuple[int, int, int]:
    """(blocks, floor_above, decided) of compressing data with every block's codes built (src_c/deflate.h): the
    blocks, those whose lower bound (deflate_floor.c) was above the dynamic size (0, or the bound is wrong) and
    those the bound alone decided.  Compiled only: for tests and benchmarks/deflate_longrun.py."""
    if len(data) > MAX_CONTENT:
        raise InvalidParameterError("data", f"data is {len(data)} bytes long; at most {MAX_CONTENT} are allowed")
    if not cython.compiled:
        raise NotImplementedError("deflate_audit audits the C core's encoder: the compiled kernel only")
    raw: cython.p_const_uchar = _bytes_at(data)
    size: cython.size_t = len(data)
    blocks: uint64_t = 0
    floor_above: uint64_t = 0
    decided: uint64_t = 0
    status: cython.int
    with cython.nogil:
        status = at2_deflate_audit(
            raw, size, cython.address(blocks), cython.address(floor_above), cython.address(decided)
        )
    if status != AT2_OK:
        _raise_status(status)
    return (blocks, floor_above, decided)


def _arm_fault(nth: Any) -> int:
    """For tests: the nth fallible step of a build from now on fails (a buffer's growth, a chunk of build_many or a
    publish of one: batch.h's at2_fault_arm); 0 disarms.  Returns the steps that were left of the previous arming.
    Compiled only."""
    if not cython.compiled:
        raise NotImplementedError("_arm_fault arms the C core's fault hook: the compiled kernel only")
    return at2_fault_arm(nth)


@cython.cfunc
def _decode007(token: object) -> bytes:
    """The content of a 007 token: its head checked, its body base64- and zlib-decoded (at most MAX_CONTENT)."""
    _check_head(token, MAX_TOKEN_CHARS, VERSION_007)
    if cython.compiled:
        body_size: cython.Py_ssize_t = 0
        content_size: cython.size_t = 0
        status: cython.int
        if not PyUnicode_IS_ASCII(token):
            raise malformed("base64")
        text: cython.p_const_char = PyUnicode_AsUTF8AndSize(token, cython.address(body_size))
        codec: cython.pointer(at2_codec) = _codec()
        if body_size < _NOGIL_BYTES:
            status = at2_decode007(codec, text + 3, body_size - 3, _MAX_CONTENT, cython.address(content_size))
        else:
            with cython.nogil:
                status = at2_decode007(codec, text + 3, body_size - 3, _MAX_CONTENT, cython.address(content_size))
        if status == AT2_OK:
            # copied out at once: the codec's buffer is the thread's next decode's
            return PyBytes_FromStringAndSize(cython.cast(cython.p_const_char, codec.content), content_size)
        if status == AT2_BAD_BASE64:
            raise malformed("base64")
        if status == AT2_INCOMPLETE_ZLIB:
            raise malformed("zlib_incomplete")
        if status == AT2_CONTENT_TOO_LARGE:
            raise malformed("zlib_too_large", limit=MAX_CONTENT)
        if status == AT2_TRAILING_DATA:
            raise malformed("zlib_trailing")
        _raise_status(status)
    else:
        raw = _base64(token, 3)
        if raw is None:
            raise malformed("base64")
        inflater = zlib.decompressobj()
        try:
            content: bytes = inflater.decompress(raw, MAX_CONTENT + 1)
        except zlib.error:
            raise malformed("zlib_incomplete") from None
        if len(content) > MAX_CONTENT:
            raise malformed("zlib_too_large", limit=MAX_CONTENT)
        if not inflater.eof:
            raise malformed("zlib_incomplete")
        if inflater.unused_data:
            raise malformed("zlib_trailing")
        return content


@cython.cfunc
def _base64(token: object, start: cython.Py_ssize_t) -> object:
    """The bytes of ``token[start:]`` if it is canonical standard base64 with padding, else None."""
    if cython.compiled:
        body_size: cython.Py_ssize_t = 0
        out_size: cython.size_t = 0
        if not PyUnicode_IS_ASCII(token):
            return None
        text: cython.p_const_char = PyUnicode_AsUTF8AndSize(token, cython.address(body_size))
        body_size -= start
        out: bytes = PyBytes_FromStringAndSize(cython.NULL, body_size // 4 * 3 + 1)
        if (
            at2_base64_decode(
                text + start, body_size, cython.cast(cython.p_uchar, PyBytes_AS_STRING(out)), cython.address(out_size)
            )
            != 0
        ):
            return None
        return _slice(out, 0, out_size)
    else:
        try:
            encoded = token[start:].encode("ascii")
            raw = binascii.a2b_base64(encoded)
        except (UnicodeEncodeError, binascii.Error):
            return None
        return raw if binascii.b2a_base64(raw, newline=False) == encoded else None


@cython.cfunc
def _text_checked(reader: _Reader, start: cython.Py_ssize_t, size: cython.Py_ssize_t) -> cython.bint:
    """True when the ``size`` bytes at ``start`` are UTF-8 that Python's strict decoder accepts."""
    if cython.compiled:
        return at2_utf8_valid(reader.at + start, size) != 0
    else:
        try:
            reader.data[start : start + size].decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True


def verify007(signature: bytes, signing_info: bytes, app_certificate: Any, issue_ts: Any, salt: Any) -> bool:
    """Recompute the signature over signing_info as received; compare in constant time.

    A certificate that is not a str of 32 hexadecimal characters gives False."""
    if not _id_chars(app_certificate):
        return False
    if cython.compiled:
        signature_data: cython.p_const_uchar = _bytes_at(signature)
        info_data: cython.p_const_uchar = _bytes_at(signing_info)
        certificate: cython.p_const_uchar = cython.cast(cython.p_const_uchar, PyUnicode_DATA(app_certificate))
        signature_size: cython.size_t = len(signature)
        info_size: cython.size_t = len(signing_info)
        ts: cython.uint = issue_ts
        salt_value: cython.uint = salt
        same: cython.int
        if info_size < _NOGIL_BYTES:
            same = at2_verify007(
                signature_data, signature_size, info_data, info_size, certificate, _ID_SIZE, ts, salt_value
            )
        else:
            with cython.nogil:
                same = at2_verify007(
                    signature_data, signature_size, info_data, info_size, certificate, _ID_SIZE, ts, salt_value
                )
        return same != 0
    else:
        expected = _signature(app_certificate.encode("ascii"), issue_ts, salt, signing_info)
        return _hmac.compare_digest(expected, signature)


@cython.cfunc
def _seal006(app_id: object, certificate: object, channel_name: object, uid: object, message: _Buffer) -> str:
    """The token of a packed 006 message: "006", the app id, then base64(signature, CRCs, message).  The channel
    name and uid are bytes, or str of ASCII characters (build006_grant's)."""
    if message.size > _U16_MAX:
        raise too_many_privileges_006()
    if cython.compiled:
        body_size: cython.size_t = 0
        status: cython.int
        size: cython.size_t = message.size
        app: cython.p_const_uchar = cython.cast(cython.p_const_uchar, PyUnicode_DATA(app_id))
        key: cython.p_const_uchar = cython.cast(cython.p_const_uchar, PyUnicode_DATA(certificate))
        channel: cython.p_const_uchar = _text_at(channel_name)
        channel_size: cython.size_t = len(channel_name)
        uid_data: cython.p_const_uchar = _text_at(uid)
        uid_size: cython.size_t = len(uid)
        result = PyUnicode_New(3 + 32 + at2_body006_size(size), 127)
        out: cython.p_char = cython.cast(cython.p_char, PyUnicode_DATA(result))
        memcpy(out, b"006", 3)
        memcpy(out + 3, app, _ID_SIZE)
        m: cython.p_const_uchar = _at(message)
        with cython.nogil:
            status = at2_body006(
                app,
                32,
                key,
                32,
                channel,
                channel_size,
                uid_data,
                uid_size,
                m,
                size,
                out + _APP_ID_END_006,
                cython.address(body_size),
            )
        if status != AT2_OK:
            _raise_status(status)
        return result
    else:
        app = app_id.encode("ascii")
        if isinstance(channel_name, str):
            channel_name = channel_name.encode("ascii")
        if isinstance(uid, str):
            uid = uid.encode("ascii")
        content_message = bytes(message.data[: message.size])
        signature = hmac_sha256(certificate.encode("ascii"), app + channel_name + uid + content_message)
        content = b"".join(
            (
                _U16.pack(len(signature)),
                signature,
                _U32.pack(crc32(channel_name)),
                _U32.pack(crc32(uid)),
                _U16.pack(len(content_message)),
                content_message,
            )
        )
        return VERSION_006 + app_id + binascii.b2a_base64(content, newline=False).decode("ascii")


def verify006(
    signature: bytes, app_id: bytes, app_certificate: bytes, channel_name: bytes, uid: bytes, message: bytes
) -> bool:
    """Recompute the 006 signature; compare in constant time."""
    if cython.compiled:
        pointers: cython.p_const_uchar[6]
        sizes: cython.size_t[6]
        same: cython.int
        i: cython.int = 0
        for value in (signature, app_id, app_certificate, channel_name, uid, message):
            if type(value) is not bytes:
                raise TypeError("verify006() takes bytes")
            pointers[i] = _bytes_at(value)
            sizes[i] = len(value)
            i += 1
        with cython.nogil:
            same = at2_verify006(
                pointers[0],
                sizes[0],
                pointers[1],
                sizes[1],
                pointers[2],
                sizes[2],
                pointers[3],
                sizes[3],
                pointers[4],
                sizes[4],
                pointers[5],
                sizes[5],
            )
        return same != 0
    else:
        expected = hmac_sha256(app_certificate, app_id + channel_name + uid + message)
        return _hmac.compare_digest(expected, signature)


@cython.cfunc
@cython.exceptval(-1)
def _unix_seconds() -> cython.longlong:
    """Now, from the clock time.time() reads."""
    if cython.compiled:
        return at2_unix_seconds()
    else:
        return int(time.time())


# --- value checks: the fast path of each rule; anything else goes to its check in checks.py -------


@cython.cfunc
@cython.inline
@cython.exceptval(check=False)
def _exact_int(value: object, low: cython.longlong, high: cython.longlong) -> cython.longlong:
    """``value`` when it is an exact int in low..high, else _NOT_IN."""
    if type(value) is not int:
        return _NOT_IN
    if cython.compiled:
        overflow: cython.int = 0
        number: cython.longlong = PyLong_AsLongLongAndOverflow(value, cython.address(overflow))
        if overflow or number < low or number > high:
            return _NOT_IN
        return number
    else:
        return value if low <= value <= high else _NOT_IN  # type: ignore[operator,no-any-return]


@cython.cfunc
@cython.exceptval(-1)
def _u32(name: str, value: object) -> cython.longlong:
    """An exact int in 0..2**32-1, or check_u32's answer (a value it normalises, or its error)."""
    number: cython.longlong = _exact_int(value, 0, _U32_MAX)
    if number == _NOT_IN:
        number = check_u32(name, value)
    return number


@cython.cfunc
@cython.exceptval(-1)
def _check_id(name: str, value: object) -> cython.int:
    """An app id or certificate: 32 hexadecimal characters, or check_hex32's error naming it."""
    if not _id_chars(value):
        check_hex32(name, value)
        raise SystemError(f"{name} passed check_hex32 but not the kernel's check")
    return 0


@cython.cfunc
@cython.exceptval(-1)
def _check_ids(app_id: object, app_certificate: object) -> cython.int:
    """The app id, then the certificate: 32 hexadecimal characters each, and not the same in any letter case."""
    _check_id("app_id", app_id)
    _check_id("app_certificate", app_certificate)
    a: cython.p_const_uchar
    b: cython.p_const_uchar
    i: cython.Py_ssize_t
    if cython.compiled:
        a = cython.cast(cython.p_const_uchar, PyUnicode_DATA(app_id))
        b = cython.cast(cython.p_const_uchar, PyUnicode_DATA(app_certificate))
    else:
        a, b = app_id.encode("ascii"), app_certificate.encode("ascii")  # type: ignore[union-attr]
    for i in range(_ID_SIZE):
        if (a[i] | 0x20) != (b[i] | 0x20):  # hexadecimal digits and letters: | 0x20 folds case
            return 0
    raise same_ids()


@cython.cfunc
@cython.exceptval(-1)
def _check_content_size(size: cython.Py_ssize_t) -> cython.int:
    """A 007 content (or a part of one) of size bytes must fit MAX_CONTENT."""
    if size > _MAX_CONTENT:
        raise content_too_large()
    return 0


# --- packing ---------------------------------------------------------------------------------------


@cython.cfunc
def _plain_map(privileges: object) -> cython.bint:
    """True for a dict of exact ints, u16 -> u32: the fast path of normal_privileges."""
    if type(privileges) is not dict or len(privileges) > _U16_MAX:
        return False
    for key, value in privileges.items():
        if _exact_int(key, 0, _U16_MAX) == _NOT_IN or _exact_int(value, 0, _U32_MAX) == _NOT_IN:
            return False
    return True


@cython.cfunc
@cython.exceptval(-1)
def _put_privileges(buffer: _Buffer, privileges: object) -> cython.int:
    """map32: u16 count, then u16 key and u32 value per entry, keys ascending."""
    if not _plain_map(privileges):
        privileges = normal_privileges(privileges)
    keys: list = sorted(privileges)
    count: cython.Py_ssize_t = len(keys)
    at: cython.Py_ssize_t = _reserve(buffer, 2 + _PRIVILEGE_ENTRY * count)
    p: cython.p_uchar = _at(buffer)
    _put_u16(p, at, count)
    at += 2
    for key in keys:
        _put_u16(p, at, key)
        _put_u32(p, at + 2, privileges[key])
        at += _PRIVILEGE_ENTRY
    return 0


@cython.cfunc
def _plain_tree(tree: object) -> cython.bint:
    """True for a dict of u16 -> dict of u16 -> list or tuple: the fast path of normal_permissions."""
    if type(tree) is not dict or len(tree) > _U16_MAX:
        return False
    for resource_type, by_permission in tree.items():
        if _exact_int(resource_type, 0, _U16_MAX) == _NOT_IN:
            return False
        if type(by_permission) is not dict or len(by_permission) > _U16_MAX:
            return False
        for permission_type, names in by_permission.items():
            if _exact_int(permission_type, 0, _U16_MAX) == _NOT_IN:
                return False
            if (type(names) is not list and type(names) is not tuple) or len(names) > _U16_MAX:
                return False
    return True


@cython.cfunc
@cython.exceptval(-1)
def _put_permissions(buffer: _Buffer, tree: object) -> cython.int:
    """The RTM2 permission tree.  Refused as soon as its own bytes pass MAX_CONTENT, checked after each entry (a
    tree can be far larger than a token: 65,535 names under each of 65,535 x 65,535 keys)."""
    start: cython.Py_ssize_t = buffer.size
    at: cython.Py_ssize_t
    if not _plain_tree(tree):
        tree = normal_permissions(tree)
    at = _reserve(buffer, 2)
    _put_u16(_at(buffer), at, len(tree))
    for resource_type in sorted(tree):
        by_permission = tree[resource_type]
        at = _reserve(buffer, 4)
        _put_u16(_at(buffer), at, resource_type)
        _put_u16(_at(buffer), at + 2, len(by_permission))
        _check_content_size(buffer.size - start)
        for permission_type in sorted(by_permission):
            names = by_permission[permission_type]
            at = _reserve(buffer, 4)
            _put_u16(_at(buffer), at, permission_type)
            _put_u16(_at(buffer), at + 2, len(names))
            _check_content_size(buffer.size - start)
            for name in names:
                _put_text(buffer, name, "resources", None, 0)
                _check_content_size(buffer.size - start)
    return 0


@cython.cfunc
@cython.exceptval(-1)
def _put_field(
    buffer: _Buffer, code: cython.int, value: object, service_type: object, index: cython.Py_ssize_t
) -> cython.int:
    """One field after the privilege map, as its wire code (s, h or P) says."""
    number: cython.longlong
    at: cython.Py_ssize_t
    if code == _TEXT:
        _put_text(buffer, value, None, service_type, index)
    elif code == _I16:
        # fast path: an exact int in -32768..32767, as check_i16 demands
        number = _exact_int(value, -0x8000, 0x7FFF)
        if number == _NOT_IN:
            number = check_i16(field_name(service_type, index), value)
        at = _reserve(buffer, 2)
        _put_u16(_at(buffer), at, number & 0xFFFF)
    else:
        _put_permissions(buffer, value)
    return 0


@cython.cfunc
@cython.exceptval(-1)
def _put_service(buffer: _Buffer, service: object) -> cython.int:
    """u16 type, the privilege map, then the fields as the spec table lays them out."""
    service_type, privileges, fields = service
    layout: bytes = _LAYOUTS.get(service_type) if type(service_type) is int else None
    if layout is None or len(fields) != len(layout):
        refuse_service(service_type, fields, layout)
    at: cython.Py_ssize_t = _reserve(buffer, 2)
    _put_u16(_at(buffer), at, service_type)
    _put_privileges(buffer, privileges)
    index: cython.Py_ssize_t
    codes: cython.p_const_uchar = _bytes_at(layout)
    for index in range(len(layout)):
        _put_field(buffer, codes[index], fields[index], service_type, index)
    return 0


@cython.cfunc
@cython.exceptval(-1)
def _start_content(
    buffer: _Buffer,
    app_id: object,
    issue_ts: cython.longlong,
    expire: cython.longlong,
    salt: cython.longlong,
    count: cython.Py_ssize_t,
) -> cython.Py_ssize_t:
    """Room for the signature, then signing_info up to the service count; where the content starts."""
    start: cython.Py_ssize_t = _reserve(buffer, _SIGNATURE_HEAD + _SIGNING_INFO_HEAD)
    at: cython.Py_ssize_t = start + _SIGNATURE_HEAD
    _put_u16(_at(buffer), at, _ID_SIZE)
    _put_id(buffer, at + 2, app_id)
    at += 2 + _ID_SIZE
    p: cython.p_uchar = _at(buffer)
    _put_u32(p, at, issue_ts)
    _put_u32(p, at + 4, expire)
    _put_u32(p, at + 8, salt)
    _put_u16(p, at + 12, count)
    return start


@cython.cfunc
@cython.exceptval(-1)
def _pack007(
    buffer: _Buffer,
    app_id: object,
    app_certificate: object,
    issue_ts: object,
    expire: object,
    salt: object,
    services: object,
) -> cython.Py_ssize_t:
    """Appends a 007 content (room for the signature, then signing_info) to the buffer; where it starts.  Checks,
    in this order: the ids, issue_ts, expire, salt, the service count, each service; refused as soon as the
    content passes MAX_CONTENT, after each service."""
    _check_ids(app_id, app_certificate)
    ts: cython.longlong = _u32("issue_ts", issue_ts)
    lifetime: cython.longlong = _u32("expire", expire)
    salt_value: cython.longlong = _u32("salt", salt)
    count: cython.Py_ssize_t = len(services)
    if count > _U16_MAX:
        check_count("services", count)
    start: cython.Py_ssize_t = _start_content(buffer, app_id, ts, lifetime, salt_value, count)
    for service in services:
        _put_service(buffer, service)
        _check_content_size(buffer.size - start)
    return start


def pack_service(service_type: Any, privileges: Any, fields: Any) -> bytes:
    """One 007 service's bytes (``Service.pack``): u16 type, its privilege map, then its fields as the spec table lays
    them out, each checked as build007 checks it."""
    buffer: _Buffer = _buffer(_FIRST_CAPACITY)
    _put_service(buffer, (service_type, privileges, fields))
    return _packed(buffer, 0)


def pack_permissions(tree: Any) -> bytes:
    """An RTM2 permission tree's bytes (``RtmPermissions.pack``), checked as build007 checks it."""
    buffer: _Buffer = _buffer(_FIRST_CAPACITY)
    _put_permissions(buffer, tree)
    return _packed(buffer, 0)


def build007(app_id: Any, app_certificate: Any, issue_ts: Any, expire: Any, salt: Any, services: Any) -> str:
    """Check, pack, sign, compress and encode a 007 token; services are written in the order given."""
    buffer: _Buffer = _buffer(_FIRST_CAPACITY)
    start: cython.Py_ssize_t = _pack007(buffer, app_id, app_certificate, issue_ts, expire, salt, services)
    return _seal007(buffer, start, app_certificate)


# --- the public builders: one call per token (see shapes.py) ----------------------------------------


@cython.cfunc
@cython.exceptval(-1)
def _check_shape(program: bytes, lifetimes: cython.Py_ssize_t, values: cython.Py_ssize_t) -> cython.int:
    """A program's rules (shapes.py): every read inside the program, at least one service,
    strictly ascending privileges, known rules, every slot inside lifetimes and values, nothing after the last
    service."""
    p: cython.p_const_uchar = _bytes_at(program)
    size: cython.Py_ssize_t = len(program)
    pos: cython.Py_ssize_t = 1
    need_lifetimes: cython.Py_ssize_t = 1
    need_values: cython.Py_ssize_t = 0
    i: cython.Py_ssize_t
    j: cython.Py_ssize_t
    count: cython.Py_ssize_t
    previous: cython.long
    privilege: cython.long
    if size < 1 or p[0] == 0:
        raise shape_mismatch()
    for i in range(p[0]):
        if pos + 3 > size:
            raise shape_mismatch()
        count = p[pos + 2]
        pos += 3
        if pos + 3 * count + 1 > size:
            raise shape_mismatch()
        previous = -1
        for j in range(count):
            privilege = _u16_at(p, pos)
            if privilege <= previous:  # strictly ascending: what map32 writes
                raise shape_mismatch()
            previous = privilege
            need_lifetimes = max(need_lifetimes, p[pos + 2] + 1)
            pos += 3
        count = p[pos]
        pos += 1
        if pos + 2 * count > size:
            raise shape_mismatch()
        for j in range(count):
            if p[pos] != _AS_SPEC and p[pos] != _ACCOUNT:
                raise shape_mismatch()
            need_values = max(need_values, p[pos + 1] + 1)
            pos += 2
    if pos != size or lifetimes < need_lifetimes or values < need_values:
        raise shape_mismatch()
    return 0


@cython.cfunc
def _checked_accounts(program: bytes, values: tuple) -> tuple:
    """values, with any uid or account the fast path refuses replaced by what uid_text makes of it (or its error)."""
    p: cython.p_const_uchar = _bytes_at(program)
    pos: cython.Py_ssize_t = 1
    i: cython.Py_ssize_t
    index: cython.Py_ssize_t
    slot: cython.Py_ssize_t
    service_type: cython.uint
    for i in range(p[0]):
        service_type = _u16_at(p, pos)
        pos += 3 + 3 * p[pos + 2]
        count: cython.Py_ssize_t = p[pos]
        pos += 1
        for index in range(count):
            if p[pos] == _ACCOUNT:
                slot = p[pos + 1]
                value = values[slot]
                # fast path: an exact int in u32 range or a str (subclasses included), as uid_text demands
                if _exact_int(value, 0, _U32_MAX) == _NOT_IN and not isinstance(value, str):
                    value = uid_text(field_name(service_type, index), value)
                    values = (*values[:slot], value, *values[slot + 1 :])
            pos += 2
    return values


@cython.cfunc
@cython.exceptval(-1)
def _put_decimal(buffer: _Buffer, number: cython.ulonglong) -> cython.int:
    """A numeric uid as text: its decimal digits, the number 0 as the empty string (docs/FORMAT.md)."""
    count: cython.Py_ssize_t = 0
    rest: cython.ulonglong = number
    while rest:
        count += 1
        rest //= 10
    at: cython.Py_ssize_t = _reserve(buffer, 2 + count)
    p: cython.p_uchar = _at(buffer)
    _put_u16(p, at, count)
    i: cython.Py_ssize_t
    for i in range(count):
        p[at + 1 + count - i] = 48 + number % 10
        number //= 10
    return 0


@cython.cfunc
@cython.exceptval(-1)
def _put_program(
    buffer: _Buffer, start: cython.Py_ssize_t, program: bytes, lifetimes: tuple, values: tuple
) -> cython.int:
    """The services of a checked program, filled with lifetimes and values, into the content that begins at start
    (refused after the service that makes it pass MAX_CONTENT)."""
    p: cython.p_const_uchar = _bytes_at(program)
    pos: cython.Py_ssize_t = 1
    i: cython.Py_ssize_t
    j: cython.Py_ssize_t
    count: cython.Py_ssize_t
    index: cython.Py_ssize_t
    at: cython.Py_ssize_t
    service_type: cython.uint
    codes: cython.p_const_uchar
    out: cython.p_uchar
    for i in range(p[0]):
        service_type = _u16_at(p, pos)
        count = p[pos + 2]
        layout: bytes = _LAYOUTS.get(service_type)
        index = pos + 3 + 3 * count
        if layout is None or p[index] != len(layout):
            refuse_service(service_type, range(p[index]), layout)
        codes = _bytes_at(layout)
        at = _reserve(buffer, 4 + _PRIVILEGE_ENTRY * count)
        out = _at(buffer)
        _put_u16(out, at, service_type)
        _put_u16(out, at + 2, count)
        at += 4
        pos += 3
        for j in range(count):
            out[at] = p[pos]
            out[at + 1] = p[pos + 1]
            # every lifetime is an exact int in u32 range by now
            _put_u32(out, at + 2, lifetimes[p[pos + 2]])
            at += _PRIVILEGE_ENTRY
            pos += 3
        count = p[pos]
        pos += 1
        for index in range(count):
            value = values[p[pos + 1]]
            if p[pos] == _ACCOUNT and type(value) is int:
                # checked by _checked_accounts: an exact int in u32 range
                if codes[index] == _TEXT:
                    _put_decimal(buffer, value)
                    pos += 2
                    continue
                value = str(value) if value else ""
            _put_field(buffer, codes[index], value, service_type, index)
            pos += 2
        _check_content_size(buffer.size - start)
    return 0


# No cache of ids already checked: both checks together take about 50 instructions (8 characters a step), and a
# cache keyed by the certificate would keep it, or a hash of it, alive after the call for no measurable gain.
def build007_shape(
    shape: bytes,
    app_id: Any,
    app_certificate: Any,
    issue_ts: Any,
    salt: Any,
    lifetimes: Any,
    values: Any,
) -> str:
    """A public builder's token in one call (see :mod:`.shapes`): ``shape`` says which services and privileges it
    writes, ``lifetimes`` (slot 0: the token's expire) and ``values`` fill it.

    ``issue_ts`` None or 0: now; ``salt`` None: :func:`random_salt`.  Checks, in this order: the shape, the
    lifetimes (u32, one warning over 24 hours), the accounts, issue_ts, salt, the ids, the fields."""
    if type(shape) is not bytes:
        raise TypeError(f"build007_shape() shape must be bytes, not {type(shape).__name__}")
    times: tuple = lifetimes if type(lifetimes) is tuple else tuple(lifetimes)
    fills: tuple = values if type(values) is tuple else tuple(values)
    _check_shape(shape, len(times), len(fills))
    # fast path: exact ints up to 24 hours, as checked_lifetimes would pass them without a warning
    i: cython.Py_ssize_t
    for i in range(len(times)):
        if _exact_int(times[i], 0, _ONE_DAY) == _NOT_IN:
            times = checked_lifetimes(times)
            break
    fills = _checked_accounts(shape, fills)
    ts: cython.longlong = 0 if issue_ts is None else _u32("issue_ts", issue_ts)
    if ts == 0:
        ts = _unix_seconds()
    salt_value: cython.longlong = _next_salt() if salt is None else _u32("salt", salt)
    _check_ids(app_id, app_certificate)
    buffer: _Buffer = _buffer(_FIRST_CAPACITY)
    start: cython.Py_ssize_t = _start_content(buffer, app_id, ts, times[0], salt_value, _bytes_at(shape)[0])
    _put_program(buffer, start, shape, times, fills)
    return _seal007(buffer, start, app_certificate)


# --- salts -----------------------------------------------------------------------------------------
# 4 KiB from secrets.token_bytes (the OS's cryptographic source) become up to 1,024 salts: each 32-bit word gives
# its low 27 bits (2**27 is the first power of two above SALT_MAX), kept when below SALT_MAX (rejection sampling,
# so every salt in 1..99,999,999 is equally likely); every salt uses its own fresh random bits.  Salts are not
# secret (each token carries its salt in clear), so a pool costs nothing; it only has to be unpredictable and
# never handed out twice.  Taking one is a list.pop(), atomic in every CPython (free-threaded ones included), so
# no lock is taken on the common path; a refill takes one.  A forked child drops the pool it inherited.

#: the low bits a salt is drawn from
SALT_BITS = (1 << 27) - 1
#: random bytes drawn at a time
POOL_BYTES = 4096
_SALT_BITS = cython.declare(cython.uint, SALT_BITS)
_SALT_MIN = cython.declare(cython.uint, SALT_MIN)
_SALT_MAX = cython.declare(cython.uint, SALT_MAX)
_salt_lock = threading.Lock()
_salts: list = []


def _refill_salts() -> None:
    global _salts
    with _salt_lock:
        if not _salts:
            data: bytes = secrets.token_bytes(POOL_BYTES)
            p: cython.p_const_uchar = _bytes_at(data)
            fresh: list = []
            at: cython.Py_ssize_t
            bits: cython.uint
            for at in range(0, POOL_BYTES, 4):
                bits = _u32_at(p, at) & _SALT_BITS
                if bits < _SALT_MAX:
                    fresh.append(_SALT_MIN + bits)
            _salts = fresh


@cython.cfunc
@cython.exceptval(-1)
def _next_salt() -> cython.longlong:
    pool: list
    while True:
        pool = _salts
        if pool:
            try:
                return pool.pop()
            except IndexError:  # another thread took the last one
                pass
        _refill_salts()


def random_salt() -> int:
    """A salt from :mod:`secrets`, uniform in 1..99,999,999, from a pool a forked child drops."""
    return _next_salt()


def _forget_salts() -> None:
    """In a forked child: drop the parent's salts (and a lock another thread may have held)."""
    global _salts, _salt_lock
    _salt_lock = threading.Lock()
    _salts = []


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_salts)


# --- many tokens on many threads -------------------------------------------------------------------


def build_many(jobs: Any, threads: Any) -> list[str]:
    """build007 over many argument tuples, on up to ``threads`` threads (compiled), results in order."""
    if cython.compiled:
        return _build_many_c(jobs, max(1, min(threads, MAX_THREADS)))
    else:
        return [build007(*job) for job in jobs]


@cython.cfunc
def _build_many_c(jobs: object, limit: cython.uint) -> list:
    """The compiled build_many: this thread packs jobs into chunks (with the GIL) while the C core's workers seal
    the chunks already published (without it)."""
    pipeline: at2_pipeline
    codec: cython.pointer(at2_codec) = _codec()
    held: list = []
    result: list = []
    chunk: cython.pointer(at2_chunk)
    index: cython.size_t
    position: cython.size_t
    status: cython.int
    if at2_pipeline_init(cython.address(pipeline), limit) != AT2_OK:
        raise MemoryError()
    try:
        _produce(jobs, cython.address(pipeline), held)
    except BaseException:
        with cython.nogil:
            at2_pipeline_finish(cython.address(pipeline), codec, 1)
        at2_pipeline_release(cython.address(pipeline))
        raise
    with cython.nogil:
        status = at2_pipeline_finish(cython.address(pipeline), codec, 0)
    try:
        if status != AT2_OK:
            _raise_status(status)
        for index in range(pipeline.chunk_count):
            chunk = pipeline.chunks[index]
            for position in range(chunk.count):
                result.append(_ascii(chunk.tokens + chunk.jobs[position].token_offset, chunk.jobs[position].token_size))
        return result
    finally:
        at2_pipeline_release(cython.address(pipeline))


@cython.cfunc
@cython.exceptval(-1)
def _produce(jobs: object, pipeline: cython.pointer(at2_pipeline), held: list) -> cython.int:
    """Packs jobs into chunks and publishes each full chunk (compiled only)."""
    chunk: cython.pointer(at2_chunk) = cython.NULL  # the chunk being filled: owned here until _publish
    full: cython.pointer(at2_chunk)
    job: cython.pointer(at2_job)
    contents: _Buffer = _buffer(4096)
    tokens_size: cython.size_t = 0
    start: cython.Py_ssize_t
    last_certificate: object = None
    try:
        for args in jobs:
            if chunk == cython.NULL:
                if not at2_fault_step():
                    chunk = cython.cast(cython.pointer(at2_chunk), malloc(cython.sizeof(at2_chunk)))
                if chunk == cython.NULL:
                    raise MemoryError()
                chunk.count = 0
                chunk.contents = cython.NULL
                chunk.tokens = cython.NULL
                tokens_size = 0
                contents.size = 0
            if type(args) is not tuple:
                args = tuple(args)
            if len(args) != 6:
                raise TypeError(f"build_many() jobs must be build007 argument tuples of 6 items, not {len(args)}")
            start = _pack007(contents, args[0], args[1], args[2], args[3], args[4], args[5])
            # the workers read the certificate's characters in place, so only the certificate is kept alive: a str,
            # which the garbage collector does not track, and once per run of the same object
            certificate = args[1]
            if certificate is not last_certificate:
                held.append(certificate)
                last_certificate = certificate
            job = cython.address(chunk.jobs[chunk.count])
            job.certificate = cython.cast(cython.p_const_uchar, PyUnicode_DATA(certificate))
            job.certificate_size = _ID_SIZE
            job.issue_ts = _u32_at(_at(contents), start + _ISSUE_TS_AT)
            job.salt = _u32_at(_at(contents), start + _SALT_AT)
            job.content_offset = start
            job.content_size = contents.size - start
            job.token_offset = tokens_size
            tokens_size += at2_token007_bound(job.content_size)
            chunk.count += 1
            if chunk.count == AT2_CHUNK_JOBS:
                # ownership passes before the call, so that exactly one owner frees the chunk
                full = chunk
                chunk = cython.NULL
                _publish(pipeline, full, contents, tokens_size)
        if chunk != cython.NULL:
            full = chunk
            chunk = cython.NULL
            _publish(pipeline, full, contents, tokens_size)
    finally:
        if chunk != cython.NULL:
            free(chunk)
    return 0


@cython.cfunc
@cython.exceptval(-1)
def _publish(
    pipeline: cython.pointer(at2_pipeline),
    chunk: cython.pointer(at2_chunk),
    contents: _Buffer,
    tokens_size: cython.size_t,
) -> cython.int:
    """Hands a chunk to the workers with a copy of its packed contents and room for its tokens.  The caller gives up
    the chunk before the call: from here this function, then the pipeline, is its one owner, and frees it (or keeps
    it queued for at2_pipeline_release) whatever happens."""
    size: cython.size_t = contents.size
    chunk.contents = cython.NULL if at2_fault_step() else cython.cast(cython.p_uchar, malloc(size if size else 1))
    if chunk.contents != cython.NULL:
        memcpy(chunk.contents, _at(contents), size)
        chunk.tokens = cython.NULL if at2_fault_step() else cython.cast(cython.p_char, malloc(tokens_size or 1))
    if chunk.contents == cython.NULL or chunk.tokens == cython.NULL:
        free(chunk.contents)
        free(chunk)
        raise MemoryError()
    # the pipeline owns the chunk from here, even when publishing fails (a chunk it queued may already be in a
    # worker's hands, so nobody but at2_pipeline_release may free it)
    status: cython.int = at2_pipeline_publish(pipeline, chunk)
    if status != AT2_OK:
        _raise_status(status)
    return 0


# --- parsing ---------------------------------------------------------------------------------------

#: what a reader is reading when its bytes end: PARTS_007 by index, then a service, or (006) a named part
_PART_SERVICE = cython.declare(cython.int, len(PARTS_007))
_PART_NAMED = cython.declare(cython.int, len(PARTS_007) + 1)


@cython.freelist(8)
@cython.final
@cython.cclass
class _Reader:
    """A cursor over decoded bytes, and what it is reading (for error messages).  ``at`` is ``data`` as _bytes_at
    gives it (its address, compiled), kept so that a read costs no call for it."""

    data: bytes
    at: cython.p_const_uchar
    size: cython.Py_ssize_t
    pos: cython.Py_ssize_t
    part: cython.int
    index: cython.Py_ssize_t
    count: cython.Py_ssize_t
    name: str


@cython.cfunc
def _reader(data: bytes, pos: cython.Py_ssize_t) -> _Reader:
    reader: _Reader = _Reader.__new__(_Reader)
    reader.data = data
    reader.at = _bytes_at(data)
    reader.size = len(data)
    reader.pos = pos
    reader.part = 0
    reader.index = 0
    reader.count = 0
    reader.name = ""
    return reader


@cython.cfunc
def _what(reader: _Reader) -> str:
    if reader.part == _PART_SERVICE:
        return service_part(reader.index, reader.count)
    if reader.part == _PART_NAMED:
        return reader.name
    return PARTS_007[reader.part]


@cython.cfunc
@cython.inline
@cython.exceptval(-1)
def _take(reader: _Reader, size: cython.Py_ssize_t) -> cython.Py_ssize_t:
    start: cython.Py_ssize_t = reader.pos
    if size > reader.size - start:
        raise malformed("ends_inside", _what(reader))
    reader.pos = start + size
    return start


@cython.cfunc
@cython.inline
@cython.exceptval(-1)
def _read_u16(reader: _Reader) -> cython.long:
    # _take and _u16_at written out: the hottest read of a walk over a crafted token's thousands of entries
    start: cython.Py_ssize_t = reader.pos
    if reader.size - start < 2:
        raise malformed("ends_inside", _what(reader))
    reader.pos = start + 2
    p: cython.p_const_uchar = reader.at
    return p[start] | (p[start + 1] << 8)


@cython.cfunc
@cython.inline
@cython.exceptval(-1)
def _read_u32(reader: _Reader) -> cython.longlong:
    return _u32_at(reader.at, _take(reader, 4))


@cython.cfunc
def _read_raw(reader: _Reader) -> bytes:
    size: cython.Py_ssize_t = _read_u16(reader)
    start: cython.Py_ssize_t = _take(reader, size)
    return _slice(reader.data, start, start + size)


@cython.cfunc
def _read_text(reader: _Reader, build: cython.bint) -> object:
    """A text field: the str, or (build false) None once its bytes are checked to be what the str would decode."""
    size: cython.Py_ssize_t = _read_u16(reader)
    start: cython.Py_ssize_t = _take(reader, size)
    if not build:
        if not _text_checked(reader, start, size):
            raise malformed("utf8", _what(reader))
        return None
    try:
        return reader.data[start : start + size].decode("utf-8")
    except UnicodeDecodeError:
        raise malformed("utf8", _what(reader)) from None


@cython.cfunc
def _read_privileges(reader: _Reader) -> dict:
    """A privilege map; the only place a map is read, for 007 services and 006 messages alike (a repeated id
    keeps its last value)."""
    result: dict = {}
    count: cython.Py_ssize_t = _read_u16(reader)
    start: cython.Py_ssize_t = _take(reader, _PRIVILEGE_ENTRY * count)
    p: cython.p_const_uchar = reader.at
    i: cython.Py_ssize_t
    for i in range(count):
        result[_u16_at(p, start)] = _u32_at(p, start + 2)
        start += _PRIVILEGE_ENTRY
    return result


@cython.cfunc
@cython.exceptval(-1)
def _skip_tree(
    reader: _Reader, resources: cython.Py_ssize_t, permissions: cython.Py_ssize_t, names: cython.Py_ssize_t
) -> cython.Py_ssize_t:
    """Steps over ``names`` resource names, then ``permissions`` permission type entries, then ``resources``
    resource type entries of a permission tree (their UTF-8 was checked by parse007); the number of entries stepped
    over, each type entry and each name counting 1.  One loop over positions: a crafted tree holds 32,000 names."""
    p: cython.p_const_uchar = reader.at
    size: cython.Py_ssize_t = reader.size
    pos: cython.Py_ssize_t = reader.pos
    skipped: cython.Py_ssize_t = resources + permissions + names
    k: cython.Py_ssize_t
    count: cython.Py_ssize_t
    for k in range(names):
        if size - pos < 2:
            raise malformed("ends_inside", _what(reader))
        pos += 2 + (p[pos] | (p[pos + 1] << 8))
    while permissions or resources:
        # a type and a count: of names after a permission type, of permission types after a resource type
        if size - pos < 4:
            raise malformed("ends_inside", _what(reader))
        count = p[pos + 2] | (p[pos + 3] << 8)
        pos += 4
        skipped += count
        if permissions:
            permissions -= 1
            for k in range(count):
                if size - pos < 2:
                    raise malformed("ends_inside", _what(reader))
                pos += 2 + (p[pos] | (p[pos + 1] << 8))
        else:
            resources -= 1
            permissions = count
    if pos > size:
        raise malformed("ends_inside", _what(reader))
    reader.pos = pos
    return skipped


@cython.cfunc
@cython.exceptval(-1)
def _check_tree(reader: _Reader) -> cython.int:
    """Steps over a permission tree, checking that it is inside the content and that its names are UTF-8, in
    reading order, without making anything (one loop over positions, as _skip_tree)."""
    p: cython.p_const_uchar = reader.at
    size: cython.Py_ssize_t = reader.size
    pos: cython.Py_ssize_t = reader.pos
    resources: cython.Py_ssize_t
    permissions: cython.Py_ssize_t
    names: cython.Py_ssize_t
    length: cython.Py_ssize_t
    i: cython.Py_ssize_t
    j: cython.Py_ssize_t
    k: cython.Py_ssize_t
    if size - pos < 2:
        raise malformed("ends_inside", _what(reader))
    resources = p[pos] | (p[pos + 1] << 8)
    pos += 2
    for i in range(resources):
        if size - pos < 4:
            raise malformed("ends_inside", _what(reader))
        permissions = p[pos + 2] | (p[pos + 3] << 8)
        pos += 4
        for j in range(permissions):
            if size - pos < 4:
                raise malformed("ends_inside", _what(reader))
            names = p[pos + 2] | (p[pos + 3] << 8)
            pos += 4
            for k in range(names):
                if size - pos < 2:
                    raise malformed("ends_inside", _what(reader))
                length = p[pos] | (p[pos + 1] << 8)
                pos += 2
                if length > size - pos:
                    raise malformed("ends_inside", _what(reader))
                if length and not _text_checked(reader, pos, length):
                    raise malformed("utf8", _what(reader))
                pos += length
    reader.pos = pos
    return 0


@cython.cfunc
def _read_permissions(reader: _Reader, budget: cython.Py_ssize_t, left_out: list) -> dict:
    """The RTM2 permission tree: made within budget (resource type entries, permission type entries and names,
    each level in wire order; the entries left out are added to left_out[0])."""
    resource_count: cython.Py_ssize_t = _read_u16(reader)
    permission_count: cython.Py_ssize_t
    name_count: cython.Py_ssize_t
    i: cython.Py_ssize_t
    j: cython.Py_ssize_t
    made: cython.Py_ssize_t
    resources: cython.Py_ssize_t = budget
    permissions: cython.Py_ssize_t = budget
    names: cython.Py_ssize_t = budget
    tree: dict = {}
    for i in range(resource_count):
        if resources == 0:
            left_out[0] += _skip_tree(reader, resource_count - i, 0, 0)
            break
        resources -= 1
        resource_type = _read_u16(reader)
        permission_count = _read_u16(reader)
        by_permission: dict = tree.setdefault(resource_type, {})
        for j in range(permission_count):
            if permissions == 0:
                left_out[0] += _skip_tree(reader, 0, permission_count - j, 0)
                break
            permissions -= 1
            permission = _read_u16(reader)
            name_count = _read_u16(reader)
            made = min(name_count, names)
            names -= made
            by_permission[permission] = [_read_text(reader, True) for k in range(made)]
            left_out[0] += _skip_tree(reader, 0, 0, name_count - made)
    return tree


@cython.cfunc
@cython.exceptval(-1)
def _check_head(token: object, limit: cython.Py_ssize_t, version: str) -> cython.Py_ssize_t:
    """The checks before the body: a str, not too long, the version prefix; its length."""
    if not isinstance(token, str):
        require_str("token", token)
    length: cython.Py_ssize_t = len(token)
    if length > limit:
        raise malformed("too_long", length=length, limit=limit)
    text: str
    if type(token) is str:  # typed, so that compiled code compares in place
        text = token
        if not text.startswith(version):
            raise malformed("prefix", version=version)
    elif not token.startswith(version):  # a subclass: its own startswith
        raise malformed("prefix", version=version)
    return length


@cython.cfunc
@cython.exceptval(-2)
def _read_services(
    reader: _Reader, end: cython.Py_ssize_t, out: list, budget: cython.Py_ssize_t, cut: dict
) -> cython.long:
    """Makes services reader.index..end-1 as the table lays them out and appends them to out; a permission tree is
    made within budget, and cut gets the entries it left out by the service's position in out.  Returns the first
    unknown type (reader.index is its index), or -1 (reader.index is end)."""
    index: cython.Py_ssize_t
    code_index: cython.Py_ssize_t
    service_type: cython.long
    codes: cython.p_const_uchar
    left_out: list
    for index in range(reader.index, end):
        reader.index = index
        service_type = _read_u16(reader)
        layout: bytes = _LAYOUTS.get(service_type)
        if layout is None:
            return service_type
        codes = _bytes_at(layout)
        privileges = _read_privileges(reader)
        fields: list = []
        left_out = [0]
        for code_index in range(len(layout)):
            if codes[code_index] == _TEXT:
                fields.append(_read_text(reader, True))
            elif codes[code_index] == _I16:
                fields.append((_read_u16(reader) ^ 0x8000) - 0x8000)
            else:
                fields.append(_read_permissions(reader, budget, left_out))
        if left_out[0]:
            cut[len(out)] = left_out[0]
        out.append((service_type, privileges, tuple(fields)))
    reader.index = end
    return -1


@cython.cfunc
def _ends_inside(reader: _Reader, index: cython.Py_ssize_t) -> Exception:
    """The error for content that ends inside service ``index``."""
    reader.index = index
    return malformed("ends_inside", _what(reader))


@cython.cfunc
@cython.exceptval(-2)
def _walk_services(
    reader: _Reader, end: cython.Py_ssize_t, counts: Optional[dict], check_texts: cython.bint
) -> cython.long:
    """Checks services reader.index..end-1 without making them, counting them by type into counts unless it is
    None: that each is inside the content and (check_texts) its texts are UTF-8, in reading order (the first
    problem met is the one reported, as reading them would; services007 walks what parse007 checked).  Returns
    the first unknown type (reader.index is its index, its type read), or -1 (reader.index is end).  One loop over
    positions, calling out only for a text to check or a permission tree: a crafted token holds 16,000 services."""
    p: cython.p_const_uchar = reader.at
    size: cython.Py_ssize_t = reader.size
    pos: cython.Py_ssize_t = reader.pos
    index: cython.Py_ssize_t
    code_index: cython.Py_ssize_t
    length: cython.Py_ssize_t
    code: cython.int
    service_type: cython.long
    run: cython.Py_ssize_t = 0
    run_type: cython.long = 0
    for index in range(reader.index, end):
        if size - pos < 2:
            raise _ends_inside(reader, index)
        service_type = p[pos] | (p[pos + 1] << 8)
        pos += 2
        layout: bytes = _LAYOUTS.get(service_type)
        if layout is None:
            reader.index = index
            reader.pos = pos
            _add_run(counts, run_type, run)
            return service_type
        if size - pos < 2:
            raise _ends_inside(reader, index)
        pos += 2 + _PRIVILEGE_ENTRY * (p[pos] | (p[pos + 1] << 8))
        for code_index in range(len(layout)):
            if pos > size - 2:  # every field starts with 2 bytes (a text's length, an i16, a tree's count)
                raise _ends_inside(reader, index)
            code = layout[code_index]
            if code == _TEXT:
                length = p[pos] | (p[pos + 1] << 8)
                pos += 2
                if length > size - pos:
                    raise _ends_inside(reader, index)
                if check_texts and length and not _text_checked(reader, pos, length):
                    reader.index = index
                    raise malformed("utf8", _what(reader))
                pos += length
            elif code == _I16:
                pos += 2
            elif p[pos] == 0 and p[pos + 1] == 0:  # an empty permission tree: its count alone
                pos += 2
            else:
                reader.index = index
                reader.pos = pos
                if check_texts:
                    _check_tree(reader)
                else:
                    _skip_tree(reader, _read_u16(reader), 0, 0)  # the tree: its resource count, then entries
                pos = reader.pos
        if pos > size:
            raise _ends_inside(reader, index)
        if counts is not None:
            # counted by runs of one type: a dict update per run, not per service
            if run and service_type != run_type:
                _add_run(counts, run_type, run)
                run = 0
            run_type = service_type
            run += 1
    reader.index = end
    reader.pos = pos
    _add_run(counts, run_type, run)
    return -1


@cython.cfunc
@cython.exceptval(-1)
def _add_run(counts: Optional[dict], service_type: cython.long, run: cython.Py_ssize_t) -> cython.int:
    if run:
        counts[service_type] = counts.get(service_type, 0) + run
    return 0


def parse007(token: Any) -> Parsed007:
    """Decode and check a 007 token (MalformedTokenError with a stage for anything else).

    The services are checked but not made: :func:`services007` makes them when they are read."""
    reader: _Reader = _reader(_decode007(token), 0)
    # reader.part: what is being read, by its index in stages.PARTS_007
    reader.part = 0
    signature = _read_raw(reader)
    info_start: cython.Py_ssize_t = reader.pos
    reader.part = 1
    app_id = _read_text(reader, True)
    reader.part = 2
    issue_ts = _read_u32(reader)
    reader.part = 3
    expire = _read_u32(reader)
    reader.part = 4
    salt = _read_u32(reader)
    reader.part = 5
    count: cython.Py_ssize_t = _read_u16(reader)
    reader.part = _PART_SERVICE
    reader.count = count
    reader.index = 0
    services_start: cython.Py_ssize_t = reader.pos
    # the services are checked here and made only when someone reads them (services007)
    unknown: cython.long = _walk_services(reader, count, None, True)
    if unknown < 0:
        extra: cython.Py_ssize_t = reader.size - reader.pos
        if extra:
            raise malformed("after_services", extra=extra)
    signing_info = _slice(reader.data, info_start, reader.size)
    # every service was read, or those before the unknown one
    return (
        signature,
        signing_info,
        app_id,
        issue_ts,
        expire,
        salt,
        (services_start - info_start, reader.index, count),
        unknown,
    )


def services007(signing_info: bytes, where: Any, limit: Any) -> ServicesRead:
    """The first ``limit`` services of a token parse007 accepted, made, and the others counted by type.

    ``limit`` bounds every list made: the services, and in each RTM2 permission tree the resource type entries,
    the permission type entries and the resource names (the first ``limit`` of each, in wire order; the entries
    left out are counted).  ``limit >= MAX_CONTENT`` makes everything, since no list holds more entries than the
    content has bytes; explaining makes a few and only counts the rest, so a crafted token of 16,000 services or
    tree entries costs one walk over its bytes, not 16,000 objects."""
    if type(signing_info) is not bytes:
        raise TypeError("services007() signing_info must be bytes")
    offset, known, count = where
    if not (0 <= offset <= len(signing_info) and 0 <= known <= count <= 0xFFFF):
        raise InvalidParameterError("where", "where must be the services' place that parse007 returned")
    # no list in a token holds more entries than its content has bytes, so the budget stops at MAX_CONTENT
    budget: cython.Py_ssize_t = min(max(limit, 0), MAX_CONTENT)
    reader: _Reader = _reader(signing_info, offset)
    services: list = []
    counts: dict = {}
    cut: dict = {}
    reader.part = _PART_SERVICE
    reader.count = count
    _read_services(reader, min(budget, known), services, budget, cut)
    _walk_services(reader, known, counts, False)
    return services, counts, cut


# --- 006 -------------------------------------------------------------------------------------------


@cython.cfunc
@cython.exceptval(-1)
def _ts006(ts: object) -> cython.longlong:
    """A 006 message's ts: as given (u32), or for None now plus the default lifetime (past 2106, u32's error)."""
    if ts is not None:
        return _u32("ts", ts)
    default: cython.longlong = _unix_seconds() + _DEFAULT_LIFETIME_006
    return default if 0 <= default <= _U32_MAX else _u32("ts", default)


def build006(
    app_id: Any,
    app_certificate: Any,
    channel_name: bytes,
    uid: bytes,
    salt: Any,
    ts: Any,
    privileges: Any,
) -> str:
    """Check, pack, sign and encode a 006 token; ``salt`` None: :func:`random_salt`, ``ts`` None: now plus
    ``_DEFAULT_LIFETIME_006``."""
    if type(channel_name) is not bytes or type(uid) is not bytes:
        raise TypeError("build006() channel_name and uid must be bytes")
    _check_ids(app_id, app_certificate)
    salt_value: cython.longlong = _next_salt() if salt is None else _u32("salt", salt)
    ts_value: cython.longlong = _ts006(ts)
    message: _Buffer = _buffer(_FIRST_CAPACITY)
    at: cython.Py_ssize_t = _reserve(message, 8)
    _put_u32(_at(message), at, salt_value)
    _put_u32(_at(message), at + 4, ts_value)
    _put_privileges(message, privileges)
    return _seal006(app_id, app_certificate, channel_name, uid, message)


@cython.cfunc
def _common_text(value: object) -> cython.bint:
    """An exact str of ASCII characters, at most _MAX_TEXT: build006_grant's form of a channel name or uid."""
    if type(value) is not str:
        return False
    if cython.compiled:
        return PyUnicode_IS_ASCII(value) and PyUnicode_GET_LENGTH(value) <= _MAX_TEXT
    else:
        return len(value) <= MAX_TEXT and value.isascii()


def build006_grant(
    app_id: Any, app_certificate: Any, channel_name: Any, uid: Any, privilege_ids: Any, expire: Any
) -> str | None:
    """:func:`build006` for one common case in one call: ``privilege_ids`` (a tuple of ascending u16 ids) each
    granted until ``expire``, the salt drawn, ts now plus ``_DEFAULT_LIFETIME_006``.

    None (nothing checked, nothing drawn) unless every argument has its common form: the ids exact str,
    ``channel_name`` an exact str of ASCII characters up to ``_MAX_TEXT``, ``uid`` one too or an exact int
    0..U32_MAX (0 is the empty text), ``expire`` an exact int in u32; the caller then takes its full path, whose
    checks give every other argument its own error.  In that form, build006's errors (the ids)."""
    if type(app_id) is not str or type(app_certificate) is not str or not _common_text(channel_name):
        return None
    expire_value: cython.longlong = _exact_int(expire, 0, _U32_MAX)
    if expire_value == _NOT_IN:
        return None
    if type(privilege_ids) is not tuple:
        return None
    ids: tuple = privilege_ids
    count: cython.Py_ssize_t = len(ids)
    if count > _MAX_PRIVILEGES_006:
        return None
    previous: cython.longlong = -1
    i: cython.Py_ssize_t
    for i in range(count):
        previous = _exact_int(ids[i], previous + 1, _U16_MAX)
        if previous == _NOT_IN:
            return None
    uid_number: cython.longlong = _exact_int(uid, 0, _U32_MAX)
    if uid_number != _NOT_IN:
        uid_text_value = f"{uid_number}" if uid_number else ""  # an f-string: C digits when compiled
    elif _common_text(uid):
        uid_text_value = uid
    else:
        return None
    _check_ids(app_id, app_certificate)
    salt_value: cython.longlong = _next_salt()
    ts_value: cython.longlong = _ts006(None)
    message: _Buffer = _buffer(_MESSAGE006_HEAD + _PRIVILEGE_ENTRY * count)
    at: cython.Py_ssize_t = _reserve(message, _MESSAGE006_HEAD + _PRIVILEGE_ENTRY * count)
    p: cython.p_uchar = _at(message)
    _put_u32(p, at, salt_value)
    _put_u32(p, at + 4, ts_value)
    _put_u16(p, at + 8, count)
    at += _MESSAGE006_HEAD
    for i in range(count):
        _put_u16(p, at, ids[i])
        _put_u32(p, at + 2, expire_value)
        at += _PRIVILEGE_ENTRY
    return _seal006(app_id, app_certificate, channel_name, uid_text_value, message)


def parse006(token: Any) -> Parsed006:
    """Decode a 006 token (MalformedTokenError with a stage for anything else)."""
    length: cython.Py_ssize_t = _check_head(token, MAX_TOKEN_CHARS_006, VERSION_006)
    app_id = token[3:_APP_ID_END_006]
    if length < _APP_ID_END_006 or not _id_chars(app_id):
        raise malformed("app_id_006")
    content = _base64(token, _APP_ID_END_006)
    if content is None:
        raise malformed("base64_006")
    reader: _Reader = _reader(content, 0)
    reader.part = _PART_NAMED
    reader.name = "the signature"
    signature = _read_raw(reader)
    if len(signature) != SIGNATURE_SIZE:
        raise malformed("signature_006", size=len(signature), expected=SIGNATURE_SIZE)
    reader.name = "the channel name CRC"
    crc_channel_name = _read_u32(reader)
    reader.name = "the uid CRC"
    crc_uid = _read_u32(reader)
    reader.name = "the message"
    message = _read_raw(reader)
    extra: cython.Py_ssize_t = reader.size - reader.pos
    if extra:
        raise malformed("after_message", extra=extra)
    reader = _reader(message, 0)
    reader.part = _PART_NAMED
    reader.name = "the message salt"
    salt = _read_u32(reader)
    reader.name = "the message timestamp"
    ts = _read_u32(reader)
    reader.name = "the privilege map"
    privileges = _read_privileges(reader)
    if (reader.pos - _MESSAGE006_HEAD) // _PRIVILEGE_ENTRY != len(privileges):
        raise malformed("duplicate_privilege")
    extra = reader.size - reader.pos
    if extra:
        raise malformed("after_privileges", extra=extra)
    return (app_id, signature, crc_channel_name, crc_uid, message, salt, ts, privileges)
