/* Microbenchmark: src_c/deflate.c against zlib's deflate on the same contents, in one process.
 *
 * usage: deflate_bench ROUNDS CALLS FILE...
 * For each file it first checks that the three ways give the same bytes, then runs ROUNDS rounds; a round
 * times CALLS calls of each way in turn (interleaved, so a noisy neighbour hits every way alike) in CPU
 * time of this thread.  It prints the median nanoseconds per call of each way and the ratios.
 *   ours     at2_deflate_thread (what the C kernel calls)
 *   reset    deflateInit2(level 6, 15, 8) once, then deflateReset + deflate(Z_FINISH) per call (the kernel
 *            before this encoder)
 *   compress2  zlib's one-shot compress2(level 6): allocates and frees a stream per call */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "deflate.h"

#define INPUT_LIMIT AT2_DEFLATE_MAX_INPUT
#define WAYS 3

static const char *const way_names[WAYS] = {"ours", "zlib reset", "zlib compress2"};

typedef struct {
    const unsigned char *in;
    size_t size;
    unsigned char *out;
    size_t cap;
    z_stream stream;
} job;

static double thread_seconds(void)
{
    struct timespec now;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

/* one call of a way; returns the output size, 0 on failure */
static size_t run_way(job *work, int way)
{
    size_t out_size = 0;
    uLongf zlib_size = (uLongf)work->cap;

    switch (way) {
    case 0:
        return at2_deflate_thread(work->in, work->size, work->out, work->cap, &out_size) == AT2_DEFLATE_OK
                   ? out_size
                   : 0;
    case 1:
        if (deflateReset(&work->stream) != Z_OK)
            return 0;
        work->stream.next_in = (Bytef *)work->in;
        work->stream.avail_in = (uInt)work->size;
        work->stream.next_out = work->out;
        work->stream.avail_out = (uInt)work->cap;
        return deflate(&work->stream, Z_FINISH) == Z_STREAM_END ? (size_t)work->stream.total_out : 0;
    default:
        return compress2(work->out, &zlib_size, work->in, (uLong)work->size, 6) == Z_OK ? (size_t)zlib_size : 0;
    }
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static int bench_file(const char *path, int rounds, int calls)
{
    unsigned char *in = NULL, *outputs[WAYS] = {NULL, NULL, NULL};
    size_t sizes[WAYS];
    double *samples = NULL, medians[WAYS];
    FILE *file = NULL;
    job work;
    int status = 1, way, round, call, have_stream = 0;

    memset(&work, 0, sizeof(work));
    in = malloc(INPUT_LIMIT + 1);
    samples = malloc(sizeof(double) * (size_t)rounds * WAYS);
    if (in == NULL || samples == NULL)
        goto cleanup;
    file = fopen(path, "rb");
    if (file == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        goto cleanup;
    }
    work.size = fread(in, 1, INPUT_LIMIT + 1, file);
    if (work.size > INPUT_LIMIT) {
        fprintf(stderr, "%s: more than %d bytes\n", path, INPUT_LIMIT);
        goto cleanup;
    }
    work.in = in;
    work.cap = at2_deflate_bound(work.size);
    if (deflateInit2(&work.stream, 6, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        goto cleanup;
    have_stream = 1;
    for (way = 0; way < WAYS; way++) {
        outputs[way] = malloc(work.cap);
        if (outputs[way] == NULL)
            goto cleanup;
        work.out = outputs[way];
        sizes[way] = run_way(&work, way);
        if (sizes[way] == 0) {
            fprintf(stderr, "%s: %s failed\n", path, way_names[way]);
            goto cleanup;
        }
    }
    if (sizes[0] != sizes[1] || sizes[0] != sizes[2] || memcmp(outputs[0], outputs[1], sizes[0]) != 0 ||
        memcmp(outputs[0], outputs[2], sizes[0]) != 0) {
        fprintf(stderr, "%s: the outputs differ (is this zlib canonical?)\n", path);
        goto cleanup;
    }
    for (round = 0; round < rounds; round++)
        for (way = 0; way < WAYS; way++) {
            double start;

            work.out = outputs[way];
            start = thread_seconds();
            for (call = 0; call < calls; call++)
                if (run_way(&work, way) == 0)
                    goto cleanup;
            samples[way * rounds + round] = (thread_seconds() - start) / calls * 1e9;
        }
    for (way = 0; way < WAYS; way++) {
        qsort(samples + way * rounds, (size_t)rounds, sizeof(double), compare_doubles);
        medians[way] = samples[way * rounds + rounds / 2];
    }
    printf("%s: %zu bytes -> %zu bytes, %d rounds x %d calls, median CPU ns per call\n", path, work.size, sizes[0],
           rounds, calls);
    for (way = 0; way < WAYS; way++)
        printf("  %-15s %9.1f ns  (%.2fx ours)\n", way_names[way], medians[way], medians[way] / medians[0]);
    status = 0;

cleanup:
    if (have_stream)
        deflateEnd(&work.stream);
    if (file)
        fclose(file);
    for (way = 0; way < WAYS; way++)
        free(outputs[way]);
    free(samples);
    free(in);
    return status;
}

int main(int argc, char **argv)
{
    int rounds, calls, i, status = 0;

    if (argc < 4) {
        fprintf(stderr, "usage: %s ROUNDS CALLS FILE...\n", argv[0]);
        return 2;
    }
    rounds = atoi(argv[1]);
    calls = atoi(argv[2]);
    if (rounds < 1 || calls < 1)
        return 2;
    printf("zlib %s\n", zlibVersion());
    for (i = 3; i < argc; i++)
        status |= bench_file(argv[i], rounds, calls);
    return status;
}
