/* The GIL-free part of the token kernel: seal a packed "007" content into a token, decode a "007" body,
 * build and verify the body of a "006" token.  Nothing here touches Python objects, so every function
 * may run with the GIL released.  The Cython glue (accesstoken2/_wire/_speedups.pyx) packs the content. */
#ifndef ACCESSTOKEN2_TOKEN_CORE_H
#define ACCESSTOKEN2_TOKEN_CORE_H

#include <stddef.h>
#include <stdint.h>

enum at2_status {
    AT2_OK = 0,
    AT2_NO_MEMORY = 1,
    AT2_ZLIB_FAILED = 2,          /* the encoder or decoder misbehaved: never expected */
    AT2_BAD_BASE64 = 3,
    AT2_INCOMPLETE_ZLIB = 4,
    AT2_CONTENT_TOO_LARGE = 5,
    AT2_TRAILING_DATA = 6,
    AT2_CANCELLED = 7,            /* a batch was abandoned because its producer failed */
    AT2_BAD_INPUT = 8,            /* a size the caller should have refused: never expected */
    AT2_THREAD_FAILED = 9,        /* a mutex, condition or thread call failed: never expected */
};

/* u16(signature size) and the signature at the start of a 007 content, before signing_info */
#define AT2_SIGNATURE_HEAD 34

/* The longest certificate whose first signature link a codec keeps (certificates are 32 characters). */
#define AT2_LINK_CERTIFICATE_MAX 64

/* A thread's buffers for decoding 007 bodies (grown, never shrunk: no allocation per call once warm),
 * and the first link of its last 007 signature chain. */
typedef struct {
    uint8_t *content;             /* inflate output: content_cap bytes */
    size_t content_cap;
    uint8_t *raw;                 /* base64-decoded bodies too long for the stack: raw_cap bytes */
    size_t raw_cap;
    /* HMAC(key = u32(issue_ts), certificate): the same for every token of one second and certificate */
    size_t link_certificate_size; /* 0: no link kept */
    uint32_t link_issue_ts;
    uint8_t link_certificate[AT2_LINK_CERTIFICATE_MAX];
    uint8_t link[32];
} at2_codec;

/* Makes an empty codec: nothing allocated yet. */
void at2_codec_clear(at2_codec *codec);
/* Frees what the codec allocated and clears it (the kept signature link is wiped). */
void at2_codec_release(at2_codec *codec);

/* Creates the key of the per-thread codecs (once, at import); AT2_OK or AT2_NO_MEMORY. */
int at2_thread_key_init(void);
/* The calling thread's codec (freed when the thread ends), or NULL when out of memory. */
at2_codec *at2_thread_codec(void);

/* The longest "007" token for a content of content_size bytes (no terminator). */
size_t at2_token007_bound(size_t content_size);

/* Signs content[34:] (signing_info) into content[0:34], then writes "007" + base64(zlib(content)) to out
 * (at least at2_token007_bound bytes); codec keeps the signature chain's first link.  AT2_OK, AT2_NO_MEMORY,
 * AT2_ZLIB_FAILED or AT2_BAD_INPUT. */
int at2_seal007(at2_codec *codec, uint8_t *content, size_t content_size, const uint8_t *certificate,
                size_t certificate_size, uint32_t issue_ts, uint32_t salt, char *out, size_t *out_size);

/* Decodes a 007 body (the text after "007") into codec->content, refusing more than max_content bytes. */
int at2_decode007(at2_codec *codec, const char *body, size_t body_size, size_t max_content, size_t *content_size);

/* Writes the signature of signing_info: HMAC chain keyed by issue_ts, then salt, then the certificate's result. */
void at2_signature007(const uint8_t *certificate, size_t certificate_size, uint32_t issue_ts, uint32_t salt,
                      const uint8_t *signing_info, size_t signing_info_size, uint8_t signature[32]);

/* 1 when the 32-byte signature matches signing_info, compared without data-dependent branches, else 0. */
int at2_verify007(const uint8_t *signature, size_t signature_size, const uint8_t *signing_info,
                  size_t signing_info_size, const uint8_t *certificate, size_t certificate_size, uint32_t issue_ts,
                  uint32_t salt);

/* The size of the base64 part of a 006 token whose message has message_size bytes. */
size_t at2_body006_size(size_t message_size);

/* Writes base64(str(signature) u32(crc(channel)) u32(crc(uid)) str(message)) to out; AT2_OK, AT2_NO_MEMORY or
 * AT2_BAD_INPUT (a message over 65,535 bytes). */
int at2_body006(const uint8_t *app_id, size_t app_id_size, const uint8_t *certificate, size_t certificate_size,
                const uint8_t *channel, size_t channel_size, const uint8_t *uid, size_t uid_size,
                const uint8_t *message, size_t message_size, char *out, size_t *out_size);

/* 1 when signature is HMAC(certificate, app_id + channel + uid + message), compared in constant time, else 0. */
int at2_verify006(const uint8_t *signature, size_t signature_size, const uint8_t *app_id, size_t app_id_size,
                  const uint8_t *certificate, size_t certificate_size, const uint8_t *channel, size_t channel_size,
                  const uint8_t *uid, size_t uid_size, const uint8_t *message, size_t message_size);

/* 1 when the bytes are well-formed UTF-8 (what Python's strict decoder accepts: no surrogates or overlongs), else 0. */
int at2_utf8_valid(const uint8_t *text, size_t size);

/* zlib's CRC-32 of any size (crc32.c). */
uint32_t at2_crc32(const uint8_t *data, size_t size);

#endif
