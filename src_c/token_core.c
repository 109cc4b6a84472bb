/* Token building and decoding without the GIL.  Little-endian values are written with shifts. */
#include "token_core.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "crc32.h"
#include "deflate.h"
#include "inflate.h"
#include "sha256.h"
#include "threads.h"

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
    free(codec->content);
    free(codec->raw);
    wipe(codec->link_certificate, sizeof(codec->link_certificate));
    wipe(codec->link, sizeof(codec->link));
    at2_codec_clear(codec);
}

static at2_tls_key thread_key;

static void release_thread_codec(void *codec)
{
    at2_codec_release((at2_codec *)codec);
    free(codec);
}

int at2_thread_key_init(void)
{
    return at2_tls_create(&thread_key, release_thread_codec) == 0 ? AT2_OK : AT2_NO_MEMORY;
}

at2_codec *at2_thread_codec(void)
{
    at2_codec *codec = (at2_codec *)at2_tls_get(thread_key);

    if (codec)
        return codec;
    codec = (at2_codec *)malloc(sizeof(*codec));
    if (!codec)
        return NULL;
    at2_codec_clear(codec);
    if (at2_tls_set(thread_key, codec) != 0) {
        free(codec);
        return NULL;
    }
    return codec;
}

/* Makes *buffer hold at least need bytes (its contents are not kept); AT2_OK or AT2_NO_MEMORY. */
static int reserve(uint8_t **buffer, size_t *cap, size_t need)
{
    uint8_t *grown;

    if (*cap >= need)
        return AT2_OK;
    grown = (uint8_t *)malloc(need);
    if (!grown)
        return AT2_NO_MEMORY;
    free(*buffer);
    *buffer = grown;
    *cap = need;
    return AT2_OK;
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

/* bodies whose bytes fit here are decoded on the stack; longer ones in the codec's raw buffer */
#define DECODE_STACK_BYTES 3072

int at2_decode007(at2_codec *codec, const char *body, size_t body_size, size_t max_content, size_t *content_size)
{
    uint8_t stack[DECODE_STACK_BYTES];
    uint8_t *raw = stack;
    size_t raw_size = 0, used = 0;
    int status;

    *content_size = 0;
    if (max_content >= UINT_MAX)
        return AT2_BAD_INPUT;
    if (body_size / 4 * 3 > sizeof(stack)) {
        status = reserve(&codec->raw, &codec->raw_cap, body_size / 4 * 3);
        if (status != AT2_OK)
            return status;
        raw = codec->raw;
    }
    /* the whole body is base64-checked first: a base64 error wins over a zlib error */
    if (at2_base64_decode(body, body_size, raw, &raw_size) != 0)
        return AT2_BAD_BASE64;
    /* one byte over the limit tells "too large" apart from "exactly at the limit" */
    status = reserve(&codec->content, &codec->content_cap, max_content + 1);
    if (status != AT2_OK)
        return status;
    status = at2_inflate(raw, raw_size, codec->content, max_content + 1, content_size, &used);
    /* zlib's verdicts as the pure kernel reads them: an error first, then too much output, then the end */
    switch (status) {
    case AT2_INFLATE_END:
        if (*content_size > max_content)
            return AT2_CONTENT_TOO_LARGE;
        return used < raw_size ? AT2_TRAILING_DATA : AT2_OK;
    case AT2_INFLATE_FULL:
        return AT2_CONTENT_TOO_LARGE;
    case AT2_INFLATE_TRUNCATED:
        return *content_size > max_content ? AT2_CONTENT_TOO_LARGE : AT2_INCOMPLETE_ZLIB;
    case AT2_INFLATE_BAD:
        return AT2_INCOMPLETE_ZLIB;
    default:
        return AT2_ZLIB_FAILED;
    }
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
    return at2_crc32_update(0, data, size);
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
