/* SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104): no global state, safe from any thread. */
#ifndef ACCESSTOKEN2_SHA256_H
#define ACCESSTOKEN2_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define AT2_SHA256_BLOCK 64
#define AT2_SHA256_DIGEST 32

typedef struct {
    uint32_t state[8];
    uint64_t total;             /* bytes hashed so far */
    size_t used;                /* bytes waiting in block */
    uint8_t block[AT2_SHA256_BLOCK];
} at2_sha256;

/* 1 when the CPU's SHA instructions are used (x86 SHA extensions, or ARMv8 SHA-2 where the OS says the CPU
 * has them), else 0; ACCESSTOKEN2_PORTABLE_SHA256 set in the environment forces the portable code. */
int at2_sha256_accelerated(void);

/* Starts a SHA-256 hash. */
void at2_sha256_init(at2_sha256 *ctx);
/* Feeds size bytes to the hash. */
void at2_sha256_update(at2_sha256 *ctx, const uint8_t *data, size_t size);
/* Writes the digest (the context is spent). */
void at2_sha256_final(at2_sha256 *ctx, uint8_t digest[AT2_SHA256_DIGEST]);

/* HMAC keyed once, then fed in pieces: inner holds H(K ^ ipad || ...), outer H(K ^ opad). */
typedef struct {
    at2_sha256 inner;
    at2_sha256 outer;
} at2_hmac;

/* Starts an HMAC-SHA256 with this key (any size). */
void at2_hmac_init(at2_hmac *ctx, const uint8_t *key, size_t key_size);
/* Feeds size bytes of the message. */
void at2_hmac_update(at2_hmac *ctx, const uint8_t *data, size_t size);
/* Writes the MAC (the context is spent). */
void at2_hmac_final(at2_hmac *ctx, uint8_t mac[AT2_SHA256_DIGEST]);

/* HMAC-SHA256 of msg under key, in one call. */
void at2_hmac_sha256(const uint8_t *key, size_t key_size, const uint8_t *msg, size_t msg_size,
                     uint8_t mac[AT2_SHA256_DIGEST]);

#endif
