/* Inflate for whole zlib streams in memory (RFC 1950/1951), with zlib's verdict on every stream.
 *
 * What has to agree with zlib's inflate (window bits 15, the whole input in one call), and where it lives:
 *  - which codes are refused (build_code): over-subscribed ones always; incomplete ones except a lone code of
 *    one bit in the literal/length or distance code; a code with no symbols at all is accepted, and each of
 *    its one-bit patterns then decodes as an invalid symbol (as a zero length in the code-length code);
 *  - when a truncated input wins over a data error: every piece of the stream is read whole before it is
 *    judged, so a stream cut inside a piece is "truncated" whatever the piece would have said;
 *  - where a full output stops decoding (AT2_INFLATE_FULL): only when a byte must be written, so block
 *    headers, end-of-block codes and the Adler-32 after the last byte are still read and judged; a match is
 *    checked against the distance back only when there is room for its first byte.
 * Bits are read least significant first from a 64-bit buffer filled a byte at a time from little-endian
 * positions; past the end of the input it is filled with zeros, and the input counts as truncated as soon as
 * more bits have been consumed than it has. */
#include "inflate.h"

#include <string.h>

#include "threads.h"

#define MAX_BITS 15                     /* longest code */
#define LITLEN_SYMBOLS 288              /* the fixed code's alphabet; a dynamic one has at most 286 */
#define DYNAMIC_LITLEN_MAX 286
#define DISTANCE_SYMBOLS 32             /* the fixed code's alphabet; a dynamic one has at most 30 */
#define DYNAMIC_DISTANCE_MAX 30
#define CODE_LENGTH_SYMBOLS 19
#define END_BLOCK 256
#define INVALID_SYMBOL 511              /* what a pattern outside an incomplete code decodes to */
#define ENTRY_SYMBOL_BITS 9             /* a fast entry: length << 9 | symbol; 0 means "longer than fast" */
#define FAST_BITS 9                     /* the table's index bits, for every code */
#define FAST_MASK ((1u << FAST_BITS) - 1)

typedef struct {
    uint16_t fast[1 << FAST_BITS];      /* indexed by the next FAST_BITS input bits */
    uint16_t count[MAX_BITS + 1];       /* codes of each length */
    uint16_t symbol[LITLEN_SYMBOLS];    /* symbols in canonical order */
} huffman;

typedef struct {
    const uint8_t *in;
    size_t size;
    size_t next;                        /* input positions loaded so far, those past the end included */
    uint64_t hold;                      /* loaded bits not consumed yet, least significant first */
    unsigned count;                     /* how many */
} bit_reader;

static const uint16_t length_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                         31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t length_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                         2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t distance_base[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,
                                           33,  49,  65,  97,  129, 193,  257,  385,  513,  769,
                                           1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t distance_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                           6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
/* the order a dynamic header lists the code-length code's lengths in */
static const uint8_t code_length_order[CODE_LENGTH_SYMBOLS] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                              11, 4,  12, 3, 13, 2, 14, 1, 15};

/* ---- bits ---- */

/* Loads bytes until at least 56 bits are held (zeros past the end of the input). */
static inline void refill_inside(bit_reader *br);

static inline void refill(bit_reader *br)
{
    if (br->next + 8 <= br->size) {
        refill_inside(br);
        return;
    }
    while (br->count <= 56) {
        br->hold |= (uint64_t)(br->next < br->size ? br->in[br->next] : 0) << br->count;
        br->next++;
        br->count += 8;
    }
}

/* Loads the next 8 input bytes whole (the caller knows they are there): at least 56 bits held. */
static inline void refill_inside(bit_reader *br)
{
    const uint8_t *p = br->in + br->next;
    uint64_t word = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
                    (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;

    br->hold |= word << br->count;
    br->next += (63 - br->count) >> 3;
    br->count |= 56;
}

/* Takes n bits (n <= count) off the reader. */
static inline uint32_t take(bit_reader *br, unsigned n)
{
    uint32_t value = (uint32_t)(br->hold & ((1ull << n) - 1));

    br->hold >>= n;
    br->count -= n;
    return value;
}

/* 1 when more bits have been consumed than the input has */
static inline int overrun(const bit_reader *br)
{
    /* nothing past the end is loaded as long as next has not passed it */
    return br->next > br->size && (uint64_t)br->next * 8 - br->count > (uint64_t)br->size * 8;
}

/* The input position of the next unconsumed byte, once the reader is at a byte boundary. */
static inline size_t byte_position(const bit_reader *br)
{
    return br->next - br->count / 8;
}

/* ---- codes ---- */

/* Builds the decoder of the code with these lengths; 0, or -1 for a code zlib refuses (see the file's head).
 * code_lengths: the code-length code, for which zlib allows no incomplete code and whose empty code decodes
 * to zero lengths. */
static int build_code(huffman *h, const uint8_t *lengths, unsigned n, int code_lengths)
{
    uint16_t offsets[MAX_BITS + 2];
    unsigned len, sym, max = 0, code, k, i, step, fill, size = 1u << FAST_BITS;
    int left = 1;

    memset(h->count, 0, sizeof(h->count));
    for (sym = 0; sym < n; sym++)
        h->count[lengths[sym]]++;
    h->count[0] = 0;
    for (len = 1; len <= MAX_BITS; len++) {
        left = 2 * left - h->count[len];
        if (left < 0)
            return -1; /* over-subscribed */
        if (h->count[len])
            max = len;
    }
    if (max == 0) {
        /* zlib: no symbols, but each one-bit pattern still decodes, to an error or, here, a zero length */
        uint16_t entry = (uint16_t)(1u << ENTRY_SYMBOL_BITS | (code_lengths ? 0u : INVALID_SYMBOL));

        for (i = 0; i < size; i++)
            h->fast[i] = entry;
        return 0;
    }
    if (left > 0 && (code_lengths || max != 1))
        return -1; /* incomplete */
    memset(h->fast, 0, size * sizeof(h->fast[0]));
    offsets[1] = 0;
    for (len = 1; len <= MAX_BITS; len++)
        offsets[len + 1] = (uint16_t)(offsets[len] + h->count[len]);
    for (sym = 0; sym < n; sym++)
        if (lengths[sym])
            h->symbol[offsets[lengths[sym]]++] = (uint16_t)sym;
    /* canonical codes, shortest first; a code is sent most significant bit first, so the table is indexed
     * by its bits reversed */
    code = 0;
    k = 0;
    for (len = 1; len <= FAST_BITS; len++) {
        for (i = 0; i < h->count[len]; i++, code++, k++) {
            unsigned reversed = 0, bit;

            for (bit = 0; bit < len; bit++)
                reversed |= ((code >> bit) & 1u) << (len - 1 - bit);
            step = 1u << len;
            for (fill = reversed; fill < size; fill += step)
                h->fast[fill] = (uint16_t)(len << ENTRY_SYMBOL_BITS | h->symbol[k]);
        }
        code <<= 1;
    }
    if (left > 0) /* the lone one-bit code is 0: pattern 1 decodes to an error */
        for (fill = 1; fill < size; fill += 2)
            h->fast[fill] = (uint16_t)(1u << ENTRY_SYMBOL_BITS | INVALID_SYMBOL);
    return 0;
}

/* Decodes one symbol (INVALID_SYMBOL for a pattern outside the code); the reader holds at least 15 bits. */
static inline unsigned decode(bit_reader *br, const huffman *h)
{
    unsigned entry = h->fast[br->hold & FAST_MASK];
    unsigned len, code = 0, first = 0, index = 0;

    if (entry) {
        take(br, entry >> ENTRY_SYMBOL_BITS);
        return entry & INVALID_SYMBOL;
    }
    /* a code longer than the fast bits: canonical decoding, a bit at a time */
    for (len = 1; len <= MAX_BITS; len++) {
        code |= (unsigned)(br->hold >> (len - 1)) & 1u;
        if (code - first < h->count[len]) {
            take(br, len);
            return h->symbol[index + code - first];
        }
        index += h->count[len];
        first = (first + h->count[len]) << 1;
        code <<= 1;
    }
    return INVALID_SYMBOL; /* not reached: only complete codes have codes longer than the fast bits */
}

/* ---- the fixed codes ---- */

static huffman fixed_litlen, fixed_distance;
static at2_once fixed_once = AT2_ONCE_INIT;
static volatile int fixed_ready;

static void build_fixed(void)
{
    uint8_t lengths[LITLEN_SYMBOLS];
    unsigned sym;

    for (sym = 0; sym < LITLEN_SYMBOLS; sym++)
        lengths[sym] = (uint8_t)(sym < 144 ? 8 : sym < 256 ? 9 : sym < 280 ? 7 : 8);
    if (build_code(&fixed_litlen, lengths, LITLEN_SYMBOLS, 0) != 0)
        return;
    for (sym = 0; sym < DISTANCE_SYMBOLS; sym++)
        lengths[sym] = 5;
    if (build_code(&fixed_distance, lengths, DISTANCE_SYMBOLS, 0) != 0)
        return;
    fixed_ready = 1;
}

/* ---- blocks ---- */

/* Reads a dynamic block's header into its two codes: AT2_INFLATE_END (meaning "read"), BAD or TRUNCATED. */
static int read_dynamic_codes(bit_reader *br, huffman *litlen, huffman *distance)
{
    uint8_t lengths[DYNAMIC_LITLEN_MAX + DYNAMIC_DISTANCE_MAX];
    uint8_t code_length_lengths[CODE_LENGTH_SYMBOLS];
    huffman *code_lengths = distance; /* the distance code is built last: its space serves until then */
    unsigned nlen, ndist, ncode, i, total;

    refill(br);
    nlen = 257 + take(br, 5);
    ndist = 1 + take(br, 5);
    ncode = 4 + take(br, 4);
    if (overrun(br))
        return AT2_INFLATE_TRUNCATED;
    if (nlen > DYNAMIC_LITLEN_MAX || ndist > DYNAMIC_DISTANCE_MAX)
        return AT2_INFLATE_BAD;
    memset(code_length_lengths, 0, sizeof(code_length_lengths));
    for (i = 0; i < ncode; i++) {
        if (i % 16 == 0) /* 16 lengths of 3 bits fit in one fill */
            refill(br);
        code_length_lengths[code_length_order[i]] = (uint8_t)take(br, 3);
    }
    if (overrun(br))
        return AT2_INFLATE_TRUNCATED;
    if (build_code(code_lengths, code_length_lengths, CODE_LENGTH_SYMBOLS, 1) != 0)
        return AT2_INFLATE_BAD;
    total = nlen + ndist;
    for (i = 0; i < total;) {
        unsigned symbol, repeat, value;

        refill(br);
        symbol = decode(br, code_lengths);
        if (symbol < 16) {
            if (overrun(br))
                return AT2_INFLATE_TRUNCATED;
            lengths[i++] = (uint8_t)symbol;
            continue;
        }
        if (symbol == 16) {
            repeat = 3 + take(br, 2);
            if (overrun(br))
                return AT2_INFLATE_TRUNCATED;
            if (i == 0)
                return AT2_INFLATE_BAD; /* nothing to repeat */
            value = lengths[i - 1];
        } else {
            repeat = symbol == 17 ? 3 + take(br, 3) : 11 + take(br, 7);
            if (overrun(br))
                return AT2_INFLATE_TRUNCATED;
            value = 0;
        }
        if (repeat > total - i)
            return AT2_INFLATE_BAD;
        memset(lengths + i, (int)value, repeat);
        i += repeat;
    }
    if (lengths[END_BLOCK] == 0)
        return AT2_INFLATE_BAD; /* no end-of-block code */
    if (build_code(litlen, lengths, nlen, 0) != 0 || build_code(distance, lengths + nlen, ndist, 0) != 0)
        return AT2_INFLATE_BAD;
    return AT2_INFLATE_END;
}

/* Decodes a compressed block's symbols into out from *pos: AT2_INFLATE_END at its end, or a stop status. */
static int inflate_codes(bit_reader *reader, const huffman *litlen, const huffman *distance, uint8_t *out,
                         size_t out_cap, size_t *pos)
{
    /* a copy the stores to out cannot alias, so that it lives in registers */
    bit_reader local = *reader, *br = &local;
    size_t at = *pos;
    int status;

    /* While 8 input bytes and a longest match's room are left, a literal/length code can neither run out of
     * input nor find the output full.  The reader is filled only when it holds fewer bits than the next step
     * may take (a code: 15; a length's extra bits, distance code and distance extra bits: 33), so most
     * literals are decoded without a fill; a fill for a match may reach past the input's end, hence the
     * checks there. */
    while (br->next + 8 <= br->size && out_cap - at >= 258) {
        unsigned symbol, length, code, back, i;

        if (br->count < MAX_BITS)
            refill_inside(br);
        symbol = decode(br, litlen);
        if (symbol < END_BLOCK) {
            out[at++] = (uint8_t)symbol;
            continue;
        }
        if (symbol == END_BLOCK) {
            *pos = at;
            *reader = local;
            return AT2_INFLATE_END;
        }
        if (symbol == INVALID_SYMBOL || symbol - 257 >= 29) {
            *pos = at;
            *reader = local;
            return AT2_INFLATE_BAD; /* every bit read so far was input: no truncation to report instead */
        }
        symbol -= 257;
        if (br->count < 33)
            refill(br); /* near the end of the input this may load past it: checked below */
        length = length_base[symbol] + take(br, length_extra[symbol]);
        code = decode(br, distance);
        if (code >= DYNAMIC_DISTANCE_MAX) {
            *pos = at;
            *reader = local;
            return overrun(br) ? AT2_INFLATE_TRUNCATED : AT2_INFLATE_BAD;
        }
        back = distance_base[code] + take(br, distance_extra[code]);
        if (overrun(br)) {
            *pos = at;
            *reader = local;
            return AT2_INFLATE_TRUNCATED;
        }
        if (back > at) {
            *pos = at;
            *reader = local;
            return AT2_INFLATE_BAD; /* distance too far back */
        }
        for (i = 0; i < length; i++, at++)
            out[at] = out[at - back];
    }
    for (;;) {
        unsigned symbol, length, code, back, i;

        refill(br);
        symbol = decode(br, litlen);
        if (overrun(br)) {
            status = AT2_INFLATE_TRUNCATED;
            break;
        }
        if (symbol < END_BLOCK) {
            if (at == out_cap) {
                status = AT2_INFLATE_FULL;
                break;
            }
            out[at++] = (uint8_t)symbol;
            continue;
        }
        if (symbol == END_BLOCK) {
            status = AT2_INFLATE_END;
            break;
        }
        if (symbol == INVALID_SYMBOL || symbol - 257 >= 29) {
            status = AT2_INFLATE_BAD;
            break;
        }
        symbol -= 257;
        length = length_base[symbol] + take(br, length_extra[symbol]);
        refill(br);
        code = decode(br, distance);
        if (code == INVALID_SYMBOL || code >= DYNAMIC_DISTANCE_MAX) {
            status = overrun(br) ? AT2_INFLATE_TRUNCATED : AT2_INFLATE_BAD;
            break;
        }
        back = distance_base[code] + take(br, distance_extra[code]);
        if (overrun(br)) {
            status = AT2_INFLATE_TRUNCATED;
            break;
        }
        if (at == out_cap) {
            status = AT2_INFLATE_FULL;
            break;
        }
        if (back > at) {
            status = AT2_INFLATE_BAD; /* distance too far back */
            break;
        }
        if (length > out_cap - at) {
            /* zlib copies what fits, then stops for want of room */
            length = (unsigned)(out_cap - at);
            for (i = 0; i < length; i++, at++)
                out[at] = out[at - back];
            status = AT2_INFLATE_FULL;
            break;
        }
        /* byte by byte: a copy may overlap what it writes */
        for (i = 0; i < length; i++, at++)
            out[at] = out[at - back];
    }
    *pos = at;
    *reader = local;
    return status;
}

/* Copies a stored block into out from *pos; the reader is at the block's LEN field after alignment. */
static int inflate_stored(bit_reader *br, uint8_t *out, size_t out_cap, size_t *pos)
{
    size_t length, start, have, room, copy;

    take(br, br->count % 8);
    refill(br);
    length = take(br, 16);
    if ((take(br, 16) ^ 0xFFFFu) != length)
        return overrun(br) ? AT2_INFLATE_TRUNCATED : AT2_INFLATE_BAD;
    if (overrun(br))
        return AT2_INFLATE_TRUNCATED;
    /* back to bytes: the reader starts over where the data begins */
    start = byte_position(br);
    have = br->size - start;
    room = out_cap - *pos;
    copy = length < have ? length : have;
    copy = copy < room ? copy : room;
    memcpy(out + *pos, br->in + start, copy);
    *pos += copy;
    br->next = start + copy;
    br->hold = 0;
    br->count = 0;
    if (copy < length)
        return *pos == out_cap ? AT2_INFLATE_FULL : AT2_INFLATE_TRUNCATED;
    return AT2_INFLATE_END;
}

/* zlib's Adler-32 of data, 8 bytes a step: b gains 8 times a plus each byte weighted by how many sums it is
 * in, which shortens the chain of dependent additions eightfold */
static uint32_t adler32(const uint8_t *data, size_t size)
{
    uint32_t a = 1, b = 0;

    while (size) {
        /* 5552 bytes (a multiple of 8) is the most that cannot overflow b before the reduction */
        size_t run = size < 5552 ? size : 5552;

        size -= run;
        for (; run >= 8; run -= 8, data += 8) {
            b += 8 * a + 8u * data[0] + 7u * data[1] + 6u * data[2] + 5u * data[3] + 4u * data[4] + 3u * data[5] +
                 2u * data[6] + data[7];
            a += (uint32_t)data[0] + data[1] + data[2] + data[3] + data[4] + data[5] + data[6] + data[7];
        }
        while (run--) {
            a += *data++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return b << 16 | a;
}

int at2_inflate(const uint8_t *in, size_t in_size, uint8_t *out, size_t out_cap, size_t *out_size, size_t *in_used)
{
    huffman litlen, distance;
    bit_reader br;
    size_t pos = 0;
    unsigned header, last = 0;
    int status = AT2_INFLATE_END;

    *out_size = 0;
    *in_used = 0;
    if (at2_once_run(&fixed_once, build_fixed) != 0 || !fixed_ready)
        return AT2_INFLATE_FAILED;
    if (in_size < 2)
        return AT2_INFLATE_TRUNCATED;
    header = (unsigned)in[0] << 8 | in[1];
    /* check bits, deflate, a window of at most 32 KiB; a preset dictionary is never given (Z_NEED_DICT) */
    if (header % 31 != 0 || (in[0] & 0x0F) != 8 || (in[0] >> 4) > 7)
        return AT2_INFLATE_BAD;
    if (in[1] & 0x20)
        return in_size < 6 ? AT2_INFLATE_TRUNCATED : AT2_INFLATE_BAD;
    br.in = in;
    br.size = in_size;
    br.next = 2;
    br.hold = 0;
    br.count = 0;
    while (!last) {
        unsigned type;

        refill(&br);
        last = take(&br, 1);
        type = take(&br, 2);
        if (overrun(&br)) {
            status = AT2_INFLATE_TRUNCATED;
            break;
        }
        if (type == 0)
            status = inflate_stored(&br, out, out_cap, &pos);
        else if (type == 1)
            status = inflate_codes(&br, &fixed_litlen, &fixed_distance, out, out_cap, &pos);
        else if (type == 2) {
            status = read_dynamic_codes(&br, &litlen, &distance);
            if (status == AT2_INFLATE_END)
                status = inflate_codes(&br, &litlen, &distance, out, out_cap, &pos);
        } else
            status = AT2_INFLATE_BAD;
        if (status != AT2_INFLATE_END)
            break;
    }
    if (status == AT2_INFLATE_END) {
        uint32_t check;

        /* the Adler-32 starts at the next byte boundary, most significant byte first */
        take(&br, br.count % 8);
        refill(&br);
        check = take(&br, 8) << 24;
        check |= take(&br, 8) << 16;
        check |= take(&br, 8) << 8;
        check |= take(&br, 8);
        if (overrun(&br))
            status = AT2_INFLATE_TRUNCATED;
        else if (check != adler32(out, pos))
            status = AT2_INFLATE_BAD;
        else
            *in_used = byte_position(&br);
    }
    *out_size = pos;
    return status;
}
