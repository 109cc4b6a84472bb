/* Worker threads take jobs in blocks from a shared counter, so uneven jobs still spread evenly. */
#include "batch.h"

#include <pthread.h>
#include <stdlib.h>

#define JOBS_PER_CLAIM 64

typedef struct {
    at2_job *jobs;
    size_t count;
    size_t next;                  /* first unclaimed job, advanced atomically */
    int status;                   /* first failure, or AT2_OK */
} batch;

static void run_jobs(batch *work, at2_codec *codec)
{
    for (;;) {
        size_t start = __atomic_fetch_add(&work->next, JOBS_PER_CLAIM, __ATOMIC_RELAXED);
        size_t end = start + JOBS_PER_CLAIM;
        size_t i;

        if (start >= work->count || __atomic_load_n(&work->status, __ATOMIC_RELAXED) != AT2_OK)
            return;
        if (end > work->count)
            end = work->count;
        for (i = start; i < end; i++) {
            at2_job *job = &work->jobs[i];
            int status = at2_build007(codec, job->app_id, job->app_id_size, job->certificate, job->certificate_size,
                                      job->issue_ts, job->expire, job->salt, job->services, job->services_size,
                                      job->token, &job->token_size);
            if (status != AT2_OK) {
                int expected = AT2_OK;
                __atomic_compare_exchange_n(&work->status, &expected, status, 0, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED);
                return;
            }
        }
    }
}

static void *worker_main(void *argument)
{
    at2_codec codec;

    at2_codec_clear(&codec);
    run_jobs((batch *)argument, &codec);
    at2_codec_release(&codec);
    return NULL;
}

int at2_build_batch(at2_job *jobs, size_t count, unsigned threads, at2_codec *caller_codec)
{
    batch work;
    pthread_t *workers = NULL;
    unsigned started = 0, i;

    work.jobs = jobs;
    work.count = count;
    work.next = 0;
    work.status = AT2_OK;
    if (threads > 1) {
        workers = (pthread_t *)malloc(sizeof(pthread_t) * (threads - 1));
        /* without the array (or when a thread cannot start) the threads already running do the work */
        for (i = 0; workers && i < threads - 1; i++) {
            if (pthread_create(&workers[i], NULL, worker_main, &work) != 0)
                break;
            started++;
        }
    }
    run_jobs(&work, caller_codec);
    for (i = 0; i < started; i++)
        pthread_join(workers[i], NULL);
    free(workers);
    return work.status;
}
