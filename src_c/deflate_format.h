/* What deflate.c and deflate_floor.c both know of the deflate format (RFC 1951): the alphabets, the
 * code-length code's symbols and the order a dynamic header lists that code's lengths in, zlib's way of
 * coding a run of zero lengths, and the bit helpers both use. */
#ifndef ACCESSTOKEN2_DEFLATE_FORMAT_H
#define ACCESSTOKEN2_DEFLATE_FORMAT_H

#include <stdint.h>

/* for the few helpers on the per-symbol path */
#if defined(__GNUC__) || defined(__clang__)
#define HOT_INLINE static inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define HOT_INLINE static __forceinline
#else
#define HOT_INLINE static inline
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif

#define LITERALS 256
#define END_OF_BLOCK 256
#define LENGTH_CODES 29
#define LITLEN_CODES (LITERALS + 1 + LENGTH_CODES)
#define LITLEN_WORDS ((LITLEN_CODES + 63) / 64) /* 64-bit words of a bitmap over the literal/length symbols */
#define DISTANCE_CODES 30
#define LENGTH_CODE_CODES 19
#define MAX_CODE_BITS 15
#define MAX_LENGTH_CODE_BITS 7
#define REPEAT_PREVIOUS 16  /* 3-6 copies of the previous length, 2 extra bits */
#define REPEAT_ZERO 17      /* 3-10 zeros, 3 extra bits */
#define REPEAT_ZERO_LONG 18 /* 11-138 zeros, 7 extra bits */

/* the order in which a dynamic header lists the code-length code's lengths (RFC 1951 3.2.7) */
static const uint8_t length_code_order[LENGTH_CODE_CODES] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                             11, 4,  12, 3, 13, 2, 14, 1, 15};

/* The next piece of a run of *zeros zero lengths as zlib codes it (at most 138 at a time): returns the
 * code-length symbol (17 for 3-10 zeros, 18 for 11-138, 0 for one or two sent as they are) and the piece's
 * size in *piece, and takes the piece off *zeros. */
HOT_INLINE int zero_piece(int *zeros, int *piece)
{
    *piece = *zeros < 138 ? *zeros : 138;
    *zeros -= *piece;
    return *piece < 3 ? 0 : *piece <= 10 ? REPEAT_ZERO : REPEAT_ZERO_LONG;
}

/* index of the lowest set bit of a nonzero word */
HOT_INLINE int lowest_bit(uint64_t word)
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctzll(word);
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_ARM64))
    unsigned long index;

    _BitScanForward64(&index, word);
    return (int)index;
#elif defined(_MSC_VER)
    unsigned long index;

    if (_BitScanForward(&index, (unsigned long)word))
        return (int)index;
    _BitScanForward(&index, (unsigned long)(word >> 32));
    return 32 + (int)index;
#else
    int index = 0;

    while (!(word & 1)) {
        word >>= 1;
        index++;
    }
    return index;
#endif
}

/* zero bits above the highest set bit of a nonzero word */
HOT_INLINE int leading_zeros(uint64_t word)
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_clzll(word);
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_ARM64))
    unsigned long index;

    _BitScanReverse64(&index, word);
    return 63 - (int)index;
#elif defined(_MSC_VER)
    unsigned long index;

    if (_BitScanReverse(&index, (unsigned long)(word >> 32)))
        return 31 - (int)index;
    _BitScanReverse(&index, (unsigned long)word);
    return 63 - (int)index;
#else
    int count = 0;

    while (!(word >> 63)) {
        word <<= 1;
        count++;
    }
    return count;
#endif
}

/* set bits of a word (arithmetic: without a target that has a popcount instruction, compilers call a
 * slower library function for __builtin_popcountll) */
HOT_INLINE int count_bits(uint64_t word)
{
    word -= (word >> 1) & 0x5555555555555555ull;
    word = (word & 0x3333333333333333ull) + ((word >> 2) & 0x3333333333333333ull);
    word = (word + (word >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (int)((word * 0x0101010101010101ull) >> 56);
}

#endif
