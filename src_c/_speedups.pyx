# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, embedsignature=True
"""The compiled kernel: byte-for-byte twin of ``accesstoken2._native`` (see its docstring for the contract).

The work (HMAC-SHA256, deflate, inflate, base64) runs in C with the GIL released.  Deflate is the
project's own encoder (src_c/deflate.c: zlib level 6's bytes on every platform), inflate is zlib's; each
thread keeps its own encoder state and inflate stream, so the kernel is thread-safe and a build allocates
nothing big.
"""

from libc.stdint cimport int16_t, uint8_t, uint32_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from accesstoken2._layout import LAYOUTS, MAX_CONTENT, MAX_TOKEN_CHARS, VERSION_007
from accesstoken2._threads import MAX_THREADS
from accesstoken2.errors import InvalidParameterError, MalformedTokenError


cdef extern from "Python.h":
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void *PyUnicode_DATA(object text)
    bint PyUnicode_IS_ASCII(object text)
    Py_ssize_t PyUnicode_GET_LENGTH(object text)
    const char *PyUnicode_AsUTF8AndSize(object text, Py_ssize_t *size) except NULL
    object PyUnicode_DecodeUTF8(const char *data, Py_ssize_t size, const char *errors)
    object PyUnicode_DecodeASCII(const char *data, Py_ssize_t size, const char *errors)
    object PyBytes_FromStringAndSize(const char *data, Py_ssize_t size)
    char *PyBytes_AS_STRING(object data)
    Py_ssize_t PyBytes_GET_SIZE(object data)


cdef extern from "token_core.h" nogil:
    enum:
        AT2_OK
        AT2_NO_MEMORY
        AT2_ZLIB_FAILED
        AT2_BAD_BASE64
        AT2_INCOMPLETE_ZLIB
        AT2_CONTENT_TOO_LARGE
        AT2_TRAILING_DATA
    ctypedef struct at2_codec:
        uint8_t *content
    int at2_thread_key_init()
    at2_codec *at2_thread_codec()
    size_t at2_token007_bound(size_t app_id_size, size_t services_size)
    int at2_build007(at2_codec *codec, const uint8_t *app_id, size_t app_id_size, const uint8_t *certificate,
                     size_t certificate_size, uint32_t issue_ts, uint32_t expire, uint32_t salt,
                     const uint8_t *services, size_t services_size, char *out, size_t *out_size)
    int at2_decode007(at2_codec *codec, const char *body, size_t body_size, size_t max_content,
                      size_t *content_size)
    int at2_verify007(const uint8_t *signature, size_t signature_size, const uint8_t *signing_info,
                      size_t signing_info_size, const uint8_t *certificate, size_t certificate_size,
                      uint32_t issue_ts, uint32_t salt)
    size_t at2_body006_size(size_t message_size)
    int at2_body006(const uint8_t *app_id, size_t app_id_size, const uint8_t *certificate, size_t certificate_size,
                    const uint8_t *channel, size_t channel_size, const uint8_t *uid, size_t uid_size,
                    const uint8_t *message, size_t message_size, char *out, size_t *out_size)
    uint32_t at2_crc32(const uint8_t *data, size_t size)


cdef extern from "sha256.h" nogil:
    void at2_hmac_sha256(const uint8_t *key, size_t key_size, const uint8_t *msg, size_t msg_size, uint8_t *mac)


cdef extern from "deflate.h" nogil:
    size_t at2_deflate_bound(size_t size)
    int at2_deflate_thread(const uint8_t *data, size_t size, uint8_t *out, size_t out_cap, size_t *out_size)


cdef extern from "batch.h" nogil:
    enum:
        AT2_CHUNK_JOBS
    ctypedef struct at2_job:
        const uint8_t *app_id
        size_t app_id_size
        const uint8_t *certificate
        size_t certificate_size
        uint32_t issue_ts
        uint32_t expire
        uint32_t salt
        const uint8_t *services
        size_t services_size
        size_t token_offset
        size_t token_size
    ctypedef struct at2_chunk:
        at2_job jobs[1]
        size_t count
        char *tokens
    ctypedef struct at2_pipeline:
        at2_chunk **chunks
        size_t chunk_count
    int at2_pipeline_init(at2_pipeline *pipeline, unsigned max_threads)
    int at2_pipeline_publish(at2_pipeline *pipeline, at2_chunk *chunk)
    int at2_pipeline_finish(at2_pipeline *pipeline, at2_codec *caller_codec, int cancel)
    void at2_pipeline_release(at2_pipeline *pipeline)


cdef enum:
    STACK_TOKEN = 4096
    # crc32 releases the GIL only for inputs worth the switch
    CRC_NOGIL_SIZE = 16384
    U16_LIMIT = 65536
    # service layouts are looked up in a table for types below this, in the dict above it
    LAYOUT_SLOTS = 256

cdef size_t _MAX_CONTENT = MAX_CONTENT
cdef Py_ssize_t _MAX_TOKEN_CHARS = MAX_TOKEN_CHARS
cdef Py_ssize_t _MAX_THREADS = MAX_THREADS

# LAYOUTS as ASCII bytes (kept alive here) and a table of pointers into them
cdef dict _layout_bytes = {}
cdef const char *_layout_table[LAYOUT_SLOTS]


cdef _load_layouts():
    cdef int slot
    for slot in range(LAYOUT_SLOTS):
        _layout_table[slot] = NULL
    for service_type, layout in LAYOUTS.items():
        encoded = layout.encode("ascii")
        if encoded.strip(b"shP") or not 0 <= service_type <= 0xFFFF:
            raise ImportError(f"accesstoken2._speedups cannot read LAYOUTS[{service_type!r}] = {layout!r}")
        _layout_bytes[service_type] = encoded
    for service_type, encoded in _layout_bytes.items():
        if service_type < LAYOUT_SLOTS:
            _layout_table[service_type] = PyBytes_AS_STRING(encoded)


_load_layouts()
if at2_thread_key_init() != AT2_OK:
    raise ImportError("accesstoken2._speedups could not create its thread-local storage key")


cdef int _raise_status(int status) except -1:
    if status == AT2_NO_MEMORY:
        raise MemoryError()
    raise RuntimeError(f"accesstoken2._speedups: zlib failed (status {status})")


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


cdef int _check_app_id(bytes app_id) except -1:
    if PyBytes_GET_SIZE(app_id) >= U16_LIMIT:
        raise OverflowError(f"app_id is {PyBytes_GET_SIZE(app_id)} bytes long; at most 65535 are allowed")
    return 0


def build007(bytes app_id not None, bytes app_certificate not None, uint32_t issue_ts, uint32_t expire,
             uint32_t salt, bytes services not None) -> str:
    cdef char stack[STACK_TOKEN]
    cdef char *out = stack
    cdef size_t out_size = 0
    cdef size_t app_id_size = PyBytes_GET_SIZE(app_id)
    cdef size_t certificate_size = PyBytes_GET_SIZE(app_certificate)
    cdef size_t services_size = PyBytes_GET_SIZE(services)
    cdef const uint8_t *app_id_data = _data(app_id)
    cdef const uint8_t *certificate_data = _data(app_certificate)
    cdef const uint8_t *services_data = _data(services)
    cdef size_t bound = at2_token007_bound(app_id_size, services_size)
    cdef at2_codec *codec = _codec()
    cdef int status
    _check_app_id(app_id)
    if bound > STACK_TOKEN:
        out = <char *>malloc(bound)
        if out == NULL:
            raise MemoryError()
    try:
        with nogil:
            status = at2_build007(codec, app_id_data, app_id_size, certificate_data, certificate_size, issue_ts,
                                  expire, salt, services_data, services_size, out, &out_size)
        if status != AT2_OK:
            _raise_status(status)
        return _ascii(out, out_size)
    finally:
        if out != stack:
            free(out)


cdef size_t _fill(at2_job *job, tuple args, size_t token_offset) except 0:
    """Points ``job`` at the byte strings of one build007 argument tuple; returns its token bound."""
    if len(args) != 6:
        raise TypeError(f"build_many() jobs must be build007 argument tuples of 6 items, not {len(args)}")
    app_id, app_certificate, issue_ts, expire, salt, services = args
    if type(app_id) is not bytes or type(app_certificate) is not bytes or type(services) is not bytes:
        raise TypeError("build_many() jobs must hold bytes for app_id, app_certificate and services")
    _check_app_id(app_id)
    job.app_id = _data(app_id)
    job.app_id_size = PyBytes_GET_SIZE(app_id)
    job.certificate = _data(app_certificate)
    job.certificate_size = PyBytes_GET_SIZE(app_certificate)
    job.issue_ts = issue_ts
    job.expire = expire
    job.salt = salt
    job.services = _data(services)
    job.services_size = PyBytes_GET_SIZE(services)
    job.token_offset = token_offset
    return at2_token007_bound(job.app_id_size, job.services_size)


cdef int _publish(at2_pipeline *pipeline, at2_chunk *chunk, size_t tokens_size) except -1:
    chunk.tokens = <char *>malloc(tokens_size)
    if chunk.tokens == NULL or at2_pipeline_publish(pipeline, chunk) != AT2_OK:
        raise MemoryError()
    return 0


cdef int _produce(object jobs, at2_pipeline *pipeline, list held) except -1:
    """Turns jobs into chunks for the workers; runs with the GIL, while published chunks are being built."""
    cdef at2_chunk *chunk = NULL
    cdef size_t offset = 0
    try:
        for job in jobs:
            if chunk == NULL:
                chunk = <at2_chunk *>malloc(sizeof(at2_chunk))
                if chunk == NULL:
                    raise MemoryError()
                chunk.count = 0
                chunk.tokens = NULL
                offset = 0
            # tuples are immutable: holding them keeps every byte string alive for the workers
            if type(job) is not tuple:
                job = tuple(job)
            held.append(job)
            offset += _fill(&chunk.jobs[chunk.count], <tuple>job, offset)
            chunk.count += 1
            if chunk.count == AT2_CHUNK_JOBS:
                _publish(pipeline, chunk, offset)
                chunk = NULL
        if chunk != NULL:
            _publish(pipeline, chunk, offset)
            chunk = NULL
    finally:
        if chunk != NULL:
            free(chunk.tokens)
            free(chunk)
    return 0


def build_many(jobs, Py_ssize_t threads) -> list:
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


def verify007(bytes signature not None, bytes signing_info not None, bytes app_certificate not None,
              uint32_t issue_ts, uint32_t salt) -> bool:
    cdef const uint8_t *signature_data = _data(signature)
    cdef const uint8_t *info_data = _data(signing_info)
    cdef const uint8_t *certificate_data = _data(app_certificate)
    cdef size_t signature_size = PyBytes_GET_SIZE(signature)
    cdef size_t info_size = PyBytes_GET_SIZE(signing_info)
    cdef size_t certificate_size = PyBytes_GET_SIZE(app_certificate)
    cdef int same
    with nogil:
        same = at2_verify007(signature_data, signature_size, info_data, info_size, certificate_data,
                             certificate_size, issue_ts, salt)
    return same != 0


def build006(bytes app_id not None, bytes app_certificate not None, bytes channel_name not None,
             bytes uid not None, bytes message not None) -> str:
    cdef Py_ssize_t app_id_size = PyBytes_GET_SIZE(app_id)
    cdef size_t message_size = PyBytes_GET_SIZE(message)
    cdef size_t body_size = 0
    cdef char *out
    if message_size >= U16_LIMIT:
        raise OverflowError(f"message is {message_size} bytes long; at most 65535 are allowed")
    PyUnicode_DecodeASCII(PyBytes_AS_STRING(app_id), app_id_size, NULL)
    result = PyUnicode_New(3 + app_id_size + <Py_ssize_t>at2_body006_size(message_size), 127)
    out = <char *>PyUnicode_DATA(result)
    memcpy(out, b"006", 3)
    memcpy(out + 3, PyBytes_AS_STRING(app_id), app_id_size)
    at2_body006(_data(app_id), app_id_size, _data(app_certificate), PyBytes_GET_SIZE(app_certificate),
                _data(channel_name), PyBytes_GET_SIZE(channel_name), _data(uid), PyBytes_GET_SIZE(uid),
                _data(message), message_size, out + 3 + app_id_size, &body_size)
    return <str>result


# --- parse007 ---------------------------------------------------------------------------------------

# what a reader was reading when the content ended (the last one counts services)
cdef enum Part:
    PART_SIGNATURE
    PART_APP_ID
    PART_ISSUE_TIME
    PART_EXPIRY
    PART_SALT
    PART_SERVICE_COUNT
    PART_SERVICE

cdef struct Reader:
    const uint8_t *data
    Py_ssize_t size
    Py_ssize_t pos
    Part part
    Py_ssize_t index
    Py_ssize_t count


# what each part is called in "token content ends inside ..." (in Part order)
cdef tuple _PART_NAMES = (
    "the signature", "the app id", "the issue time", "the expiry", "the salt", "the service count"
)


cdef str _what(Reader *reader):
    if reader.part == PART_SERVICE:
        return f"service {reader.index + 1} of {reader.count}"
    return _PART_NAMES[<int>reader.part]


cdef inline Py_ssize_t _take(Reader *reader, Py_ssize_t size) except -1:
    cdef Py_ssize_t start = reader.pos
    if size > reader.size - start:
        raise MalformedTokenError(f"token content ends inside {_what(reader)}")
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


cdef str _text(Reader *reader):
    cdef Py_ssize_t size = _u16(reader)
    cdef Py_ssize_t start = _take(reader, size)
    try:
        return PyUnicode_DecodeUTF8(<const char *>reader.data + start, size, NULL)
    except UnicodeDecodeError:
        raise MalformedTokenError(f"token content has invalid UTF-8 in {_what(reader)}") from None


cdef dict _privileges(Reader *reader):
    cdef dict result = {}
    cdef unsigned count = _u16(reader), i
    cdef const uint8_t *at
    for i in range(count):
        at = reader.data + _take(reader, 6)
        result[at[0] | (<unsigned>at[1] << 8)] = _u32_at(at + 2)
    return result


cdef dict _permissions(Reader *reader):
    cdef dict tree = {}
    cdef dict by_permission
    cdef unsigned resource_count = _u16(reader), permission_count, name_count, i, j, k
    cdef unsigned resource_type, permission
    cdef list names
    for i in range(resource_count):
        resource_type = _u16(reader)
        by_permission = tree.setdefault(resource_type, {})
        permission_count = _u16(reader)
        for j in range(permission_count):
            permission = _u16(reader)
            name_count = _u16(reader)
            names = [_text(reader) for k in range(name_count)]
            by_permission[permission] = names
    return tree


cdef const char *_layout(unsigned service_type):
    if service_type < LAYOUT_SLOTS:
        return _layout_table[service_type]
    encoded = _layout_bytes.get(service_type)
    return NULL if encoded is None else PyBytes_AS_STRING(encoded)


cdef bytes _decode(str token):
    cdef Py_ssize_t length = PyUnicode_GET_LENGTH(token)
    cdef Py_ssize_t body_size = 0
    cdef const char *text
    cdef size_t content_size = 0
    cdef at2_codec *codec
    cdef int status
    if length > _MAX_TOKEN_CHARS:
        raise MalformedTokenError(f"token is {length} characters long; at most {MAX_TOKEN_CHARS} are allowed")
    if not token.startswith(VERSION_007):
        raise MalformedTokenError("token does not start with the version prefix '007'")
    if not PyUnicode_IS_ASCII(token):
        raise MalformedTokenError("token body is not canonical standard base64 with padding")
    text = PyUnicode_AsUTF8AndSize(token, &body_size)
    codec = _codec()
    with nogil:
        status = at2_decode007(codec, text + 3, body_size - 3, _MAX_CONTENT, &content_size)
    if status == AT2_OK:
        # a private copy: nothing below may reuse the thread's buffer under our feet
        return PyBytes_FromStringAndSize(<const char *>codec.content, content_size)
    if status == AT2_BAD_BASE64:
        raise MalformedTokenError("token body is not canonical standard base64 with padding")
    if status == AT2_INCOMPLETE_ZLIB:
        raise MalformedTokenError("token body is not a complete zlib stream")
    if status == AT2_CONTENT_TOO_LARGE:
        raise MalformedTokenError(f"token content exceeds {MAX_CONTENT} bytes when decompressed")
    if status == AT2_TRAILING_DATA:
        raise MalformedTokenError("token body has data after the end of its zlib stream")
    _raise_status(status)


def parse007(str token not None) -> tuple:
    cdef bytes content = _decode(token)
    cdef Reader reader
    cdef Py_ssize_t info_start, index, count, extra
    cdef unsigned service_type
    cdef const char *layout
    cdef list services = []
    cdef list fields
    cdef int unknown = -1
    reader.data = <const uint8_t *>PyBytes_AS_STRING(content)
    reader.size = PyBytes_GET_SIZE(content)
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
    for index in range(count):
        reader.index = index
        service_type = _u16(&reader)
        layout = _layout(service_type)
        if layout == NULL:
            unknown = service_type
            break
        privileges = _privileges(&reader)
        fields = []
        while layout[0]:
            if layout[0] == b"s":
                fields.append(_text(&reader))
            elif layout[0] == b"h":
                fields.append(_i16(&reader))
            else:
                fields.append(_permissions(&reader))
            layout += 1
        services.append((service_type, privileges, tuple(fields)))
    else:
        extra = reader.size - reader.pos
        if extra:
            raise MalformedTokenError(f"token content has {extra} unexpected bytes after its last service")
    signing_info = PyBytes_FromStringAndSize(<const char *>reader.data + info_start, reader.size - info_start)
    return (signature, signing_info, app_id, issue_ts, expire, salt, services, unknown)
