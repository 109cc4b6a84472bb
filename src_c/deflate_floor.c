/* A lower bound of a dynamic block's size, from its symbol frequencies alone.
 *
 * zlib sends a block with dynamic codes only when they make it smaller than the fixed codes do, and to know
 * that it builds all three codes.  For a token's few hundred bytes the fixed codes nearly always win, by a
 * margin smaller than what a rough bound can see, and building the codes exactly as zlib does (its heap
 * decides ties by the places of equal nodes in it) is most of the cost of compressing them.  This bound is
 * close enough to decide most such blocks without building anything:
 *
 *  - The data's size is exact: every Huffman tree of the frequencies has the same cost, the sum of its inner
 *    nodes' frequencies, and zlib's tree is one as long as no code is longer than 15 bits.
 *  - zlib's heap orders nodes by (frequency, height).  Merging whole groups of equal keys at a time gives the
 *    keys of every merge exactly, whatever the ties; only which node of a group goes where is left to the
 *    heap (merge_groups).  Reading those merges from the root down gives each group the multiset of its
 *    nodes' depths, exactly when the parents' groups say it, else as a range (assign_depths).  So every
 *    frequency's code lengths are known as a multiset, or as a range of lengths.
 *  - The header's zero runs are exact; nonzero lengths are counted from those multisets, less every length
 *    that a repeat (16) could possibly cover; the code-length code then costs at least an optimal code
 *    for these counts, and an optimal code's cost only grows with the counts.
 *  - Lengths known only as a range: the optimal cost is concave in the counts (a minimum of linear
 *    functions), so over every way of spreading them in their ranges it is least at a corner, where each
 *    group's lengths are all one value.  The bound takes the least corner.
 *  - First, before anything is merged, a cheaper bound: the literal/length data at its entropy (any prefix
 *    code of the frequencies costs at least that: Gibbs' inequality) and every nonzero length of both codes
 *    as one symbol of the code-length code.  It decides a Chat token's block without merging the
 *    literal/length code at all; RTC blocks need the whole bound.
 * Every step errs low, so the bound is never above the size zlib computes: deflate.c uses it only to skip
 * building codes, never to choose bytes. */
#include "deflate_floor.h"

#include <string.h>

/* corners tried at most; groups past that are left out of the count (which only lowers the bound) */
#define MAX_CORNERS 16
/* range-only groups whose leaves the bound counts; more are left out (which only lowers it) */
#define MAX_LOOSE_GROUPS 8
/* blocks for which the first, cheap bound is not tried after it fell short of deciding one */
#define SKIP_AFTER_SHORT 15
#define LANE_BITS 16
#define LANE_MASK 0xffffu

/* Merging a code's leaves the way zlib's heap does, a group of equal keys at a time.  Keys rise from merge
 * to merge, as in the two-queue Huffman construction: leaf groups are made first, in order, and each new
 * inner key extends the inner queue's tail or follows it.  Groups are used up in each queue's order, so the
 * two heads are always the live groups with the least keys. */
typedef struct {
    floor_group *group;
    uint16_t *queue;
    uint16_t *order;
    int groups;
    int merged;         /* groups in order[] */
    int leaf;           /* the least live leaf group; leaf groups are 0..leaf_groups - 1 */
    int leaf_groups;
    int head, tail;     /* live inner groups in queue[head..tail) */
} merging;

HOT_INLINE int new_group(merging *m, uint32_t freq, unsigned height, unsigned nodes, unsigned merges)
{
    floor_group *group = &m->group[m->groups];

    group->freq = freq;
    group->height = (uint8_t)height;
    group->live = (uint16_t)nodes;
    group->merges = (uint16_t)merges;
    group->sends = 0;
    group->loose = (uint16_t)nodes; /* leaves: less those in runs of 4 or more, once they are known */
    return m->groups++;
}

/* the group of the least live node (there must be one): a leaf (height 0) comes before an inner node of
 * the same frequency */
HOT_INLINE int least_group(const merging *m)
{
    if (m->leaf < m->leaf_groups &&
        (m->head == m->tail || m->group[m->leaf].freq <= m->group[m->queue[m->head]].freq))
        return m->leaf;
    return m->queue[m->head];
}

/* takes count nodes off the least group, which goes into order[] once it has none left */
HOT_INLINE void take_least(merging *m, int index, unsigned count)
{
    floor_group *group = &m->group[index];

    group->live = (uint16_t)(group->live - count);
    if (group->live != 0)
        return;
    m->order[m->merged++] = (uint16_t)index;
    if (index < m->leaf_groups)
        m->leaf++;
    else
        m->head++;
}

/* adds the nodes of key (freq, height) one merge made; their group, or -1 when the code gets longer than
 * MAX_CODE_BITS or the keys do not rise (which the two-queue argument rules out; no bound is made then) */
HOT_INLINE int add_nodes(merging *m, uint32_t freq, unsigned height, unsigned nodes)
{
    if (height > MAX_CODE_BITS)
        return -1;
    if (m->tail > m->head) {
        floor_group *last = &m->group[m->queue[m->tail - 1]];

        if (last->freq == freq && last->height == height) {
            last->live = (uint16_t)(last->live + nodes);
            last->merges++;
            return m->queue[m->tail - 1];
        }
        if (last->freq > freq || (last->freq == freq && last->height > height))
            return -1;
    }
    m->queue[m->tail] = (uint16_t)new_group(m, freq, height, nodes, 1);
    return m->queue[m->tail++];
}

/* records where items of a group's nodes went; 0 (no bound) when the group has FLOOR_SENDS already, which
 * merge_groups' argument rules out: a change that breaks it then costs a built code, not a write past the end */
HOT_INLINE int add_send(floor_group *group, int parent_group, unsigned items, unsigned per_parent)
{
    if (group->sends >= FLOOR_SENDS)
        return 0;
    group->send_group[group->sends] = (uint16_t)parent_group;
    group->send_items[group->sends] = (uint16_t)items;
    group->per_parent[group->sends] = (uint8_t)per_parent;
    group->sends++;
    return 1;
}

/* Merges every group, least first: pairs of its own nodes go to one parent group, and an odd node out pairs
 * with the least node left (which may be one just made).  A group's nodes go to at most three parent groups:
 * its pairs', its odd node's, and that of an earlier group's odd node, which took one of them just before
 * this group became the least.  Returns the data's cost (the sum of inner nodes' frequencies), or 0 when
 * no bound can be made. */
static uint64_t merge_groups(merging *state, int leaves)
{
    /* a local copy: stores into the groups cannot change it, so its fields stay in registers */
    merging local = *state, *m = &local;
    uint64_t cost = 0;
    int nodes = leaves;

    while (nodes > 1) {
        int index = least_group(m), parent;
        floor_group *group = &m->group[index];
        unsigned count = group->live, pairs = count / 2;

        take_least(m, index, count);
        if (pairs > 0) {
            parent = add_nodes(m, 2 * group->freq, group->height + 1u, pairs);
            if (parent < 0 || !add_send(group, parent, 2 * pairs, 2))
                return 0;
            cost += (uint64_t)pairs * 2 * group->freq;
            nodes -= (int)pairs;
        }
        if (count % 2) {
            int other_index = least_group(m);
            floor_group *other = &m->group[other_index];

            take_least(m, other_index, 1);
            parent = add_nodes(m, group->freq + other->freq,
                               (group->height > other->height ? group->height : other->height) + 1u, 1);
            if (parent < 0 || !add_send(group, parent, 1, 1) || !add_send(other, parent, 1, 1))
                return 0;
            cost += (uint64_t)group->freq + other->freq;
            nodes--;
        }
    }
    m->order[m->merged++] = (uint16_t)least_group(m); /* the root */
    *state = local;
    return cost;
}

/* Depths from the root down (order[] read backwards lists parents before children): a group's nodes have
 * the depths of the parents they went to, plus one.  Which nodes of a parent group came from which merge is
 * the heap's choice, so a group knows its parents' depths exactly only when their group was made by one
 * merge or has a single depth, else only their range; and a multiset wider than FLOOR_DEPTH_LANES depths is
 * kept as its range too. */
static int assign_depths(floor_group *groups, const uint16_t *order, int merged)
{
    floor_group *root = &groups[order[merged - 1]];
    int i, s;

    root->exact = 1;
    root->lo = root->hi = 0;
    root->depths = 1;
    for (i = merged - 2; i >= 0; i--) {
        floor_group *group = &groups[order[i]];
        const floor_group *parent;
        unsigned lo, hi;
        int exact;
        uint64_t depths;

        /* every group but the root sent its nodes somewhere (merge_groups merged them all); one that did not
         * has no parent to read: no bound, and the caller builds the codes */
        if (group->sends == 0 || group->sends > FLOOR_SENDS)
            return 0;
        parent = &groups[group->send_group[0]];
        lo = parent->lo + 1u;
        hi = parent->hi + 1u;
        exact = parent->exact && (parent->merges == 1 || parent->lo == parent->hi);

        if (group->sends == 1) {
            /* most groups: all their nodes made parents in one group */
            group->lo = (uint8_t)lo;
            group->hi = (uint8_t)hi;
            group->exact = (uint8_t)exact;
            group->depths = parent->lo == parent->hi ? group->send_items[0] : parent->depths * group->per_parent[0];
            continue;
        }
        for (s = 1; s < group->sends; s++) {
            parent = &groups[group->send_group[s]];
            if (parent->lo + 1u < lo)
                lo = parent->lo + 1u;
            if (parent->hi + 1u > hi)
                hi = parent->hi + 1u;
            if (!parent->exact || (parent->merges > 1 && parent->lo != parent->hi))
                exact = 0;
        }
        if (hi - lo >= FLOOR_DEPTH_LANES)
            exact = 0;
        depths = 0;
        for (s = 0; exact && s < group->sends; s++) {
            unsigned shift;

            parent = &groups[group->send_group[s]];
            shift = LANE_BITS * (parent->lo + 1u - lo);
            if (parent->lo == parent->hi)
                depths += (uint64_t)group->send_items[s] << shift;
            else /* one merge made every node of that group: all of them are parents of ours */
                depths += (parent->depths * group->per_parent[s]) << shift;
        }
        group->lo = (uint8_t)lo;
        group->hi = (uint8_t)hi;
        group->exact = (uint8_t)exact;
        group->depths = depths;
    }
    return 1;
}

/* What the header bound gathers over both codes. */
typedef struct {
    uint32_t explicit_count[MAX_CODE_BITS + 1]; /* leaves of each length in exact groups */
    uint32_t coverable[MAX_CODE_BITS + 1];      /* of those, the most a repeat (16) could cover */
    uint32_t zero_symbols[LENGTH_CODE_CODES];   /* [0], [17], [18]: the zero runs' symbols, exactly */
    uint32_t repeats;                           /* repeats (16) certainly sent */
    uint32_t used;                              /* code-length symbols certainly sent (bit per symbol) */
    int loose_count;
    uint32_t loose_leaves[MAX_LOOSE_GROUPS];    /* leaves certainly sent as they are, of a range-only group, */
    uint8_t loose_lo[MAX_LOOSE_GROUPS];         /* and its range */
    uint8_t loose_hi[MAX_LOOSE_GROUPS];
} header_floor;

/* the repeats (16) zlib sends for count equal nonzero lengths in a row: the first of them, then one per
 * piece of the rest (7, then 6 at a time) that has at least 3 */
static uint32_t repeats_for(int count)
{
    uint32_t repeats;

    if (count < 4)
        return 0;
    repeats = 1;
    for (count -= count < 7 ? count : 7; count > 0; count -= 6)
        repeats += count >= 3;
    return repeats;
}

/* the first symbol at or after from whose bit in map is set (want 1) or clear (want 0), or words * 64 */
static int next_bit(const uint64_t *map, int words, int from, int want)
{
    int word = from >> 6;
    uint64_t bits;

    if (word >= words)
        return words * 64;
    bits = (want ? map[word] : ~map[word]) & (~0ull << (from & 63));
    while (bits == 0) {
        if (++word == words)
            return words * 64;
        bits = want ? map[word] : ~map[word];
    }
    return word * 64 + lowest_bit(bits);
}

/* out = map & (map >> by), over words words (0 < by < 64): bit i says bits i and i + by are both set */
static void and_shifted(uint64_t *out, const uint64_t *map, int words, int by)
{
    int word;

    for (word = 0; word < words; word++)
        out[word] = map[word] & ((map[word] >> by) | (word + 1 < words ? map[word + 1] << (64 - by) : 0));
}

/* bits of map whose next lower bit is clear (bit 0 included when set): where map's runs of set bits start */
static void run_starts(uint64_t *out, const uint64_t *map, int words)
{
    uint64_t carry = 0;
    int word;

    for (word = 0; word < words; word++) {
        out[word] = map[word] & ~((map[word] << 1) | carry);
        carry = map[word] >> 63;
    }
}

/* set bits of a & b */
static int count_common(const uint64_t *a, const uint64_t *b, int words)
{
    int word, count = 0;

    for (word = 0; word < words; word++)
        count += count_bits(a[word] & b[word]);
    return count;
}

/* a used symbol's frequency in zlib's tree: a padding symbol has none in freq, and zlib gives it 1 */
HOT_INLINE uint32_t leaf_freq(const uint32_t *freq, int symbol)
{
    return freq[symbol] + (freq[symbol] == 0);
}

/* the group of a used symbol's leaf */
static floor_group *leaf_of(at2_floor_work *work, const uint32_t *freq, int symbol)
{
    return &work->group[work->leaf_group[leaf_freq(freq, symbol)]];
}

/* counts a run of zeros zero lengths into h as zlib codes it (zero_piece) */
static void count_zero_run(header_floor *h, int zeros)
{
    int piece;

    while (zeros > 0) {
        int symbol = zero_piece(&zeros, &piece);

        h->zero_symbols[symbol] += symbol == 0 ? (uint32_t)piece : 1;
    }
}

/* Where the runs of 4 or more used symbols in a row start (their symbols may share one length, which a
 * repeat (16) can then cover): out[word] bits. */
static void long_run_starts(uint64_t *out, const uint64_t *used, int words)
{
    uint64_t two[LITLEN_WORDS], four[LITLEN_WORDS];
    int word;

    and_shifted(two, used, words, 1);
    and_shifted(four, two, words, 2); /* bit i: symbols i..i+3 all used */
    run_starts(out, used, words);
    for (word = 0; word < words; word++)
        out[word] &= four[word];
}

/* The zero runs of one code's lengths (symbols 0..top, top used), counted as zlib codes them, word-parallel:
 * runs of 1 or 2 zeros are sent as they are, 3-10 as 17, 11-138 as 18; the few runs of 11 or more are
 * measured one by one, since longer than 138 takes more than one symbol. */
static void zero_runs(header_floor *h, const uint64_t *used, int words, int top)
{
    uint64_t zero[LITLEN_WORDS], starts[LITLEN_WORDS], two[LITLEN_WORDS], three[LITLEN_WORDS],
        four[LITLEN_WORDS], eight[LITLEN_WORDS], eleven[LITLEN_WORDS];
    int word, one_or_more, two_or_more, three_or_more, long_runs, start;

    for (word = 0; word < words; word++) {
        int below = top - word * 64; /* bits of this word below top */

        zero[word] = below <= 0 ? 0 : ~used[word] & (below >= 64 ? ~0ull : (1ull << below) - 1);
    }
    run_starts(starts, zero, words);
    and_shifted(two, zero, words, 1);   /* bit i: at least 2 zeros from i */
    and_shifted(four, two, words, 2);   /* 4 */
    and_shifted(eight, four, words, 4); /* 8 */
    for (word = 0; word < words; word++)
        three[word] = two[word] & ((zero[word] >> 2) | (word + 1 < words ? zero[word + 1] << 62 : 0));
    for (word = 0; word < words; word++)
        eleven[word] = eight[word] & ((three[word] >> 8) | (word + 1 < words ? three[word + 1] << 56 : 0));
    one_or_more = count_common(starts, starts, words);
    two_or_more = count_common(starts, two, words);
    three_or_more = count_common(starts, three, words);
    long_runs = count_common(starts, eleven, words);
    h->zero_symbols[0] += (uint32_t)(one_or_more - two_or_more) + 2u * (uint32_t)(two_or_more - three_or_more);
    h->zero_symbols[REPEAT_ZERO] += (uint32_t)(three_or_more - long_runs);
    /* a run of more than 138 zeros holds a whole word of them; without one, each long run is one 18 */
    for (word = 0; word < words && zero[word] != ~0ull; word++)
        ;
    if (word == words) {
        h->zero_symbols[REPEAT_ZERO_LONG] += (uint32_t)long_runs;
        return;
    }
    for (word = 0; word < words; word++)
        eleven[word] &= starts[word];
    for (start = next_bit(eleven, words, 0, 1); start < words * 64; start = next_bit(eleven, words, start + 1, 1))
        count_zero_run(h, next_bit(used, words, start, 1) - start);
}

/* bit i: bits i..i+3 of word are all set */
HOT_INLINE uint64_t fours(uint64_t word)
{
    word &= word >> 1;
    return word & (word >> 2);
}

/* bit i: one of bits i-3..i of word is set */
HOT_INLINE uint64_t spread_up(uint64_t word)
{
    word |= word << 1;
    return word | (word << 2);
}

/* The repeats (16) certainly sent for one length in a run of at most 64 symbols (bit i: symbol start + i):
 * in every stretch of symbols that may have it (possible), at least those of its longest run of symbols
 * that certainly have it (sure): a stretch holding that run is at least as long, and repeats grow with
 * length. */
static uint32_t sure_repeats(uint64_t possible, uint64_t sure)
{
    uint32_t repeats = 0;

    while (sure) {
        int start = lowest_bit(sure), longest = 0;
        /* the stretch of possible from start on, and the sure runs inside it */
        uint64_t stretch = ~possible >> start ? possible & ((1ull << (start + lowest_bit(~possible >> start))) - 1)
                                              : possible;
        uint64_t inside = sure & stretch;

        while (inside) {
            int run_start = lowest_bit(inside), run = ~inside >> run_start ? lowest_bit(~inside >> run_start)
                                                                           : 64 - run_start;

            if (run > longest)
                longest = run;
            inside &= run_start + run < 64 ? ~0ull << (run_start + run) : 0;
        }
        repeats += repeats_for(longest);
        sure &= ~stretch;
    }
    return repeats;
}

/* One run of 4 or more used symbols, where a repeat (16) may cover lengths: for each length, the exact
 * groups' leaves in a stretch of at least 4 symbols that may all have it come off the sent lengths
 * (coverable), and sure ones make repeats certain.  The run's leaves are taken off their groups' loose
 * counts.  A run longer than 64 symbols is counted as all coverable, with no repeat certain. */
static void repeatable_run(header_floor *h, at2_floor_work *work, const uint32_t *freq, int start, int end)
{
    uint64_t possible[MAX_CODE_BITS + 1], sure[MAX_CODE_BITS + 1], exact = 0;
    unsigned lengths = 0, sure_lengths = 0, mask;
    int symbol, length, wide = end - start > 64;

    for (symbol = start; symbol < end; symbol++) {
        floor_group *group = leaf_of(work, freq, symbol);
        uint64_t bit = 1ull << ((symbol - start) & 63);

        group->loose--;
        for (mask = group->mask; mask; mask &= mask - 1) {
            length = lowest_bit(mask);
            if (wide) {
                h->coverable[length] += group->exact;
            } else {
                if (!(lengths >> length & 1)) {
                    possible[length] = sure[length] = 0;
                    lengths |= 1u << length;
                }
                possible[length] |= bit;
            }
        }
        if (group->exact && !wide) {
            exact |= bit;
            if (group->lo == group->hi) {
                sure[group->lo] |= bit;
                sure_lengths |= 1u << group->lo;
            }
        }
    }
    for (; lengths; lengths &= lengths - 1) {
        uint64_t stretches;

        length = lowest_bit(lengths);
        stretches = fours(possible[length]);
        h->coverable[length] += (uint32_t)count_bits(spread_up(stretches) & exact);
        if ((sure_lengths >> length & 1) && fours(sure[length]))
            h->repeats += sure_repeats(possible[length], sure[length]);
    }
}

/* The runs of 4 or more used symbols, passed to repeatable_run. */
static void repeatable_lengths(header_floor *h, at2_floor_work *work, const uint32_t *freq, const uint64_t *used,
                               int words)
{
    uint64_t starts[LITLEN_WORDS];
    int word, start;

    long_run_starts(starts, used, words);
    for (word = 0; word < words; word++)
        for (uint64_t bits = starts[word]; bits; bits &= bits - 1) {
            start = word * 64 + lowest_bit(bits);
            repeatable_run(h, work, freq, start, next_bit(used, words, start, 0));
        }
}

/* symbols in a bitmap */
static int count_symbols(const uint64_t *used, int words)
{
    int word, count = 0;

    for (word = 0; word < words; word++)
        count += count_bits(used[word]);
    return count;
}

/* Pads a code's symbols as zlib does (a code gets at least two, the extra ones at the start); returns how
 * many it added, the highest symbol in *top and the symbols it then has in *symbols. */
static int pad_symbols(uint64_t *used, int words, int *top, int *symbols)
{
    int word, count = count_symbols(used, words), added = 0;

    *top = -1;
    for (word = 0; word < words; word++)
        if (used[word])
            *top = word * 64 + 63 - leading_zeros(used[word]);
    for (; count + added < 2; added++) {
        int node = *top < 2 ? ++*top : 0;

        used[node >> 6] |= 1ull << (node & 63);
    }
    *symbols = count + added;
    return added;
}

/* Counts a code's leaves per frequency and makes their groups, least frequency first; the number of leaves,
 * or 0 when a frequency is above FLOOR_MAX_FREQ (counts is left all 0 either way). */
static int leaf_groups(merging *m, at2_floor_work *work, const uint32_t *freq, const uint64_t *used, int words)
{
    uint32_t max_freq = 1;
    int word, leaves = 0, too_large = 0;

    for (word = 0; word < words; word++)
        for (uint64_t bits = used[word]; bits; bits &= bits - 1) {
            uint32_t f = leaf_freq(freq, word * 64 + lowest_bit(bits));

            if (f > FLOOR_MAX_FREQ) {
                too_large = 1;
                continue;
            }
            work->counts[f]++;
            max_freq = f > max_freq ? f : max_freq;
            leaves++;
        }
    for (uint32_t f = 1; f <= max_freq; f++) {
        if (work->counts[f] == 0)
            continue;
        if (!too_large)
            work->leaf_group[f] = (uint16_t)new_group(m, f, 0, work->counts[f], 0);
        work->counts[f] = 0;
    }
    m->leaf_groups = m->groups;
    return too_large ? 0 : leaves;
}

/* merge_code and length_code at once for a code of two or three symbols (a distance code, mostly), whose lengths need no merging:
 * two have 1 bit each; of three, the most frequent has 1 and the others 2, whichever way ties go.  *ok is 0
 * (no bound, build the codes) for any other count, which merge_code and pad_symbols rule out. */
static uint64_t small_code_floor(header_floor *h, const uint32_t *freq, const uint64_t *used, int words, int *ok)
{
    uint32_t f[3];
    int count = 0, previous = -1;

    *ok = 0;
    for (int word = 0; word < words; word++)
        for (uint64_t bits = used[word]; bits; bits &= bits - 1) {
            int symbol = word * 64 + lowest_bit(bits);

            if (count == 3)
                return 0;
            f[count++] = leaf_freq(freq, symbol);
            count_zero_run(h, symbol - previous - 1);
            previous = symbol;
        }
    if (count < 2)
        return 0;
    *ok = 1;
    if (count == 2) {
        h->explicit_count[1] += 2;
        h->used |= 1u << 1;
        return (uint64_t)f[0] + f[1];
    }
    h->explicit_count[1] += 1;
    h->explicit_count[2] += 2;
    h->used |= 1u << 1 | 1u << 2;
    {
        uint32_t most = f[0] > f[1] ? (f[0] > f[2] ? f[0] : f[2]) : (f[1] > f[2] ? f[1] : f[2]);

        return 2 * ((uint64_t)f[0] + f[1] + f[2]) - most;
    }
}

/* A code on its way through the bound: merged first (its data's cost, its zero runs), its lengths later. */
typedef struct {
    merging m;
    uint64_t cost;      /* the data's cost, less zlib's one bit per padding symbol */
    int pads;           /* padding symbols (pad_symbols) */
    int top;            /* the highest symbol */
    int small;          /* two or three symbols: small_code_floor did everything */
} code_part;

/* Before anything else of a code's part: its symbols padded as zlib pads them, its highest symbol, and
 * whether it is small (two or three symbols); a code that is not small then has its zero runs counted
 * (zero_runs) by the caller. */
static void prepare_code(code_part *code, uint64_t *used, int words)
{
    int symbols;

    code->pads = pad_symbols(used, words, &code->top, &symbols);
    code->small = symbols <= 3;
}

/* First half of a prepared code's part: its leaves merged (the data's cost: inner nodes' frequencies); a
 * small code's zero runs and lengths are counted too.  0 when no bound can be made. */
static int merge_code(at2_floor_work *work, code_part *code, header_floor *h, const uint32_t *freq,
                      const uint64_t *used, int words)
{
    int leaves, ok;

    if (code->small) {
        code->cost = small_code_floor(h, freq, used, words, &ok);
        if (!ok)
            return 0;
        code->cost -= (uint64_t)code->pads;
        return 1;
    }
    code->m.group = work->group;
    code->m.queue = work->queue;
    code->m.order = work->order;
    code->m.groups = code->m.merged = 0;
    code->m.leaf = 0;
    code->m.head = code->m.tail = 0;
    leaves = leaf_groups(&code->m, work, freq, used, words);
    if (leaves == 0)
        return 0;
    code->cost = merge_groups(&code->m, leaves);
    if (code->cost == 0)
        return 0;
    code->cost -= (uint64_t)code->pads;
    return 1;
}

/* The fewest code-length symbols a code's nonzero lengths can take, whatever they are: a run of k used
 * symbols in a row takes k when k < 4, else at least one length and one repeat (16) per 6 more. */
static uint32_t fewest_length_symbols(const uint64_t *used, int words)
{
    uint64_t starts[LITLEN_WORDS];
    uint32_t symbols = (uint32_t)count_symbols(used, words);
    int word;

    long_run_starts(starts, used, words);
    for (word = 0; word < words; word++)
        for (uint64_t bits = starts[word]; bits; bits &= bits - 1) {
            int start = word * 64 + lowest_bit(bits), run = next_bit(used, words, start, 0) - start;

            symbols -= (uint32_t)run - (1 + (uint32_t)(run - 1 + 5) / 6);
        }
    return symbols;
}

/* Second half of a code's part: its groups' depths, their lengths counted for the header (explicit_count,
 * less what repeats could cover), and range-only groups kept for the corners.  0 when no bound can be made. */
static int length_code(at2_floor_work *work, code_part *code, header_floor *h, const uint32_t *freq,
                       const uint64_t *used, int words)
{
    int g, lane;

    if (code->small)
        return 1;
    if (!assign_depths(work->group, work->order, code->m.merged))
        return 0;
    for (g = 0; g < code->m.leaf_groups; g++) {
        floor_group *group = &work->group[g];

        if (group->exact) {
            group->mask = 0;
            for (lane = 0; lane <= group->hi - group->lo; lane++) {
                uint32_t count = (uint32_t)(group->depths >> (LANE_BITS * lane)) & LANE_MASK;

                if (count) {
                    group->mask |= (uint16_t)(1u << (group->lo + lane));
                    h->explicit_count[group->lo + lane] += count;
                }
            }
            h->used |= group->mask;
        } else {
            group->mask = (uint16_t)((2u << group->hi) - (1u << group->lo));
        }
    }
    repeatable_lengths(h, work, freq, used, words);
    for (g = 0; g < code->m.leaf_groups; g++) {
        const floor_group *group = &work->group[g];

        if (!group->exact && group->loose && h->loose_count < MAX_LOOSE_GROUPS) {
            h->loose_leaves[h->loose_count] = group->loose;
            h->loose_lo[h->loose_count] = group->lo;
            h->loose_hi[h->loose_count] = group->hi;
            h->loose_count++;
        }
    }
    return 1;
}

/* the cost of an optimal prefix code (no length limit) for these counts (at most LENGTH_CODE_CODES + 1); a
 * lone symbol costs a bit a use */
static uint64_t optimal_cost(const uint32_t *counts, int symbols)
{
    uint64_t sorted[LENGTH_CODE_CODES + 1], merged[LENGTH_CODE_CODES + 1], cost = 0;
    int live = 0, i, j, next_leaf = 0, merged_head = 0, merged_tail = 0;

    for (i = 0; i < symbols; i++) {
        uint64_t value = counts[i];

        if (value == 0)
            continue;
        for (j = live++; j > 0 && sorted[j - 1] > value; j--)
            sorted[j] = sorted[j - 1];
        sorted[j] = value;
    }
    if (live < 2)
        return live ? sorted[0] : 0;
    /* two queues: the leaves in order, and merged nodes, which are made in order */
    for (i = 1; i < live; i++) {
        uint64_t pair = 0;

        for (j = 0; j < 2; j++) {
            if (merged_head == merged_tail || (next_leaf < live && sorted[next_leaf] <= merged[merged_head]))
                pair += sorted[next_leaf++];
            else
                pair += merged[merged_head++];
        }
        merged[merged_tail++] = pair;
        cost += pair;
    }
    return cost;
}

/* how many times a length of exact groups is certainly sent as it is: each leaf, less what repeats may cover,
 * and at least once when it occurs at all (a repeat follows a sent length) */
static uint32_t sent_lengths(const header_floor *h, int length)
{
    if (h->explicit_count[length] == 0)
        return 0;
    return h->explicit_count[length] > h->coverable[length] ? h->explicit_count[length] - h->coverable[length] : 1;
}

/* the header's fixed fields, the code-length code's lengths (as many as the symbols in used need) and the
 * repeat symbols' extra bits */
static uint64_t header_bits(uint32_t used, const uint32_t *counts)
{
    int order;

    /* at least 4 code-length code lengths are sent; trailing zero ones are not */
    for (order = LENGTH_CODE_CODES - 1; order > 3; order--)
        if (used >> length_code_order[order] & 1)
            break;
    return 5 + 5 + 4 + 3 * ((uint64_t)order + 1) + 2ull * counts[REPEAT_PREVIOUS] + 3ull * counts[REPEAT_ZERO] +
           7ull * counts[REPEAT_ZERO_LONG];
}

/* The header bound of the first bounds: every nonzero length of both codes merged into one symbol of the
 * code-length code (merging symbols never makes an optimal code larger; the lengths known to occur still
 * count for how many code-length code lengths the header lists). */
static uint64_t merged_header(const header_floor *h, const uint64_t *litlen_map)
{
    uint32_t counts[LENGTH_CODE_CODES + 1];
    uint32_t used = h->used;
    int i, length;

    memset(counts, 0, sizeof(counts));
    counts[0] = h->zero_symbols[0];
    counts[REPEAT_ZERO] = h->zero_symbols[REPEAT_ZERO];
    counts[REPEAT_ZERO_LONG] = h->zero_symbols[REPEAT_ZERO_LONG];
    for (i = 0; i < LENGTH_CODE_CODES; i++)
        if (counts[i])
            used |= 1u << i;
    /* the distance code's lengths join the one symbol too: either code may use any length */
    counts[LENGTH_CODE_CODES] = fewest_length_symbols(litlen_map, LITLEN_WORDS);
    for (length = 1; length <= MAX_CODE_BITS; length++)
        counts[LENGTH_CODE_CODES] += sent_lengths(h, length);
    return header_bits(used, counts) + optimal_cost(counts, LENGTH_CODE_CODES + 1);
}

/* x log2 x for the symbol counts the first bound takes: a code's frequencies, and their sum */
#define ENTROPY_MAX_SYMBOLS 1024
static double x_log2_x[ENTROPY_MAX_SYMBOLS + 1];

/* log2(x) for x >= 1 by repeated squaring, within 1e-9 of the true value (no libm: the C core links none) */
static double log2_by_squaring(double x)
{
    double result = 0, weight = 1;
    int i;

    while (x >= 2) {
        x /= 2;
        result += 1;
    }
    for (i = 0; i < 48; i++) {
        x *= x;
        weight /= 2;
        if (x >= 2) {
            x /= 2;
            result += weight;
        }
    }
    return result;
}

void at2_floor_init(void)
{
    int x;

    for (x = 1; x <= ENTROPY_MAX_SYMBOLS; x++)
        x_log2_x[x] = x * log2_by_squaring((double)x);
}

/* A lower bound of the data's bits under any prefix code of these frequencies: their entropy,
 * N log2 N - sum f log2 f (Gibbs' inequality, which zlib's length-limited codes obey too), less a margin far
 * above the rounding of the doubles; 0 when no bound is made (more than ENTROPY_MAX_SYMBOLS symbols). */
static uint64_t entropy_floor(const uint32_t *freq, const uint64_t *used, int words)
{
    double sum = 0, bits;
    uint64_t n = 0;
    int word;

    for (word = 0; word < words; word++)
        for (uint64_t set = used[word]; set; set &= set - 1) {
            uint32_t f = freq[word * 64 + lowest_bit(set)];

            n += f;
            if (n > ENTROPY_MAX_SYMBOLS)
                return 0;
            sum += x_log2_x[f];
        }
    bits = x_log2_x[n] - sum - 0.001;
    return bits <= 0 ? 0 : (uint64_t)bits + 1;
}

uint64_t at2_dynamic_floor(at2_floor_work *work, const uint32_t *litlen_freq, const uint64_t *litlen_used,
                           const uint32_t *distance_freq, uint64_t distance_used, uint64_t extra_bits, uint64_t enough)
{
    header_floor h;
    code_part litlen, distance;
    uint64_t litlen_map[LITLEN_WORDS], distance_map[1], bits, least;
    uint32_t counts[LENGTH_CODE_CODES]; /* the code-length code's symbols */
    int corners = 1, used_groups = 0, i, length, choice[MAX_LOOSE_GROUPS];

    memset(&h, 0, sizeof(h));
    memcpy(litlen_map, litlen_used, sizeof(litlen_map));
    distance_map[0] = distance_used;
    /* the distance code first and whole (it is small), so the literal/length code's groups stay for its
     * second half */
    prepare_code(&distance, distance_map, 1);
    if (!merge_code(work, &distance, &h, distance_freq, distance_map, 1))
        return 0;
    if (!distance.small)
        zero_runs(&h, distance_map, 1, distance.top);
    if (!length_code(work, &distance, &h, distance_freq, distance_map, 1))
        return 0;
    prepare_code(&litlen, litlen_map, LITLEN_WORDS);
    if (!litlen.small)
        zero_runs(&h, litlen_map, LITLEN_WORDS, litlen.top);

    /* A first, cheap bound, made before the literal/length code is merged: its data at their entropy, and
     * every nonzero length of both codes as one symbol of the code-length code (merged_header).  A thread
     * that makes one kind of token meets one kind of block: when this bound falls short it mostly will
     * again, so it is then skipped for a while (which changes no decision, only what deciding costs).  (A
     * small code's lengths are counted already: it goes straight on.) */
    if (work->skip_first_bound > 0) {
        work->skip_first_bound--;
    } else if (!litlen.small) {
        uint64_t data = entropy_floor(litlen_freq, litlen_map, LITLEN_WORDS);

        /* no entropy bound (too many symbols): no first bound either */
        if (data != 0) {
            least = data + distance.cost + extra_bits + merged_header(&h, litlen_map);
            if (least >= enough)
                return least;
        }
        work->skip_first_bound = SKIP_AFTER_SHORT;
    }

    if (!merge_code(work, &litlen, &h, litlen_freq, litlen_map, LITLEN_WORDS))
        return 0;
    bits = litlen.cost + distance.cost + extra_bits;
    if (!length_code(work, &litlen, &h, litlen_freq, litlen_map, LITLEN_WORDS))
        return 0;
    memset(counts, 0, sizeof(counts));
    for (length = 1; length <= MAX_CODE_BITS; length++)
        counts[length] = sent_lengths(&h, length);
    counts[0] = h.zero_symbols[0];
    counts[REPEAT_ZERO] = h.zero_symbols[REPEAT_ZERO];
    counts[REPEAT_ZERO_LONG] = h.zero_symbols[REPEAT_ZERO_LONG];
    counts[REPEAT_PREVIOUS] = h.repeats;
    for (i = 0; i < LENGTH_CODE_CODES; i++)
        if (counts[i])
            h.used |= 1u << i;
    bits += header_bits(h.used, counts);
    /* first without the range-only groups' leaves (fewer counts: a lower bound too) */
    least = optimal_cost(counts, LENGTH_CODE_CODES);
    if (bits + least >= enough || h.loose_count == 0)
        return bits + least;

    /* the corners: each range-only group's certain leaves all at one length of its range (groups that would
     * make more than MAX_CORNERS corners are left out) */
    for (i = 0; i < h.loose_count; i++) {
        int span = h.loose_hi[i] - h.loose_lo[i] + 1;

        if (corners * span > MAX_CORNERS)
            break;
        corners *= span;
        choice[used_groups++] = h.loose_lo[i];
    }
    least = UINT64_MAX;
    for (;;) {
        uint32_t corner[LENGTH_CODE_CODES];
        uint64_t cost;

        memcpy(corner, counts, sizeof(corner));
        for (i = 0; i < used_groups; i++)
            corner[choice[i]] += h.loose_leaves[i];
        cost = optimal_cost(corner, LENGTH_CODE_CODES);
        if (cost < least)
            least = cost;
        for (i = 0; i < used_groups && choice[i] == h.loose_hi[i]; i++)
            choice[i] = h.loose_lo[i];
        if (i == used_groups)
            break;
        choice[i]++;
    }
    return bits + least;
}
