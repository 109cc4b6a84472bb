/* Token building and decoding without the GIL.  Little-endian values are written with shifts. */
#include "token_core.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "deflate.h"
#include "sha256.h"

#define SIGNATURE_SIZE 32
/* at2_compress passes deflate.c's statuses on as at2_status values */
typedef char deflate_statuses_match[AT2_DEFLATE_OK == AT2_OK && AT2_DEFLATE_NO_MEMORY == AT2_NO_MEMORY &&
                                            AT2_DEFLATE_FAILED == AT2_ZLIB_FAILED
                                        ? 1
                                        : -1];
/* Small tokens are assembled on the stack; larger ones get one heap block. */
#define STACK_SCRATCH 4096

static void put_u16(uint8_t *out, uint32_t value)
{
    out[0] = (uint8_t)value;
    out[1] = (uint8_t)(value >> 8);
}

static void put_u32(uint8_t *out, uint32_t value)
{
    out[0] = (uint8_t)value;
    out[1] = (uint8_t)(value >> 8);
    out[2] = (uint8_t)(value >> 16);
    out[3] = (uint8_t)(value >> 24);
}

/* memset that the compiler may not drop as a dead store: it wipes key material before memory is freed */
static void wipe(void *data, size_t size)
{
    volatile uint8_t *bytes = (volatile uint8_t *)data;

    while (size--)
        *bytes++ = 0;
}

void at2_codec_clear(at2_codec *codec)
{
    memset(codec, 0, sizeof(*codec));
}

void at2_codec_release(at2_codec *codec)
{
    if (codec->has_inflater)
        inflateEnd(&codec->inflater);
    free(codec->content);
    wipe(codec->link_certificate, sizeof(codec->link_certificate));
    wipe(codec->link, sizeof(codec->link));
    at2_codec_clear(codec);
}

static pthread_key_t thread_key;

static void release_thread_codec(void *codec)
{
    at2_codec_release((at2_codec *)codec);
    free(codec);
}

int at2_thread_key_init(void)
{
    return pthread_key_create(&thread_key, release_thread_codec) == 0 ? AT2_OK : AT2_NO_MEMORY;
}

at2_codec *at2_thread_codec(void)
{
    at2_codec *codec = (at2_codec *)pthread_getspecific(thread_key);

    if (codec)
        return codec;
    codec = (at2_codec *)malloc(sizeof(*codec));
    if (!codec)
        return NULL;
    at2_codec_clear(codec);
    if (pthread_setspecific(thread_key, codec) != 0) {
        free(codec);
        return NULL;
    }
    return codec;
}

static int ready_inflater(at2_codec *codec, size_t content_cap)
{
    if (codec->content_cap < content_cap) {
        uint8_t *content = (uint8_t *)malloc(content_cap);
        if (!content)
            return AT2_NO_MEMORY;
        free(codec->content);
        codec->content = content;
        codec->content_cap = content_cap;
    }
    if (codec->has_inflater)
        return inflateReset(&codec->inflater) == Z_OK ? AT2_OK : AT2_ZLIB_FAILED;
    memset(&codec->inflater, 0, sizeof(codec->inflater));
    switch (inflateInit(&codec->inflater)) {
    case Z_OK:
        codec->has_inflater = 1;
        return AT2_OK;
    case Z_MEM_ERROR:
        return AT2_NO_MEMORY;
    default:
        return AT2_ZLIB_FAILED;
    }
}

/* deflateBound() for zlib.compress()'s settings, computed without a stream (same formula as compressBound) */
static size_t deflate_bound(size_t size)
{
    return size + (size >> 12) + (size >> 14) + (size >> 25) + 13;
}

size_t at2_token007_bound(size_t content_size)
{
    return 3 + AT2_BASE64_ENCODED_SIZE(deflate_bound(content_size));
}

/* 1 when codec keeps the first link for this issue_ts and certificate; the certificate is compared
 * without data-dependent branches, as keys are */
static int link_kept(const at2_codec *codec, const uint8_t *certificate, size_t certificate_size, uint32_t issue_ts)
{
    unsigned difference = 0;
    size_t i;

    if (codec->link_certificate_size != certificate_size || codec->link_issue_ts != issue_ts)
        return 0;
    for (i = 0; i < certificate_size; i++)
        difference |= (unsigned)(codec->link_certificate[i] ^ certificate[i]);
    return difference == 0;
}

/* The signature chain; codec (may be NULL) keeps its first link, which every token built in the same
 * second with the same certificate shares: that saves 4 of a token's 13-14 SHA-256 blocks. */
static void signature_chain(at2_codec *codec, const uint8_t *certificate, size_t certificate_size,
                            uint32_t issue_ts, uint32_t salt, const uint8_t *signing_info, size_t signing_info_size,
                            uint8_t signature[32])
{
    uint8_t key[4];
    uint8_t k1[SIGNATURE_SIZE];
    uint8_t k2[SIGNATURE_SIZE];

    /* an empty certificate is never kept: size 0 marks "no link" */
    if (codec != NULL && certificate_size > 0 && link_kept(codec, certificate, certificate_size, issue_ts)) {
        memcpy(k1, codec->link, sizeof(k1));
    } else {
        put_u32(key, issue_ts);
        at2_hmac_sha256(key, sizeof(key), certificate, certificate_size, k1);
        if (codec != NULL && certificate_size > 0 && certificate_size <= AT2_LINK_CERTIFICATE_MAX) {
            memcpy(codec->link_certificate, certificate, certificate_size);
            memcpy(codec->link, k1, sizeof(k1));
            codec->link_certificate_size = certificate_size;
            codec->link_issue_ts = issue_ts;
        }
    }
    put_u32(key, salt);
    at2_hmac_sha256(key, sizeof(key), k1, sizeof(k1), k2);
    at2_hmac_sha256(k2, sizeof(k2), signing_info, signing_info_size, signature);
    wipe(k1, sizeof(k1));
    wipe(k2, sizeof(k2));
}

void at2_signature007(const uint8_t *certificate, size_t certificate_size, uint32_t issue_ts, uint32_t salt,
                      const uint8_t *signing_info, size_t signing_info_size, uint8_t signature[32])
{
    signature_chain(NULL, certificate, certificate_size, issue_ts, salt, signing_info, signing_info_size, signature);
}

/* THE compression call site of the token code: zlib stream of in (level 6, as zlib.compress) into out.
 * Replacing the deflate engine is a change to this function only. */
static int at2_compress(at2_codec *codec, const uint8_t *in, size_t size, uint8_t *out, size_t cap, size_t *out_size)
{
    (void)codec; /* the encoder keeps its own per-thread state */
    /* our own level-6 encoder (deflate.c): zlib.compress()'s bytes whatever zlib the platform has */
    return at2_deflate_thread(in, size, out, cap, out_size);
}

int at2_seal007(at2_codec *codec, uint8_t *content, size_t content_size, const uint8_t *certificate,
                size_t certificate_size, uint32_t issue_ts, uint32_t salt, char *out, size_t *out_size)
{
    uint8_t stack[STACK_SCRATCH];
    uint8_t *compressed = stack;
    size_t compressed_cap = deflate_bound(content_size);
    size_t compressed_size = 0;
    int status;

    if (content_size < AT2_SIGNATURE_HEAD)
        return AT2_BAD_INPUT;
    if (compressed_cap > sizeof(stack)) {
        compressed = (uint8_t *)malloc(compressed_cap);
        if (!compressed)
            return AT2_NO_MEMORY;
    }
    put_u16(content, SIGNATURE_SIZE);
    signature_chain(codec, certificate, certificate_size, issue_ts, salt, content + AT2_SIGNATURE_HEAD,
                    content_size - AT2_SIGNATURE_HEAD, content + 2);
    status = at2_compress(codec, content, content_size, compressed, compressed_cap, &compressed_size);
    if (status != AT2_OK)
        goto cleanup;
    memcpy(out, "007", 3);
    *out_size = 3 + at2_base64_encode(compressed, compressed_size, out + 3);

cleanup:
    if (compressed != stack)
        free(compressed);
    return status;
}

/* base64 text fed to inflate per step: a multiple of 4 characters, decoded on the stack */
#define DECODE_STEP_CHARS 4096

int at2_decode007(at2_codec *codec, const char *body, size_t body_size, size_t max_content, size_t *content_size)
{
    uint8_t raw[DECODE_STEP_CHARS / 4 * 3];
    size_t done = 0;
    int status, result = Z_BUF_ERROR;

    /* a body longer than one step is checked whole first: a base64 error must win over a zlib error */
    if (max_content >= UINT_MAX || (body_size > DECODE_STEP_CHARS && at2_base64_check(body, body_size) != 0))
        return AT2_BAD_BASE64;
    /* one byte over the limit tells "too large" apart from "exactly at the limit" */
    status = ready_inflater(codec, max_content + 1);
    if (status != AT2_OK)
        return status;
    codec->inflater.next_out = codec->content;
    codec->inflater.avail_out = (uInt)(max_content + 1);
    /* the stream is fed a piece at a time, so the decoded body never needs a buffer of its own */
    do {
        size_t step = body_size - done < DECODE_STEP_CHARS ? body_size - done : DECODE_STEP_CHARS;
        size_t raw_size = 0;

        if (at2_base64_decode(body + done, step, raw, &raw_size) != 0)
            return AT2_BAD_BASE64;
        done += step;
        codec->inflater.next_in = raw;
        codec->inflater.avail_in = (uInt)raw_size;
        result = inflate(&codec->inflater, Z_SYNC_FLUSH);
    } while (done < body_size && (result == Z_OK || result == Z_BUF_ERROR) && codec->inflater.avail_out);
    *content_size = codec->inflater.total_out;
    if (result != Z_OK && result != Z_BUF_ERROR && result != Z_STREAM_END)
        return AT2_INCOMPLETE_ZLIB;
    if (*content_size > max_content)
        return AT2_CONTENT_TOO_LARGE;
    if (result != Z_STREAM_END)
        return AT2_INCOMPLETE_ZLIB;
    if (codec->inflater.avail_in || done < body_size)
        return AT2_TRAILING_DATA;
    return AT2_OK;
}

int at2_verify007(const uint8_t *signature, size_t signature_size, const uint8_t *signing_info,
                  size_t signing_info_size, const uint8_t *certificate, size_t certificate_size, uint32_t issue_ts,
                  uint32_t salt)
{
    uint8_t expected[SIGNATURE_SIZE];
    unsigned difference = 0;
    size_t i;

    at2_signature007(certificate, certificate_size, issue_ts, salt, signing_info, signing_info_size, expected);
    if (signature_size != SIGNATURE_SIZE)
        return 0;
    for (i = 0; i < SIGNATURE_SIZE; i++)
        difference |= (unsigned)(expected[i] ^ signature[i]);
    return difference == 0;
}

/* Unicode's table of well-formed byte sequences: the lead byte fixes the length and the second byte's range. */
int at2_utf8_valid(const uint8_t *text, size_t size)
{
    size_t i = 0, k, need;

    while (i < size) {
        uint8_t lead = text[i], low = 0x80, high = 0xBF;

        if (lead < 0x80) {
            i++;
            continue;
        }
        if (lead >= 0xC2 && lead <= 0xDF)
            need = 1;
        else if (lead >= 0xE0 && lead <= 0xEF) {
            need = 2;
            if (lead == 0xE0)
                low = 0xA0;
            else if (lead == 0xED)
                high = 0x9F; /* no surrogates */
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            need = 3;
            if (lead == 0xF0)
                low = 0x90;
            else if (lead == 0xF4)
                high = 0x8F; /* nothing above U+10FFFF */
        } else
            return 0;
        if (size - i - 1 < need || text[i + 1] < low || text[i + 1] > high)
            return 0;
        for (k = 2; k <= need; k++)
            if ((text[i + k] & 0xC0) != 0x80)
                return 0;
        i += need + 1;
    }
    return 1;
}

uint32_t at2_crc32(const uint8_t *data, size_t size)
{
    uLong crc = crc32(0L, Z_NULL, 0);

    while (size > UINT_MAX) {
        crc = crc32(crc, data, UINT_MAX);
        data += UINT_MAX;
        size -= UINT_MAX;
    }
    return (uint32_t)crc32(crc, data, (uInt)size);
}

/* HMAC-SHA256(key = certificate, msg = app_id + channel + uid + message): the 006 signature */
static void signature006(const uint8_t *app_id, size_t app_id_size, const uint8_t *certificate,
                         size_t certificate_size, const uint8_t *channel, size_t channel_size, const uint8_t *uid,
                         size_t uid_size, const uint8_t *message, size_t message_size, uint8_t signature[32])
{
    at2_hmac mac;

    at2_hmac_init(&mac, certificate, certificate_size);
    at2_hmac_update(&mac, app_id, app_id_size);
    at2_hmac_update(&mac, channel, channel_size);
    at2_hmac_update(&mac, uid, uid_size);
    at2_hmac_update(&mac, message, message_size);
    at2_hmac_final(&mac, signature);
    memset(&mac, 0, sizeof(mac));
}

size_t at2_body006_size(size_t message_size)
{
    return AT2_BASE64_ENCODED_SIZE(2 + SIGNATURE_SIZE + 8 + 2 + message_size);
}

int at2_body006(const uint8_t *app_id, size_t app_id_size, const uint8_t *certificate, size_t certificate_size,
                const uint8_t *channel, size_t channel_size, const uint8_t *uid, size_t uid_size,
                const uint8_t *message, size_t message_size, char *out, size_t *out_size)
{
    uint8_t stack[STACK_SCRATCH];
    uint8_t *content = stack;
    size_t content_size = 2 + SIGNATURE_SIZE + 8 + 2 + message_size;

    if (message_size > 0xFFFF)
        return AT2_BAD_INPUT;
    if (content_size > sizeof(stack)) {
        content = (uint8_t *)malloc(content_size);
        if (!content)
            return AT2_NO_MEMORY;
    }
    put_u16(content, SIGNATURE_SIZE);
    signature006(app_id, app_id_size, certificate, certificate_size, channel, channel_size, uid, uid_size, message,
                 message_size, content + 2);
    put_u32(content + 2 + SIGNATURE_SIZE, at2_crc32(channel, channel_size));
    put_u32(content + 6 + SIGNATURE_SIZE, at2_crc32(uid, uid_size));
    put_u16(content + 10 + SIGNATURE_SIZE, (uint32_t)message_size);
    memcpy(content + 12 + SIGNATURE_SIZE, message, message_size);
    *out_size = at2_base64_encode(content, content_size, out);
    if (content != stack)
        free(content);
    return AT2_OK;
}

int at2_verify006(const uint8_t *signature, size_t signature_size, const uint8_t *app_id, size_t app_id_size,
                  const uint8_t *certificate, size_t certificate_size, const uint8_t *channel, size_t channel_size,
                  const uint8_t *uid, size_t uid_size, const uint8_t *message, size_t message_size)
{
    uint8_t expected[SIGNATURE_SIZE];
    unsigned difference = 0;
    size_t i;

    signature006(app_id, app_id_size, certificate, certificate_size, channel, channel_size, uid, uid_size, message,
                 message_size, expected);
    if (signature_size != SIGNATURE_SIZE)
        return 0;
    for (i = 0; i < SIGNATURE_SIZE; i++)
        difference |= (unsigned)(expected[i] ^ signature[i]);
    return difference == 0;
}
