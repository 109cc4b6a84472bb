/* build_many's engine: "007" tokens built on several OS threads while the caller is still handing
 * jobs over, results kept in input order.  Jobs travel in chunks through a queue: the producer (the
 * thread holding the GIL) fills and publishes chunks, workers claim them, the producer joins in once
 * it has published the last one. */
#ifndef ACCESSTOKEN2_BATCH_H
#define ACCESSTOKEN2_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "threads.h"
#include "token_core.h"

#define AT2_CHUNK_JOBS 256

/* One token to seal: its content was packed by the producer into the chunk's contents buffer. */
typedef struct {
    const uint8_t *certificate;   /* kept alive by the producer until at2_pipeline_finish */
    size_t certificate_size;
    uint32_t issue_ts;
    uint32_t salt;
    size_t content_offset;        /* where the content is in the chunk's contents buffer */
    size_t content_size;
    size_t token_offset;          /* where the token goes in the chunk's tokens buffer */
    size_t token_size;            /* set when built */
} at2_job;

typedef struct {
    at2_job jobs[AT2_CHUNK_JOBS];
    size_t count;
    uint8_t *contents;            /* every job's packed content (signature head included) */
    char *tokens;                 /* room for every job's at2_token007_bound() */
} at2_chunk;

typedef struct {
    at2_mutex lock;
    at2_cond published;
    at2_chunk **chunks;
    size_t chunk_count;           /* published so far */
    size_t chunk_capacity;
    size_t next;                  /* first chunk nobody has claimed */
    int closed;                   /* no more chunks will come */
    int status;                   /* first failure, or AT2_OK */
    at2_thread *workers;
    unsigned worker_count;
    unsigned worker_limit;
} at2_pipeline;

/* Up to max_threads threads in all: the caller plus max_threads - 1 workers, started as chunks arrive. */
int at2_pipeline_init(at2_pipeline *pipeline, unsigned max_threads);

/* Gives a filled chunk (contents packed, tokens buffer allocated) to the workers; the pipeline owns it from
 * then on, even when this fails (AT2_NO_MEMORY, or AT2_THREAD_FAILED when a mutex call fails). */
int at2_pipeline_publish(at2_pipeline *pipeline, at2_chunk *chunk);

/* Closes the queue, builds what is left on the calling thread, waits for the workers.
 * cancel != 0 skips chunks nobody has started.  Returns AT2_OK or the first failure (AT2_THREAD_FAILED when a
 * mutex, condition or join call fails). */
int at2_pipeline_finish(at2_pipeline *pipeline, at2_codec *caller_codec, int cancel);

/* Frees the chunks (their contents and tokens) and the pipeline's own memory (after at2_pipeline_finish). */
void at2_pipeline_release(at2_pipeline *pipeline);

/* Test hook: the nth fallible step of the producer from now on (an allocation of build_many's, or a
 * publish's lock, queue growth or signal) fails as if out of memory or misused; 0 disarms it.  Arm it and
 * step it only on the producer's side, which holds the interpreter lock, never from a worker.  Returns
 * the steps that were left before the previous arming's failure (0: it fired, or nothing was armed). */
unsigned long at2_fault_arm(unsigned long nth);

/* 1 when the armed step is this one (the hook then disarms itself), else 0. */
int at2_fault_step(void);

#endif
