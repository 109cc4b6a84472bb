/* The C core on its own, on any platform: the published vectors and round trips through the C API.
 *
 *   python tests/c/make_vectors.py vectors.h && cc -Isrc_c -I. tests/c/driver.c src_c/[every .c] -o driver && ./driver
 *
 * Checks, each counted as one test:
 *  - every 007 vector body: the decoder's verdict and content are the ones the standard library gives, the
 *    signature verifies exactly when HMAC says so, and a byte-exact vector is sealed again to its token;
 *  - every 006 vector: the body is built to the published one, verifies, and fails with another certificate;
 *  - CRC-32, SHA-256 and HMAC-SHA256 known answers (the SHA path the CPU gets is printed);
 *  - deflate then inflate gives every input back (sizes 0 to 65,536, many kinds), every cut of a stream is
 *    refused, and so is every stream with trailing bytes; seal then decode gives the content back, verified;
 *  - build_many's pipeline on 4 threads (the thread shim) builds the tokens one thread builds.
 * Ends with "N passed, M failed"; exits 1 when anything failed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "batch.h"
#include "crc32.h"
#include "deflate.h"
#include "inflate.h"
#include "sha256.h"
#include "token_core.h"

typedef struct {
    const char *id;
    const char *certificate;
    const char *body;           /* the token after "007" */
    int status;                 /* what at2_decode007 must return */
    const char *content_hex;    /* the content when status is AT2_OK */
    int verifies;               /* 1 or 0: what at2_verify007 must say; -1: not checked */
    uint32_t issue_ts;
    uint32_t salt;
    int byte_exact;             /* sealing the content again must give the token */
} vector007;

typedef struct {
    const char *id;
    const char *app_id;
    const char *certificate;
    const char *channel;
    const char *uid;
    const char *message_hex;
    const char *body;           /* the token after "006" and the app id */
    uint32_t crc_channel;
    uint32_t crc_uid;
} vector006;

#include "vectors.h"

#define MAX_CONTENT 65536

static int passed, failed;

/* counts one test; prints what failed */
static void check(int ok, const char *what, const char *id)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    printf("FAILED: %s (%s)\n", what, id);
}

/* hex text to bytes; returns the byte count */
static size_t from_hex(const char *hex, uint8_t *out)
{
    size_t i, size = strlen(hex) / 2;

    for (i = 0; i < size; i++) {
        unsigned value;

        sscanf(hex + 2 * i, "%2x", &value);
        out[i] = (uint8_t)value;
    }
    return size;
}

static uint64_t rng_state = 0x853c49e6748fea9bull;

/* xorshift64*: the same numbers on every platform */
static uint32_t next_random(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static void test_vectors007(at2_codec *codec)
{
    static uint8_t expected[MAX_CONTENT], sealed_content[MAX_CONTENT];
    static char token[2 * MAX_CONTENT];
    size_t i, n = sizeof(VECTORS_007) / sizeof(VECTORS_007[0]);

    for (i = 0; i < n; i++) {
        const vector007 *v = &VECTORS_007[i];
        size_t content_size = 0, expected_size, token_size = 0;
        int status = at2_decode007(codec, v->body, strlen(v->body), MAX_CONTENT, &content_size);

        check(status == v->status, "007 body verdict", v->id);
        if (status != AT2_OK || v->status != AT2_OK)
            continue;
        expected_size = from_hex(v->content_hex, expected);
        check(content_size == expected_size && memcmp(codec->content, expected, expected_size) == 0,
              "007 content", v->id);
        if (v->verifies >= 0)
            check(at2_verify007(codec->content + 2, 32, codec->content + AT2_SIGNATURE_HEAD,
                                content_size - AT2_SIGNATURE_HEAD, (const uint8_t *)v->certificate,
                                strlen(v->certificate), v->issue_ts, v->salt) == v->verifies,
                  "007 signature", v->id);
        if (v->byte_exact) {
            memcpy(sealed_content, expected, expected_size);
            memset(sealed_content, 0, AT2_SIGNATURE_HEAD); /* the seal writes the signature itself */
            status = at2_seal007(codec, sealed_content, expected_size, (const uint8_t *)v->certificate,
                                 strlen(v->certificate), v->issue_ts, v->salt, token, &token_size);
            check(status == AT2_OK && token_size == 3 + strlen(v->body) && memcmp(token, "007", 3) == 0 &&
                      memcmp(token + 3, v->body, strlen(v->body)) == 0,
                  "007 token sealed again byte for byte", v->id);
        }
    }
}

static void test_vectors006(void)
{
    static uint8_t message[70000], raw[70000];
    static char body[100000];
    size_t i, n = sizeof(VECTORS_006) / sizeof(VECTORS_006[0]);

    for (i = 0; i < n; i++) {
        const vector006 *v = &VECTORS_006[i];
        size_t message_size = from_hex(v->message_hex, message), body_size = 0, raw_size = 0;
        const uint8_t *channel = (const uint8_t *)v->channel, *uid = (const uint8_t *)v->uid;
        const uint8_t *app_id = (const uint8_t *)v->app_id, *certificate = (const uint8_t *)v->certificate;
        int status = at2_body006(app_id, strlen(v->app_id), certificate, strlen(v->certificate), channel,
                                 strlen(v->channel), uid, strlen(v->uid), message, message_size, body, &body_size);

        check(status == AT2_OK && body_size == strlen(v->body) && memcmp(body, v->body, body_size) == 0,
              "006 body", v->id);
        check(at2_crc32(channel, strlen(v->channel)) == v->crc_channel && at2_crc32(uid, strlen(v->uid)) == v->crc_uid,
              "006 CRC-32 of channel and uid", v->id);
        if (at2_base64_decode(v->body, strlen(v->body), raw, &raw_size) != 0 || raw_size < 34) {
            check(0, "006 body decodes", v->id);
            continue;
        }
        check(at2_verify006(raw + 2, 32, app_id, strlen(v->app_id), certificate, strlen(v->certificate), channel,
                            strlen(v->channel), uid, strlen(v->uid), message, message_size) == 1,
              "006 signature", v->id);
        check(at2_verify006(raw + 2, 32, app_id, strlen(v->app_id), (const uint8_t *)"0123456789abcdef0123456789abcdef",
                            32, channel, strlen(v->channel), uid, strlen(v->uid), message, message_size) == 0,
              "006 signature refused with another certificate", v->id);
    }
}

static void test_known_answers(void)
{
    static const uint8_t abc_digest[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                                           0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                                           0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    /* RFC 4231 test case 2 */
    static const uint8_t jefe_mac[32] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
                                         0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
                                         0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    static uint8_t million_a[1000000];
    /* SHA-256 of a million 'a' (FIPS 180-2 appendix B.3) */
    static const uint8_t million_digest[32] = {0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7,
                                               0xe2, 0x84, 0xd7, 0x3e, 0x67, 0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97,
                                               0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
    const char *what = "what do ya want for nothing?";
    uint8_t digest[32];
    at2_sha256 sha;

    check(at2_crc32((const uint8_t *)"", 0) == 0, "CRC-32 of nothing", "crc32");
    check(at2_crc32((const uint8_t *)"123456789", 9) == 0xCBF43926u, "CRC-32 check value", "crc32");
    check(at2_crc32_update(at2_crc32((const uint8_t *)"12345", 5), (const uint8_t *)"6789", 4) == 0xCBF43926u,
          "CRC-32 continued", "crc32");
    at2_sha256_init(&sha);
    at2_sha256_update(&sha, (const uint8_t *)"abc", 3);
    at2_sha256_final(&sha, digest);
    check(memcmp(digest, abc_digest, 32) == 0, "SHA-256 of abc", "sha256");
    memset(million_a, 'a', sizeof(million_a));
    at2_sha256_init(&sha);
    at2_sha256_update(&sha, million_a, 1);
    at2_sha256_update(&sha, million_a + 1, sizeof(million_a) - 1);
    at2_sha256_final(&sha, digest);
    check(memcmp(digest, million_digest, 32) == 0, "SHA-256 of a million a", "sha256");
    at2_hmac_sha256((const uint8_t *)"Jefe", 4, (const uint8_t *)what, strlen(what), digest);
    check(memcmp(digest, jefe_mac, 32) == 0, "HMAC-SHA256 RFC 4231 case 2", "hmac");
}

/* random test data of a random kind */
static size_t make_data(uint8_t *data, size_t size)
{
    size_t i;
    uint32_t kind = next_random() % 4;

    for (i = 0; i < size; i++) {
        switch (kind) {
        case 0:
            data[i] = (uint8_t)next_random();
            break;
        case 1:
            data[i] = (uint8_t)"0123456789abcdef"[next_random() % 16];
            break;
        case 2:
            data[i] = (i && next_random() % 8) ? data[i - 1] : (uint8_t)next_random();
            break;
        default:
            data[i] = (i >= 37 && next_random() % 8) ? data[i - 37] : (uint8_t)(next_random() % 5);
        }
    }
    return size;
}

static void test_round_trips(at2_codec *codec)
{
    static uint8_t data[MAX_CONTENT + 1], stream[MAX_CONTENT + 1024], back[MAX_CONTENT + 1];
    static char token[2 * MAX_CONTENT];
    static const size_t fixed_sizes[] = {0, 1, 2, 3, 34, 100, 258, 259, 4096, 32768, 32769, 65535, 65536};
    int round, all_back = 1, all_cuts = 1, all_trailing = 1, all_sealed = 1;

    for (round = 0; round < 400; round++) {
        size_t size = round < 13 ? fixed_sizes[round] : next_random() % (round % 10 == 0 ? MAX_CONTENT : 1200);
        size_t stream_size = 0, back_size = 0, used = 0, cut, content_size = 0, token_size = 0;

        make_data(data, size);
        if (at2_deflate_thread(data, size, stream, sizeof(stream), &stream_size) != AT2_DEFLATE_OK) {
            all_back = 0;
            continue;
        }
        if (at2_inflate(stream, stream_size, back, sizeof(back), &back_size, &used) != AT2_INFLATE_END ||
            back_size != size || used != stream_size || memcmp(back, data, size) != 0)
            all_back = 0;
        /* every cut is refused (a few per stream: all of them for short ones) */
        for (cut = 0; cut < stream_size; cut += stream_size < 300 ? 1 : 1 + next_random() % 97)
            if (at2_inflate(stream, cut, back, sizeof(back), &back_size, &used) == AT2_INFLATE_END)
                all_cuts = 0;
        stream[stream_size] = (uint8_t)next_random();
        if (at2_inflate(stream, stream_size + 1, back, sizeof(back), &back_size, &used) != AT2_INFLATE_END ||
            used != stream_size)
            all_trailing = 0;
        /* seal, decode, verify: the content must come back signed */
        if (size >= AT2_SIGNATURE_HEAD) {
            uint8_t certificate[32];
            uint32_t issue_ts = next_random(), salt = next_random();
            int k;

            for (k = 0; k < 32; k++)
                certificate[k] = (uint8_t)"0123456789abcdef"[next_random() % 16];
            if (at2_seal007(codec, data, size, certificate, 32, issue_ts, salt, token, &token_size) != AT2_OK ||
                at2_decode007(codec, token + 3, token_size - 3, MAX_CONTENT, &content_size) != AT2_OK ||
                content_size != size || memcmp(codec->content, data, size) != 0 ||
                at2_verify007(codec->content + 2, 32, codec->content + AT2_SIGNATURE_HEAD,
                              size - AT2_SIGNATURE_HEAD, certificate, 32, issue_ts, salt) != 1)
                all_sealed = 0;
        }
    }
    check(all_back, "deflate then inflate gives every input back", "round trip");
    check(all_cuts, "every cut of a stream is refused", "round trip");
    check(all_trailing, "a stream with a trailing byte ends where it ends", "round trip");
    check(all_sealed, "seal then decode gives the content back, verified", "round trip");
}

#define BATCH_TOKENS 600
#define BATCH_CONTENT 120

static void test_pipeline(at2_codec *codec)
{
    static uint8_t contents[BATCH_TOKENS][BATCH_CONTENT];
    static char expected[BATCH_TOKENS][512];
    static size_t expected_size[BATCH_TOKENS];
    const uint8_t *certificate = (const uint8_t *)"5CFd2fd1755d40ecb72977518be15d3b";
    size_t token_bound = at2_token007_bound(BATCH_CONTENT), i, j, done = 0;
    at2_pipeline pipeline;
    int status, same = 1;

    for (i = 0; i < BATCH_TOKENS; i++) {
        uint8_t copy[BATCH_CONTENT];

        make_data(contents[i], BATCH_CONTENT);
        memcpy(copy, contents[i], BATCH_CONTENT);
        if (at2_seal007(codec, copy, BATCH_CONTENT, certificate, 32, 1111111, (uint32_t)i + 1, expected[i],
                        &expected_size[i]) != AT2_OK)
            same = 0;
    }
    if (at2_pipeline_init(&pipeline, 4) != AT2_OK) {
        check(0, "pipeline starts", "threads");
        return;
    }
    status = AT2_OK;
    for (i = 0; i < BATCH_TOKENS && status == AT2_OK; i += AT2_CHUNK_JOBS / 4) {
        size_t count = BATCH_TOKENS - i < AT2_CHUNK_JOBS / 4 ? BATCH_TOKENS - i : AT2_CHUNK_JOBS / 4;
        at2_chunk *chunk = (at2_chunk *)calloc(1, sizeof(at2_chunk));

        if (!chunk) {
            status = AT2_NO_MEMORY;
            break;
        }
        chunk->contents = (uint8_t *)malloc(count * BATCH_CONTENT);
        chunk->tokens = (char *)malloc(count * token_bound);
        if (!chunk->contents || !chunk->tokens) {
            free(chunk->contents);
            free(chunk->tokens);
            free(chunk);
            status = AT2_NO_MEMORY;
            break;
        }
        for (j = 0; j < count; j++) {
            at2_job *job = &chunk->jobs[j];

            memcpy(chunk->contents + j * BATCH_CONTENT, contents[i + j], BATCH_CONTENT);
            job->certificate = certificate;
            job->certificate_size = 32;
            job->issue_ts = 1111111;
            job->salt = (uint32_t)(i + j) + 1;
            job->content_offset = j * BATCH_CONTENT;
            job->content_size = BATCH_CONTENT;
            job->token_offset = j * token_bound;
        }
        chunk->count = count;
        status = at2_pipeline_publish(&pipeline, chunk);
    }
    if (at2_pipeline_finish(&pipeline, codec, status != AT2_OK) != AT2_OK || status != AT2_OK)
        same = 0;
    for (i = 0; i < pipeline.chunk_count && same; i++) {
        const at2_chunk *chunk = pipeline.chunks[i];

        for (j = 0; j < chunk->count; j++, done++) {
            const at2_job *job = &chunk->jobs[j];

            if (job->token_size != expected_size[done] ||
                memcmp(chunk->tokens + job->token_offset, expected[done], job->token_size) != 0)
                same = 0;
        }
    }
    check(same && done == BATCH_TOKENS, "the pipeline on 4 threads builds what one thread builds", "threads");
    at2_pipeline_release(&pipeline);
}

int main(void)
{
    at2_codec *codec;

    if (at2_thread_key_init() != AT2_OK || (codec = at2_thread_codec()) == NULL) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    printf("SHA-256: %s\n", at2_sha256_accelerated() ? "the CPU's SHA instructions" : "portable code");
    test_known_answers();
    test_vectors007(codec);
    test_vectors006();
    test_round_trips(codec);
    test_pipeline(codec);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
