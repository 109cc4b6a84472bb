/* A zlib-format (RFC 1950/1951) decoder for whole streams held in memory: token bodies.  It accepts exactly
 * the streams zlib's inflate accepts when given the whole input at once (window bits 15): incomplete and
 * over-subscribed codes, distances too far back, a wrong Adler-32 or a dictionary are refused as zlib refuses
 * them, and where it stops on a full output buffer is where zlib stops.  No allocation: every table lives on
 * the caller's stack, apart from the fixed codes, built once.  It never touches Python objects. */
#ifndef ACCESSTOKEN2_INFLATE_H
#define ACCESSTOKEN2_INFLATE_H

#include <stddef.h>
#include <stdint.h>

enum at2_inflate_status {
    AT2_INFLATE_END = 0,       /* the stream ended, its Adler-32 matched: *in_used is where it ended */
    AT2_INFLATE_BAD = 1,       /* what zlib calls a data error (Z_DATA_ERROR, or Z_NEED_DICT) */
    AT2_INFLATE_TRUNCATED = 2, /* the input ended inside the stream (zlib: Z_BUF_ERROR, more input wanted) */
    AT2_INFLATE_FULL = 3,      /* a byte had to be written and out had no room left (zlib: more output wanted) */
    AT2_INFLATE_FAILED = 4,    /* the fixed codes could not be built: never expected */
};

/* Inflates the zlib stream at in[0..in_size) into out (out_cap bytes); *out_size is what was written, whatever
 * the status, and *in_used the stream's length (AT2_INFLATE_END only: less than in_size means trailing data). */
int at2_inflate(const uint8_t *in, size_t in_size, uint8_t *out, size_t out_cap, size_t *out_size, size_t *in_used);

#endif
