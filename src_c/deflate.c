/* Deflate at zlib's level 6, reproduced decision for decision so that the bytes match zlib's.
 *
 * What has to agree with zlib, and where it lives here:
 *   - lazy matching with level 6's limits and its 3-byte hash chains: encode_input, find_longer_match;
 *   - when a block ends (symbol buffer full), and whether it is stored, fixed or dynamic: end_block, which
 *     first asks deflate_floor.c for a lower bound of the dynamic block and builds no code when the fixed
 *     codes already win against it (the bound never decides anything else);
 *   - Huffman lengths, including the heap's tie-breaking and the length-limit repair: build_code;
 *   - the run-length coding of the code lengths: code_lengths.
 * Per block, only the symbols that occur are touched (the *_used bitmaps): an input of a few hundred bytes
 * uses a few dozen of the 286 + 30 symbols, and the per-call work follows that, not the alphabet sizes.
 * Input positions are absolute offsets into the caller's buffer.  zlib keeps a 64 KiB window that
 * slides by 32 KiB once; an input of at most 64 KiB is read into it whole, so the only traces of that
 * slide are the ones handled through window_origin (see encode_input). */
#include "deflate.h"

#include <stdlib.h>
#include <string.h>

#include "deflate_floor.h"
#include "deflate_format.h"
#include "threads.h"

/* level 6 of zlib's configuration table */
#define GOOD_LENGTH 8      /* a previous match this long searches a quarter of the chain */
#define LAZY_LENGTH 16     /* a previous match this long is taken without searching further */
#define NICE_LENGTH 128    /* a match this long ends the search */
#define CHAIN_LENGTH 128   /* candidates examined per search */
#define FAR_DISTANCE 4096  /* a 3-byte match further back than this is dropped */

#define WINDOW_SIZE 32768u
#define WINDOW_MASK (WINDOW_SIZE - 1)
#define MATCH_MIN 3
#define MATCH_MAX 258
#define LOOKAHEAD_MIN (MATCH_MAX + MATCH_MIN + 1)
#define MAX_DISTANCE (WINDOW_SIZE - LOOKAHEAD_MIN)
/* zlib slides its window when it needs input while strstart is at least this far in */
#define SLIDE_POSITION (WINDOW_SIZE + MAX_DISTANCE)
#define HASH_SIZE 32768u
#define HASH_MASK (HASH_SIZE - 1)

/* memLevel 8: a block holds 1 << 14 symbols, and ends once one fewer than that is buffered */
#define BLOCK_CAPACITY 16384
#define BLOCK_FULL (BLOCK_CAPACITY - 1)

/* zlib's heap array spans every node of the largest tree: 286 leaves and 285 inner nodes, plus slot 0 */
#define HEAP_SLOTS (2 * LITLEN_CODES + 1)

static const uint8_t length_extra[LENGTH_CODES] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                   2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t length_base[LENGTH_CODES] = {3,  4,  5,  6,  7,  8,  9,  10,  11,  13,  15,  17,  19,  23, 27,
                                                   31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t distance_extra[DISTANCE_CODES] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
static const uint16_t distance_base[DISTANCE_CODES] = {1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
                                                       33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
                                                       1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t length_code_extra[LENGTH_CODE_CODES] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                             0, 0, 0, 0, 0, 0, 2, 3, 7};

/* Tables filled once: code of each match length - 3, code of each distance - 1 (split at 256), and the
 * fixed Huffman code (RFC 1951 3.2.6) as bit-reversed codes ready to send. */
static uint8_t length_code_of[256];
static uint8_t distance_code_of[512];
static uint8_t fixed_litlen_bits[LITLEN_CODES + 2];
static uint16_t fixed_litlen_code[LITLEN_CODES + 2];
static uint8_t fixed_distance_bits[DISTANCE_CODES];
static uint16_t fixed_distance_code[DISTANCE_CODES];

/* One alphabet's Huffman code: inputs (freq of each symbol) and outputs (bits, reversed code). */
typedef struct {
    uint32_t freq[LITLEN_CODES];
    uint8_t bits[LITLEN_CODES];
    uint16_t code[LITLEN_CODES];
    uint16_t length_count[MAX_CODE_BITS + 1]; /* symbols per code length */
    int max_code;                   /* highest symbol with a code, as zlib counts it */
} huffman;

/* Scratch for building one code: nodes are leaves (symbols) then inner nodes. */
typedef struct {
    uint64_t live[HEAP_SLOTS + 1];  /* the heap, slots 1..heap_len, then HEAP_SENTINEL */
    uint16_t parent[HEAP_SLOTS];
    uint8_t depth_bits[HEAP_SLOTS]; /* a node's code length */
    uint16_t removed[HEAP_SLOTS];   /* removed nodes, stacked down from the top as in zlib's heap array */
} builder;

struct at2_deflater {
    uint16_t head[HASH_SIZE];       /* newest position per hash, 0 when none: all 0 between calls */
    uint16_t prev[WINDOW_SIZE];     /* previous position with the same hash, by position & WINDOW_MASK */
    uint16_t sym_distance[BLOCK_CAPACITY]; /* 0 for a literal */
    uint8_t sym_value[BLOCK_CAPACITY];     /* the literal, or the match length - 3 */
    size_t sym_count;
    uint64_t fixed_bits;            /* the block's symbols' size with the fixed codes, extra bits included */
    uint64_t extra_bits;            /* of which length and distance extra bits */
    uint64_t opt_bits;              /* the block's size with dynamic codes, in bits (without the 3-bit header) */
    uint64_t litlen_used[LITLEN_WORDS]; /* bit n: litlen.freq[n] != 0 */
    uint64_t distance_used;         /* bit n: distance.freq[n] != 0 */
    uint64_t lengths_used;          /* bit n: lengths.freq[n] != 0, while the code-length code is built */
    huffman litlen;
    huffman distance;
    huffman lengths;                /* the code-length code */
    builder work;
    at2_floor_work floor;           /* scratch of at2_dynamic_floor */
    int audit;                      /* at2_deflate_audit's state: build every code, check the floor */
    uint64_t audit_blocks, audit_floor_above, audit_decided;
};

/* Output bits, least significant first; stops writing (and says so) when out_cap would be passed. */
typedef struct {
    uint8_t *out;
    size_t size;
    size_t cap;
    uint64_t bits;
    unsigned count;
    int overflow;
} bit_sink;

HOT_INLINE void sink_bits(bit_sink *sink, uint32_t value, unsigned count)
{
    sink->bits |= (uint64_t)value << sink->count;
    sink->count += count;
    if (sink->count >= 32) {
        if (sink->cap - sink->size >= 4) {
            uint8_t *out = sink->out + sink->size;
            out[0] = (uint8_t)sink->bits;
            out[1] = (uint8_t)(sink->bits >> 8);
            out[2] = (uint8_t)(sink->bits >> 16);
            out[3] = (uint8_t)(sink->bits >> 24);
            sink->size += 4;
        } else {
            sink->overflow = 1;
        }
        sink->bits >>= 32;
        sink->count -= 32;
    }
}

/* pads to a byte boundary with zero bits */
static void sink_align(bit_sink *sink)
{
    while (sink->count > 0) {
        if (sink->size < sink->cap)
            sink->out[sink->size++] = (uint8_t)sink->bits;
        else
            sink->overflow = 1;
        sink->bits >>= 8;
        sink->count = sink->count > 8 ? sink->count - 8 : 0;
    }
    sink->bits = 0;
}

static void sink_bytes(bit_sink *sink, const uint8_t *data, size_t size)
{
    if (sink->cap - sink->size < size) {
        sink->overflow = 1;
        return;
    }
    memcpy(sink->out + sink->size, data, size);
    sink->size += size;
}

/* each byte with its bits in reverse order, filled once */
static uint8_t reversed_byte[256];

/* the low length bits of code (length <= 16) in reverse order */
static uint16_t reverse_bits(unsigned code, unsigned length)
{
    unsigned both = ((unsigned)reversed_byte[code & 0xff] << 8) | reversed_byte[(code >> 8) & 0xff];

    return (uint16_t)(both >> (16 - length));
}

/* canonical codes (RFC 1951 3.2.2) from code lengths, bit-reversed for LSB-first output, for the symbols
 * in used (each with a nonzero length) */
static void assign_codes(const uint8_t *bits, uint16_t *code, const uint64_t *used, int words,
                         const uint16_t *length_count)
{
    uint16_t next[MAX_CODE_BITS + 1];
    unsigned value = 0;
    int length, word;

    next[0] = 0;
    for (length = 1; length <= MAX_CODE_BITS; length++) {
        value = (value + length_count[length - 1]) << 1;
        next[length] = (uint16_t)value;
    }
    /* ascending symbol order within each length, as RFC 1951 requires */
    for (word = 0; word < words; word++) {
        uint64_t set = used[word];

        while (set) {
            int symbol = word * 64 + lowest_bit(set);

            set &= set - 1;
            code[symbol] = reverse_bits(next[bits[symbol]]++, bits[symbol]);
        }
    }
}

static at2_once tables_once = AT2_ONCE_INIT;
static at2_tls_key thread_state_key;
static int thread_key_ready;

static void release_thread_state(void *state)
{
    at2_deflater_free((at2_deflater *)state);
}

static void fill_tables(void)
{
    uint16_t length_count[MAX_CODE_BITS + 1] = {0};
    /* all 288 symbols of the fixed literal/length code */
    uint64_t all_litlen[(LITLEN_CODES + 2 + 63) / 64] = {~0ull, ~0ull, ~0ull, ~0ull,
                                                          (1ull << (LITLEN_CODES + 2 - 256)) - 1};
    int code, n, value, bit;

    at2_floor_init();

    for (n = 0; n < 256; n++) {
        value = 0;
        for (bit = 0; bit < 8; bit++)
            value |= ((n >> bit) & 1) << (7 - bit);
        reversed_byte[n] = (uint8_t)value;
    }

    for (code = 0; code < LENGTH_CODES - 1; code++)
        for (n = 0; n < 1 << length_extra[code]; n++)
            length_code_of[length_base[code] - MATCH_MIN + n] = (uint8_t)code;
    /* length 258 has a code of its own (285), not 284 with all extra bits set */
    length_code_of[MATCH_MAX - MATCH_MIN] = LENGTH_CODES - 1;
    /* distances - 1 below 256 are looked up directly; larger ones by (distance - 1) >> 7, from 256 on */
    for (code = 0; code < DISTANCE_CODES; code++)
        for (n = 0; n < 1 << distance_extra[code]; n++) {
            value = distance_base[code] - 1 + n;
            if (value < 256)
                distance_code_of[value] = (uint8_t)code;
            else
                distance_code_of[256 + (value >> 7)] = (uint8_t)code;
        }
    for (n = 0; n < LITLEN_CODES + 2; n++) {
        fixed_litlen_bits[n] = n < 144 ? 8 : n < 256 ? 9 : n < 280 ? 7 : 8;
        length_count[fixed_litlen_bits[n]]++;
    }
    assign_codes(fixed_litlen_bits, fixed_litlen_code, all_litlen, (LITLEN_CODES + 2 + 63) / 64, length_count);
    for (n = 0; n < DISTANCE_CODES; n++) {
        fixed_distance_bits[n] = 5;
        fixed_distance_code[n] = reverse_bits((unsigned)n, 5);
    }
    thread_key_ready = at2_tls_create(&thread_state_key, release_thread_state) == 0;
}

static unsigned distance_code(unsigned distance_minus_one)
{
    return distance_minus_one < 256 ? distance_code_of[distance_minus_one]
                                    : distance_code_of[256 + (distance_minus_one >> 7)];
}

at2_deflater *at2_deflater_new(void)
{
    if (at2_once_run(&tables_once, fill_tables) != 0)
        return NULL;
    /* calloc: the hash heads and the symbol frequencies start at zero; the rest is written before it is read */
    return (at2_deflater *)calloc(1, sizeof(at2_deflater));
}

void at2_deflater_free(at2_deflater *state)
{
    free(state);
}

size_t at2_deflate_bound(size_t size)
{
    return size + (size >> 12) + (size >> 14) + (size >> 25) + 13;
}

/* ---- Huffman codes ---- */

/* A live heap entry: key (frequency << 8 | depth, zlib's order) << NODE_BITS | node. */
#define NODE_BITS 10
#define ENTRY_KEY(entry) ((entry) >> NODE_BITS)
#define ENTRY_NODE(entry) ((int)((entry) & ((1u << NODE_BITS) - 1)))

/* Stands after the heap's last entry, larger than any key: a lone left child needs no bounds test. */
#define HEAP_SENTINEL UINT64_MAX

/* zlib's heap sift-down: a node moves below a child when the child's key is strictly smaller, or
 * (among children) the right one when its key is not larger than the left one's.  heap[heap_len + 1]
 * must be HEAP_SENTINEL. */
static void sift_down(uint64_t *heap, int heap_len, int slot)
{
    uint64_t entry = heap[slot], key = ENTRY_KEY(entry);
    int child = slot << 1;

    while (child <= heap_len) {
        uint64_t left = heap[child], right = heap[child + 1];

        if (ENTRY_KEY(right) <= ENTRY_KEY(left)) {
            child++;
            left = right;
        }
        if (key <= ENTRY_KEY(left))
            break;
        heap[slot] = left;
        slot = child;
        child <<= 1;
    }
    heap[slot] = entry;
}

/* Builds code lengths (at most max_bits) for the symbols in used (nodes above them are numbered from
 * symbols on) the way zlib does, and adds sum(freq * length) to *opt_bits (extra bits are the caller's).
 * Padding symbols get frequency 1 and join used.  The codes themselves are made by assign_codes, only
 * when the block is sent with these lengths. */
static void build_code(builder *work, huffman *code, uint64_t *used, int words, int symbols, int max_bits,
                       uint64_t *opt_bits)
{
    int heap_len = 0, heap_top = HEAP_SLOTS, max_code = -1, overflow = 0;
    int word, n, node, slot, length;

    /* zlib fills its heap in symbol order: the set bits of used, lowest first */
    for (word = 0; word < words; word++) {
        uint64_t set = used[word];

        while (set) {
            n = word * 64 + lowest_bit(set);
            set &= set - 1;
            work->live[++heap_len] = ((uint64_t)code->freq[n] << (8 + NODE_BITS)) | (uint64_t)n;
            max_code = n;
        }
    }
    /* a code needs two symbols: zlib adds symbols of frequency 1 and takes their cost back out */
    while (heap_len < 2) {
        node = max_code < 2 ? ++max_code : 0;
        work->live[++heap_len] = ((uint64_t)1 << (8 + NODE_BITS)) | (uint64_t)node;
        code->freq[node] = 1;
        used[node >> 6] |= 1ull << (node & 63);
        *opt_bits -= 1;
    }
    code->max_code = max_code;
    /* every symbol's length, used or not, is read when the header lists the code-length code's lengths */
    memset(code->bits, 0, (size_t)symbols);
    work->live[heap_len + 1] = HEAP_SENTINEL;
    for (slot = heap_len / 2; slot >= 1; slot--)
        sift_down(work->live, heap_len, slot);
    /* merge the two least nodes until one is left; every removed node goes on a stack that, read
     * upwards from its top, lists parents before their children */
    node = symbols;
    do {
        uint64_t least = work->live[1], second, depth_a, depth_b;

        work->live[1] = work->live[heap_len];
        work->live[heap_len--] = HEAP_SENTINEL;
        sift_down(work->live, heap_len, 1);
        second = work->live[1];
        work->removed[--heap_top] = (uint16_t)ENTRY_NODE(least);
        work->removed[--heap_top] = (uint16_t)ENTRY_NODE(second);
        depth_a = ENTRY_KEY(least) & 0xff;
        depth_b = ENTRY_KEY(second) & 0xff;
        work->parent[ENTRY_NODE(least)] = work->parent[ENTRY_NODE(second)] = (uint16_t)node;
        work->live[1] = ((((ENTRY_KEY(least) >> 8) + (ENTRY_KEY(second) >> 8)) << 8 |
                          ((depth_a >= depth_b ? depth_a : depth_b) + 1))
                         << NODE_BITS) |
                        (uint64_t)node;
        node++;
        sift_down(work->live, heap_len, 1);
    } while (heap_len >= 2);
    work->removed[--heap_top] = (uint16_t)ENTRY_NODE(work->live[1]);

    /* lengths: one more than the parent's, capped at max_bits (capped nodes counted as overflow) */
    memset(code->length_count, 0, sizeof(code->length_count));
    work->depth_bits[work->removed[heap_top]] = 0;
    for (slot = heap_top + 1; slot < HEAP_SLOTS; slot++) {
        n = work->removed[slot];
        length = work->depth_bits[work->parent[n]] + 1;
        if (length > max_bits) {
            length = max_bits;
            overflow++;
        }
        work->depth_bits[n] = (uint8_t)length;
        if (n > max_code)
            continue;
        code->length_count[length]++;
        code->bits[n] = (uint8_t)length;
        *opt_bits += (uint64_t)code->freq[n] * (uint32_t)length;
    }
    if (overflow) {
        /* zlib's repair: move a leaf down from the deepest non-full level, two at a time */
        do {
            length = max_bits - 1;
            while (code->length_count[length] == 0)
                length--;
            code->length_count[length]--;
            code->length_count[length + 1] += 2;
            code->length_count[max_bits]--;
            overflow -= 2;
        } while (overflow > 0);
        /* then hand the lengths out again, longest first, to leaves in the order they left the heap */
        slot = HEAP_SLOTS;
        for (length = max_bits; length != 0; length--) {
            int left = code->length_count[length];

            while (left != 0) {
                n = work->removed[--slot];
                if (n > max_code)
                    continue;
                if (code->bits[n] != length) {
                    *opt_bits += ((uint64_t)length - code->bits[n]) * code->freq[n];
                    code->bits[n] = (uint8_t)length;
                }
                left--;
            }
        }
    }
}

static void send_symbol(bit_sink *sink, const huffman *code, int symbol)
{
    sink_bits(sink, code->code[symbol], code->bits[symbol]);
}

/* one symbol of the code-length alphabet: counted when sink is NULL, else sent with its extra bits */
static void length_symbol(huffman *lengths, bit_sink *sink, int symbol, int extra, unsigned extra_bits)
{
    if (sink == NULL) {
        lengths->freq[symbol]++;
        return;
    }
    send_symbol(sink, lengths, symbol);
    if (extra_bits)
        sink_bits(sink, (uint32_t)extra, extra_bits);
}

/* count zero lengths, coded as zlib codes them (zero_piece) */
static void zero_lengths(huffman *lengths, bit_sink *sink, int count)
{
    int piece;

    while (count > 0) {
        int symbol = zero_piece(&count, &piece);

        if (symbol != 0)
            length_symbol(lengths, sink, symbol, piece - (symbol == REPEAT_ZERO ? 3 : 11),
                          length_code_extra[symbol]);
        else
            do
                length_symbol(lengths, sink, 0, 0, 0);
            while (--piece != 0);
    }
}

/* count equal nonzero lengths after a different one, coded as zlib codes them: the length, then 16 for
 * 3-6 more when the first piece (at most 7) has at least 4, then pieces of at most 6, each 16 when it
 * has at least 3, else that many explicit lengths */
static void nonzero_lengths(huffman *lengths, bit_sink *sink, int value, int count)
{
    int piece = count < 7 ? count : 7;

    count -= piece;
    if (piece < 4) {
        do
            length_symbol(lengths, sink, value, 0, 0);
        while (--piece != 0);
        return;
    }
    length_symbol(lengths, sink, value, 0, 0);
    length_symbol(lengths, sink, REPEAT_PREVIOUS, piece - 4, 2);
    while (count > 0) {
        piece = count < 6 ? count : 6;
        count -= piece;
        if (piece < 3) {
            do
                length_symbol(lengths, sink, value, 0, 0);
            while (--piece != 0);
        } else {
            length_symbol(lengths, sink, REPEAT_PREVIOUS, piece - 3, 2);
        }
    }
}

/* Run-length coding of code->bits[0..max_code] (RFC 1951 3.2.7) with zlib's choice of runs: the same
 * walk first counts the code-length symbols (sink NULL), then sends them.  The symbols in used are
 * exactly those with a nonzero length, so the walk goes from run to run, not symbol by symbol: zlib's
 * scan_tree and send_tree restated (a run ends at max_count, 138 zeros or 7 then 6 equal lengths, and a
 * short one is sent as explicit lengths). */
static void code_lengths(huffman *lengths, const huffman *code, const uint64_t *used, int words, bit_sink *sink)
{
    int word, last = -1, run_value = 0, run_count = 0;

    for (word = 0; word < words; word++) {
        uint64_t set = used[word];

        while (set) {
            int n = word * 64 + lowest_bit(set);

            set &= set - 1;
            if (n == last + 1 && code->bits[n] == run_value) {
                run_count++;
            } else {
                if (run_count)
                    nonzero_lengths(lengths, sink, run_value, run_count);
                zero_lengths(lengths, sink, n - last - 1);
                run_value = code->bits[n];
                run_count = 1;
            }
            last = n;
        }
    }
    if (run_count)
        nonzero_lengths(lengths, sink, run_value, run_count);
}

/* the block's symbols with the given codes, then end-of-block */
static void send_symbols(const at2_deflater *state, bit_sink *sink, const uint8_t *lit_bits,
                         const uint16_t *lit_code, const uint8_t *dist_bits, const uint16_t *dist_code)
{
    /* a local copy of the sink stays in registers: stores through sink->out could alias it */
    bit_sink local = *sink;
    size_t i;

    for (i = 0; i < state->sym_count; i++) {
        unsigned value = state->sym_value[i];
        unsigned distance = state->sym_distance[i];

        if (distance == 0) {
            sink_bits(&local, lit_code[value], lit_bits[value]);
        } else {
            unsigned code = length_code_of[value];
            unsigned symbol = code + LITERALS + 1;

            sink_bits(&local, lit_code[symbol] | ((value - (length_base[code] - MATCH_MIN)) << lit_bits[symbol]),
                      lit_bits[symbol] + length_extra[code]);
            distance--;
            code = distance_code(distance);
            sink_bits(&local, dist_code[code] | ((distance - (distance_base[code] - 1u)) << dist_bits[code]),
                      dist_bits[code] + distance_extra[code]);
        }
    }
    sink_bits(&local, lit_code[END_OF_BLOCK], lit_bits[END_OF_BLOCK]);
    *sink = local;
}

/* an empty block: the frequencies of the symbols used (padding ones included) are cleared */
static void reset_block(at2_deflater *state)
{
    int word;

    for (word = 0; word < LITLEN_WORDS; word++)
        while (state->litlen_used[word]) {
            state->litlen.freq[word * 64 + lowest_bit(state->litlen_used[word])] = 0;
            state->litlen_used[word] &= state->litlen_used[word] - 1;
        }
    while (state->distance_used) {
        state->distance.freq[lowest_bit(state->distance_used)] = 0;
        state->distance_used &= state->distance_used - 1;
    }
    state->sym_count = 0;
    state->fixed_bits = state->extra_bits = 0;
}

/* Emits the buffered symbols as one block: stored when that is no larger and the block's bytes are
 * still in zlib's window (stored_data not NULL), else fixed when no larger than dynamic, else dynamic. */
static void end_block(at2_deflater *state, bit_sink *sink, const uint8_t *stored_data, size_t stored_size,
                      int last)
{
    uint64_t opt_bytes, fixed_bytes, enough, floor_bits, floor_whole = 0;
    int max_order = 0, n, dynamic;

    state->litlen.freq[END_OF_BLOCK] = 1;
    state->litlen_used[END_OF_BLOCK >> 6] |= 1ull << (END_OF_BLOCK & 63);
    fixed_bytes = (state->fixed_bits + fixed_litlen_bits[END_OF_BLOCK] + 3 + 7) >> 3;
    /* zlib compares whole bytes: the fixed block wins when the dynamic one has at least enough bits */
    enough = 8 * fixed_bytes - 3 - 7;
    if (state->audit) {
        /* the whole bound (it may stop short of it), then every stage of it as it decides */
        floor_whole = at2_dynamic_floor(&state->floor, state->litlen.freq, state->litlen_used, state->distance.freq,
                                        state->distance_used, state->extra_bits, UINT64_MAX);
        state->floor.skip_first_bound = 0;
    }
    floor_bits = at2_dynamic_floor(&state->floor, state->litlen.freq, state->litlen_used, state->distance.freq,
                                   state->distance_used, state->extra_bits, enough);
    dynamic = floor_bits < enough || state->audit;
    opt_bytes = fixed_bytes;
    if (dynamic) {
        /* the extra bits do not depend on the codes */
        state->opt_bits = state->extra_bits;
        build_code(&state->work, &state->litlen, state->litlen_used, LITLEN_WORDS, LITLEN_CODES,
                   MAX_CODE_BITS, &state->opt_bits);
        build_code(&state->work, &state->distance, &state->distance_used, 1, DISTANCE_CODES, MAX_CODE_BITS,
                   &state->opt_bits);
        memset(state->lengths.freq, 0, sizeof(uint32_t) * LENGTH_CODE_CODES);
        code_lengths(&state->lengths, &state->litlen, state->litlen_used, LITLEN_WORDS, NULL);
        code_lengths(&state->lengths, &state->distance, &state->distance_used, 1, NULL);
        state->lengths_used = 0;
        for (n = 0; n < LENGTH_CODE_CODES; n++) {
            state->lengths_used |= (uint64_t)(state->lengths.freq[n] != 0) << n;
            state->opt_bits += (uint64_t)state->lengths.freq[n] * length_code_extra[n];
        }
        build_code(&state->work, &state->lengths, &state->lengths_used, 1, LENGTH_CODE_CODES, MAX_LENGTH_CODE_BITS,
                   &state->opt_bits);
        /* at least 4 code-length lengths are sent; trailing zero ones are not */
        for (max_order = LENGTH_CODE_CODES - 1; max_order >= 3; max_order--)
            if (state->lengths_used >> length_code_order[max_order] & 1)
                break;
        state->opt_bits += 3 * ((uint64_t)max_order + 1) + 5 + 5 + 4;
        opt_bytes = (state->opt_bits + 3 + 7) >> 3;
        if (state->audit) {
            state->audit_blocks++;
            state->audit_floor_above += floor_bits > state->opt_bits || floor_whole > state->opt_bits;
            state->audit_decided += floor_bits >= enough;
        }
        if (fixed_bytes <= opt_bytes)
            opt_bytes = fixed_bytes;
    }
    if (stored_size + 4 <= opt_bytes && stored_data != NULL) {
        sink_bits(sink, (uint32_t)last, 3);
        sink_align(sink);
        sink_bits(sink, (uint32_t)stored_size & 0xffff, 16);
        sink_bits(sink, ~(uint32_t)stored_size & 0xffff, 16);
        sink_align(sink);
        sink_bytes(sink, stored_data, stored_size);
    } else if (fixed_bytes == opt_bytes) {
        sink_bits(sink, (1u << 1) | (uint32_t)last, 3);
        send_symbols(state, sink, fixed_litlen_bits, fixed_litlen_code, fixed_distance_bits, fixed_distance_code);
    } else {
        assign_codes(state->litlen.bits, state->litlen.code, state->litlen_used, LITLEN_WORDS,
                     state->litlen.length_count);
        assign_codes(state->distance.bits, state->distance.code, &state->distance_used, 1,
                     state->distance.length_count);
        assign_codes(state->lengths.bits, state->lengths.code, &state->lengths_used, 1, state->lengths.length_count);
        sink_bits(sink, (2u << 1) | (uint32_t)last, 3);
        sink_bits(sink, (uint32_t)(state->litlen.max_code + 1 - 257), 5);
        sink_bits(sink, (uint32_t)(state->distance.max_code + 1 - 1), 5);
        sink_bits(sink, (uint32_t)(max_order + 1 - 4), 4);
        for (n = 0; n <= max_order; n++)
            sink_bits(sink, state->lengths.bits[length_code_order[n]], 3);
        code_lengths(&state->lengths, &state->litlen, state->litlen_used, LITLEN_WORDS, sink);
        code_lengths(&state->lengths, &state->distance, &state->distance_used, 1, sink);
        send_symbols(state, sink, state->litlen.bits, state->litlen.code, state->distance.bits,
                     state->distance.code);
    }
    reset_block(state);
    if (last)
        sink_align(sink);
}

/* ---- matching ---- */

HOT_INLINE uint16_t load16(const uint8_t *p)
{
    uint16_t value;

    memcpy(&value, p, sizeof(value));
    return value;
}

/* zlib's rolling hash (15 bits, shift 5): the hash of the 3 bytes at a position, from the previous
 * position's and the byte 2 further on (the byte that drops out has been shifted past the mask).  Start
 * from first_hash of the input's first two bytes. */
HOT_INLINE unsigned roll_hash(unsigned hash, uint8_t next)
{
    return ((hash << 5) ^ next) & HASH_MASK;
}

HOT_INLINE unsigned first_hash(const uint8_t *in)
{
    return ((unsigned)in[0] << 5) ^ in[1];
}

/* The longest match for in[pos..] among the hash chain starting at candidate, as zlib's search finds
 * it: only candidates above limit, first of equal lengths wins, stops at nice.  Returns best (unchanged
 * when nothing beats it) and sets *start for a better one.  Bytes past the input are never compared:
 * zlib compares its window's padding there, but any match reaching the end of the input already ends
 * its search (nice is capped to the lookahead), and its length is cut to the lookahead. */
static unsigned find_longer_match(const at2_deflater *state, const uint8_t *in, size_t pos, size_t lookahead,
                                  unsigned candidate, unsigned best, size_t limit, size_t *start)
{
    const uint8_t *scan = in + pos;
    unsigned chain = best >= GOOD_LENGTH ? CHAIN_LENGTH >> 2 : CHAIN_LENGTH;
    unsigned nice = lookahead < NICE_LENGTH ? (unsigned)lookahead : NICE_LENGTH;
    unsigned longest = lookahead < MATCH_MAX ? (unsigned)lookahead : MATCH_MAX;
    uint16_t scan_start, scan_end;

    if (best >= longest)
        return longest;
    scan_start = load16(scan);
    scan_end = load16(scan + best - 1);
    do {
        const uint8_t *match = in + candidate;

        /* zlib's quick rejection: the two bytes ending at the best length so far, then the first two */
        if (load16(match + best - 1) == scan_end && load16(match) == scan_start) {
            unsigned length = 2;

            while (length + 8 <= longest) {
                uint64_t a, b;

                memcpy(&a, scan + length, 8);
                memcpy(&b, match + length, 8);
                if (a != b)
                    break;
                length += 8;
            }
            while (length < longest && match[length] == scan[length])
                length++;
            if (length > best) {
                *start = candidate;
                best = length;
                if (length >= nice)
                    break;
                scan_end = load16(scan + best - 1);
            }
        }
        candidate = state->prev[candidate & WINDOW_MASK];
    } while (candidate > limit && --chain != 0);
    return best;
}

HOT_INLINE int tally_literal(at2_deflater *state, unsigned literal)
{
    size_t i = state->sym_count++;

    state->sym_distance[i] = 0;
    state->sym_value[i] = (uint8_t)literal;
    state->fixed_bits += fixed_litlen_bits[literal];
    state->litlen.freq[literal]++;
    state->litlen_used[literal >> 6] |= 1ull << (literal & 63);
    return state->sym_count == BLOCK_FULL;
}

static int tally_match(at2_deflater *state, unsigned distance, unsigned length_minus_3)
{
    size_t i = state->sym_count++;

    unsigned length_code = length_code_of[length_minus_3], symbol = length_code + LITERALS + 1;
    unsigned code = distance_code(distance - 1), extra = length_extra[length_code] + distance_extra[code];

    state->sym_distance[i] = (uint16_t)distance;
    state->sym_value[i] = (uint8_t)length_minus_3;
    state->fixed_bits += fixed_litlen_bits[symbol] + fixed_distance_bits[code] + extra;
    state->extra_bits += extra;
    state->litlen.freq[symbol]++;
    state->distance.freq[code]++;
    state->litlen_used[symbol >> 6] |= 1ull << (symbol & 63);
    state->distance_used |= 1ull << code;
    return state->sym_count == BLOCK_FULL;
}

/* inserts pos into its hash chain; positions are inserted 0, 1, 2, .. in turn, *hash rolling along */
static void insert_position(at2_deflater *state, const uint8_t *in, size_t pos, unsigned *hash, unsigned *candidate)
{
    *hash = roll_hash(*hash, in[pos + 2]);
    *candidate = state->head[*hash];
    state->prev[pos & WINDOW_MASK] = (uint16_t)*candidate;
    state->head[*hash] = (uint16_t)pos;
}

/* zlib's deflate_slow over the whole input, then the last block.
 * window_origin is the absolute position of zlib's window[0]: 0, then WINDOW_SIZE after the slide.
 * A candidate at the origin is zlib's "no candidate" (NIL), and a block that began before the origin
 * can no longer be stored, because zlib has let go of its first bytes. */
static void encode_input(at2_deflater *state, const uint8_t *in, size_t size, bit_sink *sink)
{
    size_t pos = 0, lookahead = size, block_start = 0, window_origin = 0;
    size_t match_start = 0, prev_match;
    unsigned match_length = MATCH_MIN - 1, prev_length, hash = size >= MATCH_MIN ? first_hash(in) : 0;
    int match_available = 0;

    for (;;) {
        unsigned candidate = 0;
        int have_candidate = 0;

        if (lookahead < LOOKAHEAD_MIN) {
            if (window_origin == 0 && pos >= SLIDE_POSITION)
                window_origin = WINDOW_SIZE;
            if (lookahead == 0)
                break;
        }
        if (lookahead >= MATCH_MIN) {
            insert_position(state, in, pos, &hash, &candidate);
            have_candidate = candidate != window_origin;
        }
        prev_length = match_length;
        prev_match = match_start;
        match_length = MATCH_MIN - 1;
        if (have_candidate && prev_length < LAZY_LENGTH && pos - candidate <= MAX_DISTANCE) {
            size_t limit = pos - window_origin > MAX_DISTANCE ? pos - MAX_DISTANCE : window_origin;

            match_length = find_longer_match(state, in, pos, lookahead, candidate, prev_length, limit, &match_start);
            if (match_length == MATCH_MIN && pos - match_start > FAR_DISTANCE)
                match_length = MATCH_MIN - 1;
        }
        if (prev_length >= MATCH_MIN && match_length <= prev_length) {
            /* the previous position's match wins: emit it and hash the positions it covers */
            size_t last_insert = pos + lookahead - MATCH_MIN;
            unsigned skip = prev_length - 2, ignored;
            int full = tally_match(state, (unsigned)(pos - 1 - prev_match), prev_length - MATCH_MIN);

            lookahead -= prev_length - 1;
            do {
                if (++pos <= last_insert)
                    insert_position(state, in, pos, &hash, &ignored);
            } while (--skip != 0);
            match_available = 0;
            match_length = MATCH_MIN - 1;
            pos++;
            if (full) {
                end_block(state, sink, block_start >= window_origin ? in + block_start : NULL, pos - block_start, 0);
                block_start = pos;
            }
        } else if (match_available) {
            /* the previous position stays a literal; this one may start a longer match */
            if (tally_literal(state, in[pos - 1])) {
                end_block(state, sink, block_start >= window_origin ? in + block_start : NULL, pos - block_start, 0);
                block_start = pos;
            }
            pos++;
            lookahead--;
        } else {
            match_available = 1;
            pos++;
            lookahead--;
        }
    }
    if (match_available)
        tally_literal(state, in[pos - 1]); /* the buffer has room for this one past "full" */
    end_block(state, sink, block_start >= window_origin ? in + block_start : NULL, pos - block_start, 1);
}

static uint32_t adler32(const uint8_t *data, size_t size)
{
    uint32_t a = 1, b = 0;

    while (size > 0) {
        /* 5552 bytes is the most that cannot overflow b before the modulo */
        size_t chunk = size < 5552 ? size : 5552;

        size -= chunk;
        for (; chunk >= 4; chunk -= 4, data += 4) {
            a += data[0];
            b += a;
            a += data[1];
            b += a;
            a += data[2];
            b += a;
            a += data[3];
            b += a;
        }
        while (chunk-- > 0) {
            a += *data++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return (b << 16) | a;
}

/* forgets this call's hash heads so the next call starts from an empty table */
static void clear_heads(at2_deflater *state, const uint8_t *in, size_t size)
{
    unsigned hash;
    size_t pos;

    if (size > HASH_SIZE / 4) {
        memset(state->head, 0, sizeof(state->head));
        return;
    }
    if (size < MATCH_MIN)
        return;
    hash = first_hash(in);
    for (pos = 0; pos + MATCH_MIN <= size; pos++) {
        hash = roll_hash(hash, in[pos + 2]);
        state->head[hash] = 0;
    }
}

int at2_deflate(at2_deflater *state, const uint8_t *in, size_t in_size, uint8_t *out, size_t out_cap,
                size_t *out_size)
{
    bit_sink sink;
    uint32_t check;
    int status;

    *out_size = 0;
    if (in_size > AT2_DEFLATE_MAX_INPUT)
        return AT2_DEFLATE_FAILED;
    memset(&sink, 0, sizeof(sink));
    sink.out = out;
    sink.cap = out_cap;
    /* zlib header: deflate, 32 KiB window, "default" level flag, check bits (RFC 1950) */
    sink_bits(&sink, 0x78, 8);
    sink_bits(&sink, 0x9c, 8);
    reset_block(state); /* restates that every call leaves the block empty: costs nothing then */
    encode_input(state, in, in_size, &sink);
    clear_heads(state, in, in_size);
    check = adler32(in, in_size);
    sink_bits(&sink, (check >> 24) | ((check >> 8) & 0xff00), 16);
    sink_bits(&sink, ((check >> 8) & 0xff) | ((check & 0xff) << 8), 16);
    sink_align(&sink);
    if (sink.overflow) {
        status = AT2_DEFLATE_FAILED;
        goto cleanup;
    }
    *out_size = sink.size;
    status = AT2_DEFLATE_OK;

cleanup:
    return status;
}

/* the calling thread's state, created on first use; NULL when out of memory */
static at2_deflater *thread_state(void)
{
    at2_deflater *state;

    if (at2_once_run(&tables_once, fill_tables) != 0 || !thread_key_ready)
        return NULL;
    state = (at2_deflater *)at2_tls_get(thread_state_key);
    if (state == NULL) {
        state = at2_deflater_new();
        if (state == NULL)
            return NULL;
        if (at2_tls_set(thread_state_key, state) != 0) {
            at2_deflater_free(state);
            return NULL;
        }
    }
    return state;
}

int at2_deflate_thread(const uint8_t *in, size_t in_size, uint8_t *out, size_t out_cap, size_t *out_size)
{
    at2_deflater *state = thread_state();

    *out_size = 0;
    if (state == NULL)
        return AT2_DEFLATE_NO_MEMORY;
    return at2_deflate(state, in, in_size, out, out_cap, out_size);
}

int at2_deflate_audit(const uint8_t *in, size_t in_size, uint64_t *blocks, uint64_t *floor_above, uint64_t *decided)
{
    at2_deflater *state = thread_state();
    uint8_t *out = NULL;
    size_t out_size;
    int status = AT2_DEFLATE_NO_MEMORY;

    *blocks = *floor_above = *decided = 0;
    if (state == NULL)
        goto cleanup;
    out = (uint8_t *)malloc(at2_deflate_bound(in_size));
    if (out == NULL)
        goto cleanup;
    state->audit = 1;
    state->audit_blocks = state->audit_floor_above = state->audit_decided = 0;
    status = at2_deflate(state, in, in_size, out, at2_deflate_bound(in_size), &out_size);
    state->audit = 0;
    *blocks = state->audit_blocks;
    *floor_above = state->audit_floor_above;
    *decided = state->audit_decided;

cleanup:
    free(out);
    return status;
}
