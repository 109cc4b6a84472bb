/* build_many's engine: "007" tokens built on several OS threads, results in input order. */
#ifndef ACCESSTOKEN2_BATCH_H
#define ACCESSTOKEN2_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "token_core.h"

typedef struct {
    const uint8_t *app_id;
    size_t app_id_size;
    const uint8_t *certificate;
    size_t certificate_size;
    uint32_t issue_ts;
    uint32_t expire;
    uint32_t salt;
    const uint8_t *services;
    size_t services_size;
    char *token;                  /* set by the caller: room for at2_token007_bound() bytes */
    size_t token_size;            /* set by at2_build_batch */
} at2_job;

/* Builds every job on up to `threads` threads: the caller's thread (with caller_codec) plus
 * threads - 1 new ones.  Returns AT2_OK or the first failure. */
int at2_build_batch(at2_job *jobs, size_t count, unsigned threads, at2_codec *caller_codec);

#endif
