/* The build_many pipeline: a mutex-guarded queue of chunks, consumed in order by any thread.
 *
 * Every mutex and condition call (threads.h) is checked.  With the plain mutex that at2_pipeline_init
 * creates, lock, unlock, wait and signal fail only on misuse (an uninitialised or destroyed object,
 * unlocking a mutex the thread does not hold), so tests reach a publish's failures through the
 * at2_fault_step hook; a failure still ends the batch with AT2_THREAD_FAILED instead of a
 * wrong result, and the caller's thread never waits for a worker that cannot be told to stop. */
#include "batch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Steps left before the armed failure (0: none); only producers, which hold the interpreter lock, touch it. */
static unsigned long fault_countdown;

unsigned long at2_fault_arm(unsigned long nth)
{
    unsigned long left = fault_countdown;

    fault_countdown = nth;
    return left;
}

int at2_fault_step(void)
{
    if (fault_countdown == 0)
        return 0;
    return --fault_countdown == 0;
}

static int build_chunk(at2_chunk *chunk, at2_codec *codec)
{
    size_t i;

    for (i = 0; i < chunk->count; i++) {
        at2_job *job = &chunk->jobs[i];
        int status = at2_seal007(codec, chunk->contents + job->content_offset, job->content_size, job->certificate,
                                 job->certificate_size, job->issue_ts, job->salt, chunk->tokens + job->token_offset,
                                 &job->token_size);
        if (status != AT2_OK)
            return status;
    }
    return AT2_OK;
}

/* Records the batch's first failure; the caller holds the lock. */
static void record_failure(at2_pipeline *pipeline, int status)
{
    if (pipeline->status == AT2_OK)
        pipeline->status = status;
}

/* Claims chunks until the queue is closed and empty (or has failed).  Returns AT2_OK, or a failure that
 * could not be recorded in pipeline->status because the lock could not be taken. */
static int consume(at2_pipeline *pipeline, at2_codec *codec)
{
    for (;;) {
        at2_chunk *chunk = NULL;
        int status = AT2_OK;

        if (at2_mutex_lock(&pipeline->lock) != 0)
            return AT2_THREAD_FAILED;
        while (pipeline->next >= pipeline->chunk_count && !pipeline->closed) {
            if (at2_cond_wait(&pipeline->published, &pipeline->lock) != 0) {
                /* a wait fails only on misuse it detects before letting the mutex go: the failure is
                 * recorded here and the unlock below reports whether the mutex was held after all */
                record_failure(pipeline, AT2_THREAD_FAILED);
                break;
            }
        }
        if (pipeline->next < pipeline->chunk_count && pipeline->status == AT2_OK)
            chunk = pipeline->chunks[pipeline->next++];
        if (at2_mutex_unlock(&pipeline->lock) != 0)
            return AT2_THREAD_FAILED;
        if (!chunk)
            return AT2_OK;
        status = build_chunk(chunk, codec);
        if (status != AT2_OK) {
            if (at2_mutex_lock(&pipeline->lock) != 0)
                return status;
            record_failure(pipeline, status);
            return at2_mutex_unlock(&pipeline->lock) == 0 ? AT2_OK : AT2_THREAD_FAILED;
        }
    }
}

/* A worker's status travels back through at2_thread_join. */
static int worker_main(void *argument)
{
    at2_codec codec;
    int status;

    at2_codec_clear(&codec);
    status = consume((at2_pipeline *)argument, &codec);
    at2_codec_release(&codec);
    return status;
}

int at2_pipeline_init(at2_pipeline *pipeline, unsigned max_threads)
{
    memset(pipeline, 0, sizeof(*pipeline));
    pipeline->status = AT2_OK;
    pipeline->worker_limit = max_threads > 1 ? max_threads - 1 : 0;
    if (pipeline->worker_limit) {
        pipeline->workers = (at2_thread *)malloc(sizeof(at2_thread) * pipeline->worker_limit);
        if (!pipeline->workers)
            pipeline->worker_limit = 0;
    }
    if (at2_mutex_init(&pipeline->lock) != 0)
        goto fail_lock;
    if (at2_cond_init(&pipeline->published) != 0)
        goto fail_cond;
    return AT2_OK;

fail_cond:
    at2_mutex_destroy(&pipeline->lock);
fail_lock:
    free(pipeline->workers);
    pipeline->workers = NULL;
    return AT2_NO_MEMORY;
}

int at2_pipeline_publish(at2_pipeline *pipeline, at2_chunk *chunk)
{
    int start_worker = 0, status = AT2_OK;

    if (at2_fault_step() || at2_mutex_lock(&pipeline->lock) != 0) {
        status = AT2_THREAD_FAILED;
        goto free_chunk;
    }
    if (pipeline->chunk_count == pipeline->chunk_capacity) {
        size_t capacity = pipeline->chunk_capacity ? 2 * pipeline->chunk_capacity : 16;
        at2_chunk **chunks =
            at2_fault_step() ? NULL : (at2_chunk **)realloc(pipeline->chunks, capacity * sizeof(*chunks));
        if (!chunks) {
            status = AT2_NO_MEMORY;
            goto unlock;
        }
        pipeline->chunks = chunks;
        pipeline->chunk_capacity = capacity;
    }
    pipeline->chunks[pipeline->chunk_count++] = chunk;
    chunk = NULL; /* the queue owns it now */
    /* a worker is worth starting once there is more than one chunk: small batches stay on one thread */
    start_worker = pipeline->chunk_count > 1 && pipeline->worker_count < pipeline->worker_limit;
    if (at2_fault_step() || at2_cond_signal(&pipeline->published) != 0) {
        /* the chunk stays queued, where a worker may already hold it: only at2_pipeline_release frees it */
        record_failure(pipeline, AT2_THREAD_FAILED);
        status = AT2_THREAD_FAILED;
        start_worker = 0;
    }

unlock:
    if (at2_mutex_unlock(&pipeline->lock) != 0) {
        status = AT2_THREAD_FAILED;
        start_worker = 0;
    }
    if (start_worker) {
        if (at2_thread_start(&pipeline->workers[pipeline->worker_count], worker_main, pipeline) == 0)
            pipeline->worker_count++;
        else
            pipeline->worker_limit = pipeline->worker_count; /* the threads we have will do */
    }

free_chunk:
    if (chunk) {
        free(chunk->contents);
        free(chunk->tokens);
        free(chunk);
    }
    return status;
}

int at2_pipeline_finish(at2_pipeline *pipeline, at2_codec *caller_codec, int cancel)
{
    int status = AT2_OK, closed_under_lock;
    unsigned i;

    closed_under_lock = at2_mutex_lock(&pipeline->lock) == 0;
    /* Without the lock the queue is still closed and the workers woken, as best we can: joining
     * workers that were never told to stop would wait forever. */
    pipeline->closed = 1;
    if (cancel)
        record_failure(pipeline, AT2_CANCELLED);
    if (!closed_under_lock)
        record_failure(pipeline, AT2_THREAD_FAILED);
    if (at2_cond_broadcast(&pipeline->published) != 0)
        record_failure(pipeline, AT2_THREAD_FAILED);
    if (closed_under_lock && at2_mutex_unlock(&pipeline->lock) != 0)
        status = AT2_THREAD_FAILED;
    if (status == AT2_OK)
        status = consume(pipeline, caller_codec);
    for (i = 0; i < pipeline->worker_count; i++) {
        int worker_status = AT2_OK;

        if (at2_thread_join(&pipeline->workers[i], &worker_status) != 0)
            worker_status = AT2_THREAD_FAILED;
        if (status == AT2_OK)
            status = worker_status;
    }
    pipeline->worker_count = 0;
    /* the workers are joined: their writes to pipeline->status are visible without the lock */
    return pipeline->status != AT2_OK ? pipeline->status : status;
}

void at2_pipeline_release(at2_pipeline *pipeline)
{
    size_t i;

    for (i = 0; i < pipeline->chunk_count; i++) {
        free(pipeline->chunks[i]->contents);
        free(pipeline->chunks[i]->tokens);
        free(pipeline->chunks[i]);
    }
    free(pipeline->chunks);
    free(pipeline->workers);
    /* destroying fails only for objects still in use, and every thread that used them has been joined */
    at2_cond_destroy(&pipeline->published);
    at2_mutex_destroy(&pipeline->lock);
    memset(pipeline, 0, sizeof(*pipeline));
}
