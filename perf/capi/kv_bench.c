/*
 * The KV-shaped transfer of `pdrdma bench transfer --pattern kv`, driven through libpdrdma.so from C (run by
 * perf/capi/run.sh against a `pdrdma bench-target`). Same plan as the C# initiator: one batch of total/block writes of
 * `block` bytes at every other slot (so none coalesce), `depth` batches in flight, best of three windows of budget/3;
 * then the latency of a one-write batch of 64 B (pdrdma_write, queue depth 1).
 *   kv_bench PEER BACKEND BLOCK TOTAL BUDGET_MS DEPTH   -> one JSON line per point
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pdrdma.h"

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

#define DIE(call) do { int rc_ = (call); if (rc_ != PDRDMA_OK) { fprintf(stderr, "%s: %s: %s\n", #call, pdrdma_status_name(rc_), pdrdma_last_error()); exit(1); } } while (0)

int main(int argc, char **argv) {
    if (argc != 7) { fprintf(stderr, "usage: kv_bench PEER BACKEND BLOCK TOTAL BUDGET_MS DEPTH\n"); return 2; }
    const char *peer = argv[1], *backend = argv[2];
    uint64_t block = strtoull(argv[3], NULL, 10), total = strtoull(argv[4], NULL, 10);
    double budget = atof(argv[5]) / 1000.0;
    int depth = atoi(argv[6]);
    size_t count = total / block;
    uint64_t region_bytes = (2 * total + 4095) / 4096 * 4096;

    char config[256];
    snprintf(config, sizeof config, "{\"node_id\": \"c-bench\", \"backend\": \"%s\"}", backend);
    pdrdma_agent_t *agent; pdrdma_region_t *region; pdrdma_conn_t *conn;
    DIE(pdrdma_agent_create(config, &agent));
    unsigned char *src = malloc(region_bytes);
    for (uint64_t i = 0; i < region_bytes; i++) src[i] = (unsigned char)(i * 2654435761u >> 13);
    DIE(pdrdma_region_register(agent, "bench-src", src, region_bytes, PDRDMA_MEMORY_HOST, 0, &region));
    DIE(pdrdma_connect(agent, peer, &conn));

    pdrdma_write_t *writes = malloc(sizeof *writes * count);
    for (size_t i = 0; i < count; i++) writes[i] = (pdrdma_write_t){"bench-src", 2 * i * block, "bench-dst", 2 * i * block, block};
    DIE(pdrdma_write(conn, writes, count, NULL, 0, 0, -1)); /* warm-up: first touch */

    pdrdma_batch_t **ring = calloc((size_t)depth, sizeof *ring);
    double best = 0;
    long iterations = 0;
    for (int window = 0; window < 3; window++) {
        long posted = 0, head = 0, inflight = 0;
        double start = now();
        while (now() - start < budget / 3 || posted < 2) {
            if (inflight == depth) { DIE(pdrdma_batch_wait(ring[head], -1)); DIE(pdrdma_batch_free(ring[head])); head = (head + 1) % depth; inflight--; }
            DIE(pdrdma_post(conn, writes, count, NULL, 0, 0, &ring[(head + inflight) % depth]));
            inflight++; posted++;
        }
        while (inflight > 0) { DIE(pdrdma_batch_wait(ring[head], -1)); DIE(pdrdma_batch_free(ring[head])); head = (head + 1) % depth; inflight--; }
        double gbps = posted * (double)count * block * 8 / (now() - start) / 1e9;
        if (gbps > best) best = gbps;
        iterations += posted;
    }
    printf("{\"driver\":\"c\",\"kind\":\"kv\",\"block\":%llu,\"ops\":%zu,\"gbps\":%.3f,\"iterations\":%ld}\n",
           (unsigned long long)block, count, best, iterations);

    pdrdma_write_t one = {"bench-src", 0, "bench-dst", 0, 64};
    enum { MAX = 20000 };
    double *samples = malloc(sizeof(double) * MAX);
    int n = 0;
    double start = now();
    while ((now() - start < budget / 2 || n < 5) && n < MAX) {
        double t = now();
        DIE(pdrdma_write(conn, &one, 1, NULL, 0, 0, -1));
        samples[n++] = (now() - t) * 1e6;
    }
    qsort(samples, (size_t)n, sizeof(double), cmp);
    printf("{\"driver\":\"c\",\"kind\":\"latency\",\"bytes\":64,\"p50_us\":%.2f,\"p99_us\":%.2f,\"samples\":%d}\n",
           samples[n / 2], samples[(int)(n * 0.99)], n);

    DIE(pdrdma_conn_close(conn));
    DIE(pdrdma_region_deregister(region));
    DIE(pdrdma_agent_destroy(agent));
    free(samples); free(ring); free(writes); free(src);
    return 0;
}
