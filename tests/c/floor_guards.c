/* Checks the entropy floor of src_c/deflate_floor.c against exact Huffman costs, and forces the guards that
 * no input reaches: each array bound there is held by an
 * argument about the whole computation (at most FLOOR_SENDS parents per group, every group but the root sent
 * somewhere, two or three symbols in a small code), and each is also a checked early return that makes no
 * bound (the caller then builds the codes).  This driver breaks each argument on purpose and checks that the
 * function stops without writing past its arrays.  Built and run by tests/test_c_guards.py, with
 * AddressSanitizer when the compiler has it.  Exit status 0 when every check holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deflate_floor.c"

static int failures;

/* one check: prints what failed */
static void check(int holds, const char *what)
{
    if (!holds) {
        printf("FAILED: %s\n", what);
        failures++;
    }
}

/* a group whose FLOOR_SENDS places are taken refuses a fourth, and its fields stay as they were */
static void check_add_send(void)
{
    floor_group group, before;
    int i;

    memset(&group, 0, sizeof(group));
    for (i = 0; i < FLOOR_SENDS; i++)
        check(add_send(&group, 10 + i, 2, 2) == 1, "add_send takes FLOOR_SENDS parents");
    group.live = 0x5a5a;
    before = group;
    check(add_send(&group, 99, 1, 1) == 0, "add_send refuses a parent past FLOOR_SENDS");
    check(memcmp(&group, &before, sizeof(group)) == 0, "a refused add_send changes nothing");
}

/* a group (not the root) that sent its nodes nowhere, or claims more sends than there are places: no bound */
static void check_assign_depths(void)
{
    static floor_group groups[3];
    uint16_t order[3] = {0, 1, 2}; /* children first, the root (2) last */

    memset(groups, 0, sizeof(groups));
    groups[1].sends = 1;
    groups[1].send_group[0] = 2;
    groups[1].send_items[0] = 2;
    groups[1].per_parent[0] = 2;
    groups[1].merges = 1;
    groups[0].sends = 0; /* never sent: its send_group[0] means nothing */
    check(assign_depths(groups, order, 3) == 0, "assign_depths refuses a group with no parent");
    groups[0].sends = FLOOR_SENDS + 1;
    check(assign_depths(groups, order, 3) == 0, "assign_depths refuses more sends than places");
    groups[0] = groups[1];
    groups[0].send_group[0] = 1;
    check(assign_depths(groups, order, 3) == 1, "assign_depths makes depths for a whole tree");
    check(groups[0].lo == 2 && groups[0].hi == 2, "the depths are the parents' plus one");
}

/* a "small" code of four symbols, or of one: small_code_floor makes no bound (f[3] holds three) */
static void check_small_code(void)
{
    uint32_t freq[64];
    uint64_t used;
    header_floor h;
    int ok = -1, i;

    for (i = 0; i < 64; i++)
        freq[i] = (uint32_t)(i + 1);
    memset(&h, 0, sizeof(h));
    used = 0xf; /* four symbols */
    small_code_floor(&h, freq, &used, 1, &ok);
    check(ok == 0, "small_code_floor refuses four symbols");
    used = 0x1; /* one symbol */
    ok = -1;
    small_code_floor(&h, freq, &used, 1, &ok);
    check(ok == 0, "small_code_floor refuses one symbol");
    used = 0x5; /* two symbols: 1 bit each, cost f[0] + f[2] = 1 + 3 */
    ok = -1;
    memset(&h, 0, sizeof(h));
    check(small_code_floor(&h, freq, &used, 1, &ok) == 4 && ok == 1, "small_code_floor prices two symbols");
    used = 0x7; /* three: 2 * (1 + 2 + 3) - 3 */
    ok = -1;
    memset(&h, 0, sizeof(h));
    check(small_code_floor(&h, freq, &used, 1, &ok) == 9 && ok == 1, "small_code_floor prices three symbols");
}

/* the cost of a Huffman code for these frequencies (at least two), the plain way: merge the two least */
static uint64_t huffman_cost(const uint32_t *freq, int symbols)
{
    uint64_t nodes[LITLEN_CODES], cost = 0;
    int live = 0, i;

    for (i = 0; i < symbols; i++)
        if (freq[i])
            nodes[live++] = freq[i];
    while (live > 1) {
        int a = 0, b = 1, j;

        if (nodes[b] < nodes[a]) {
            a = 1;
            b = 0;
        }
        for (j = 2; j < live; j++) {
            if (nodes[j] < nodes[a]) {
                b = a;
                a = j;
            } else if (nodes[j] < nodes[b]) {
                b = j;
            }
        }
        nodes[a] += nodes[b];
        cost += nodes[a];
        nodes[b] = nodes[--live];
    }
    return cost;
}

/* the bitmap of the symbols with a frequency */
static void used_of(const uint32_t *freq, uint64_t *used)
{
    int i;

    memset(used, 0, sizeof(uint64_t) * LITLEN_WORDS);
    for (i = 0; i < LITLEN_CODES; i++)
        if (freq[i])
            used[i >> 6] |= 1ull << (i & 63);
}

/* entropy_floor: exact where the entropy is a whole number of bits, never above a Huffman code's cost, no
 * bound past ENTROPY_MAX_SYMBOLS symbols */
static void check_entropy_floor(void)
{
    uint32_t freq[LITLEN_CODES];
    uint64_t used[LITLEN_WORDS];
    int i, round, above = 0, exact_at_powers = 1;

    at2_floor_init();
    for (i = 1; i <= 8; i++) {
        /* 2^i symbols seen once each: i bits a symbol, exactly */
        memset(freq, 0, sizeof(freq));
        for (int s = 0; s < (1 << i); s++)
            freq[s] = 1;
        used_of(freq, used);
        exact_at_powers &= entropy_floor(freq, used, LITLEN_WORDS) == (uint64_t)i << i;
    }
    check(exact_at_powers, "entropy_floor is exact for 2^i equal frequencies");
    memset(freq, 0, sizeof(freq));
    freq[10] = 1;
    freq[20] = 2;
    used_of(freq, used);
    check(entropy_floor(freq, used, LITLEN_WORDS) == 3, "entropy_floor of (1, 2): 3 log2 3 - 2 is about 2.75, so 3 bits");
    freq[30] = 1;
    used_of(freq, used);
    check(entropy_floor(freq, used, LITLEN_WORDS) == 6, "entropy_floor of (1, 2, 1): 6 bits, exactly");
    freq[40] = ENTROPY_MAX_SYMBOLS;
    used_of(freq, used);
    check(entropy_floor(freq, used, LITLEN_WORDS) == 0, "entropy_floor makes no bound past ENTROPY_MAX_SYMBOLS");

    srand(7);
    for (round = 0; round < 20000; round++) {
        int symbols = 2 + rand() % 120, top = 1 + rand() % 40;
        uint32_t total = 0;

        memset(freq, 0, sizeof(freq));
        for (i = 0; i < symbols; i++) {
            int s = rand() % LITLEN_CODES;

            /* mostly small frequencies, as in a token, some skewed */
            freq[s] += 1 + (uint32_t)(rand() % (round % 3 == 0 ? top : 3));
        }
        for (i = 0; i < LITLEN_CODES; i++)
            total += freq[i];
        used_of(freq, used);
        if (count_symbols(used, LITLEN_WORDS) < 2 || total > ENTROPY_MAX_SYMBOLS)
            continue;
        above += entropy_floor(freq, used, LITLEN_WORDS) > huffman_cost(freq, LITLEN_CODES);
    }
    check(above == 0, "entropy_floor is never above a Huffman code's cost");
}

int main(void)
{
    check_add_send();
    check_assign_depths();
    check_small_code();
    check_entropy_floor();
    if (failures)
        return 1;
    printf("floor guards: every check holds\n");
    return 0;
}
