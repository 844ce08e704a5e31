/*
 * pdrdma.h — C API of libpdrdma.so, the PdRdma transport and daemon client (NativeAOT build of the C# library).
 * C99. Build: `./pdrdma build native` → .pdrdma/native/libpdrdma.so. Link with -lpdrdma (or dlopen it).
 *
 * Conventions
 *  - Every function returns an int status (pdrdma_status). 0 is success. Positive values are exactly the C#
 *    TransferErrorCode values (one-to-one, same numbers); negative values are conditions of this boundary.
 *  - After a failure, pdrdma_last_error() returns a message (UTF-8, NUL-terminated) saying what and why. It is
 *    thread-local, owned by the library, and valid until the next pdrdma_* call on the same thread.
 *  - No exception, signal or longjmp crosses this boundary: failures are statuses.
 *  - Handles are opaque. A freed, stale or forged handle is refused with PDRDMA_E_INVALID_ARGUMENT, never followed.
 *  - Strings passed in are NUL-terminated UTF-8 (at most 4096 bytes), borrowed for the duration of the call.
 *  - Output strings go into caller buffers (buf, cap, *len): *len gets the length without the NUL; when cap is too
 *    small the call returns PDRDMA_E_BUFFER_TOO_SMALL, stores the needed length, and consumes nothing.
 *  - Blocking: connect, *_wait, pdrdma_write and every daemon call block the calling thread (the library's own
 *    I/O runs on its internal threads). All functions may be called from any thread; handles are thread-safe.
 *  - Memory: memory registered with pdrdma_region_register stays owned by the caller, who keeps it valid (and does
 *    not free it) until the region is deregistered and no batch that names it is in flight, or until the agent is
 *    destroyed. Memory from pdrdma_region_alloc is owned by the library and unmapped at deregister/destroy.
 *    Source bytes of a batch are read while it is in flight: do not modify them before it completes.
 */
#ifndef PDRDMA_H
#define PDRDMA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version of this header; compare with pdrdma_abi_version() at startup. Bumped on any incompatible change. */
#define PDRDMA_ABI_VERSION 1

typedef enum pdrdma_status {
    PDRDMA_OK = 0,
    /* = TransferErrorCode (same values) */
    PDRDMA_E_PROTOCOL = 1,           /* a peer or the daemon sent something malformed */
    PDRDMA_E_VERSION_MISMATCH = 2,   /* the peer speaks another protocol version */
    PDRDMA_E_LAYOUT_MISMATCH = 3,    /* KV layouts differ (the message names the field) */
    PDRDMA_E_UNKNOWN_REGION = 4,     /* no region of that name (source here, or target on the peer) */
    PDRDMA_E_OUT_OF_BOUNDS = 5,      /* a write falls outside its region; nothing was placed */
    PDRDMA_E_ACCESS_DENIED = 6,      /* the target refused the write (no lease) */
    PDRDMA_E_PEER_LOST = 7,          /* the connection (or the daemon) is gone */
    PDRDMA_E_TIMEOUT = 8,            /* nothing arrived / did not complete in time */
    PDRDMA_E_UNSUPPORTED = 9,        /* no backend can do this (e.g. device memory, cannot listen) */
    PDRDMA_E_CHECKSUM_MISMATCH = 10, /* the target's checksum of the placed bytes differs; not notified */
    PDRDMA_E_UNAUTHENTICATED = 11,   /* the cluster secrets differ */
    PDRDMA_E_POOL_FULL = 12,         /* the daemon has no free blocks */
    PDRDMA_E_DEVICE_UNAVAILABLE = 13,/* the device (GPU, NIC) cannot be used */
    PDRDMA_E_OVERLOADED = 14,        /* a limit was reached (requests in work, queued events): retry later */
    /* this boundary's own conditions */
    PDRDMA_PENDING = -1,             /* not an error: pdrdma_batch_poll says the batch is still in flight */
    PDRDMA_E_INVALID_ARGUMENT = -2,  /* NULL or malformed argument, bad handle, bad config: nothing was done */
    PDRDMA_E_BUFFER_TOO_SMALL = -3,  /* an output buffer is too small; the needed size was stored */
    PDRDMA_E_INTERNAL = -4           /* unexpected failure inside the library (a bug: report the message) */
} pdrdma_status;

typedef enum pdrdma_memory_kind {
    PDRDMA_MEMORY_HOST = 0,
    PDRDMA_MEMORY_CUDA = 1,          /* declared: device pointer + device ordinal; this build answers UNSUPPORTED */
    PDRDMA_MEMORY_LEVEL_ZERO = 2     /* declared: device pointer + device ordinal; this build answers UNSUPPORTED */
} pdrdma_memory_kind;

typedef enum pdrdma_kv_dtype {
    PDRDMA_KV_FLOAT32 = 0,
    PDRDMA_KV_BFLOAT16 = 1,
    PDRDMA_KV_FLOAT16 = 2
} pdrdma_kv_dtype;

/* Room for a node id or endpoint returned by the daemon calls (longer ones are cut). */
#define PDRDMA_NAME_MAX 256

/* Batch flags */
#define PDRDMA_CHECKSUM_XXH3 1u      /* the target verifies an XXH3 of the batch before it notifies */

typedef struct pdrdma_agent pdrdma_agent_t;
typedef struct pdrdma_region pdrdma_region_t;
typedef struct pdrdma_conn pdrdma_conn_t;
typedef struct pdrdma_batch pdrdma_batch_t;
typedef struct pdrdma_daemon pdrdma_daemon_t;

/* One write of a batch: length bytes from a local region into a peer's region. Names borrowed for the call. */
typedef struct pdrdma_write {
    const char *source_region;
    uint64_t source_offset;
    const char *target_region;
    uint64_t target_offset;
    uint64_t length;
} pdrdma_write_t;

/* Shape of a paged KV pool: tensor [layers, 2 (K,V), blocks, tokens_per_block, kv_heads, head_dim]. */
typedef struct pdrdma_kv_layout {
    int32_t layers;
    int32_t kv_heads;
    int32_t head_dim;
    int32_t tokens_per_block;
    int32_t dtype;                   /* pdrdma_kv_dtype */
    int32_t blocks;
} pdrdma_kv_layout_t;

/* One push of KV blocks through the daemon: every layer in `layers`, source_blocks[i] → target_blocks[i]. */
typedef struct pdrdma_kv_push {
    const char *request_id;
    const char *source_pool;
    const char *target_endpoint;     /* the target daemon's peer endpoint, "IP:PORT" */
    const char *target_pool;
    const int32_t *layers;
    size_t layer_count;
    const int32_t *source_blocks;
    const int32_t *target_blocks;
    size_t block_count;
    const pdrdma_kv_layout_t *target_layout; /* may be NULL (the target pool's own layout is then assumed equal) */
} pdrdma_kv_push_t;

/* ---- version and errors ---- */
uint32_t pdrdma_abi_version(void);
const char *pdrdma_last_error(void);          /* never NULL; "" when the last call succeeded */
const char *pdrdma_status_name(int status);   /* static string, e.g. "OutOfBounds"; never NULL */

/* ---- agent ----
 * config_json: {"node_id": "...", "listen": "127.0.0.1:0", "secret_file": "/path", "backends": ["shm","tcp"],
 *               "backend": "auto|shm|tcp|verbs", "allow_fallback": false, "connect_timeout_ms": 10000,
 *               "max_batches_in_flight": 16}
 * Only node_id is required. Without "listen" the agent only initiates. The secret file must hold 16-4096 bytes and
 * not be readable by other users. Unknown keys are refused. */
int pdrdma_agent_create(const char *config_json, pdrdma_agent_t **agent);
/* Closes every connection, waits for in-flight sessions, frees library-allocated regions; the handle dies. */
int pdrdma_agent_destroy(pdrdma_agent_t *agent);
/* The bound listen address ("IP:PORT"; port 0 in the config is resolved here). */
int pdrdma_agent_listen_address(pdrdma_agent_t *agent, char *buf, size_t cap, size_t *len);

/* ---- regions (register before peers connect: descriptors are exchanged at connect) ---- */
/* Registers caller memory [addr, addr+length) under id. The caller keeps ownership (see Memory above). Such a region
 * has no shared file: a same-host peer writes into it over tcp, not shm. device_ordinal is ignored for host memory. */
int pdrdma_region_register(pdrdma_agent_t *agent, const char *id, void *addr, uint64_t length,
                           int kind, int device_ordinal, pdrdma_region_t **region);
/* Allocates a zeroed host region the library owns (a /dev/shm file mapped shared, so same-host peers use shm);
 * *addr is valid until the region is deregistered or the agent destroyed. */
int pdrdma_region_alloc(pdrdma_agent_t *agent, const char *id, uint64_t length, void **addr, pdrdma_region_t **region);
/* Later batches naming the region are refused (UNKNOWN_REGION). The handle dies. */
int pdrdma_region_deregister(pdrdma_region_t *region);
/* The region's descriptor as a peer sees it, as JSON: {"node_id","region_id","length","kind","shared_path","backend_keys"}. */
int pdrdma_region_describe(pdrdma_region_t *region, char *buf, size_t cap, size_t *len);

/* ---- connections and batches ---- */
/* Connects to the agent listening at peer ("IP:PORT"): authentication, backend choice. Blocks up to connect_timeout_ms. */
int pdrdma_connect(pdrdma_agent_t *agent, const char *peer, pdrdma_conn_t **conn);
int pdrdma_conn_backend(pdrdma_conn_t *conn, char *buf, size_t cap, size_t *len);   /* "shm" | "tcp" | "verbs" */
/* Closes the connection; batches still in flight on it are abandoned and their handles die. */
int pdrdma_conn_close(pdrdma_conn_t *conn);
/* Posts a batch (count may be 0 to send only a notification). The target validates the whole batch before placing a
 * byte and delivers the notification (copied at post; may be NULL) only after every byte is in place. flags:
 * PDRDMA_CHECKSUM_XXH3 or 0. A batch refused before anything was sent (bad source region or bounds) returns its status
 * here and no handle. Otherwise *batch must be freed with pdrdma_batch_free. */
int pdrdma_post(pdrdma_conn_t *conn, const pdrdma_write_t *writes, size_t count,
                const void *notification, size_t notification_len, uint32_t flags, pdrdma_batch_t **batch);
/* PDRDMA_PENDING while in flight, then the batch's final status (repeatable). Never blocks. */
int pdrdma_batch_poll(pdrdma_batch_t *batch);
/* Blocks until the batch completes (its status) or timeout_ms passes (PDRDMA_E_TIMEOUT, batch still in flight).
 * timeout_ms < 0 waits forever. */
int pdrdma_batch_wait(pdrdma_batch_t *batch, int timeout_ms);
/* Frees the handle; a batch still in flight is abandoned (its target bytes are undefined, nothing is notified). */
int pdrdma_batch_free(pdrdma_batch_t *batch);
/* pdrdma_post + pdrdma_batch_wait + pdrdma_batch_free in one call; on timeout the batch is abandoned. */
int pdrdma_write(pdrdma_conn_t *conn, const pdrdma_write_t *writes, size_t count,
                 const void *notification, size_t notification_len, uint32_t flags, int timeout_ms);

/* ---- notifications (target side) ----
 * Blocks until a batch's notification arrives (or timeout_ms: PDRDMA_E_TIMEOUT). Copies its payload into
 * payload[0..payload_cap) and sets *payload_len; when payload_cap is too small returns PDRDMA_E_BUFFER_TOO_SMALL with
 * the needed *payload_len and keeps the notification for the next call. batch_bytes (may be NULL) gets the batch's
 * size; peer (may be NULL) gets the sender's node id, truncated to peer_cap-1 bytes. */
int pdrdma_notification_wait(pdrdma_agent_t *agent, int timeout_ms, void *payload, size_t payload_cap,
                             size_t *payload_len, uint64_t *batch_bytes, char *peer, size_t peer_cap);

/* ---- node daemon client (engine API over the daemon's Unix socket); every call is bounded by 30 s ---- */
int pdrdma_daemon_connect(const char *socket_path, pdrdma_daemon_t **daemon);
int pdrdma_daemon_close(pdrdma_daemon_t *daemon);
/* Offers the engine's KV pool to peers: this process opens its own pool file at path (e.g. under /dev/shm) and hands
 * the daemon the open descriptor (SCM_RIGHTS); the daemon maps that and never opens a path. Registering pool_id again
 * (after a reconnect) replaces the daemon's mapping. node_id and peer_endpoint (each
 * may be NULL, else at least PDRDMA_NAME_MAX bytes) receive this node's daemon id (what the decode side reserves for)
 * and the address peers reach it at (what the prefill side pushes to). */
int pdrdma_daemon_register_pool(pdrdma_daemon_t *daemon, const char *pool_id, const char *path, uint64_t length,
                                const pdrdma_kv_layout_t *layout, char *node_id, size_t node_id_cap,
                                char *peer_endpoint, size_t peer_endpoint_cap);
/* Decode side: lets peer_node_id write `blocks` of pool_id for request_id until it arrives or ttl_ms passes. */
int pdrdma_daemon_reserve(pdrdma_daemon_t *daemon, const char *request_id, const char *pool_id,
                          const int32_t *blocks, size_t count, const char *peer_node_id, int ttl_ms);
int pdrdma_daemon_release(pdrdma_daemon_t *daemon, const char *request_id);
/* Prefill side: writes the blocks (every listed layer, K and V) into the target's reserved blocks; *bytes (may be NULL)
 * gets the bytes written. Returns when they are placed on the target. */
int pdrdma_daemon_push(pdrdma_daemon_t *daemon, const pdrdma_kv_push_t *push, uint64_t *bytes);
/* Prefill side, after every push of the request: tells the target its KV is complete (total_bytes over all pushes). */
int pdrdma_daemon_finish(pdrdma_daemon_t *daemon, const char *request_id, const char *target_endpoint,
                         const char *target_pool, uint64_t total_bytes);
/* Decode side: blocks until every block of request_id arrived (*bytes, peer may be NULL), its lease ended
 * (PDRDMA_E_TIMEOUT) or timeout_ms passed (PDRDMA_E_TIMEOUT). */
int pdrdma_daemon_wait_arrival(pdrdma_daemon_t *daemon, const char *request_id, int timeout_ms,
                               uint64_t *bytes, char *peer, size_t peer_cap);

#ifdef __cplusplus
}
#endif

#endif /* PDRDMA_H */
