/*
 * A Level Zero driver for tests on hosts without Intel hardware. The real loader (libze_loader.so.1)
 * loads it through ZE_ENABLE_ALT_DRIVERS and reaches it through the DDI tables below, exactly as it
 * reaches libze_intel_gpu.so.1. One driver, one "device"; device memory is a memfd mapped into the
 * process, so a dma-buf export is a real descriptor and an IPC handle carries a real descriptor that
 * another process (after receiving it over SCM_RIGHTS) maps to see the same bytes.
 *
 * What it checks that a real driver would too: handles (magic numbers), device pointers and copy bounds
 * (a copy that runs past a device allocation fails instead of scribbling), the size of an imported
 * descriptor. ze_test_driver_set_disabled() (or ZE_TEST_DRIVER_DISABLE=ipc,external) switches IPC or external memory off to drive the
 * fallback paths; ze_test_driver_live_allocations() lets it check that every allocation was freed.
 * Built by the tests: gcc -shared -fPIC -o libze_test_driver.so ze_test_driver.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <level_zero/ze_api.h>
#include <level_zero/ze_ddi.h>
#include <level_zero/zes_ddi.h>
#include <level_zero/zet_ddi.h>

#define EXPORT __attribute__((visibility("default")))
#define DRIVER_MAGIC 0x5a454452u  /* ZEDR */
#define DEVICE_MAGIC 0x5a454456u  /* ZEDV */
#define CONTEXT_MAGIC 0x5a454358u /* ZECX */
#define LIST_MAGIC 0x5a454c53u    /* ZELS */
#define IPC_MAGIC 0x5a495043u     /* ZIPC */

enum { DISABLE_IPC = 1, DISABLE_EXTERNAL = 2 };
enum { KIND_HOST = 1, KIND_DEVICE = 2, KIND_IPC = 3 };

struct object { uint32_t magic; };
struct alloc { char *ptr; size_t size; int fd; int kind; uint64_t id; struct alloc *next; };
struct ipc_data { int32_t fd; uint32_t magic; uint64_t size; };

static struct object driver = { DRIVER_MAGIC };
static struct object device = { DEVICE_MAGIC };
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct alloc *allocs;
static uint64_t next_id = 1;
static uint32_t disabled;
static int initialized;

EXPORT void ze_test_driver_set_disabled(uint32_t flags) { __atomic_store_n(&disabled, flags, __ATOMIC_SEQ_CST); }
static uint32_t is_disabled(uint32_t flag) { return __atomic_load_n(&disabled, __ATOMIC_SEQ_CST) & flag; }

EXPORT int ze_test_driver_live_allocations(void)
{
    int n = 0;
    pthread_mutex_lock(&lock);
    for (struct alloc *a = allocs; a; a = a->next) n++;
    pthread_mutex_unlock(&lock);
    return n;
}

static int valid(const void *h, uint32_t magic) { return h && ((const struct object *)h)->magic == magic; }

/* The allocation holding [p, p+len) or NULL; *partial is set when p is inside one but the range runs past it. */
static struct alloc *find(const void *p, size_t len, int *partial)
{
    *partial = 0;
    for (struct alloc *a = allocs; a; a = a->next) {
        const char *c = p;
        if (c >= a->ptr && c < a->ptr + a->size) {
            if (len > (size_t)(a->ptr + a->size - c)) *partial = 1;
            return a;
        }
    }
    return NULL;
}

static void add(struct alloc *a)
{
    a->id = next_id++;
    a->next = allocs;
    allocs = a;
}

static struct alloc *take(const void *p, int kind)
{
    for (struct alloc **link = &allocs; *link; link = &(*link)->next) {
        if ((*link)->ptr == p && (*link)->kind == kind) {
            struct alloc *a = *link;
            *link = a->next;
            return a;
        }
    }
    return NULL;
}

static ze_result_t ze_init(ze_init_flags_t flags)
{
    if (flags & ~(ZE_INIT_FLAG_GPU_ONLY | ZE_INIT_FLAG_VPU_ONLY)) return ZE_RESULT_ERROR_INVALID_ENUMERATION;
    /* ZE_TEST_DRIVER_DISABLE=ipc,external switches features off in a child process (the fallback tests) */
    const char *off = getenv("ZE_TEST_DRIVER_DISABLE");
    if (off && strstr(off, "ipc")) ze_test_driver_set_disabled(disabled | DISABLE_IPC);
    if (off && strstr(off, "external")) ze_test_driver_set_disabled(disabled | DISABLE_EXTERNAL);
    initialized = 1;
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_driver_get(uint32_t *count, ze_driver_handle_t *drivers)
{
    if (!count) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    if (!initialized) return ZE_RESULT_ERROR_UNINITIALIZED;
    if (*count == 0 || !drivers) { *count = 1; return ZE_RESULT_SUCCESS; }
    drivers[0] = (ze_driver_handle_t)&driver;
    *count = 1;
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_init_drivers(uint32_t *count, ze_driver_handle_t *drivers, ze_init_driver_type_desc_t *desc)
{
    if (!desc) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    if (!(desc->flags & ZE_INIT_DRIVER_TYPE_FLAG_GPU)) { *count = 0; return ZE_RESULT_SUCCESS; }
    initialized = 1;
    return ze_driver_get(count, drivers);
}

static ze_result_t ze_driver_get_properties(ze_driver_handle_t h, ze_driver_properties_t *p)
{
    if (!valid(h, DRIVER_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    if (!p) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    memset(p->uuid.id, 0x7e, sizeof p->uuid.id);
    p->driverVersion = 1;
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_driver_get_api_version(ze_driver_handle_t h, ze_api_version_t *v)
{
    if (!valid(h, DRIVER_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    *v = ZE_API_VERSION_CURRENT;
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_device_get(ze_driver_handle_t h, uint32_t *count, ze_device_handle_t *devices)
{
    if (!valid(h, DRIVER_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    if (!count) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    if (*count == 0 || !devices) { *count = 1; return ZE_RESULT_SUCCESS; }
    devices[0] = (ze_device_handle_t)&device;
    *count = 1;
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_device_get_properties(ze_device_handle_t h, ze_device_properties_t *p)
{
    if (!valid(h, DEVICE_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    if (!p) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    void *next = p->pNext;
    ze_structure_type_t stype = p->stype;
    memset(p, 0, sizeof *p);
    p->stype = stype;
    p->pNext = next;
    p->type = ZE_DEVICE_TYPE_GPU;
    p->vendorId = 0x8086;
    p->deviceId = 0x0bd5;
    p->maxMemAllocSize = 1ull << 34;
    for (int i = 0; i < ZE_MAX_DEVICE_UUID_SIZE; i++) p->uuid.id[i] = (uint8_t)(0xa0 + i);
    strcpy(p->name, "PdRdma Level Zero test driver (memfd)");
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_context_create(ze_driver_handle_t h, const ze_context_desc_t *desc, ze_context_handle_t *out)
{
    if (!valid(h, DRIVER_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    if (!desc || !out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    struct object *c = malloc(sizeof *c);
    if (!c) return ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    c->magic = CONTEXT_MAGIC;
    *out = (ze_context_handle_t)c;
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_context_destroy(ze_context_handle_t h)
{
    if (!valid(h, CONTEXT_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    ((struct object *)h)->magic = 0;
    free(h);
    return ZE_RESULT_SUCCESS;
}

static ze_result_t map_fd(int fd, size_t size, int kind, void **out)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { close(fd); return ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY; }
    struct alloc *a = calloc(1, sizeof *a);
    if (!a) { munmap(p, size); close(fd); return ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY; }
    a->ptr = p; a->size = size; a->fd = fd; a->kind = kind;
    pthread_mutex_lock(&lock);
    add(a);
    pthread_mutex_unlock(&lock);
    *out = p;
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_mem_alloc_device(ze_context_handle_t ctx, const ze_device_mem_alloc_desc_t *desc, size_t size, size_t alignment,
                                       ze_device_handle_t dev, void **out)
{
    if (!valid(ctx, CONTEXT_MAGIC) || !valid(dev, DEVICE_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    if (!desc || !out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    if (size == 0) return ZE_RESULT_ERROR_UNSUPPORTED_SIZE;
    if (alignment & (alignment - 1)) return ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT;
    for (const ze_base_desc_t *ext = desc->pNext; ext; ext = ext->pNext) {
        if (ext->stype == ZE_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMPORT_FD) {
            const ze_external_memory_import_fd_t *imp = (const void *)ext;
            if (is_disabled(DISABLE_EXTERNAL) || imp->flags != ZE_EXTERNAL_MEMORY_TYPE_FLAG_DMA_BUF) return ZE_RESULT_ERROR_UNSUPPORTED_FEATURE;
            struct stat st;
            if (fstat(imp->fd, &st) != 0) return ZE_RESULT_ERROR_INVALID_ARGUMENT;
            if ((uint64_t)st.st_size < size) return ZE_RESULT_ERROR_INVALID_SIZE;
            int fd = fcntl(imp->fd, F_DUPFD_CLOEXEC, 0);
            if (fd < 0) return ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY;
            return map_fd(fd, size, KIND_DEVICE, out);
        }
        if (ext->stype == ZE_STRUCTURE_TYPE_EXTERNAL_MEMORY_EXPORT_DESC && is_disabled(DISABLE_EXTERNAL)) return ZE_RESULT_ERROR_UNSUPPORTED_FEATURE;
    }
    int fd = memfd_create("ze-test-device-memory", MFD_CLOEXEC);
    if (fd < 0) return ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY;
    if (ftruncate(fd, (off_t)size) != 0) { close(fd); return ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY; }
    return map_fd(fd, size, KIND_DEVICE, out);
}

static ze_result_t ze_mem_alloc_host(ze_context_handle_t ctx, const ze_host_mem_alloc_desc_t *desc, size_t size, size_t alignment, void **out)
{
    if (!valid(ctx, CONTEXT_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    if (!desc || !out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    if (size == 0) return ZE_RESULT_ERROR_UNSUPPORTED_SIZE;
    if (alignment & (alignment - 1)) return ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT;
    int fd = memfd_create("ze-test-host-memory", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)size) != 0) { if (fd >= 0) close(fd); return ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY; }
    return map_fd(fd, size, KIND_HOST, out);
}

static ze_result_t unmap(const void *p, int kind)
{
    pthread_mutex_lock(&lock);
    struct alloc *a = take(p, kind);
    pthread_mutex_unlock(&lock);
    if (!a) return ZE_RESULT_ERROR_INVALID_ARGUMENT;
    munmap(a->ptr, a->size);
    if (a->fd >= 0) close(a->fd);
    free(a);
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_mem_free(ze_context_handle_t ctx, void *p)
{
    if (!valid(ctx, CONTEXT_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    ze_result_t r = unmap(p, KIND_DEVICE);
    return r == ZE_RESULT_SUCCESS ? r : unmap(p, KIND_HOST);
}

static ze_result_t ze_mem_get_alloc_properties(ze_context_handle_t ctx, const void *p, ze_memory_allocation_properties_t *props,
                                               ze_device_handle_t *dev)
{
    if (!valid(ctx, CONTEXT_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    if (!props) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    int partial;
    pthread_mutex_lock(&lock);
    struct alloc *a = find(p, 1, &partial);
    props->type = !a ? ZE_MEMORY_TYPE_UNKNOWN : a->kind == KIND_HOST ? ZE_MEMORY_TYPE_HOST : ZE_MEMORY_TYPE_DEVICE;
    props->id = a ? a->id : 0;
    props->pageSize = a ? 4096 : 0;
    int fd = a ? a->fd : -1;
    pthread_mutex_unlock(&lock);
    if (dev) *dev = a && a->kind != KIND_HOST ? (ze_device_handle_t)&device : NULL;
    for (ze_base_properties_t *ext = props->pNext; ext; ext = ext->pNext) {
        if (ext->stype != ZE_STRUCTURE_TYPE_EXTERNAL_MEMORY_EXPORT_FD) continue;
        ze_external_memory_export_fd_t *exp = (void *)ext;
        if (!a || is_disabled(DISABLE_EXTERNAL) || exp->flags != ZE_EXTERNAL_MEMORY_TYPE_FLAG_DMA_BUF) return ZE_RESULT_ERROR_UNSUPPORTED_FEATURE;
        exp->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (exp->fd < 0) return ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    }
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_mem_get_address_range(ze_context_handle_t ctx, const void *p, void **base, size_t *size)
{
    if (!valid(ctx, CONTEXT_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    int partial;
    pthread_mutex_lock(&lock);
    struct alloc *a = find(p, 1, &partial);
    if (a) { if (base) *base = a->ptr; if (size) *size = a->size; }
    pthread_mutex_unlock(&lock);
    return a ? ZE_RESULT_SUCCESS : ZE_RESULT_ERROR_NOT_AVAILABLE;
}

static ze_result_t ze_mem_get_ipc_handle(ze_context_handle_t ctx, const void *p, ze_ipc_mem_handle_t *out)
{
    if (!valid(ctx, CONTEXT_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    if (!out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    if (is_disabled(DISABLE_IPC)) return ZE_RESULT_ERROR_UNSUPPORTED_FEATURE;
    int partial;
    pthread_mutex_lock(&lock);
    struct alloc *a = find(p, 1, &partial);
    int fd = a && a->kind == KIND_DEVICE ? fcntl(a->fd, F_DUPFD_CLOEXEC, 0) : -2;
    size_t size = a ? a->size : 0;
    pthread_mutex_unlock(&lock);
    if (fd == -2) return ZE_RESULT_ERROR_INVALID_ARGUMENT;
    if (fd < 0) return ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    struct ipc_data d = { fd, IPC_MAGIC, size };
    memset(out, 0, sizeof *out);
    memcpy(out->data, &d, sizeof d);
    return ZE_RESULT_SUCCESS;
}

static int ipc_read(const ze_ipc_mem_handle_t *h, struct ipc_data *d)
{
    memcpy(d, h->data, sizeof *d);
    return d->magic == IPC_MAGIC && d->fd >= 0;
}

static ze_result_t ze_mem_open_ipc_handle(ze_context_handle_t ctx, ze_device_handle_t dev, ze_ipc_mem_handle_t h, ze_ipc_memory_flags_t flags, void **out)
{
    if (!valid(ctx, CONTEXT_MAGIC) || !valid(dev, DEVICE_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    if (!out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    if (is_disabled(DISABLE_IPC)) return ZE_RESULT_ERROR_UNSUPPORTED_FEATURE;
    struct ipc_data d;
    if (!ipc_read(&h, &d)) return ZE_RESULT_ERROR_INVALID_ARGUMENT;
    struct stat st;
    /* the size comes from the descriptor, never from the handle's bytes */
    if (fstat(d.fd, &st) != 0 || st.st_size <= 0) return ZE_RESULT_ERROR_INVALID_ARGUMENT;
    int fd = fcntl(d.fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    return map_fd(fd, (size_t)st.st_size, KIND_IPC, out);
}

static ze_result_t ze_mem_close_ipc_handle(ze_context_handle_t ctx, const void *p)
{
    if (!valid(ctx, CONTEXT_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    return unmap(p, KIND_IPC);
}

static ze_result_t ze_mem_put_ipc_handle(ze_context_handle_t ctx, ze_ipc_mem_handle_t h)
{
    if (!valid(ctx, CONTEXT_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    struct ipc_data d;
    if (!ipc_read(&h, &d)) return ZE_RESULT_ERROR_INVALID_ARGUMENT;
    close(d.fd);
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_mem_get_ipc_from_fd(ze_context_handle_t ctx, uint64_t handle, ze_ipc_mem_handle_t *out)
{
    if (!valid(ctx, CONTEXT_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    if (!out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    if (is_disabled(DISABLE_IPC)) return ZE_RESULT_ERROR_UNSUPPORTED_FEATURE;
    struct stat st;
    if (handle > INT32_MAX || fstat((int)handle, &st) != 0) return ZE_RESULT_ERROR_INVALID_ARGUMENT;
    struct ipc_data d = { (int32_t)handle, IPC_MAGIC, (uint64_t)st.st_size };
    memset(out, 0, sizeof *out);
    memcpy(out->data, &d, sizeof d);
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_mem_get_fd_from_ipc(ze_context_handle_t ctx, ze_ipc_mem_handle_t h, uint64_t *out)
{
    if (!valid(ctx, CONTEXT_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    if (!out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    struct ipc_data d;
    if (!ipc_read(&h, &d)) return ZE_RESULT_ERROR_INVALID_ARGUMENT;
    *out = (uint64_t)d.fd;
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_command_list_create_immediate(ze_context_handle_t ctx, ze_device_handle_t dev, const ze_command_queue_desc_t *desc,
                                                    ze_command_list_handle_t *out)
{
    if (!valid(ctx, CONTEXT_MAGIC) || !valid(dev, DEVICE_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    if (!desc || !out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    struct object *l = malloc(sizeof *l);
    if (!l) return ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    l->magic = LIST_MAGIC;
    *out = (ze_command_list_handle_t)l;
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_command_list_destroy(ze_command_list_handle_t h)
{
    if (!valid(h, LIST_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    ((struct object *)h)->magic = 0;
    free(h);
    return ZE_RESULT_SUCCESS;
}

/* Device pointers must lie wholly inside their allocation; any other pointer is host memory. */
static int range_ok(const void *p, size_t size)
{
    int partial;
    pthread_mutex_lock(&lock);
    struct alloc *a = find(p, size, &partial);
    pthread_mutex_unlock(&lock);
    return !(a && partial);
}

static ze_result_t ze_append_copy(ze_command_list_handle_t h, void *dst, const void *src, size_t size, ze_event_handle_t signal,
                                  uint32_t waits, ze_event_handle_t *wait_events)
{
    if (!valid(h, LIST_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    if (!dst || !src) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    if (signal || waits) return ZE_RESULT_ERROR_UNSUPPORTED_FEATURE;
    if (!range_ok(dst, size) || !range_ok(src, size)) return ZE_RESULT_ERROR_INVALID_SIZE;
    memmove(dst, src, size);
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_append_fill(ze_command_list_handle_t h, void *p, const void *pattern, size_t pattern_size, size_t size,
                                  ze_event_handle_t signal, uint32_t waits, ze_event_handle_t *wait_events)
{
    if (!valid(h, LIST_MAGIC)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    if (!p || !pattern) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    if (signal || waits) return ZE_RESULT_ERROR_UNSUPPORTED_FEATURE;
    if (pattern_size == 0 || size % pattern_size) return ZE_RESULT_ERROR_INVALID_SIZE;
    if (!range_ok(p, size)) return ZE_RESULT_ERROR_INVALID_SIZE;
    for (size_t i = 0; i < size; i += pattern_size) memcpy((char *)p + i, pattern, pattern_size);
    return ZE_RESULT_SUCCESS;
}

static ze_result_t ze_list_host_synchronize(ze_command_list_handle_t h, uint64_t timeout)
{
    return valid(h, LIST_MAGIC) ? ZE_RESULT_SUCCESS : ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
}

static ze_result_t check_version(ze_api_version_t version, const void *table)
{
    if (!table) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
    if (ZE_MAJOR_VERSION(version) != ZE_MAJOR_VERSION(ZE_API_VERSION_CURRENT)) return ZE_RESULT_ERROR_UNSUPPORTED_VERSION;
    return ZE_RESULT_SUCCESS;
}

EXPORT ze_result_t zeGetGlobalProcAddrTable(ze_api_version_t v, ze_global_dditable_t *t)
{
    ze_result_t r = check_version(v, t);
    if (r) return r;
    memset(t, 0, sizeof *t);
    t->pfnInit = ze_init;
    t->pfnInitDrivers = ze_init_drivers;
    return ZE_RESULT_SUCCESS;
}

EXPORT ze_result_t zeGetDriverProcAddrTable(ze_api_version_t v, ze_driver_dditable_t *t)
{
    ze_result_t r = check_version(v, t);
    if (r) return r;
    memset(t, 0, sizeof *t);
    t->pfnGet = ze_driver_get;
    t->pfnGetApiVersion = ze_driver_get_api_version;
    t->pfnGetProperties = ze_driver_get_properties;
    return ZE_RESULT_SUCCESS;
}

EXPORT ze_result_t zeGetDeviceProcAddrTable(ze_api_version_t v, ze_device_dditable_t *t)
{
    ze_result_t r = check_version(v, t);
    if (r) return r;
    memset(t, 0, sizeof *t);
    t->pfnGet = ze_device_get;
    t->pfnGetProperties = ze_device_get_properties;
    return ZE_RESULT_SUCCESS;
}

EXPORT ze_result_t zeGetContextProcAddrTable(ze_api_version_t v, ze_context_dditable_t *t)
{
    ze_result_t r = check_version(v, t);
    if (r) return r;
    memset(t, 0, sizeof *t);
    t->pfnCreate = ze_context_create;
    t->pfnDestroy = ze_context_destroy;
    return ZE_RESULT_SUCCESS;
}

EXPORT ze_result_t zeGetMemProcAddrTable(ze_api_version_t v, ze_mem_dditable_t *t)
{
    ze_result_t r = check_version(v, t);
    if (r) return r;
    memset(t, 0, sizeof *t);
    t->pfnAllocDevice = ze_mem_alloc_device;
    t->pfnAllocHost = ze_mem_alloc_host;
    t->pfnFree = ze_mem_free;
    t->pfnGetAllocProperties = ze_mem_get_alloc_properties;
    t->pfnGetAddressRange = ze_mem_get_address_range;
    t->pfnGetIpcHandle = ze_mem_get_ipc_handle;
    t->pfnOpenIpcHandle = ze_mem_open_ipc_handle;
    t->pfnCloseIpcHandle = ze_mem_close_ipc_handle;
    t->pfnPutIpcHandle = ze_mem_put_ipc_handle;
    return ZE_RESULT_SUCCESS;
}

EXPORT ze_result_t zeGetMemExpProcAddrTable(ze_api_version_t v, ze_mem_exp_dditable_t *t)
{
    ze_result_t r = check_version(v, t);
    if (r) return r;
    memset(t, 0, sizeof *t);
    t->pfnGetIpcHandleFromFileDescriptorExp = ze_mem_get_ipc_from_fd;
    t->pfnGetFileDescriptorFromIpcHandleExp = ze_mem_get_fd_from_ipc;
    return ZE_RESULT_SUCCESS;
}

EXPORT ze_result_t zeGetCommandListProcAddrTable(ze_api_version_t v, ze_command_list_dditable_t *t)
{
    ze_result_t r = check_version(v, t);
    if (r) return r;
    memset(t, 0, sizeof *t);
    t->pfnCreateImmediate = ze_command_list_create_immediate;
    t->pfnDestroy = ze_command_list_destroy;
    t->pfnAppendMemoryCopy = ze_append_copy;
    t->pfnAppendMemoryFill = ze_append_fill;
    t->pfnHostSynchronize = ze_list_host_synchronize;
    return ZE_RESULT_SUCCESS;
}

/* Tables the loader asks every driver for; this driver implements none of their functions. */
#define EMPTY_TABLE(fn, type) \
    EXPORT ze_result_t fn(ze_api_version_t v, type *t) { ze_result_t r = check_version(v, t); if (!r) memset(t, 0, sizeof *t); return r; }
EMPTY_TABLE(zeGetDriverExpProcAddrTable, ze_driver_exp_dditable_t)
EMPTY_TABLE(zeGetDeviceExpProcAddrTable, ze_device_exp_dditable_t)
EMPTY_TABLE(zeGetCommandQueueProcAddrTable, ze_command_queue_dditable_t)
EMPTY_TABLE(zeGetCommandListExpProcAddrTable, ze_command_list_exp_dditable_t)
EMPTY_TABLE(zeGetImageProcAddrTable, ze_image_dditable_t)
EMPTY_TABLE(zeGetImageExpProcAddrTable, ze_image_exp_dditable_t)
EMPTY_TABLE(zeGetFenceProcAddrTable, ze_fence_dditable_t)
EMPTY_TABLE(zeGetEventPoolProcAddrTable, ze_event_pool_dditable_t)
EMPTY_TABLE(zeGetEventProcAddrTable, ze_event_dditable_t)
EMPTY_TABLE(zeGetEventExpProcAddrTable, ze_event_exp_dditable_t)
EMPTY_TABLE(zeGetModuleProcAddrTable, ze_module_dditable_t)
EMPTY_TABLE(zeGetModuleBuildLogProcAddrTable, ze_module_build_log_dditable_t)
EMPTY_TABLE(zeGetKernelProcAddrTable, ze_kernel_dditable_t)
EMPTY_TABLE(zeGetKernelExpProcAddrTable, ze_kernel_exp_dditable_t)
EMPTY_TABLE(zeGetSamplerProcAddrTable, ze_sampler_dditable_t)
EMPTY_TABLE(zeGetPhysicalMemProcAddrTable, ze_physical_mem_dditable_t)
EMPTY_TABLE(zeGetVirtualMemProcAddrTable, ze_virtual_mem_dditable_t)
EMPTY_TABLE(zeGetFabricVertexExpProcAddrTable, ze_fabric_vertex_exp_dditable_t)
EMPTY_TABLE(zeGetFabricEdgeExpProcAddrTable, ze_fabric_edge_exp_dditable_t)
EMPTY_TABLE(zeGetRTASBuilderExpProcAddrTable, ze_rtas_builder_exp_dditable_t)
EMPTY_TABLE(zeGetRTASParallelOperationExpProcAddrTable, ze_rtas_parallel_operation_exp_dditable_t)

/* The loader also fills its tools (zet) and sysman (zes) tables from every driver and drops a driver that lacks them. */
EMPTY_TABLE(zetGetMetricProgrammableExpProcAddrTable, zet_metric_programmable_exp_dditable_t)
EMPTY_TABLE(zetGetMetricTracerExpProcAddrTable, zet_metric_tracer_exp_dditable_t)
EMPTY_TABLE(zetGetMetricDecoderExpProcAddrTable, zet_metric_decoder_exp_dditable_t)
EMPTY_TABLE(zetGetDeviceProcAddrTable, zet_device_dditable_t)
EMPTY_TABLE(zetGetDeviceExpProcAddrTable, zet_device_exp_dditable_t)
EMPTY_TABLE(zetGetContextProcAddrTable, zet_context_dditable_t)
EMPTY_TABLE(zetGetCommandListProcAddrTable, zet_command_list_dditable_t)
EMPTY_TABLE(zetGetModuleProcAddrTable, zet_module_dditable_t)
EMPTY_TABLE(zetGetKernelProcAddrTable, zet_kernel_dditable_t)
EMPTY_TABLE(zetGetMetricProcAddrTable, zet_metric_dditable_t)
EMPTY_TABLE(zetGetMetricExpProcAddrTable, zet_metric_exp_dditable_t)
EMPTY_TABLE(zetGetMetricGroupProcAddrTable, zet_metric_group_dditable_t)
EMPTY_TABLE(zetGetMetricGroupExpProcAddrTable, zet_metric_group_exp_dditable_t)
EMPTY_TABLE(zetGetMetricStreamerProcAddrTable, zet_metric_streamer_dditable_t)
EMPTY_TABLE(zetGetMetricQueryPoolProcAddrTable, zet_metric_query_pool_dditable_t)
EMPTY_TABLE(zetGetMetricQueryProcAddrTable, zet_metric_query_dditable_t)
EMPTY_TABLE(zetGetTracerExpProcAddrTable, zet_tracer_exp_dditable_t)
EMPTY_TABLE(zetGetDebugProcAddrTable, zet_debug_dditable_t)
EMPTY_TABLE(zesGetGlobalProcAddrTable, zes_global_dditable_t)
EMPTY_TABLE(zesGetDeviceProcAddrTable, zes_device_dditable_t)
EMPTY_TABLE(zesGetDeviceExpProcAddrTable, zes_device_exp_dditable_t)
EMPTY_TABLE(zesGetDriverProcAddrTable, zes_driver_dditable_t)
EMPTY_TABLE(zesGetDriverExpProcAddrTable, zes_driver_exp_dditable_t)
EMPTY_TABLE(zesGetOverclockProcAddrTable, zes_overclock_dditable_t)
EMPTY_TABLE(zesGetSchedulerProcAddrTable, zes_scheduler_dditable_t)
EMPTY_TABLE(zesGetPerformanceFactorProcAddrTable, zes_performance_factor_dditable_t)
EMPTY_TABLE(zesGetPowerProcAddrTable, zes_power_dditable_t)
EMPTY_TABLE(zesGetFrequencyProcAddrTable, zes_frequency_dditable_t)
EMPTY_TABLE(zesGetEngineProcAddrTable, zes_engine_dditable_t)
EMPTY_TABLE(zesGetStandbyProcAddrTable, zes_standby_dditable_t)
EMPTY_TABLE(zesGetFirmwareProcAddrTable, zes_firmware_dditable_t)
EMPTY_TABLE(zesGetFirmwareExpProcAddrTable, zes_firmware_exp_dditable_t)
EMPTY_TABLE(zesGetMemoryProcAddrTable, zes_memory_dditable_t)
EMPTY_TABLE(zesGetFabricPortProcAddrTable, zes_fabric_port_dditable_t)
EMPTY_TABLE(zesGetTemperatureProcAddrTable, zes_temperature_dditable_t)
EMPTY_TABLE(zesGetPsuProcAddrTable, zes_psu_dditable_t)
EMPTY_TABLE(zesGetFanProcAddrTable, zes_fan_dditable_t)
EMPTY_TABLE(zesGetLedProcAddrTable, zes_led_dditable_t)
EMPTY_TABLE(zesGetRasProcAddrTable, zes_ras_dditable_t)
EMPTY_TABLE(zesGetRasExpProcAddrTable, zes_ras_exp_dditable_t)
EMPTY_TABLE(zesGetDiagnosticsProcAddrTable, zes_diagnostics_dditable_t)
EMPTY_TABLE(zesGetVFManagementExpProcAddrTable, zes_vf_management_exp_dditable_t)
