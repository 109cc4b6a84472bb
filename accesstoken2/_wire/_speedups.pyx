# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""The compiled kernel: byte-for-byte twin of ``accesstoken2._wire.pure`` (contract: ``kernel.Kernel``).

This glue packs a token's content from plain Python values, following the spec table
(``specs.LAYOUTS``), with the GIL held; the C core (``src_c/``) then signs, compresses and encodes
it with the GIL released.  Each fast path restates one rule of ``checks``; a value it refuses
goes to that check, which raises the documented error (or hands back the value normalised).
Each thread keeps its own zlib streams, so the kernel is thread-safe.
"""

import os
import secrets

from cpython.dict cimport PyDict_Next
from cpython.object cimport PyObject
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdint cimport int16_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, qsort, realloc
from libc.string cimport memcpy

from accesstoken2.errors import InvalidParameterError
from accesstoken2._wire.checks import (
    ONE_DAY,
    check_count,
    checked_lifetimes,
    check_hex32,
    check_i16,
    check_text,
    check_u32,
    content_too_large,
    normal_permissions,
    normal_privileges,
    refuse_service,
    require_str,
    same_ids,
    too_many_privileges_006,
    uid_text,
)
from accesstoken2._wire.limits import (
    APP_ID_END_006,
    DEFAULT_LIFETIME_006,
    ID_SIZE,
    MAX_CONTENT,
    MAX_PRIVILEGES_006,
    MAX_TEXT,
    MAX_THREADS,
    MAX_TOKEN_CHARS,
    MAX_TOKEN_CHARS_006,
    PRIVILEGE_ENTRY,
    SALT_MAX,
    SALT_MIN,
    SIGNATURE_HEAD,
    SIGNATURE_SIZE,
    SIGNING_INFO_HEAD,
    VERSION_006,
    VERSION_007,
)
from accesstoken2._wire.packing import field_name
from accesstoken2._wire.reader import services_at
from accesstoken2._wire.salts import POOL_BYTES, SALT_BITS
from accesstoken2._wire.shapes import ACCOUNT, AS_SPEC, shape_mismatch
from accesstoken2._wire.specs import LAYOUTS
from accesstoken2._wire.stages import PARTS_007, malformed, service_part

IMPLEMENTATION = "c"


cdef extern from "Python.h":
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void *PyUnicode_DATA(object text)
    bint PyUnicode_IS_ASCII(object text)
    bint PyUnicode_Check(object text)
    Py_ssize_t PyUnicode_GET_LENGTH(object text)
    Py_ssize_t PyUnicode_Tailmatch(object text, object prefix, Py_ssize_t start, Py_ssize_t end, int direction) except -1
    const char *PyUnicode_AsUTF8AndSize(object text, Py_ssize_t *size) except NULL
    object PyUnicode_DecodeUTF8(const char *data, Py_ssize_t size, const char *errors)
    object PyBytes_FromStringAndSize(const char *data, Py_ssize_t size)
    char *PyBytes_AS_STRING(object data)
    Py_ssize_t PyBytes_GET_SIZE(object data)
    long long PyLong_AsLongLongAndOverflow(object value, int *overflow) except? -1


cdef extern from "token_core.h" nogil:
    enum:
        AT2_OK
        AT2_NO_MEMORY
        AT2_BAD_BASE64
        AT2_INCOMPLETE_ZLIB
        AT2_CONTENT_TOO_LARGE
        AT2_TRAILING_DATA
        AT2_SIGNATURE_HEAD
    ctypedef struct at2_codec:
        uint8_t *content
    int at2_thread_key_init()
    at2_codec *at2_thread_codec()
    size_t at2_token007_bound(size_t content_size)
    int at2_seal007(at2_codec *codec, uint8_t *content, size_t content_size, const uint8_t *certificate,
                    size_t certificate_size, uint32_t issue_ts, uint32_t salt, char *out, size_t *out_size)
    int at2_decode007(at2_codec *codec, const char *body, size_t body_size, size_t max_content,
                      size_t *content_size)
    int at2_verify007(const uint8_t *signature, size_t signature_size, const uint8_t *signing_info,
                      size_t signing_info_size, const uint8_t *certificate, size_t certificate_size,
                      uint32_t issue_ts, uint32_t salt)
    size_t at2_body006_size(size_t message_size)
    int at2_body006(const uint8_t *app_id, size_t app_id_size, const uint8_t *certificate, size_t certificate_size,
                    const uint8_t *channel, size_t channel_size, const uint8_t *uid, size_t uid_size,
                    const uint8_t *message, size_t message_size, char *out, size_t *out_size)
    int at2_verify006(const uint8_t *signature, size_t signature_size, const uint8_t *app_id, size_t app_id_size,
                      const uint8_t *certificate, size_t certificate_size, const uint8_t *channel,
                      size_t channel_size, const uint8_t *uid, size_t uid_size, const uint8_t *message,
                      size_t message_size)
    int at2_utf8_valid(const uint8_t *text, size_t size)
    uint32_t at2_crc32(const uint8_t *data, size_t size)


cdef extern from "threads.h" nogil:
    int64_t at2_unix_seconds()


cdef extern from "deflate.h" nogil:
    size_t at2_deflate_bound(size_t size)
    int at2_deflate_thread(const uint8_t *data, size_t size, uint8_t *out, size_t out_cap, size_t *out_size)
    int at2_deflate_audit(const uint8_t *data, size_t size, uint64_t *blocks, uint64_t *floor_above,
                          uint64_t *decided)

cdef extern from "base64.h" nogil:
    int at2_base64_decode(const char *text, size_t size, uint8_t *out, size_t *out_size)


cdef extern from "sha256.h" nogil:
    void at2_hmac_sha256(const uint8_t *key, size_t key_size, const uint8_t *msg, size_t msg_size, uint8_t *mac)


cdef extern from "batch.h" nogil:
    enum:
        AT2_CHUNK_JOBS
    ctypedef struct at2_job:
        const uint8_t *certificate
        size_t certificate_size
        uint32_t issue_ts
        uint32_t salt
        size_t content_offset
        size_t content_size
        size_t token_offset
        size_t token_size
    ctypedef struct at2_chunk:
        at2_job jobs[1]
        size_t count
        uint8_t *contents
        char *tokens
    ctypedef struct at2_pipeline:
        at2_chunk **chunks
        size_t chunk_count
    int at2_pipeline_init(at2_pipeline *pipeline, unsigned max_threads)
    int at2_pipeline_publish(at2_pipeline *pipeline, at2_chunk *chunk)
    int at2_pipeline_finish(at2_pipeline *pipeline, at2_codec *caller_codec, int cancel)
    void at2_pipeline_release(at2_pipeline *pipeline)
    unsigned long at2_fault_arm(unsigned long nth)
    int at2_fault_step()


cdef enum:
    STACK_BUFFER = 2048
    # crc32 releases the GIL only for inputs worth the switch
    CRC_NOGIL_SIZE = 16384
    U16_MAX = 0xFFFF
    # privilege maps up to this size are sorted on the stack
    SMALL_MAP = 16

cdef size_t _MAX_CONTENT = MAX_CONTENT
cdef long long _ONE_DAY = ONE_DAY
cdef uint8_t _AS_SPEC = AS_SPEC
cdef uint8_t _ACCOUNT = ACCOUNT
cdef Py_ssize_t _MAX_TOKEN_CHARS = MAX_TOKEN_CHARS
cdef Py_ssize_t _MAX_TOKEN_CHARS_006 = MAX_TOKEN_CHARS_006
cdef Py_ssize_t _APP_ID_END_006 = APP_ID_END_006
cdef int64_t _DEFAULT_LIFETIME_006 = DEFAULT_LIFETIME_006
cdef Py_ssize_t _MAX_TEXT = MAX_TEXT
cdef str _VERSION_007 = VERSION_007
cdef str _VERSION_006 = VERSION_006
# Inputs of fewer bytes are decoded or verified with the GIL held: the work takes about a microsecond, less
# than releasing and retaking the GIL costs the caller; longer ones release it so that other threads run.
cdef enum:
    NOGIL_BYTES = 1024
cdef Py_ssize_t _MAX_PRIVILEGES_006 = MAX_PRIVILEGES_006
cdef Py_ssize_t _MAX_THREADS = MAX_THREADS
cdef size_t _ID_SIZE = ID_SIZE
cdef size_t _SIGNING_INFO_HEAD = SIGNING_INFO_HEAD
cdef Py_ssize_t _PRIVILEGE_ENTRY = PRIVILEGE_ENTRY

if SIGNATURE_HEAD != AT2_SIGNATURE_HEAD:
    raise ImportError("accesstoken2._wire._speedups: limits.SIGNATURE_HEAD does not match the C core's")
cdef dict _LAYOUTS = LAYOUTS

if at2_thread_key_init() != AT2_OK:
    raise ImportError("accesstoken2._wire._speedups could not create its thread-local storage key")


cdef int _raise_status(int status) except -1:
    if status == AT2_NO_MEMORY:
        raise MemoryError()
    raise RuntimeError(f"accesstoken2._wire._speedups: the C core failed (status {status})")


cdef at2_codec *_codec() except NULL:
    cdef at2_codec *codec = at2_thread_codec()
    if codec == NULL:
        raise MemoryError()
    return codec


cdef inline const uint8_t *_data(bytes value):
    return <const uint8_t *>PyBytes_AS_STRING(value)


cdef inline str _ascii(const char *text, size_t size):
    result = PyUnicode_New(<Py_ssize_t>size, 127)
    memcpy(PyUnicode_DATA(result), text, size)
    return <str>result


def hmac_sha256(bytes key not None, bytes msg not None) -> bytes:
    cdef uint8_t mac[32]
    cdef const uint8_t *key_data = _data(key)
    cdef const uint8_t *msg_data = _data(msg)
    cdef size_t key_size = PyBytes_GET_SIZE(key), msg_size = PyBytes_GET_SIZE(msg)
    with nogil:
        at2_hmac_sha256(key_data, key_size, msg_data, msg_size, mac)
    return PyBytes_FromStringAndSize(<const char *>mac, 32)


def crc32(bytes data not None) -> int:
    cdef const uint8_t *raw = _data(data)
    cdef size_t size = PyBytes_GET_SIZE(data)
    cdef uint32_t result
    if size < CRC_NOGIL_SIZE:
        result = at2_crc32(raw, size)
    else:
        with nogil:
            result = at2_crc32(raw, size)
    return result


def compress(bytes data not None) -> bytes:
    cdef const uint8_t *raw = _data(data)
    cdef size_t size = PyBytes_GET_SIZE(data)
    cdef size_t out_size = 0
    cdef int status
    if size > _MAX_CONTENT:
        raise InvalidParameterError("data", f"data is {size} bytes long; at most {MAX_CONTENT} are allowed")
    out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>at2_deflate_bound(size))
    cdef uint8_t *out_data = <uint8_t *>PyBytes_AS_STRING(out)
    with nogil:
        status = at2_deflate_thread(raw, size, out_data, at2_deflate_bound(size), &out_size)
    if status != AT2_OK:
        _raise_status(status)
    return out[:out_size]


def deflate_audit(bytes data not None) -> tuple:
    """(blocks, floor_above, decided) of compressing data with every block's codes built (src_c/deflate.h): the
    blocks, those whose lower bound (deflate_floor.c) was above the dynamic size (0, or the bound is wrong) and
    those the bound alone decided.  For tests and benchmarks/deflate_longrun.py."""
    cdef const uint8_t *raw = _data(data)
    cdef size_t size = PyBytes_GET_SIZE(data)
    cdef uint64_t blocks = 0, floor_above = 0, decided = 0
    cdef int status
    if size > _MAX_CONTENT:
        raise InvalidParameterError("data", f"data is {size} bytes long; at most {MAX_CONTENT} are allowed")
    with nogil:
        status = at2_deflate_audit(raw, size, &blocks, &floor_above, &decided)
    if status != AT2_OK:
        _raise_status(status)
    return (blocks, floor_above, decided)


# --- packing --------------------------------------------------------------------------------------

# A growable byte buffer: starts in caller-provided (stack) memory, moves to the heap when it outgrows it.
cdef struct Buffer:
    uint8_t *data
    size_t size
    size_t cap
    bint heap


cdef inline void _buffer_init(Buffer *buffer, uint8_t *stack, size_t cap):
    buffer.data = stack
    buffer.size = 0
    buffer.cap = cap
    buffer.heap = False


cdef inline void _buffer_free(Buffer *buffer):
    if buffer.heap:
        free(buffer.data)
    buffer.data = NULL
    buffer.heap = False


cdef int _grow(Buffer *buffer, size_t more) except -1:
    cdef size_t cap = buffer.cap * 2 if buffer.cap else 256
    cdef uint8_t *data
    while cap < buffer.size + more:
        cap *= 2
    if at2_fault_step():
        data = NULL
    elif buffer.heap:
        data = <uint8_t *>realloc(buffer.data, cap)
    else:
        data = <uint8_t *>malloc(cap)
        if data != NULL and buffer.size:
            memcpy(data, buffer.data, buffer.size)
    if data == NULL:
        raise MemoryError()
    buffer.data = data
    buffer.cap = cap
    buffer.heap = True
    return 0


cdef inline uint8_t *_reserve(Buffer *buffer, size_t more) except NULL:
    cdef uint8_t *at
    if buffer.size + more > buffer.cap:
        _grow(buffer, more)
    at = buffer.data + buffer.size
    buffer.size += more
    return at


cdef inline void _put_u16(uint8_t *at, uint32_t value):
    at[0] = <uint8_t>value
    at[1] = <uint8_t>(value >> 8)


cdef inline void _put_u32(uint8_t *at, uint32_t value):
    at[0] = <uint8_t>value
    at[1] = <uint8_t>(value >> 8)
    at[2] = <uint8_t>(value >> 16)
    at[3] = <uint8_t>(value >> 24)


cdef inline bint _int_in(object value, long long low, long long high, long long *out):
    """True (and the value in out) for an exact int in low..high: the fast path of check_int."""
    cdef int overflow = 0
    cdef long long number = 0
    if type(value) is not int:
        return False
    number = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow or number < low or number > high:
        return False
    out[0] = number
    return True


cdef uint32_t _u32_arg(str name, object value) except? 0xFFFFFFFF:
    cdef long long number = 0
    if not _int_in(value, 0, 0xFFFFFFFF, &number):
        value = check_u32(name, value)
        number = value
    return <uint32_t>number


cdef enum:
    # one bit per byte of a 64-bit word, and the constants of _all_hex
    HIGH_BITS = 0x8080808080808080ULL


cdef inline bint _all_hex(const uint8_t *text) noexcept nogil:
    """True when 32 ASCII bytes are all 0-9, a-f or A-F (what HEX32 matches), 8 at a time, without a branch per byte.

    Per byte x < 0x80, x + (0x80 - low) has its high bit set when x >= low, and x + (0x7F - high) when x > high;
    neither sum carries into the next byte.  Digits are 0x30-0x39; x | 0x20 folds A-F onto a-f (0x61-0x66)."""
    cdef uint64_t word, folded, inside = HIGH_BITS
    cdef Py_ssize_t i
    for i in range(4):
        memcpy(&word, text + 8 * i, 8)
        folded = word | 0x2020202020202020ULL
        inside &= ((word + 0x5050505050505050ULL) & ~(word + 0x4646464646464646ULL)) | (
            (folded + 0x1F1F1F1F1F1F1F1FULL) & ~(folded + 0x1919191919191919ULL))
    return inside == HIGH_BITS


cdef const char *_hex32_or_null(object value):
    """The ASCII characters of a str (subclasses included) of 32 hexadecimal characters (the str's own memory;
    the caller keeps it alive), else NULL: the rule of checks.is_hex32."""
    cdef const uint8_t *text
    if not (PyUnicode_Check(value) and PyUnicode_IS_ASCII(value) and PyUnicode_GET_LENGTH(value) == 32):
        return NULL
    text = <const uint8_t *>PyUnicode_DATA(value)
    return <const char *>text if _all_hex(text) else NULL


cdef int _check_distinct(const char *app_id, const char *certificate) except -1:
    """Refuses a certificate equal to the app id in any letter case (as packing.ids)."""
    cdef Py_ssize_t i
    for i in range(32):
        if (app_id[i] | 0x20) != (certificate[i] | 0x20):  # hexadecimal digits and letters: | 0x20 folds case
            return 0
    raise same_ids()


cdef const char *_hex32(str name, object value) except NULL:
    """The ASCII characters of an app id or certificate, or check_hex32's error."""
    cdef const char *text = _hex32_or_null(value)
    if text != NULL:
        return text
    check_hex32(name, value)
    raise SystemError(f"{name} passed check_hex32 but not the kernel's check")


cdef int _put_text(Buffer *buffer, object value, object service_type, Py_ssize_t index, str name) except -1:
    """str(x): u16 length and UTF-8 bytes (name, or the spec's field name, for errors)."""
    cdef Py_ssize_t size = 0
    cdef const char *text = NULL
    cdef bytes data
    cdef uint8_t *at
    # fast path: a str (subclasses included) that encodes to at most 65,535 bytes, as check_text demands
    if PyUnicode_Check(value):
        try:
            text = PyUnicode_AsUTF8AndSize(value, &size)
        except UnicodeEncodeError:
            text = NULL
    if text == NULL or size > U16_MAX:
        data = check_text(name if name is not None else field_name(service_type, index), value)
        text = PyBytes_AS_STRING(data)
        size = PyBytes_GET_SIZE(data)
    at = _reserve(buffer, 2 + size)
    _put_u16(at, <uint32_t>size)
    memcpy(at + 2, text, size)
    return 0


cdef struct Entry:
    uint32_t key
    uint32_t value


cdef int _compare_entries(const void *a, const void *b) noexcept nogil:
    return <int>(<const Entry *>a).key - <int>(<const Entry *>b).key


cdef bint _plain_map(object privileges):
    """True for a dict of exact ints, u16 -> u32: the fast path of normal_privileges."""
    cdef Py_ssize_t position = 0
    cdef PyObject *key
    cdef PyObject *value
    cdef long long number = 0
    if type(privileges) is not dict or len(privileges) > U16_MAX:
        return False
    while PyDict_Next(privileges, &position, &key, &value):
        if not (_int_in(<object>key, 0, U16_MAX, &number) and _int_in(<object>value, 0, 0xFFFFFFFF, &number)):
            return False
    return True


cdef int _put_privileges(Buffer *buffer, object privileges) except -1:
    """map32: u16 count, then u16 key and u32 value per entry, keys ascending."""
    cdef Entry small[SMALL_MAP]
    cdef Entry *entries = small
    cdef Py_ssize_t count, position = 0, filled = 0, i, j
    cdef PyObject *key
    cdef PyObject *value
    cdef Entry entry
    cdef uint8_t *at
    if not _plain_map(privileges):
        privileges = normal_privileges(privileges)
    count = len(privileges)
    if count > SMALL_MAP:
        entries = <Entry *>malloc(count * sizeof(Entry))
        if entries == NULL:
            raise MemoryError()
    try:
        while PyDict_Next(privileges, &position, &key, &value) and filled < count:
            entries[filled].key = <uint32_t>(<object>key)
            entries[filled].value = <uint32_t>(<object>value)
            filled += 1
        if filled <= SMALL_MAP:
            for i in range(1, filled):
                entry = entries[i]
                j = i
                while j > 0 and entries[j - 1].key > entry.key:
                    entries[j] = entries[j - 1]
                    j -= 1
                entries[j] = entry
        else:
            qsort(entries, filled, sizeof(Entry), _compare_entries)
        at = _reserve(buffer, 2 + 6 * filled)
        _put_u16(at, <uint32_t>filled)
        at += 2
        for i in range(filled):
            _put_u16(at, entries[i].key)
            _put_u32(at + 2, entries[i].value)
            at += 6
    finally:
        if entries != small:
            free(entries)
    return 0


cdef bint _plain_tree(object tree):
    """True for a dict of u16 -> dict of u16 -> list or tuple: the fast path of normal_permissions."""
    cdef long long number = 0
    if type(tree) is not dict or len(tree) > U16_MAX:
        return False
    for resource_type, by_permission in (<dict>tree).items():
        if not _int_in(resource_type, 0, U16_MAX, &number):
            return False
        if type(by_permission) is not dict or len(by_permission) > U16_MAX:
            return False
        for permission_type, names in (<dict>by_permission).items():
            if not _int_in(permission_type, 0, U16_MAX, &number):
                return False
            if (type(names) is not list and type(names) is not tuple) or len(names) > U16_MAX:
                return False
    return True


cdef inline int _check_content_size(size_t size) except -1:
    """A content (or a part of one) of size bytes must fit MAX_CONTENT (as packing.check_content_size)."""
    if size > _MAX_CONTENT:
        raise content_too_large()
    return 0


cdef int _put_permissions(Buffer *buffer, object tree) except -1:
    """The RTM2 permission tree: the one packer of the compiled kernel.  Refused as soon as its own bytes pass
    MAX_CONTENT, checked after each entry (as packing.permissions)."""
    cdef uint8_t *at
    cdef size_t start = buffer.size
    if not _plain_tree(tree):
        tree = normal_permissions(tree)
    _put_u16(_reserve(buffer, 2), <uint32_t>len(tree))
    for resource_type in sorted(tree):
        by_permission = tree[resource_type]
        at = _reserve(buffer, 4)
        _put_u16(at, <uint32_t>resource_type)
        _put_u16(at + 2, <uint32_t>len(by_permission))
        _check_content_size(buffer.size - start)
        for permission_type in sorted(by_permission):
            names = by_permission[permission_type]
            at = _reserve(buffer, 4)
            _put_u16(at, <uint32_t>permission_type)
            _put_u16(at + 2, <uint32_t>len(names))
            _check_content_size(buffer.size - start)
            for name in names:
                _put_text(buffer, name, None, 0, "resources")
                _check_content_size(buffer.size - start)
    return 0


cdef int _put_service(Buffer *buffer, object service) except -1:
    """u16 type, the privilege map, then the fields as the spec table lays them out."""
    cdef bytes layout
    cdef const char *codes
    cdef Py_ssize_t index, count
    service_type, privileges, fields = service
    layout = _LAYOUTS.get(service_type) if type(service_type) is int else None
    if layout is None or len(fields) != PyBytes_GET_SIZE(layout):
        refuse_service(service_type, fields, layout)
    codes = PyBytes_AS_STRING(layout)
    count = PyBytes_GET_SIZE(layout)
    _put_u16(_reserve(buffer, 2), <uint32_t>service_type)
    _put_privileges(buffer, privileges)
    for index in range(count):
        _put_field(buffer, codes[index], fields[index], service_type, index)
    return 0


cdef int _put_field(Buffer *buffer, char code, object value, object service_type, Py_ssize_t index) except -1:
    """One field after the privilege map, as its wire code (s, h or P) says."""
    cdef long long number = 0
    if code == b"s":
        _put_text(buffer, value, service_type, index, None)
    elif code == b"h":
        # fast path: an exact int in -32768..32767, as check_i16 demands
        if not _int_in(value, -0x8000, 0x7FFF, &number):
            number = check_i16(field_name(service_type, index), value)
        _put_u16(_reserve(buffer, 2), <uint32_t><uint16_t><int16_t>number)
    else:
        _put_permissions(buffer, value)
    return 0


cdef int _pack007(Buffer *buffer, object app_id, object app_certificate, object issue_ts, object expire, object salt,
                  object services, at2_job *job) except -1:
    """Appends a 007 content (room for the signature, then signing_info) to buffer; checks as the pure kernel.
    Fills job's sealing fields (batch.h's at2_job is the one home of that layout); its token fields are the caller's."""
    cdef const char *app = _hex32("app_id", app_id)
    cdef const char *certificate = _hex32("app_certificate", app_certificate)
    _check_distinct(app, certificate)
    cdef uint32_t ts = _u32_arg("issue_ts", issue_ts)
    cdef uint32_t lifetime = _u32_arg("expire", expire)
    cdef uint32_t salt_value = _u32_arg("salt", salt)
    cdef Py_ssize_t count = len(services)
    if count > U16_MAX:
        check_count("services", count)
    _start_job(buffer, job, app, certificate, ts, lifetime, salt_value, count)
    for service in services:
        _put_service(buffer, service)
        # refused as soon as it passes the limit, after each service (as packing.signing_info)
        _check_content_size(buffer.size - job.content_offset)
    return _end_job(buffer, job)


cdef int _start_job(Buffer *buffer, at2_job *job, const char *app, const char *certificate, uint32_t ts,
                    uint32_t lifetime, uint32_t salt, Py_ssize_t count) except -1:
    """Room for the signature, then signing_info up to the service count."""
    cdef uint8_t *at
    job.content_offset = buffer.size
    at = _reserve(buffer, AT2_SIGNATURE_HEAD + _SIGNING_INFO_HEAD) + AT2_SIGNATURE_HEAD
    _put_u16(at, _ID_SIZE)
    memcpy(at + 2, app, _ID_SIZE)
    at += 2 + _ID_SIZE
    _put_u32(at, ts)
    _put_u32(at + 4, lifetime)
    _put_u32(at + 8, salt)
    _put_u16(at + 12, <uint32_t>count)
    job.certificate = <const uint8_t *>certificate
    job.certificate_size = _ID_SIZE
    job.issue_ts = ts
    job.salt = salt
    return 0


cdef int _end_job(Buffer *buffer, at2_job *job) except -1:
    """The content's size, checked (as packing.check_content_size)."""
    job.content_size = buffer.size - job.content_offset
    return _check_content_size(job.content_size)


def build007(object app_id, object app_certificate, object issue_ts, object expire, object salt,
             object services) -> str:
    cdef uint8_t stack[STACK_BUFFER]
    cdef Buffer buffer
    cdef at2_job job
    _buffer_init(&buffer, stack, STACK_BUFFER)
    try:
        _pack007(&buffer, app_id, app_certificate, issue_ts, expire, salt, services, &job)
        return _seal(&buffer, &job)
    finally:
        _buffer_free(&buffer)


cdef str _seal(Buffer *buffer, at2_job *job):
    """The token of the one content in buffer: signed, compressed and encoded by the C core, without the GIL."""
    cdef char token_stack[STACK_BUFFER * 2]
    cdef char *out = token_stack
    cdef size_t out_size = 0
    cdef size_t bound = at2_token007_bound(job.content_size)
    cdef at2_codec *codec = _codec()
    cdef int status
    if bound > sizeof(token_stack):
        out = <char *>malloc(bound)
        if out == NULL:
            raise MemoryError()
    try:
        with nogil:
            status = at2_seal007(codec, buffer.data + job.content_offset, job.content_size, job.certificate,
                                 job.certificate_size, job.issue_ts, job.salt, out, &out_size)
        if status != AT2_OK:
            _raise_status(status)
        return _ascii(out, out_size)
    finally:
        if out != token_stack:
            free(out)


# --- the public builders: one call per token (see shapes.py) ----------------------------------------

cdef int _check_shape(const uint8_t *program, Py_ssize_t size, Py_ssize_t lifetimes, Py_ssize_t values) except -1:
    """shapes.decode's checks without its objects: every read inside the program, at least one service, strictly
    ascending privileges, known rules, every slot inside lifetimes and values, nothing after the last service."""
    cdef Py_ssize_t pos = 1, i, j, count, need_lifetimes = 1, need_values = 0
    cdef long previous, privilege
    if size < 1 or program[0] == 0:
        raise shape_mismatch()
    for i in range(program[0]):
        if pos + 3 > size:
            raise shape_mismatch()
        count = program[pos + 2]
        pos += 3
        if pos + 3 * count + 1 > size:
            raise shape_mismatch()
        previous = -1
        for j in range(count):
            privilege = program[pos] | (<long>program[pos + 1] << 8)
            if privilege <= previous:
                raise shape_mismatch()
            previous = privilege
            need_lifetimes = max(need_lifetimes, program[pos + 2] + 1)
            pos += 3
        count = program[pos]
        pos += 1
        if pos + 2 * count > size:
            raise shape_mismatch()
        for j in range(count):
            if program[pos] != _AS_SPEC and program[pos] != _ACCOUNT:
                raise shape_mismatch()
            need_values = max(need_values, program[pos + 1] + 1)
            pos += 2
    if pos != size or lifetimes < need_lifetimes or values < need_values:
        raise shape_mismatch()
    return 0


cdef tuple _checked_accounts(const uint8_t *program, tuple values):
    """values, with any uid or account the fast path refuses replaced by what uid_text makes of it (or its error)."""
    cdef Py_ssize_t pos = 1, i, index, count, slot
    cdef long long number = 0
    cdef unsigned service_type
    for i in range(program[0]):
        service_type = program[pos] | (<unsigned>program[pos + 1] << 8)
        pos += 3 + 3 * program[pos + 2]
        count = program[pos]
        pos += 1
        for index in range(count):
            if program[pos] == _ACCOUNT:
                slot = program[pos + 1]
                value = <object>PyTuple_GET_ITEM(values, slot)
                # fast path: an exact int in u32 range or a str (subclasses included), as uid_text demands
                if not (_int_in(value, 0, 0xFFFFFFFF, &number) or PyUnicode_Check(value)):
                    value = uid_text(field_name(service_type, index), value)
                    values = values[:slot] + (value,) + values[slot + 1:]
            pos += 2
    return values


cdef int _put_decimal(Buffer *buffer, uint32_t number) except -1:
    """A numeric uid as text: its decimal digits, the number 0 as the empty string (docs/FORMAT.md)."""
    cdef char digits[10]
    cdef Py_ssize_t count = 0, i
    cdef uint8_t *at
    while number:
        digits[count] = <char>(48 + number % 10)
        number //= 10
        count += 1
    at = _reserve(buffer, 2 + count)
    _put_u16(at, <uint32_t>count)
    for i in range(count):
        at[2 + i] = digits[count - 1 - i]
    return 0


cdef int _put_program(Buffer *buffer, size_t start, const uint8_t *program, tuple lifetimes, tuple values) except -1:
    """The services of a checked program, filled with lifetimes and values (the pure kernel's order), into the
    content that begins at start (refused after the service that makes it pass MAX_CONTENT)."""
    cdef Py_ssize_t pos = 1, i, j, count, index
    cdef long long number = 0
    cdef unsigned service_type
    cdef bytes layout
    cdef const char *codes
    cdef uint8_t *at
    for i in range(program[0]):
        service_type = program[pos] | (<unsigned>program[pos + 1] << 8)
        count = program[pos + 2]
        layout = _LAYOUTS.get(service_type)
        index = pos + 3 + 3 * count
        if layout is None or program[index] != PyBytes_GET_SIZE(layout):
            refuse_service(service_type, range(program[index]), layout)
        codes = PyBytes_AS_STRING(layout)
        at = _reserve(buffer, 4 + 6 * count)
        _put_u16(at, service_type)
        _put_u16(at + 2, <uint32_t>count)
        at += 4
        pos += 3
        for j in range(count):
            at[0] = program[pos]
            at[1] = program[pos + 1]
            # every lifetime is an exact int in u32 range by now
            _put_u32(at + 2, <uint32_t>(<object>PyTuple_GET_ITEM(lifetimes, program[pos + 2])))
            at += 6
            pos += 3
        count = program[pos]
        pos += 1
        for index in range(count):
            value = <object>PyTuple_GET_ITEM(values, program[pos + 1])
            if program[pos] == _ACCOUNT and type(value) is int:
                # checked by _checked_accounts: an exact int in u32 range
                if codes[index] == b"s":
                    _put_decimal(buffer, <uint32_t>value)
                    pos += 2
                    continue
                value = str(value) if value else ""
            _put_field(buffer, codes[index], value, service_type, index)
            pos += 2
        _check_content_size(buffer.size - start)
    return 0


# No cache of ids already checked: both checks together take about 50 instructions (8 characters a step), and a
# cache keyed by the certificate would keep it, or a hash of it, alive after the call for no measurable gain.
def build007_shape(bytes shape not None, object app_id, object app_certificate, object issue_ts, object salt,
                   object lifetimes, object values) -> str:
    cdef uint8_t stack[STACK_BUFFER]
    cdef Buffer buffer
    cdef at2_job job
    cdef const uint8_t *program = _data(shape)
    cdef const char *app
    cdef const char *certificate
    cdef long long number = 0
    cdef uint32_t ts, salt_value
    if type(lifetimes) is not tuple:
        lifetimes = tuple(lifetimes)
    if type(values) is not tuple:
        values = tuple(values)
    _check_shape(program, PyBytes_GET_SIZE(shape), PyTuple_GET_SIZE(lifetimes), PyTuple_GET_SIZE(values))
    # fast path: exact ints up to 24 hours, as checked_lifetimes would pass them without a warning
    for value in <tuple>lifetimes:
        if not _int_in(value, 0, _ONE_DAY, &number):
            lifetimes = checked_lifetimes(lifetimes)
            break
    values = _checked_accounts(program, <tuple>values)
    # None or 0: now, from the clock time.time() reads (time(NULL) may read a coarse clock, updated once a tick)
    ts = 0 if issue_ts is None else _u32_arg("issue_ts", issue_ts)
    if ts == 0:
        ts = <uint32_t>at2_unix_seconds()
    salt_value = _next_salt() if salt is None else _u32_arg("salt", salt)
    app = _hex32("app_id", app_id)
    certificate = _hex32("app_certificate", app_certificate)
    _check_distinct(app, certificate)
    _buffer_init(&buffer, stack, STACK_BUFFER)
    try:
        _start_job(&buffer, &job, app, certificate, ts, <uint32_t>(<object>PyTuple_GET_ITEM(lifetimes, 0)),
                   salt_value, program[0])
        _put_program(&buffer, job.content_offset, program, <tuple>lifetimes, <tuple>values)
        _end_job(&buffer, &job)
        return _seal(&buffer, &job)
    finally:
        _buffer_free(&buffer)


# Salts: the rule of salts.py, with the pool in C memory.  Every step from the check of _salt_count to its
# decrement runs with the GIL held and calls no Python code, so threads never share a salt; a refill may release
# the GIL inside secrets.token_bytes, and whichever refill writes last fills the pool with fresh salts.  (The module
# does not declare itself free-threading compatible, so a free-threaded CPython keeps the GIL on while it is loaded.)
cdef enum:
    SALT_WORDS = 1024

cdef uint32_t _salt_pool[SALT_WORDS]
cdef Py_ssize_t _salt_count = 0
cdef uint32_t _SALT_BITS = SALT_BITS
cdef uint32_t _SALT_MAX = SALT_MAX
cdef uint32_t _SALT_MIN = SALT_MIN
_token_bytes = secrets.token_bytes

if POOL_BYTES != 4 * SALT_WORDS:
    raise ImportError("accesstoken2._wire._speedups: the salt pool does not match salts.POOL_BYTES")


cdef int _refill_salts() except -1:
    global _salt_count
    cdef bytes data = _token_bytes(POOL_BYTES)
    cdef const uint8_t *raw = _data(data)
    cdef Py_ssize_t i, count = 0
    cdef uint32_t bits
    for i in range(SALT_WORDS):
        bits = _u32_at(raw + 4 * i) & _SALT_BITS
        if bits < _SALT_MAX:
            _salt_pool[count] = _SALT_MIN + bits
            count += 1
    _salt_count = count
    return 0


cdef uint32_t _next_salt() except 0:
    global _salt_count
    while _salt_count == 0:
        _refill_salts()
    _salt_count -= 1
    return _salt_pool[_salt_count]


def random_salt() -> int:
    return _next_salt()


def _forget_salts() -> None:
    """In a forked child: drop the parent's salts."""
    global _salt_count
    _salt_count = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_salts)


cdef int _publish(at2_pipeline *pipeline, at2_chunk *chunk, Buffer *contents, size_t tokens_size) except -1:
    """Hands a chunk to the workers: its packed contents move into it, its tokens buffer is allocated.  The caller
    gives up the chunk before the call: from here this function, then the pipeline, is its one owner, and frees it
    (or keeps it queued for at2_pipeline_release) whatever happens."""
    chunk.contents = contents.data
    contents.data = NULL
    contents.heap = False
    contents.size = contents.cap = 0
    chunk.tokens = NULL if at2_fault_step() else <char *>malloc(tokens_size if tokens_size else 1)
    if chunk.tokens == NULL:
        free(chunk.contents)
        free(chunk)
        raise MemoryError()
    # the pipeline owns the chunk from here, even when publishing fails (a chunk it queued may already be in a
    # worker's hands, so nobody but at2_pipeline_release may free it)
    cdef int status = at2_pipeline_publish(pipeline, chunk)
    if status != AT2_OK:
        _raise_status(status)
    return 0


cdef int _produce(object jobs, at2_pipeline *pipeline, list held) except -1:
    """Packs jobs into chunks for the workers, with the GIL, while published chunks are being sealed."""
    cdef at2_chunk *chunk = NULL  # the chunk being filled: this function owns it until it hands it to _publish
    cdef at2_chunk *full
    cdef Buffer contents
    cdef at2_job *job
    cdef size_t tokens_size = 0
    cdef object last_certificate = None
    _buffer_init(&contents, NULL, 0)
    try:
        for args in jobs:
            if chunk == NULL:
                chunk = NULL if at2_fault_step() else <at2_chunk *>malloc(sizeof(at2_chunk))
                if chunk == NULL:
                    raise MemoryError()
                chunk.count = 0
                chunk.contents = NULL
                chunk.tokens = NULL
                tokens_size = 0
                if contents.data == NULL:
                    _grow(&contents, 4096)
            if type(args) is not tuple:
                args = tuple(args)
            if len(args) != 6:
                raise TypeError(f"build_many() jobs must be build007 argument tuples of 6 items, not {len(args)}")
            # the workers read the certificate's characters in place (everything else is packed into the chunk),
            # so only the certificate is kept alive: a str, which the garbage collector does not track (keeping
            # whole job tuples made every collection walk all of them), and once per run of the same object
            certificate = args[1]
            if certificate is not last_certificate:
                held.append(certificate)
                last_certificate = certificate
            job = &chunk.jobs[chunk.count]
            _pack007(&contents, args[0], args[1], args[2], args[3], args[4], args[5], job)
            job.token_offset = tokens_size
            tokens_size += at2_token007_bound(job.content_size)
            chunk.count += 1
            if chunk.count == AT2_CHUNK_JOBS:
                # ownership passes before the call, so that exactly one owner frees the chunk
                full = chunk
                chunk = NULL
                _publish(pipeline, full, &contents, tokens_size)
        if chunk != NULL:
            full = chunk
            chunk = NULL
            _publish(pipeline, full, &contents, tokens_size)
    finally:
        if chunk != NULL:
            free(chunk)
        _buffer_free(&contents)
    return 0


def _arm_fault(unsigned long nth) -> int:
    """For tests: the nth fallible step of a build from now on fails (a buffer, a chunk of build_many or a publish
    of one: batch.h's at2_fault_arm); 0 disarms.  Returns the steps that were left of the previous arming."""
    return at2_fault_arm(nth)


def build_many(object jobs, Py_ssize_t threads) -> list:
    cdef at2_pipeline pipeline
    cdef at2_codec *codec = _codec()
    cdef unsigned limit = <unsigned>max(1, min(threads, _MAX_THREADS))
    cdef list held = []
    cdef list result
    cdef at2_chunk *chunk
    cdef size_t index, position
    cdef int status
    if at2_pipeline_init(&pipeline, limit) != AT2_OK:
        raise MemoryError()
    try:
        _produce(jobs, &pipeline, held)
    except BaseException:
        with nogil:
            at2_pipeline_finish(&pipeline, codec, 1)
        at2_pipeline_release(&pipeline)
        raise
    with nogil:
        status = at2_pipeline_finish(&pipeline, codec, 0)
    try:
        if status != AT2_OK:
            _raise_status(status)
        result = []
        for index in range(pipeline.chunk_count):
            chunk = pipeline.chunks[index]
            for position in range(chunk.count):
                result.append(_ascii(chunk.tokens + chunk.jobs[position].token_offset,
                                     chunk.jobs[position].token_size))
        return result
    finally:
        at2_pipeline_release(&pipeline)


def verify007(bytes signature not None, bytes signing_info not None, object app_certificate, uint32_t issue_ts,
              uint32_t salt) -> bool:
    cdef const uint8_t *signature_data = _data(signature)
    cdef const uint8_t *info_data = _data(signing_info)
    cdef const char *certificate = _hex32_or_null(app_certificate)
    cdef size_t signature_size = PyBytes_GET_SIZE(signature)
    cdef size_t info_size = PyBytes_GET_SIZE(signing_info)
    cdef int same
    if certificate == NULL:
        return False
    if info_size < NOGIL_BYTES:
        same = at2_verify007(signature_data, signature_size, info_data, info_size, <const uint8_t *>certificate, 32,
                             issue_ts, salt)
    else:
        with nogil:
            same = at2_verify007(signature_data, signature_size, info_data, info_size,
                                 <const uint8_t *>certificate, 32, issue_ts, salt)
    return same != 0


# --- parsing ---------------------------------------------------------------------------------------

# what a reader is reading when the content ends: the parts of stages.PARTS_007, then services
cdef enum Part:
    PART_SIGNATURE
    PART_APP_ID
    PART_ISSUE_TIME
    PART_EXPIRY
    PART_SALT
    PART_SERVICE_COUNT
    PART_SERVICE
    PART_NAMED  # 006: the name is in Reader.name

cdef struct Reader:
    const uint8_t *data
    Py_ssize_t size
    Py_ssize_t pos
    Part part
    Py_ssize_t index
    Py_ssize_t count
    PyObject *name


cdef str _what(Reader *reader):
    if reader.part == PART_SERVICE:
        return service_part(reader.index, reader.count)
    if reader.part == PART_NAMED:
        return <object>reader.name
    return PARTS_007[<int>reader.part]


cdef inline Py_ssize_t _take(Reader *reader, Py_ssize_t size) except -1:
    cdef Py_ssize_t start = reader.pos
    if size > reader.size - start:
        raise malformed("ends_inside", _what(reader))
    reader.pos = start + size
    return start


cdef inline unsigned _u16(Reader *reader) except? 0xFFFFFFFF:
    cdef const uint8_t *at = reader.data + _take(reader, 2)
    return at[0] | (<unsigned>at[1] << 8)


cdef inline uint32_t _u32_at(const uint8_t *at):
    return at[0] | (<uint32_t>at[1] << 8) | (<uint32_t>at[2] << 16) | (<uint32_t>at[3] << 24)


cdef inline uint32_t _u32(Reader *reader) except? 0xFFFFFFFF:
    return _u32_at(reader.data + _take(reader, 4))


cdef inline int _i16(Reader *reader) except? -0x10000:
    cdef unsigned value = _u16(reader)
    return <int16_t>value


cdef inline bytes _raw(Reader *reader):
    cdef Py_ssize_t size = _u16(reader)
    cdef Py_ssize_t start = _take(reader, size)
    return PyBytes_FromStringAndSize(<const char *>reader.data + start, size)


cdef object _text(Reader *reader, bint build=True):
    """A text field: the str, or (build false) None once the bytes are checked to be what the str would decode."""
    cdef Py_ssize_t size = _u16(reader)
    cdef Py_ssize_t start = _take(reader, size)
    if not build:
        if not at2_utf8_valid(reader.data + start, size):
            raise malformed("utf8", _what(reader))
        return None
    try:
        return PyUnicode_DecodeUTF8(<const char *>reader.data + start, size, NULL)
    except UnicodeDecodeError:
        raise malformed("utf8", _what(reader)) from None


cdef dict _privileges(Reader *reader):
    """A privilege map; the only place a map is read, for 007 services and 006 messages alike."""
    cdef dict result = {}
    cdef unsigned count = _u16(reader), i
    cdef const uint8_t *at
    for i in range(count):
        at = reader.data + _take(reader, 6)
        result[at[0] | (<unsigned>at[1] << 8)] = _u32_at(at + 2)
    return result


cdef Py_ssize_t _skip_tree(Reader *reader, Py_ssize_t resources, Py_ssize_t permissions,
                           Py_ssize_t names) except -1:
    """Restates reader.py's Reader.skip_tree: steps over names resource names, then permissions permission type
    entries, then resources resource type entries; the number of entries stepped over (each counts 1)."""
    cdef Py_ssize_t skipped = resources + permissions + names, k
    cdef unsigned count
    for k in range(names):
        _take(reader, _u16(reader))
    while permissions or resources:
        # a type and a count: of names after a permission type, of permission types after a resource type
        _u16(reader)
        count = _u16(reader)
        skipped += count
        if permissions:
            permissions -= 1
            for k in range(count):
                _take(reader, _u16(reader))
        else:
            resources -= 1
            permissions = count
    return skipped


cdef object _permissions(Reader *reader, bint build, Py_ssize_t budget, Py_ssize_t *left_out):
    """The RTM2 permission tree, restating reader.py's Reader.permissions: made within budget (the entries left
    out added to left_out); build false: checked, no objects."""
    cdef dict tree
    cdef dict by_permission = None
    cdef unsigned resource_count = _u16(reader), permission_count, name_count, i, j, k
    cdef unsigned resource_type, permission
    cdef Py_ssize_t resources = budget, permissions = budget, names = budget, made
    if not build:
        for i in range(resource_count):
            _u16(reader)
            permission_count = _u16(reader)
            for j in range(permission_count):
                _u16(reader)
                name_count = _u16(reader)
                for k in range(name_count):
                    _text(reader, False)
        return None
    tree = {}
    for i in range(resource_count):
        if resources == 0:
            left_out[0] += _skip_tree(reader, resource_count - i, 0, 0)
            break
        resources -= 1
        resource_type = _u16(reader)
        permission_count = _u16(reader)
        by_permission = tree.setdefault(resource_type, {})
        for j in range(permission_count):
            if permissions == 0:
                left_out[0] += _skip_tree(reader, 0, permission_count - j, 0)
                break
            permissions -= 1
            permission = _u16(reader)
            name_count = _u16(reader)
            made = min(<Py_ssize_t>name_count, names)
            names -= made
            by_permission[permission] = [_text(reader) for k in range(made)]
            left_out[0] += _skip_tree(reader, 0, 0, name_count - made)
    return tree


cdef Py_ssize_t _check_head(object token, Py_ssize_t limit, str version) except -1:
    """The checks before the body, in the pure kernel's order: a str, not too long, the prefix; its length."""
    cdef Py_ssize_t length
    if not PyUnicode_Check(token):
        require_str("token", token)
    length = PyUnicode_GET_LENGTH(token)
    if length > limit:
        raise malformed("too_long", length=length, limit=limit)
    # an exact str by the C API (no method call); a subclass by its own startswith, as in the pure kernel
    if not (PyUnicode_Tailmatch(token, version, 0, length, -1) if type(token) is str else token.startswith(version)):
        raise malformed("prefix", version=version)
    return length


cdef Py_ssize_t _decode007(object token, const uint8_t **content) except -1:
    """Decodes a 007 token into this thread's codec buffer: its size, and in content where it starts.

    The buffer is the thread's own and is overwritten by the thread's next decode, so the caller reads it only
    until it runs Python code: allocating bytes, str and int objects is fine (they are not tracked by the
    cyclic GC, so allocating them runs no collection and no finalizer); a dict lookup by int key is too."""
    cdef Py_ssize_t body_size = 0
    cdef const char *text
    cdef size_t content_size = 0
    cdef at2_codec *codec
    cdef int status
    _check_head(token, _MAX_TOKEN_CHARS, _VERSION_007)
    if not PyUnicode_IS_ASCII(token):
        raise malformed("base64")
    text = PyUnicode_AsUTF8AndSize(token, &body_size)
    codec = _codec()
    if body_size < NOGIL_BYTES:
        status = at2_decode007(codec, text + 3, body_size - 3, _MAX_CONTENT, &content_size)
    else:
        with nogil:
            status = at2_decode007(codec, text + 3, body_size - 3, _MAX_CONTENT, &content_size)
    if status == AT2_OK:
        content[0] = codec.content
        return <Py_ssize_t>content_size
    if status == AT2_BAD_BASE64:
        raise malformed("base64")
    if status == AT2_INCOMPLETE_ZLIB:
        raise malformed("zlib_incomplete")
    if status == AT2_CONTENT_TOO_LARGE:
        raise malformed("zlib_too_large", limit=MAX_CONTENT)
    if status == AT2_TRAILING_DATA:
        raise malformed("zlib_trailing")
    _raise_status(status)


cdef int _read_services(Reader *reader, Py_ssize_t end, list out, dict counts, Py_ssize_t budget=0,
                        dict cut=None) except -2:
    """Reads services reader.index..end-1 as the table lays them out and appends them to out; when out is None,
    only checks them, and counts them by type into counts unless that is None too.  A permission tree made is
    made within budget, and cut gets the entries it left out by the service's position in out.  Returns the
    first unknown type (reader.index is its index), or -1 (reader.index is end)."""
    cdef Py_ssize_t index, code_index, run = 0, left_out
    cdef unsigned service_type, count, run_type = 0
    cdef bytes layout
    cdef const char *codes
    cdef list fields
    for index in range(reader.index, end):
        reader.index = index
        service_type = _u16(reader)
        layout = _LAYOUTS.get(service_type)
        if layout is None:
            _add_run(counts, run_type, run)
            return service_type
        codes = PyBytes_AS_STRING(layout)
        if out is None:
            count = _u16(reader)
            _take(reader, 6 * count)
            for code_index in range(PyBytes_GET_SIZE(layout)):
                if codes[code_index] == b"s":
                    _text(reader, False)
                elif codes[code_index] == b"h":
                    _take(reader, 2)
                else:
                    _permissions(reader, False, 0, NULL)
            if counts is not None:
                # counted by runs of one type: a dict update per run, not per service
                if run and service_type != run_type:
                    _add_run(counts, run_type, run)
                    run = 0
                run_type = service_type
                run += 1
            continue
        privileges = _privileges(reader)
        fields = []
        left_out = 0
        for code_index in range(PyBytes_GET_SIZE(layout)):
            if codes[code_index] == b"s":
                fields.append(_text(reader))
            elif codes[code_index] == b"h":
                fields.append(_i16(reader))
            else:
                fields.append(_permissions(reader, True, budget, &left_out))
        if left_out:
            cut[len(out)] = left_out
        out.append((service_type, privileges, tuple(fields)))
    reader.index = end
    _add_run(counts, run_type, run)
    return -1


cdef inline int _add_run(dict counts, unsigned service_type, Py_ssize_t run) except -1:
    if run:
        counts[service_type] = counts.get(service_type, 0) + run
    return 0


def parse007(object token) -> tuple:
    cdef Reader reader
    cdef Py_ssize_t info_start, services_start, count, extra
    cdef int unknown
    # read in place, in the thread's codec buffer, until signing_info is copied out (see _decode007: nothing
    # in between runs Python code or makes a container)
    reader.size = _decode007(token, &reader.data)
    reader.pos = 0
    reader.part = PART_SIGNATURE
    signature = _raw(&reader)
    info_start = reader.pos
    reader.part = PART_APP_ID
    app_id = _text(&reader)
    reader.part = PART_ISSUE_TIME
    issue_ts = _u32(&reader)
    reader.part = PART_EXPIRY
    expire = _u32(&reader)
    reader.part = PART_SALT
    salt = _u32(&reader)
    reader.part = PART_SERVICE_COUNT
    count = _u16(&reader)
    reader.part = PART_SERVICE
    reader.count = count
    reader.index = 0
    services_start = reader.pos
    # the services are checked here and made only when someone reads them (services007)
    unknown = _read_services(&reader, count, None, None)
    if unknown < 0:
        extra = reader.size - reader.pos
        if extra:
            raise malformed("after_services", extra=extra)
    signing_info = PyBytes_FromStringAndSize(<const char *>reader.data + info_start, reader.size - info_start)
    # every service was read, or those before the unknown one
    known = reader.index
    return (signature, signing_info, app_id, issue_ts, expire, salt, (services_start - info_start, known, count),
            unknown)


def services007(bytes signing_info not None, tuple where not None, object limit) -> tuple:
    cdef Reader reader
    cdef list services = []
    cdef dict counts = {}
    cdef dict cut = {}
    cdef Py_ssize_t made, known, budget
    reader.size = PyBytes_GET_SIZE(signing_info)
    offset, made, known, count, budget = services_at(where, reader.size, limit)
    reader.data = _data(signing_info)
    reader.pos = offset
    reader.part = PART_SERVICE
    reader.count = count
    reader.index = 0
    _read_services(&reader, made, services, None, budget, cut)
    _read_services(&reader, known, None, counts)
    return services, counts, cut


# --- 006 -------------------------------------------------------------------------------------------


cdef str _seal006(const char *app, const char *certificate, const uint8_t *channel_data, size_t channel_size,
                  const uint8_t *uid_data, size_t uid_size, Buffer *message):
    """The token of a packed message m: "006", the app id, then the signed body (the callers' common tail)."""
    cdef size_t body_size = 0
    cdef char *out
    cdef int status
    if message.size > U16_MAX:
        raise too_many_privileges_006()
    result = PyUnicode_New(3 + 32 + <Py_ssize_t>at2_body006_size(message.size), 127)
    out = <char *>PyUnicode_DATA(result)
    memcpy(out, b"006", 3)
    memcpy(out + 3, app, 32)
    with nogil:
        status = at2_body006(<const uint8_t *>app, 32, <const uint8_t *>certificate, 32, channel_data, channel_size,
                             uid_data, uid_size, message.data, message.size, out + 35, &body_size)
    if status != AT2_OK:
        _raise_status(status)
    return <str>result


cdef uint32_t _ts006(object ts) except? 0xFFFFFFFF:
    """A 006 message's ts: as given (u32), or for None now plus the default lifetime (past 2106, u32's error)."""
    cdef int64_t default_ts
    if ts is not None:
        return _u32_arg("ts", ts)
    # the clock time.time() reads
    default_ts = at2_unix_seconds() + _DEFAULT_LIFETIME_006
    return _u32_arg("ts", default_ts)


def build006(object app_id, object app_certificate, bytes channel_name not None, bytes uid not None,
             object salt, object ts, object privileges) -> str:
    cdef uint8_t stack[STACK_BUFFER]
    cdef Buffer message
    cdef const char *app = _hex32("app_id", app_id)
    cdef const char *certificate = _hex32("app_certificate", app_certificate)
    cdef uint32_t salt_value
    cdef uint32_t ts_value
    cdef uint8_t *at
    _check_distinct(app, certificate)
    salt_value = _next_salt() if salt is None else _u32_arg("salt", salt)
    ts_value = _ts006(ts)
    _buffer_init(&message, stack, STACK_BUFFER)
    try:
        at = _reserve(&message, 8)
        _put_u32(at, salt_value)
        _put_u32(at + 4, ts_value)
        _put_privileges(&message, privileges)
        return _seal006(app, certificate, _data(channel_name), PyBytes_GET_SIZE(channel_name), _data(uid),
                        PyBytes_GET_SIZE(uid), &message)
    finally:
        _buffer_free(&message)


cdef inline bint _common_text(object value):
    """An exact str of ASCII characters, at most MAX_TEXT: build006_grant's form of a channel name or uid."""
    return type(value) is str and PyUnicode_IS_ASCII(value) and PyUnicode_GET_LENGTH(value) <= _MAX_TEXT


def build006_grant(object app_id, object app_certificate, object channel_name, object uid, object privilege_ids,
                   object expire) -> object:
    """The rule of pure.build006_grant: its forms, in its order; None for anything else."""
    cdef uint8_t stack[STACK_BUFFER]
    cdef Buffer message
    cdef char digits[10]
    cdef const char *uid_text_data
    cdef const char *app
    cdef const char *certificate
    cdef Py_ssize_t uid_size = 0, count, i
    cdef long long number = 0, previous = -1
    cdef uint32_t expire_value, uid_number, salt_value, ts_value
    cdef uint8_t *at
    if type(app_id) is not str or type(app_certificate) is not str or not _common_text(channel_name):
        return None
    if not _int_in(expire, 0, 0xFFFFFFFF, &number):
        return None
    expire_value = <uint32_t>number
    if type(privilege_ids) is not tuple:
        return None
    count = PyTuple_GET_SIZE(privilege_ids)
    if count > _MAX_PRIVILEGES_006:
        return None
    for i in range(count):
        if not _int_in(<object>PyTuple_GET_ITEM(privilege_ids, i), previous + 1, U16_MAX, &number):
            return None
        previous = number
    if _int_in(uid, 0, 0xFFFFFFFF, &number):
        # the number's decimal digits, written from the end; 0 is the empty string
        uid_number = <uint32_t>number
        while uid_number:
            uid_size += 1
            digits[10 - uid_size] = <char>(48 + uid_number % 10)
            uid_number //= 10
        uid_text_data = digits + 10 - uid_size
    elif _common_text(uid):
        uid_text_data = <const char *>PyUnicode_DATA(uid)
        uid_size = PyUnicode_GET_LENGTH(uid)
    else:
        return None
    app = _hex32("app_id", app_id)
    certificate = _hex32("app_certificate", app_certificate)
    _check_distinct(app, certificate)
    salt_value = _next_salt()
    ts_value = _ts006(None)
    _buffer_init(&message, stack, STACK_BUFFER)
    try:
        at = _reserve(&message, 10 + PRIVILEGE_ENTRY * count)
        _put_u32(at, salt_value)
        _put_u32(at + 4, ts_value)
        _put_u16(at + 8, <uint32_t>count)
        at += 10
        for i in range(count):
            _put_u16(at, <uint32_t>(<object>PyTuple_GET_ITEM(privilege_ids, i)))
            _put_u32(at + 2, expire_value)
            at += PRIVILEGE_ENTRY
        return _seal006(app, certificate, <const uint8_t *>PyUnicode_DATA(channel_name),
                        PyUnicode_GET_LENGTH(channel_name), <const uint8_t *>uid_text_data, uid_size, &message)
    finally:
        _buffer_free(&message)


cdef inline bint _is_hex(Py_UCS4 c):
    return (u"0" <= c <= u"9") or (u"a" <= c <= u"f") or (u"A" <= c <= u"F")


def parse006(object token) -> tuple:
    cdef Py_ssize_t length, i, body_size = 0, extra
    cdef const char *text
    cdef uint8_t *content
    cdef size_t content_size = 0
    cdef Reader reader
    cdef Py_ssize_t before
    length = _check_head(token, _MAX_TOKEN_CHARS_006, _VERSION_006)
    if length < _APP_ID_END_006:
        raise malformed("app_id_006")
    for i in range(3, _APP_ID_END_006):
        if not _is_hex(token[i]):
            raise malformed("app_id_006")
    app_id = token[3:_APP_ID_END_006]
    if not PyUnicode_IS_ASCII(token):
        raise malformed("base64_006")
    text = PyUnicode_AsUTF8AndSize(token, &body_size)
    body_size -= _APP_ID_END_006
    content = <uint8_t *>malloc(body_size // 4 * 3 + 1)
    if content == NULL:
        raise MemoryError()
    try:
        if at2_base64_decode(text + _APP_ID_END_006, body_size, content, &content_size) != 0:
            raise malformed("base64_006")
        reader.data = content
        reader.size = content_size
        reader.pos = 0
        reader.part = PART_NAMED
        reader.name = <PyObject *>"the signature"
        signature = _raw(&reader)
        if PyBytes_GET_SIZE(signature) != SIGNATURE_SIZE:
            raise malformed("signature_006", size=PyBytes_GET_SIZE(signature), expected=SIGNATURE_SIZE)
        reader.name = <PyObject *>"the channel name CRC"
        crc_channel_name = _u32(&reader)
        reader.name = <PyObject *>"the uid CRC"
        crc_uid = _u32(&reader)
        reader.name = <PyObject *>"the message"
        message = _raw(&reader)
        extra = reader.size - reader.pos
        if extra:
            raise malformed("after_message", extra=extra)
    finally:
        free(content)
    reader.data = _data(message)
    reader.size = PyBytes_GET_SIZE(message)
    reader.pos = 0
    reader.name = <PyObject *>"the message salt"
    salt = _u32(&reader)
    reader.name = <PyObject *>"the message timestamp"
    ts = _u32(&reader)
    reader.name = <PyObject *>"the privilege map"
    before = reader.pos
    privileges = _privileges(&reader)
    if (reader.pos - before - 2) // _PRIVILEGE_ENTRY != len(privileges):
        raise malformed("duplicate_privilege")
    extra = reader.size - reader.pos
    if extra:
        raise malformed("after_privileges", extra=extra)
    return (app_id, signature, crc_channel_name, crc_uid, message, salt, ts, privileges)


def verify006(bytes signature not None, bytes app_id not None, bytes app_certificate not None,
              bytes channel_name not None, bytes uid not None, bytes message not None) -> bool:
    cdef const uint8_t *pointers[6]
    cdef size_t sizes[6]
    cdef int same, i
    for i, value in enumerate((signature, app_id, app_certificate, channel_name, uid, message)):
        pointers[i] = _data(value)
        sizes[i] = PyBytes_GET_SIZE(value)
    with nogil:
        same = at2_verify006(pointers[0], sizes[0], pointers[1], sizes[1], pointers[2], sizes[2], pointers[3],
                             sizes[3], pointers[4], sizes[4], pointers[5], sizes[5])
    return same != 0
