# The C core's functions (src_c/), as the compiled form of _kernel_cy.py calls them: declarations only, no
# Python objects.  Each is documented where it is defined, in its header.

from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t


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


# CPython API that Cython's own cpython/*.pxd do not declare
cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object text)
