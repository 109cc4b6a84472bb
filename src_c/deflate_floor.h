/* A lower bound of a dynamic deflate block's size computed from its symbol frequencies alone, so that
 * deflate.c can see that zlib would send a small block with the fixed codes without building the three
 * dynamic codes zlib builds to decide it.  No state outside the caller's work area. */
#ifndef ACCESSTOKEN2_DEFLATE_FLOOR_H
#define ACCESSTOKEN2_DEFLATE_FLOOR_H

#include <stdint.h>

#include "deflate_format.h"

/* the largest symbol frequency the bound handles (blocks with a larger one get no bound) */
#define FLOOR_MAX_FREQ 255
/* a code's groups: leaves of one frequency, or inner nodes of one (frequency, height); each merge of zlib's
 * heap makes at most one group and every leaf group has a different frequency */
#define FLOOR_GROUPS (2 * LITLEN_CODES)

/* the depths a group's exact multiset spans: lanes of 16 bits in a uint64_t */
#define FLOOR_DEPTH_LANES 4
/* the parent groups a group's nodes go to (three, see merge_groups; more makes no bound) */
#define FLOOR_SENDS 3

/* Nodes of equal (frequency, height), which zlib's heap orders by their places in it. */
typedef struct {
    uint32_t freq;
    uint8_t height;
    uint8_t sends;               /* destinations of its nodes, at most FLOOR_SENDS (see merge_groups) */
    uint8_t exact;               /* depths holds the multiset of its nodes' depths; else only lo..hi is known */
    uint8_t lo, hi;              /* the least and greatest depth of its nodes */
    uint8_t per_parent[FLOOR_SENDS];  /* where its nodes went: how many of them each parent has (1 or 2), */
    uint16_t send_group[FLOOR_SENDS]; /* the parents' group, */
    uint16_t send_items[FLOOR_SENDS]; /* and how many of its nodes went there */
    uint16_t live;               /* nodes not yet merged */
    uint16_t merges;             /* merges that made its nodes (0 for leaves) */
    uint16_t mask;               /* (leaves) the lengths a leaf may have, bit per length */
    uint16_t loose;              /* (leaves, not exact) leaves whose length is certainly sent as it is */
    uint64_t depths;             /* (exact) nodes at depths lo, lo + 1, ..: FLOOR_DEPTH_LANES counts of 16 bits */
} floor_group;

/* Scratch of at2_dynamic_floor: about 30 KiB, of which a small block touches a few KiB. */
typedef struct {
    floor_group group[FLOOR_GROUPS];
    uint16_t order[FLOOR_GROUPS];     /* groups as they were merged away: every parent after its children */
    uint16_t queue[FLOOR_GROUPS];     /* inner groups, in the (rising) order of their keys */
    uint16_t leaf_group[FLOOR_MAX_FREQ + 1]; /* group of the leaves of each frequency, valid while a code is built */
    uint16_t counts[FLOOR_MAX_FREQ + 1];     /* leaves of each frequency: all 0 between calls */
    int skip_first_bound;                    /* blocks left before at2_dynamic_floor tries its first bound again */
} at2_floor_work;

/* A lower bound, in bits, of the block of these symbols sent with dynamic codes as zlib 1.2/1.3 builds them
 * (header and extra_bits, the length and distance codes' extra bits, included; the 3 block-type bits not).
 * It may stop refining once the bound reaches enough.  0 when no bound is made (a frequency above
 * FLOOR_MAX_FREQ, or a code longer than 15 bits).  used: one bitmap per alphabet over its symbols with a
 * frequency (END_OF_BLOCK included); freq is read for those only. */
uint64_t at2_dynamic_floor(at2_floor_work *work, const uint32_t *litlen_freq, const uint64_t *litlen_used,
                           const uint32_t *distance_freq, uint64_t distance_used, uint64_t extra_bits, uint64_t enough);

/* Fills the bound's tables (once, before the first at2_dynamic_floor). */
void at2_floor_init(void);

#endif
