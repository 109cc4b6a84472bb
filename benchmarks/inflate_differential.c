/* Our inflate (src_c/inflate.c) against zlib's, stream for stream: see inflate_differential.py.
 *
 *   inflate_differential VALID CORRUPT SEED
 *
 * VALID streams come from zlib's deflate with every level, strategy, window size, memory level and a random
 * mix of flushes (so stored, fixed and dynamic blocks, empty blocks and sync points), and a few from our own
 * encoder (src_c/deflate.c).  Each must inflate to the data that went in, with the stream's length, on both.
 * CORRUPT streams are one valid stream each, changed: bits flipped, a byte overwritten, cut short, trailing
 * bytes added, the tail replaced by noise, or a zlib header followed by random bits (random dynamic headers:
 * over-subscribed and incomplete codes, bad repeats).  On each, both decoders must stop with the same verdict
 * (stream end, data error, input wanted, output full), the same bytes written and, at the end, the same
 * stream length.  The output room is random too (sometimes less than the stream holds).  zlib is given the
 * whole input and the whole output room in one inflate() call with window bits 15, as the token code uses it.
 * Prints counts; on the first disagreement, prints the stream in hex and exits 1. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "deflate.h"
#include "inflate.h"

#define MAX_DATA 40000
#define MAX_STREAM (MAX_DATA + MAX_DATA / 8 + 1024)
#define ROOM_MAX (MAX_DATA + 64)

enum verdict { END, BAD, TRUNCATED, FULL };
static const char *const verdict_names[] = {"end", "data error", "input wanted", "output full"};
static uint8_t ours[ROOM_MAX], theirs[ROOM_MAX]; /* the two decoders' output */
static size_t ours_written;

static uint64_t rng_state;

/* xorshift64*: reproducible from the seed on every platform */
static uint64_t next_random(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static size_t below(size_t limit)
{
    return limit ? (size_t)(next_random() % limit) : 0;
}

/* Test data of a random kind and size (mostly token-sized). */
static size_t make_data(uint8_t *data)
{
    size_t size, i, period, n;
    int kind = (int)below(6);
    unsigned alphabet = 1 + (unsigned)below(255);

    n = below(100);
    if (n == 0)
        size = below(MAX_DATA + 1);
    else if (n < 15)
        size = below(4097);
    else
        size = below(700);
    period = 1 + below(300);
    for (i = 0; i < size; i++) {
        switch (kind) {
        case 0: /* noise */
            data[i] = (uint8_t)next_random();
            break;
        case 1: /* a few symbols */
            data[i] = (uint8_t)('a' + below(alphabet % 12 + 1));
            break;
        case 2: /* runs */
            data[i] = (i && below(8)) ? data[i - 1] : (uint8_t)below(alphabet);
            break;
        case 3: /* periodic with noise: long matches, varied distances */
            data[i] = (i >= period && below(16)) ? data[i - period] : (uint8_t)next_random();
            break;
        case 4: /* skewed: every literal code length */
            data[i] = (uint8_t)(below(alphabet) * below(alphabet) / (alphabet ? alphabet : 1));
            break;
        default: /* token-like: hex text, small integers, zeros */
            data[i] = below(3) ? (uint8_t)"0123456789abcdef"[below(16)] : (uint8_t)below(4);
        }
    }
    return size;
}

/* zlib streams kept per (window bits, memory level): deflateReset is far cheaper than deflateInit2 */
static z_stream encoders[8][9];
static int encoder_ready[8][9];

/* Compresses data with random zlib settings and flushes; the stream's size, or 0 on a zlib failure. */
static size_t zlib_compress(const uint8_t *data, size_t size, uint8_t *out, size_t cap)
{
    static const int strategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED};
    static const int flushes[] = {Z_NO_FLUSH, Z_SYNC_FLUSH, Z_FULL_FLUSH, Z_PARTIAL_FLUSH, Z_BLOCK};
    int bits = (int)below(8), memory = (int)below(9);
    z_stream *stream = &encoders[bits][memory];
    size_t done = 0;
    int result;

    if (!encoder_ready[bits][memory]) {
        memset(stream, 0, sizeof(*stream));
        /* window bits 8 is 9 to zlib's deflate; every header window size 9..15 still occurs */
        if (deflateInit2(stream, 6, Z_DEFLATED, 8 + bits, 1 + memory, Z_DEFAULT_STRATEGY) != Z_OK)
            return 0;
        encoder_ready[bits][memory] = 1;
    } else if (deflateReset(stream) != Z_OK)
        return 0;
    if (deflateParams(stream, (int)below(10), strategies[below(5)]) != Z_OK)
        return 0;
    stream->next_out = out;
    stream->avail_out = (uInt)cap;
    do {
        size_t piece = below(4) ? size - done : below(size - done + 1);
        int flush = done + piece == size ? Z_FINISH : flushes[below(5)];

        stream->next_in = (Bytef *)(data + done);
        stream->avail_in = (uInt)piece;
        result = deflate(stream, flush);
        if (result != Z_OK && result != Z_STREAM_END && result != Z_BUF_ERROR)
            return 0;
        done += piece - stream->avail_in;
    } while (result != Z_STREAM_END);
    return cap - stream->avail_out;
}

/* zlib's inflate over the whole input in one call */
static int zlib_inflate(const uint8_t *in, size_t size, uint8_t *out, size_t room, size_t *written, size_t *used)
{
    z_stream stream;
    int result, verdict;

    memset(&stream, 0, sizeof(stream));
    if (inflateInit(&stream) != Z_OK) {
        fprintf(stderr, "inflateInit failed\n");
        exit(2);
    }
    stream.next_in = (Bytef *)in;
    stream.avail_in = (uInt)size;
    stream.next_out = out;
    stream.avail_out = (uInt)room;
    result = inflate(&stream, Z_SYNC_FLUSH);
    *written = room - stream.avail_out;
    *used = size - stream.avail_in;
    if (result == Z_STREAM_END)
        verdict = END;
    else if (result == Z_DATA_ERROR || result == Z_NEED_DICT)
        verdict = BAD;
    else if (result == Z_OK || result == Z_BUF_ERROR)
        /* zlib stopped for want of input or of room: with room left it wanted input */
        verdict = stream.avail_out == 0 ? FULL : TRUNCATED;
    else {
        fprintf(stderr, "zlib inflate returned %d\n", result);
        exit(2);
    }
    inflateEnd(&stream);
    return verdict;
}

static void print_hex(const char *label, const uint8_t *data, size_t size)
{
    size_t i;

    fprintf(stderr, "%s (%zu bytes): ", label, size);
    for (i = 0; i < size; i++)
        fprintf(stderr, "%02x", data[i]);
    fprintf(stderr, "\n");
}

/* Runs both decoders on the stream; 0 when they agree (an ours-FULL/zlib-TRUNCATED tie at a full output is
 * the same state: both stopped with no room and no input left), else 1 after printing the case. */
static int compare(const uint8_t *stream, size_t size, size_t room, long counts[4], const char *what)
{
    size_t ours_used, theirs_written, theirs_used;
    int ours_verdict = at2_inflate(stream, size, ours, room, &ours_written, &ours_used);
    int theirs_verdict = zlib_inflate(stream, size, theirs, room, &theirs_written, &theirs_used);

    if (ours_verdict == AT2_INFLATE_FAILED) {
        fprintf(stderr, "at2_inflate could not build its fixed codes\n");
        exit(2);
    }
    /* zlib reports a full output whenever no room is left, even when it ran out of input there too */
    if (theirs_verdict == FULL && ours_verdict == TRUNCATED && ours_written == room)
        ours_verdict = FULL;
    counts[ours_verdict]++;
    if (ours_verdict == theirs_verdict && ours_written == theirs_written &&
        memcmp(ours, theirs, ours_written) == 0 && (ours_verdict != END || ours_used == theirs_used))
        return 0;
    fprintf(stderr, "MISMATCH on a %s stream (room %zu): ours %s, %zu bytes out, %zu in; zlib %s, %zu out, %zu in\n",
            what, room, verdict_names[ours_verdict], ours_written, ours_used, verdict_names[theirs_verdict],
            theirs_written, theirs_used);
    print_hex("stream", stream, size);
    return 1;
}

/* Changes a valid stream into a corrupt or truncated one of at most MAX_STREAM bytes; its new size. */
static size_t corrupt(uint8_t *stream, size_t size)
{
    size_t i, at, flips;

    switch (below(7)) {
    case 0: /* flip 1-3 bits */
        flips = 1 + below(3);
        for (i = 0; i < flips && size; i++)
            stream[below(size)] ^= (uint8_t)(1u << below(8));
        return size;
    case 1: /* overwrite a byte */
        if (size)
            stream[below(size)] = (uint8_t)next_random();
        return size;
    case 2: /* cut short */
        return below(size);
    case 3: /* trailing bytes */
        flips = 1 + below(8);
        for (i = 0; i < flips; i++)
            stream[size + i] = (uint8_t)next_random();
        return size + flips;
    case 4: /* the tail replaced by noise */
        at = below(size + 1);
        for (i = at; i < size; i++)
            stream[i] = (uint8_t)next_random();
        return size;
    case 5: /* a bit flipped near the start, where the block headers are */
        if (size > 2)
            stream[2 + below(size < 40 ? size - 2 : 38)] ^= (uint8_t)(1u << below(8));
        return size;
    default: /* a zlib header, then random bits: first block dynamic, often final */
        at = 2 + below(300);
        stream[0] = 0x78;
        stream[1] = 0x01;
        for (i = 2; i < at; i++)
            stream[i] = (uint8_t)next_random();
        stream[2] = (uint8_t)((stream[2] & ~6u) | 4u);
        return at;
    }
}

int main(int argc, char **argv)
{
    static uint8_t data[MAX_DATA], stream[MAX_STREAM + 16];
    long valid, wrong, n, valid_counts[4] = {0}, corrupt_counts[4] = {0};
    size_t data_size, size, room;

    if (argc != 4) {
        fprintf(stderr, "usage: %s VALID CORRUPT SEED\n", argv[0]);
        return 2;
    }
    valid = atol(argv[1]);
    wrong = atol(argv[2]);
    rng_state = (uint64_t)strtoull(argv[3], NULL, 10) * 0x9E3779B97F4A7C15ull + 1;
    for (n = 0; n < (valid > wrong ? valid : wrong); n++) {
        data_size = make_data(data);
        if (below(10) == 0 && data_size <= AT2_DEFLATE_MAX_INPUT) {
            if (at2_deflate_thread(data, data_size, stream, MAX_STREAM, &size) != AT2_DEFLATE_OK) {
                fprintf(stderr, "at2_deflate failed\n");
                return 2;
            }
        } else if ((size = zlib_compress(data, data_size, stream, MAX_STREAM)) == 0) {
            fprintf(stderr, "zlib deflate failed\n");
            return 2;
        }
        if (n < valid) {
            if (compare(stream, size, ROOM_MAX, valid_counts, "valid"))
                return 1;
            if (valid_counts[END] != n + 1) {
                fprintf(stderr, "a valid stream did not decode to its end\n");
                return 1;
            }
            if (ours_written != data_size || memcmp(ours, data, data_size) != 0) {
                fprintf(stderr, "a valid stream decoded to other bytes than went in\n");
                return 1;
            }
        }
        if (n < wrong) {
            size = corrupt(stream, size);
            /* mostly room for anything, sometimes less than the data */
            room = below(4) ? ROOM_MAX : below(data_size + 16);
            if (room > ROOM_MAX)
                room = ROOM_MAX;
            if (compare(stream, size, room, corrupt_counts, "corrupt"))
                return 1;
        }
    }
    printf("valid streams:   %ld, every one decoded to its end identically\n", valid);
    printf("corrupt streams: %ld, the same verdict, bytes out and length in on each: %ld end, %ld data error, "
           "%ld input wanted, %ld output full\n",
           wrong, corrupt_counts[END], corrupt_counts[BAD], corrupt_counts[TRUNCATED], corrupt_counts[FULL]);
    return 0;
}
