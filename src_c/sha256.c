/* SHA-256 and HMAC-SHA256, written from FIPS 180-4 and RFC 2104. */
#include "sha256.h"

#include <stdlib.h>
#include <string.h>

#include "threads.h"

static const uint32_t ROUND_CONSTANTS[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t INITIAL_STATE[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void compress_block_portable(uint32_t state[8], const uint8_t *block)
{
    uint32_t w[64];
    uint32_t a, b, c, d, e, f, g, h;
    int i;

    for (i = 0; i < 16; i++) {
        w[i] = ((uint32_t)block[4 * i] << 24) | ((uint32_t)block[4 * i + 1] << 16) |
               ((uint32_t)block[4 * i + 2] << 8) | (uint32_t)block[4 * i + 3];
    }
    for (i = 16; i < 64; i++) {
        uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = state[0]; b = state[1]; c = state[2]; d = state[3];
    e = state[4]; f = state[5]; g = state[6]; h = state[7];
    for (i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + ROUND_CONSTANTS[i] + w[i];
        uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    state[0] += a; state[1] += b; state[2] += c; state[3] += d;
    state[4] += e; state[5] += f; state[6] += g; state[7] += h;
}

/* ---- x86: the SHA extensions (SHA-NI), GCC, clang or MSVC ---- */
#if (defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))) || (defined(_MSC_VER) && defined(_M_X64))
#define HAVE_SHA_X86 1
#include <immintrin.h>
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#define TARGET_SHA_X86 /* MSVC compiles any intrinsic without a target attribute */
#else
#include <cpuid.h>
#define TARGET_SHA_X86 __attribute__((target("sha,sse4.1,ssse3")))
#endif

/* One block with the x86 SHA extensions.  The rounds instruction wants the state as two halves,
 * ABEF and CDGH (lane 3 first), and does two rounds per call on two words of message + constant. */
TARGET_SHA_X86
static void compress_block_x86(uint32_t state[8], const uint8_t *block)
{
    const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i abcd = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i efgh = _mm_loadu_si128((const __m128i *)&state[4]);
    __m128i badc = _mm_shuffle_epi32(abcd, 0xB1);
    __m128i hgfe = _mm_shuffle_epi32(efgh, 0x1B);
    __m128i abef = _mm_alignr_epi8(badc, hgfe, 8);
    __m128i cdgh = _mm_blend_epi16(hgfe, badc, 0xF0);
    __m128i abef_start = abef, cdgh_start = cdgh;
    __m128i words[4];
    int group;

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 16
#endif
    for (group = 0; group < 16; group++) {
        __m128i w, sum;
        if (group < 4) {
            w = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 16 * group)), byte_swap);
        } else {
            /* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], four at a time */
            __m128i older = _mm_sha256msg1_epu32(words[group % 4], words[(group + 1) % 4]);
            older = _mm_add_epi32(older, _mm_alignr_epi8(words[(group + 3) % 4], words[(group + 2) % 4], 4));
            w = _mm_sha256msg2_epu32(older, words[(group + 3) % 4]);
        }
        words[group % 4] = w;
        sum = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&ROUND_CONSTANTS[4 * group]));
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, sum);
        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(sum, 0x0E));
    }
    abef = _mm_add_epi32(abef, abef_start);
    cdgh = _mm_add_epi32(cdgh, cdgh_start);
    /* back to ABCD and EFGH */
    {
        __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
        __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
        _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xF0));
        _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
    }
}

/* CPUID leaf 1 ECX: SSSE3 (bit 9), SSE4.1 (bit 19); leaf 7 subleaf 0 EBX: SHA (bit 29) */
static int cpu_has_sha_x86(void)
{
    unsigned ecx1, ebx7;
#if defined(_MSC_VER) && !defined(__clang__)
    int info[4];

    __cpuid(info, 0);
    if (info[0] < 7)
        return 0;
    __cpuid(info, 1);
    ecx1 = (unsigned)info[2];
    __cpuidex(info, 7, 0);
    ebx7 = (unsigned)info[1];
#else
    unsigned eax, ebx, ecx7, edx;

    if (!__get_cpuid(1, &eax, &ebx, &ecx1, &edx))
        return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx7, &ecx7, &edx))
        return 0;
#endif
    return ((ecx1 >> 9) & 1) && ((ecx1 >> 19) & 1) && ((ebx7 >> 29) & 1);
}
#endif

/* ---- ARMv8: the SHA-2 instructions, GCC, clang or MSVC ---- */
#if defined(__aarch64__) || defined(_M_ARM64)
#define HAVE_SHA_ARM 1
#include <arm_neon.h>
#if defined(__clang__)
#define TARGET_SHA_ARM __attribute__((target("crypto")))
#elif defined(__GNUC__)
#define TARGET_SHA_ARM __attribute__((target("+crypto")))
#else
#define TARGET_SHA_ARM
#endif
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_SHA2
#define HWCAP_SHA2 (1 << 6) /* the kernel's bit for the SHA-256 instructions */
#endif
#endif

/* One block with the ARMv8 SHA-2 instructions: four rounds per sha256h/sha256h2 pair, the message
 * schedule four words at a time (sha256su0, sha256su1). */
TARGET_SHA_ARM
static void compress_block_arm(uint32_t state[8], const uint8_t *block)
{
    uint32x4_t abcd = vld1q_u32(&state[0]);
    uint32x4_t efgh = vld1q_u32(&state[4]);
    uint32x4_t abcd_start = abcd, efgh_start = efgh;
    uint32x4_t words[4];
    int group;

    for (group = 0; group < 4; group++) /* the block's words are big-endian */
        words[group] = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(block + 16 * group)));
    for (group = 0; group < 16; group++) {
        uint32x4_t sum = vaddq_u32(words[group % 4], vld1q_u32(&ROUND_CONSTANTS[4 * group]));
        uint32x4_t abcd_before = abcd;

        if (group < 12) /* W[t..t+3] for group + 4, from the four groups before it */
            words[group % 4] = vsha256su1q_u32(vsha256su0q_u32(words[group % 4], words[(group + 1) % 4]),
                                               words[(group + 2) % 4], words[(group + 3) % 4]);
        abcd = vsha256hq_u32(abcd, efgh, sum);
        efgh = vsha256h2q_u32(efgh, abcd_before, sum);
    }
    vst1q_u32(&state[0], vaddq_u32(abcd, abcd_start));
    vst1q_u32(&state[4], vaddq_u32(efgh, efgh_start));
}

static int cpu_has_sha_arm(void)
{
#if defined(__APPLE__)
    return 1; /* every Apple arm64 CPU has them */
#elif defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_SHA2) != 0;
#elif defined(_WIN32)
    return IsProcessorFeaturePresent(PF_ARM_V8_CRYPTO_INSTRUCTIONS_AVAILABLE) != 0;
#elif defined(__ARM_FEATURE_SHA2) || defined(__ARM_FEATURE_CRYPTO)
    return 1; /* the compiler was told the target has them */
#else
    return 0;
#endif
}
#endif

/* 1: the CPU's SHA instructions, 0: portable code, -1: not decided yet (every thread decides the same) */
static volatile int use_sha_extensions = -1;

int at2_sha256_accelerated(void)
{
    int use = at2_atomic_load_relaxed(&use_sha_extensions);

    if (use < 0) {
        use = 0;
        if (!getenv("ACCESSTOKEN2_PORTABLE_SHA256")) {
#if defined(HAVE_SHA_X86)
            use = cpu_has_sha_x86();
#elif defined(HAVE_SHA_ARM)
            use = cpu_has_sha_arm();
#endif
        }
        at2_atomic_store_relaxed(&use_sha_extensions, use);
    }
    return use;
}

static void compress_block(uint32_t state[8], const uint8_t *block)
{
#if defined(HAVE_SHA_X86)
    if (at2_sha256_accelerated()) {
        compress_block_x86(state, block);
        return;
    }
#elif defined(HAVE_SHA_ARM)
    if (at2_sha256_accelerated()) {
        compress_block_arm(state, block);
        return;
    }
#endif
    compress_block_portable(state, block);
}

void at2_sha256_init(at2_sha256 *ctx)
{
    memcpy(ctx->state, INITIAL_STATE, sizeof(INITIAL_STATE));
    ctx->total = 0;
    ctx->used = 0;
}

void at2_sha256_update(at2_sha256 *ctx, const uint8_t *data, size_t size)
{
    ctx->total += size;
    if (ctx->used) {
        size_t room = AT2_SHA256_BLOCK - ctx->used;
        size_t take = size < room ? size : room;
        memcpy(ctx->block + ctx->used, data, take);
        ctx->used += take;
        data += take;
        size -= take;
        if (ctx->used < AT2_SHA256_BLOCK)
            return;
        compress_block(ctx->state, ctx->block);
        ctx->used = 0;
    }
    while (size >= AT2_SHA256_BLOCK) {
        compress_block(ctx->state, data);
        data += AT2_SHA256_BLOCK;
        size -= AT2_SHA256_BLOCK;
    }
    if (size) {
        memcpy(ctx->block, data, size);
        ctx->used = size;
    }
}

void at2_sha256_final(at2_sha256 *ctx, uint8_t digest[AT2_SHA256_DIGEST])
{
    uint64_t bits = ctx->total * 8;
    int i;

    ctx->block[ctx->used++] = 0x80;
    if (ctx->used > AT2_SHA256_BLOCK - 8) {
        memset(ctx->block + ctx->used, 0, AT2_SHA256_BLOCK - ctx->used);
        compress_block(ctx->state, ctx->block);
        ctx->used = 0;
    }
    memset(ctx->block + ctx->used, 0, AT2_SHA256_BLOCK - 8 - ctx->used);
    for (i = 0; i < 8; i++)
        ctx->block[AT2_SHA256_BLOCK - 1 - i] = (uint8_t)(bits >> (8 * i));
    compress_block(ctx->state, ctx->block);
    for (i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(ctx->state[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(ctx->state[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(ctx->state[i] >> 8);
        digest[4 * i + 3] = (uint8_t)ctx->state[i];
    }
}

void at2_hmac_init(at2_hmac *ctx, const uint8_t *key, size_t key_size)
{
    uint8_t pad[AT2_SHA256_BLOCK];
    uint8_t hashed_key[AT2_SHA256_DIGEST];
    size_t i;

    if (key_size > AT2_SHA256_BLOCK) {
        at2_sha256_init(&ctx->inner);
        at2_sha256_update(&ctx->inner, key, key_size);
        at2_sha256_final(&ctx->inner, hashed_key);
        key = hashed_key;
        key_size = AT2_SHA256_DIGEST;
    }
    memset(pad, 0x36, sizeof(pad));
    for (i = 0; i < key_size; i++)
        pad[i] ^= key[i];
    at2_sha256_init(&ctx->inner);
    at2_sha256_update(&ctx->inner, pad, sizeof(pad));
    /* 0x36 ^ 0x5c turns each ipad byte into the opad byte */
    for (i = 0; i < sizeof(pad); i++)
        pad[i] ^= 0x36 ^ 0x5c;
    at2_sha256_init(&ctx->outer);
    at2_sha256_update(&ctx->outer, pad, sizeof(pad));
    memset(pad, 0, sizeof(pad));
    memset(hashed_key, 0, sizeof(hashed_key));
}

void at2_hmac_update(at2_hmac *ctx, const uint8_t *data, size_t size)
{
    at2_sha256_update(&ctx->inner, data, size);
}

void at2_hmac_final(at2_hmac *ctx, uint8_t mac[AT2_SHA256_DIGEST])
{
    uint8_t inner_digest[AT2_SHA256_DIGEST];

    at2_sha256_final(&ctx->inner, inner_digest);
    at2_sha256_update(&ctx->outer, inner_digest, sizeof(inner_digest));
    at2_sha256_final(&ctx->outer, mac);
}

void at2_hmac_sha256(const uint8_t *key, size_t key_size, const uint8_t *msg, size_t msg_size,
                     uint8_t mac[AT2_SHA256_DIGEST])
{
    at2_hmac ctx;

    at2_hmac_init(&ctx, key, key_size);
    at2_hmac_update(&ctx, msg, msg_size);
    at2_hmac_final(&ctx, mac);
}
