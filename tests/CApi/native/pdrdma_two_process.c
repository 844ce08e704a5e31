/*
 * Two-process test of libpdrdma.so (run by tests/CApi/CApiTwoProcessTests.cs).
 *   pdrdma_two_process target    BACKEND SECRET ADDR_FILE   -> listens, receives, verifies; exit 0 when all held
 *   pdrdma_two_process initiator BACKEND SECRET ADDR_FILE   -> writes 64 MiB of scattered blocks, then bad inputs
 * The target's region is library-allocated for shm (same-host peers need a shared file) and caller memory (malloc)
 * for tcp; the initiator's source is always caller memory. Every check prints a line; any failure exits 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include "pdrdma.h"

#define REGION_BYTES (64ull << 20)
#define BLOCK_BYTES (64ull << 10)
#define BLOCKS (REGION_BYTES / BLOCK_BYTES)

static int failures = 0;

#define CHECK(cond, ...) do { if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); \
    printf(" (last error: %s)\n", pdrdma_last_error()); } } while (0)
#define EXPECT(call, status) do { int rc_ = (call); CHECK(rc_ == (status), "%s returned %d (%s), expected %d (%s)", #call, \
    rc_, pdrdma_status_name(rc_), (status), pdrdma_status_name(status)); if (rc_ == (status)) printf("ok %s -> %s\n", #call, pdrdma_status_name(rc_)); } while (0)

static uint64_t mix(uint64_t x) { x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull; x ^= x >> 33; return x; }

static void fill_source(unsigned char *src) {
    for (uint64_t i = 0; i < REGION_BYTES; i += 8) { uint64_t v = mix(i + 17); memcpy(src + i, &v, 8); }
}

/* source block i goes to target block perm[i]: a fixed pseudo-random permutation */
static void permutation(uint32_t *perm) {
    for (uint32_t i = 0; i < BLOCKS; i++) perm[i] = i;
    for (uint32_t i = BLOCKS - 1; i > 0; i--) { uint32_t j = (uint32_t)(mix(i) % (i + 1)); uint32_t t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
}

static void expected_target(unsigned char *dst) {
    unsigned char *src = malloc(REGION_BYTES);
    uint32_t *perm = malloc(sizeof(uint32_t) * BLOCKS);
    fill_source(src);
    permutation(perm);
    for (uint32_t i = 0; i < BLOCKS; i++) memcpy(dst + (uint64_t)perm[i] * BLOCK_BYTES, src + (uint64_t)i * BLOCK_BYTES, BLOCK_BYTES);
    free(src);
    free(perm);
}

static char *config(const char *node, const char *backend, const char *secret, int listen) {
    static char buf[1024];
    snprintf(buf, sizeof buf, "{\"node_id\": \"%s\", %s \"secret_file\": \"%s\", \"backends\": [\"%s\"]}",
             node, listen ? "\"listen\": \"127.0.0.1:0\"," : "", secret, backend);
    return buf;
}

static int target(const char *backend, const char *secret, const char *addr_file) {
    pdrdma_agent_t *agent = NULL;
    EXPECT(pdrdma_agent_create(config("c-target", backend, secret, 1), &agent), PDRDMA_OK);
    if (!agent) return 1;
    void *dst = NULL;
    pdrdma_region_t *region = NULL;
    if (strcmp(backend, "shm") == 0) {
        EXPECT(pdrdma_region_alloc(agent, "kv", REGION_BYTES, &dst, &region), PDRDMA_OK);
    } else {
        dst = calloc(1, REGION_BYTES);
        EXPECT(pdrdma_region_register(agent, "kv", dst, REGION_BYTES, PDRDMA_MEMORY_HOST, 0, &region), PDRDMA_OK);
    }
    if (!region) return 1;
    char desc[4096]; size_t desc_len = 0;
    EXPECT(pdrdma_region_describe(region, desc, 8, &desc_len), PDRDMA_E_BUFFER_TOO_SMALL);
    EXPECT(pdrdma_region_describe(region, desc, sizeof desc, &desc_len), PDRDMA_OK);
    CHECK(strstr(desc, "\"region_id\":\"kv\"") != NULL && strstr(desc, "\"length\":67108864") != NULL, "descriptor %s", desc);
    char addr[64]; size_t addr_len = 0;
    EXPECT(pdrdma_agent_listen_address(agent, addr, sizeof addr, &addr_len), PDRDMA_OK);
    char tmp[4200]; snprintf(tmp, sizeof tmp, "%s.tmp", addr_file);
    FILE *f = fopen(tmp, "w"); fputs(addr, f); fclose(f); rename(tmp, addr_file);

    /* 1: the scattered 64 MiB, notified; a too-small payload buffer keeps the notification for the next call */
    unsigned char payload[64]; size_t payload_len = 0; uint64_t batch_bytes = 0; char peer[64];
    EXPECT(pdrdma_notification_wait(agent, 60000, payload, 2, &payload_len, &batch_bytes, peer, sizeof peer), PDRDMA_E_BUFFER_TOO_SMALL);
    CHECK(payload_len == 7, "needed payload length %zu, expected 7", payload_len);
    EXPECT(pdrdma_notification_wait(agent, 60000, payload, sizeof payload, &payload_len, &batch_bytes, peer, sizeof peer), PDRDMA_OK);
    CHECK(payload_len == 7 && memcmp(payload, "kv-good", 7) == 0, "first notification '%.*s'", (int)payload_len, payload);
    CHECK(batch_bytes == REGION_BYTES, "batch bytes %llu", (unsigned long long)batch_bytes);
    CHECK(strcmp(peer, "c-initiator") == 0, "peer '%s'", peer);
    unsigned char *want = malloc(REGION_BYTES);
    expected_target(want);
    CHECK(memcmp(dst, want, REGION_BYTES) == 0, "64 MiB are not bit-identical after the good batch");
    printf("ok 64 MiB of %llu scattered blocks bit-identical\n", (unsigned long long)BLOCKS);

    /* 2: after every bad input the initiator notifies; nothing of the refused batches may have landed */
    EXPECT(pdrdma_notification_wait(agent, 60000, payload, sizeof payload, &payload_len, NULL, NULL, 0), PDRDMA_OK);
    CHECK(payload_len == 8 && memcmp(payload, "bad-done", 8) == 0, "second notification '%.*s'", (int)payload_len, payload);
    CHECK(memcmp(dst, want, REGION_BYTES) == 0, "target bytes changed by a refused batch");
    printf("ok target bytes unchanged after the bad inputs\n");
    EXPECT(pdrdma_notification_wait(agent, 200, payload, sizeof payload, &payload_len, NULL, NULL, 0), PDRDMA_E_TIMEOUT);

    EXPECT(pdrdma_region_deregister(region), PDRDMA_OK);
    EXPECT(pdrdma_region_deregister(region), PDRDMA_E_INVALID_ARGUMENT);
    EXPECT(pdrdma_agent_destroy(agent), PDRDMA_OK);
    if (strcmp(backend, "shm") != 0) free(dst);
    free(want);
    printf("target %s: %d failures\n", backend, failures);
    return failures ? 1 : 0;
}

static int initiator(const char *backend, const char *secret, const char *bad_secret, const char *addr_file) {
    char addr[64] = {0};
    for (int i = 0; i < 600 && addr[0] == 0; i++) {
        FILE *f = fopen(addr_file, "r");
        if (f) { if (!fgets(addr, sizeof addr, f)) addr[0] = 0; fclose(f); }
        if (!addr[0]) { struct timespec ts = {0, 100000000}; nanosleep(&ts, NULL); }
    }
    CHECK(addr[0] != 0, "no target address in %s", addr_file);

    /* boundary checks that need no peer */
    CHECK(pdrdma_abi_version() == PDRDMA_ABI_VERSION, "abi %u", pdrdma_abi_version());
    CHECK(strcmp(pdrdma_status_name(PDRDMA_E_OUT_OF_BOUNDS), "OutOfBounds") == 0, "status name %s", pdrdma_status_name(5));
    pdrdma_agent_t *bogus = NULL;
    EXPECT(pdrdma_agent_create("{not json", &bogus), PDRDMA_E_INVALID_ARGUMENT);
    EXPECT(pdrdma_agent_create("{\"node_id\": \"x\", \"lissten\": \"127.0.0.1:0\"}", &bogus), PDRDMA_E_INVALID_ARGUMENT);
    EXPECT(pdrdma_agent_create("{\"node_id\": \"x\", \"listen\": \"example.com:80\"}", &bogus), PDRDMA_E_INVALID_ARGUMENT);
    EXPECT(pdrdma_agent_create("{\"node_id\": \"x\", \"secret_file\": \"/nonexistent/secret\"}", &bogus), PDRDMA_E_INVALID_ARGUMENT);
    EXPECT(pdrdma_agent_create(NULL, &bogus), PDRDMA_E_INVALID_ARGUMENT);
    CHECK(strlen(pdrdma_last_error()) > 0, "no last error after a failure");
    EXPECT(pdrdma_agent_destroy((pdrdma_agent_t *)(uintptr_t)0x1234), PDRDMA_E_INVALID_ARGUMENT);
    EXPECT(pdrdma_conn_close((pdrdma_conn_t *)(uintptr_t)0xdeadbeef), PDRDMA_E_INVALID_ARGUMENT);

    pdrdma_agent_t *agent = NULL;
    EXPECT(pdrdma_agent_create(config("c-initiator", backend, secret, 0), &agent), PDRDMA_OK);
    if (!agent) return 1;
    CHECK(strlen(pdrdma_last_error()) == 0, "last error not cleared by a success");
    unsigned char *src = malloc(REGION_BYTES);
    fill_source(src);
    pdrdma_region_t *region = NULL, *tmp = NULL;
    EXPECT(pdrdma_region_register(agent, "src", NULL, 4096, PDRDMA_MEMORY_HOST, 0, &tmp), PDRDMA_E_INVALID_ARGUMENT);
    EXPECT(pdrdma_region_register(agent, "src", src, 0, PDRDMA_MEMORY_HOST, 0, &tmp), PDRDMA_E_INVALID_ARGUMENT);
    EXPECT(pdrdma_region_register(agent, "gpu", src, 4096, PDRDMA_MEMORY_CUDA, 0, &tmp), PDRDMA_E_UNSUPPORTED);
    EXPECT(pdrdma_region_register(agent, "src", src, REGION_BYTES, 7, 0, &tmp), PDRDMA_E_INVALID_ARGUMENT);
    EXPECT(pdrdma_region_register(agent, "src", src, REGION_BYTES, PDRDMA_MEMORY_HOST, 0, &region), PDRDMA_OK);
    EXPECT(pdrdma_region_register(agent, "src", src, REGION_BYTES, PDRDMA_MEMORY_HOST, 0, &tmp), PDRDMA_E_INVALID_ARGUMENT);
    /* a handle of one kind is never a handle of another */
    char scratch[64]; size_t scratch_len;
    EXPECT(pdrdma_agent_listen_address((pdrdma_agent_t *)(void *)region, scratch, sizeof scratch, &scratch_len), PDRDMA_E_INVALID_ARGUMENT);
    EXPECT(pdrdma_region_describe((pdrdma_region_t *)(void *)agent, scratch, sizeof scratch, &scratch_len), PDRDMA_E_INVALID_ARGUMENT);

    /* wrong cluster secret, nobody listening */
    pdrdma_agent_t *intruder = NULL;
    EXPECT(pdrdma_agent_create(config("c-intruder", backend, bad_secret, 0), &intruder), PDRDMA_OK);
    pdrdma_conn_t *refused = NULL;
    EXPECT(pdrdma_connect(intruder, addr, &refused), PDRDMA_E_UNAUTHENTICATED);
    EXPECT(pdrdma_connect(intruder, "127.0.0.1:1", &refused), PDRDMA_E_PEER_LOST);
    EXPECT(pdrdma_agent_destroy(intruder), PDRDMA_OK);

    pdrdma_conn_t *conn = NULL;
    EXPECT(pdrdma_connect(agent, addr, &conn), PDRDMA_OK);
    if (!conn) return 1;
    char used[16]; size_t used_len;
    EXPECT(pdrdma_conn_backend(conn, used, sizeof used, &used_len), PDRDMA_OK);
    CHECK(strcmp(used, backend) == 0, "backend %s, expected %s", used, backend);

    /* the good batch: every source block to its scattered target block, checksummed, notified */
    uint32_t *perm = malloc(sizeof(uint32_t) * BLOCKS);
    permutation(perm);
    pdrdma_write_t *writes = malloc(sizeof(pdrdma_write_t) * BLOCKS);
    for (uint32_t i = 0; i < BLOCKS; i++) {
        writes[i].source_region = "src"; writes[i].source_offset = (uint64_t)i * BLOCK_BYTES;
        writes[i].target_region = "kv"; writes[i].target_offset = (uint64_t)perm[i] * BLOCK_BYTES;
        writes[i].length = BLOCK_BYTES;
    }
    pdrdma_batch_t *batch = NULL;
    EXPECT(pdrdma_post(conn, writes, BLOCKS, "kv-good", 7, PDRDMA_CHECKSUM_XXH3, &batch), PDRDMA_OK);
    int polled = pdrdma_batch_poll(batch);
    CHECK(polled == PDRDMA_PENDING || polled == PDRDMA_OK, "poll %d", polled);
    EXPECT(pdrdma_batch_wait(batch, 60000), PDRDMA_OK);
    EXPECT(pdrdma_batch_poll(batch), PDRDMA_OK);
    EXPECT(pdrdma_batch_free(batch), PDRDMA_OK);
    EXPECT(pdrdma_batch_free(batch), PDRDMA_E_INVALID_ARGUMENT);

    /* bad inputs: each batch also carries a valid write that would change target block 0 if anything landed */
    pdrdma_write_t bad[2];
    bad[0] = (pdrdma_write_t){"src", BLOCK_BYTES * 5, "kv", 0, BLOCK_BYTES};
    bad[1] = (pdrdma_write_t){"src", 0, "kv", REGION_BYTES - 100, 4096};
    EXPECT(pdrdma_write(conn, bad, 2, "bad", 3, 0, 30000), PDRDMA_E_OUT_OF_BOUNDS);
    bad[1] = (pdrdma_write_t){"src", 0, "no-such-region", 0, 4096};
    EXPECT(pdrdma_write(conn, bad, 2, "bad", 3, 0, 30000), PDRDMA_E_UNKNOWN_REGION);
    bad[1] = (pdrdma_write_t){"no-such-source", 0, "kv", 0, 4096};
    EXPECT(pdrdma_post(conn, bad, 2, NULL, 0, 0, &batch), PDRDMA_E_UNKNOWN_REGION);
    bad[1] = (pdrdma_write_t){"src", REGION_BYTES - 10, "kv", 0, 4096};
    EXPECT(pdrdma_post(conn, bad, 2, NULL, 0, 0, &batch), PDRDMA_E_OUT_OF_BOUNDS);
    bad[1] = (pdrdma_write_t){"src", 0, "kv", 0, 0};
    EXPECT(pdrdma_write(conn, bad, 2, NULL, 0, 0, 30000), PDRDMA_E_OUT_OF_BOUNDS);
    bad[1] = (pdrdma_write_t){"src", 0, "kv", UINT64_MAX - 10, 4096};
    EXPECT(pdrdma_write(conn, bad, 2, NULL, 0, 0, 30000), PDRDMA_E_OUT_OF_BOUNDS);
    bad[1] = (pdrdma_write_t){"src", 0, "kv", (uint64_t)1 << 62, 4096};
    EXPECT(pdrdma_write(conn, bad, 2, NULL, 0, 0, 30000), PDRDMA_E_OUT_OF_BOUNDS);
    bad[1] = (pdrdma_write_t){NULL, 0, "kv", 0, 4096};
    EXPECT(pdrdma_write(conn, bad, 2, NULL, 0, 0, 30000), PDRDMA_E_INVALID_ARGUMENT);
    EXPECT(pdrdma_write(conn, NULL, 2, NULL, 0, 0, 30000), PDRDMA_E_INVALID_ARGUMENT);
    EXPECT(pdrdma_write(conn, bad, 1, NULL, 5, 0, 30000), PDRDMA_E_INVALID_ARGUMENT);
    EXPECT(pdrdma_write(conn, bad, 1, NULL, 0, 0x80, 30000), PDRDMA_E_INVALID_ARGUMENT);
    EXPECT(pdrdma_write((pdrdma_conn_t *)(uintptr_t)0x77, bad, 1, NULL, 0, 0, 30000), PDRDMA_E_INVALID_ARGUMENT);
    char small[2]; size_t small_len = 0;
    EXPECT(pdrdma_conn_backend(conn, small, sizeof small, &small_len), PDRDMA_E_BUFFER_TOO_SMALL);
    CHECK(small_len == 3, "needed %zu", small_len);

    /* an empty batch carries only the notification; the target then checks its bytes */
    EXPECT(pdrdma_write(conn, NULL, 0, "bad-done", 8, 0, 30000), PDRDMA_OK);
    EXPECT(pdrdma_conn_close(conn), PDRDMA_OK);
    EXPECT(pdrdma_conn_close(conn), PDRDMA_E_INVALID_ARGUMENT);
    EXPECT(pdrdma_region_deregister(region), PDRDMA_OK);
    EXPECT(pdrdma_agent_destroy(agent), PDRDMA_OK);
    free(writes); free(perm); free(src);
    printf("initiator %s: %d failures\n", backend, failures);
    return failures ? 1 : 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 5 && strcmp(argv[1], "target") == 0) return target(argv[2], argv[3], argv[4]);
    if (argc == 6 && strcmp(argv[1], "initiator") == 0) return initiator(argv[2], argv[3], argv[4], argv[5]);
    fprintf(stderr, "usage: %s target BACKEND SECRET ADDR_FILE | initiator BACKEND SECRET BAD_SECRET ADDR_FILE\n", argv[0]);
    return 2;
}
