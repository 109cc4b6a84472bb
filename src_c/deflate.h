/* A zlib-format (RFC 1950/1951) deflate encoder whose output is byte for byte that of zlib 1.2.x/1.3.x
 * compressing at level 6 with a 32 KiB window, memLevel 8 and the default strategy (Python's
 * zlib.compress(data, 6)), for any input of at most AT2_DEFLATE_MAX_INPUT bytes.  It never touches Python
 * objects and keeps no global mutable state apart from one lazily created state per thread. */
#ifndef ACCESSTOKEN2_DEFLATE_H
#define ACCESSTOKEN2_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

/* The largest input accepted: the whole of it fits zlib's 64 KiB window at once. */
#define AT2_DEFLATE_MAX_INPUT 65536

/* Statuses, numbered like at2_status's OK, NO_MEMORY and ZLIB_FAILED so callers can pass them on. */
enum at2_deflate_status {
    AT2_DEFLATE_OK = 0,
    AT2_DEFLATE_NO_MEMORY = 1,
    AT2_DEFLATE_FAILED = 2,       /* input larger than AT2_DEFLATE_MAX_INPUT, or output larger than out_cap */
};

typedef struct at2_deflater at2_deflater;

/* A new encoder state (about 200 KiB), or NULL when out of memory. */
at2_deflater *at2_deflater_new(void);

/* Frees a state made by at2_deflater_new (NULL is allowed). */
void at2_deflater_free(at2_deflater *state);

/* The longest output for size input bytes (zlib's compressBound formula). */
size_t at2_deflate_bound(size_t size);

/* Writes the zlib stream of in[0..in_size) to out (out_cap bytes) and its length to *out_size. */
int at2_deflate(at2_deflater *state, const uint8_t *in, size_t in_size, uint8_t *out, size_t out_cap,
                size_t *out_size);

/* at2_deflate with the calling thread's state, created on first use and freed when the thread ends. */
int at2_deflate_thread(const uint8_t *in, size_t in_size, uint8_t *out, size_t out_cap, size_t *out_size);

/* A test of the shortcut of deflate_floor.c: deflates in (output discarded) with the calling thread's state,
 * building every block's dynamic codes to compare their size with the floor; counts the blocks, those whose
 * floor was above that size (never expected: the floor must be a lower bound) and those it alone decided. */
int at2_deflate_audit(const uint8_t *in, size_t in_size, uint64_t *blocks, uint64_t *floor_above, uint64_t *decided);

#endif
