/* The GIL-free part of the token kernel: build a "007" token, decode a "007" body, build a "006" body.
 * Nothing here touches Python objects, so every function may run with the GIL released. */
#ifndef ACCESSTOKEN2_TOKEN_CORE_H
#define ACCESSTOKEN2_TOKEN_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

enum at2_status {
    AT2_OK = 0,
    AT2_NO_MEMORY = 1,
    AT2_ZLIB_FAILED = 2,          /* the encoder or inflate misbehaved: never expected */
    AT2_BAD_BASE64 = 3,
    AT2_INCOMPLETE_ZLIB = 4,
    AT2_CONTENT_TOO_LARGE = 5,
    AT2_TRAILING_DATA = 6,
    AT2_CANCELLED = 7,            /* a batch was abandoned because its producer failed */
};

/* A thread's inflate stream, created on first use and reused with inflateReset (deflate.c keeps its own
 * per-thread state). */
typedef struct {
    z_stream inflater;
    int has_inflater;
    uint8_t *content;             /* inflate output: content_cap bytes */
    size_t content_cap;
} at2_codec;

void at2_codec_clear(at2_codec *codec);   /* an empty codec: nothing allocated yet */
void at2_codec_release(at2_codec *codec); /* frees what the codec allocated */

/* The calling thread's codec (freed when the thread ends), or NULL when out of memory. */
int at2_thread_key_init(void);
at2_codec *at2_thread_codec(void);

/* The longest "007" token for these input sizes (no terminator). */
size_t at2_token007_bound(size_t app_id_size, size_t services_size);

/* Writes "007" + base64(zlib(content)) to out (at least at2_token007_bound bytes). */
int at2_build007(at2_codec *codec, const uint8_t *app_id, size_t app_id_size, const uint8_t *certificate,
                 size_t certificate_size, uint32_t issue_ts, uint32_t expire, uint32_t salt,
                 const uint8_t *services, size_t services_size, char *out, size_t *out_size);

/* Decodes a 007 body (the text after "007") into codec->content, refusing more than max_content bytes. */
int at2_decode007(at2_codec *codec, const char *body, size_t body_size, size_t max_content, size_t *content_size);

/* The signature of signing_info: HMAC chain keyed by issue_ts, then salt, then the certificate's result. */
void at2_signature007(const uint8_t *certificate, size_t certificate_size, uint32_t issue_ts, uint32_t salt,
                      const uint8_t *signing_info, size_t signing_info_size, uint8_t signature[32]);

/* 1 when the 32-byte signature matches, compared without data-dependent branches. */
int at2_verify007(const uint8_t *signature, size_t signature_size, const uint8_t *signing_info,
                  size_t signing_info_size, const uint8_t *certificate, size_t certificate_size, uint32_t issue_ts,
                  uint32_t salt);

/* The size of the base64 part of a 006 token whose message has message_size bytes. */
size_t at2_body006_size(size_t message_size);

/* Writes base64(str(signature) u32(crc(channel)) u32(crc(uid)) str(message)) to out. */
int at2_body006(const uint8_t *app_id, size_t app_id_size, const uint8_t *certificate, size_t certificate_size,
                const uint8_t *channel, size_t channel_size, const uint8_t *uid, size_t uid_size,
                const uint8_t *message, size_t message_size, char *out, size_t *out_size);

/* zlib's CRC-32 of any size. */
uint32_t at2_crc32(const uint8_t *data, size_t size);

#endif
