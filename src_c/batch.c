/* The build_many pipeline: a mutex-guarded queue of chunks, consumed in order by any thread. */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

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

/* Claims chunks until the queue is closed and empty (or has failed). */
static void consume(at2_pipeline *pipeline, at2_codec *codec)
{
    for (;;) {
        at2_chunk *chunk = NULL;
        int status;

        pthread_mutex_lock(&pipeline->lock);
        while (pipeline->next >= pipeline->chunk_count && !pipeline->closed)
            pthread_cond_wait(&pipeline->published, &pipeline->lock);
        if (pipeline->next < pipeline->chunk_count && pipeline->status == AT2_OK)
            chunk = pipeline->chunks[pipeline->next++];
        pthread_mutex_unlock(&pipeline->lock);
        if (!chunk)
            return;
        status = build_chunk(chunk, codec);
        if (status != AT2_OK) {
            pthread_mutex_lock(&pipeline->lock);
            if (pipeline->status == AT2_OK)
                pipeline->status = status;
            pthread_mutex_unlock(&pipeline->lock);
            return;
        }
    }
}

static void *worker_main(void *argument)
{
    at2_codec codec;

    at2_codec_clear(&codec);
    consume((at2_pipeline *)argument, &codec);
    at2_codec_release(&codec);
    return NULL;
}

int at2_pipeline_init(at2_pipeline *pipeline, unsigned max_threads)
{
    memset(pipeline, 0, sizeof(*pipeline));
    pipeline->status = AT2_OK;
    pipeline->worker_limit = max_threads > 1 ? max_threads - 1 : 0;
    if (pipeline->worker_limit) {
        pipeline->workers = (pthread_t *)malloc(sizeof(pthread_t) * pipeline->worker_limit);
        if (!pipeline->workers)
            pipeline->worker_limit = 0;
    }
    if (pthread_mutex_init(&pipeline->lock, NULL) != 0)
        goto fail_lock;
    if (pthread_cond_init(&pipeline->published, NULL) != 0)
        goto fail_cond;
    return AT2_OK;

fail_cond:
    pthread_mutex_destroy(&pipeline->lock);
fail_lock:
    free(pipeline->workers);
    pipeline->workers = NULL;
    return AT2_NO_MEMORY;
}

int at2_pipeline_publish(at2_pipeline *pipeline, at2_chunk *chunk)
{
    int start_worker;

    pthread_mutex_lock(&pipeline->lock);
    if (pipeline->chunk_count == pipeline->chunk_capacity) {
        size_t capacity = pipeline->chunk_capacity ? 2 * pipeline->chunk_capacity : 16;
        at2_chunk **chunks = (at2_chunk **)realloc(pipeline->chunks, capacity * sizeof(*chunks));
        if (!chunks) {
            pthread_mutex_unlock(&pipeline->lock);
            free(chunk->contents);
            free(chunk->tokens);
            free(chunk);
            return AT2_NO_MEMORY;
        }
        pipeline->chunks = chunks;
        pipeline->chunk_capacity = capacity;
    }
    pipeline->chunks[pipeline->chunk_count++] = chunk;
    /* a worker is worth starting once there is more than one chunk: small batches stay on one thread */
    start_worker = pipeline->chunk_count > 1 && pipeline->worker_count < pipeline->worker_limit;
    pthread_cond_signal(&pipeline->published);
    pthread_mutex_unlock(&pipeline->lock);
    if (start_worker) {
        if (pthread_create(&pipeline->workers[pipeline->worker_count], NULL, worker_main, pipeline) == 0)
            pipeline->worker_count++;
        else
            pipeline->worker_limit = pipeline->worker_count; /* the threads we have will do */
    }
    return AT2_OK;
}

int at2_pipeline_finish(at2_pipeline *pipeline, at2_codec *caller_codec, int cancel)
{
    unsigned i;

    pthread_mutex_lock(&pipeline->lock);
    pipeline->closed = 1;
    if (cancel && pipeline->status == AT2_OK)
        pipeline->status = AT2_CANCELLED;
    pthread_cond_broadcast(&pipeline->published);
    pthread_mutex_unlock(&pipeline->lock);
    consume(pipeline, caller_codec);
    for (i = 0; i < pipeline->worker_count; i++)
        pthread_join(pipeline->workers[i], NULL);
    pipeline->worker_count = 0;
    return pipeline->status;
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
    pthread_cond_destroy(&pipeline->published);
    pthread_mutex_destroy(&pipeline->lock);
    memset(pipeline, 0, sizeof(*pipeline));
}
