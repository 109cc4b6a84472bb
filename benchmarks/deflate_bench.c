/* Microbenchmark: src_c/deflate.c against zlib's deflate on the same contents, in one process.
 *
 * usage: deflate_bench ROUNDS CALLS FILE...
 * A file holds contents, each as a 4-byte little-endian size and that many bytes.  For each file it first
 * checks that the three ways give the same bytes for every content, then runs ROUNDS rounds; a round
 * times CALLS calls of each way in turn (interleaved, so a noisy neighbour hits every way alike) in CPU
 * time of this thread, call i compressing content i modulo their count.  Many different contents keep
 * the branch predictor from learning one input's path through Huffman code building, which a single
 * repeated content lets it do (that flatters ours more than zlib).  It prints the median nanoseconds per
 * call of each way and the ratios.
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
#define CONTENT_LIMIT 100000
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

/* reads a file of contents (see the usage above); returns their count, 0 on failure */
static size_t read_contents(const char *path, unsigned char ***contents, size_t **sizes)
{
    FILE *file = fopen(path, "rb");
    unsigned char head[4];
    size_t count = 0;

    *contents = calloc(CONTENT_LIMIT, sizeof(**contents));
    *sizes = calloc(CONTENT_LIMIT, sizeof(**sizes));
    if (file == NULL || *contents == NULL || *sizes == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        goto fail;
    }
    while (fread(head, 1, 4, file) == 4) {
        size_t size = (size_t)head[0] | (size_t)head[1] << 8 | (size_t)head[2] << 16 | (size_t)head[3] << 24;

        if (count == CONTENT_LIMIT || size > INPUT_LIMIT) {
            fprintf(stderr, "%s: more than %d contents or one of more than %d bytes\n", path, CONTENT_LIMIT,
                    INPUT_LIMIT);
            goto fail;
        }
        (*contents)[count] = malloc(size ? size : 1);
        if ((*contents)[count] == NULL || fread((*contents)[count], 1, size, file) != size) {
            fprintf(stderr, "%s: truncated\n", path);
            count++;
            goto fail;
        }
        (*sizes)[count++] = size;
    }
    fclose(file);
    if (count == 0)
        fprintf(stderr, "%s: no content\n", path);
    return count;

fail:
    if (file)
        fclose(file);
    while (count > 0)
        free((*contents)[--count]);
    return 0;
}

static int bench_file(const char *path, int rounds, int calls)
{
    unsigned char **contents = NULL, *outputs[WAYS] = {NULL, NULL, NULL};
    size_t *content_sizes = NULL, count, index, sizes[WAYS], smallest = (size_t)-1, largest = 0, packed_min = 0,
                                                           packed_max = 0;
    double *samples = NULL, medians[WAYS];
    job work;
    int status = 1, way, round, call, have_stream = 0;

    memset(&work, 0, sizeof(work));
    count = read_contents(path, &contents, &content_sizes);
    samples = malloc(sizeof(double) * (size_t)rounds * WAYS);
    if (count == 0 || samples == NULL)
        goto cleanup;
    work.cap = at2_deflate_bound(INPUT_LIMIT);
    if (deflateInit2(&work.stream, 6, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        goto cleanup;
    have_stream = 1;
    for (way = 0; way < WAYS; way++) {
        outputs[way] = malloc(work.cap);
        if (outputs[way] == NULL)
            goto cleanup;
    }
    for (index = 0; index < count; index++) {
        work.in = contents[index];
        work.size = content_sizes[index];
        for (way = 0; way < WAYS; way++) {
            work.out = outputs[way];
            sizes[way] = run_way(&work, way);
            if (sizes[way] == 0) {
                fprintf(stderr, "%s: content %zu: %s failed\n", path, index, way_names[way]);
                goto cleanup;
            }
        }
        if (sizes[0] != sizes[1] || sizes[0] != sizes[2] || memcmp(outputs[0], outputs[1], sizes[0]) != 0 ||
            memcmp(outputs[0], outputs[2], sizes[0]) != 0) {
            fprintf(stderr, "%s: content %zu: the outputs differ (is this zlib canonical?)\n", path, index);
            goto cleanup;
        }
        smallest = work.size < smallest ? work.size : smallest;
        largest = work.size > largest ? work.size : largest;
        packed_min = index == 0 || sizes[0] < packed_min ? sizes[0] : packed_min;
        packed_max = sizes[0] > packed_max ? sizes[0] : packed_max;
    }
    for (round = 0; round < rounds; round++)
        for (way = 0; way < WAYS; way++) {
            double start;

            work.out = outputs[way];
            start = thread_seconds();
            for (call = 0; call < calls; call++) {
                index = (size_t)call % count;
                work.in = contents[index];
                work.size = content_sizes[index];
                if (run_way(&work, way) == 0)
                    goto cleanup;
            }
            samples[way * rounds + round] = (thread_seconds() - start) / calls * 1e9;
        }
    for (way = 0; way < WAYS; way++) {
        qsort(samples + way * rounds, (size_t)rounds, sizeof(double), compare_doubles);
        medians[way] = samples[way * rounds + rounds / 2];
    }
    printf("%s: %zu contents of %zu-%zu bytes -> %zu-%zu bytes, %d rounds x %d calls, median CPU ns per call\n",
           path, count, smallest, largest, packed_min, packed_max, rounds, calls);
    for (way = 0; way < WAYS; way++)
        printf("  %-15s %9.1f ns  (%.2fx ours)\n", way_names[way], medians[way], medians[way] / medians[0]);
    status = 0;

cleanup:
    if (have_stream)
        deflateEnd(&work.stream);
    for (way = 0; way < WAYS; way++)
        free(outputs[way]);
    free(samples);
    if (contents)
        for (index = 0; index < count; index++)
            free(contents[index]);
    free(contents);
    free(content_sizes);
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
