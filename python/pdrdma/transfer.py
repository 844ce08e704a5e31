"""Agents, regions, connections, batches and notifications over libpdrdma.so."""
from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass
from typing import Any, Iterable, NamedTuple, Optional, Sequence, Union

from ._native import WriteStruct, lib
from .errors import PdrdmaError, Status, check

CHECKSUM_XXH3 = 1
MEMORY_HOST = 0
MEMORY_CUDA = 1
MEMORY_LEVEL_ZERO = 2


class Write(NamedTuple):
    """One write: ``length`` bytes from a local region into a peer's region."""
    source_region: str
    source_offset: int
    target_region: str
    target_offset: int
    length: int


@dataclass(frozen=True)
class Notification:
    """Delivered on the target after every byte of a batch is in place."""
    peer: str
    payload: bytes
    batch_bytes: int


def _out_string(fn: Any, *args: Any) -> str:
    size = ctypes.c_size_t(0)
    buf = ctypes.create_string_buffer(256)
    status = fn(*args, buf, len(buf), ctypes.byref(size))
    if status == Status.BUFFER_TOO_SMALL:
        buf = ctypes.create_string_buffer(size.value + 1)
        status = fn(*args, buf, len(buf), ctypes.byref(size))
    check(status)
    return buf.value.decode("utf-8")


def _ms(timeout: Optional[float]) -> int:
    return -1 if timeout is None else max(0, int(timeout * 1000))


class Agent:
    """A transfer agent (``pdrdma_agent_create``). Use as a context manager; ``close()`` is idempotent.

    ``config`` keys: node_id (required), listen ("IP:PORT"), secret_file, backends (["shm", "tcp", "verbs"]),
    backend ("auto"|"shm"|"tcp"|"verbs"), allow_fallback, connect_timeout_ms, max_batches_in_flight.
    """

    def __init__(self, config: Union[dict, str]) -> None:
        text = config if isinstance(config, str) else json.dumps(config)
        handle = ctypes.c_void_p()
        check(lib().pdrdma_agent_create(text.encode("utf-8"), ctypes.byref(handle)))
        self._handle: Optional[int] = handle.value
        self._regions: list[Region] = []

    @property
    def handle(self) -> int:
        if self._handle is None:
            raise PdrdmaError(Status.INVALID_ARGUMENT, "the agent is closed")
        return self._handle

    @property
    def listen_address(self) -> str:
        """The bound "IP:PORT" (port 0 in the config resolved)."""
        return _out_string(lib().pdrdma_agent_listen_address, self.handle)

    def register(self, region_id: str, buffer: Any) -> "Region":
        """Registers the memory of any writable, C-contiguous buffer-protocol object (bytearray, mmap, numpy array).

        The buffer stays exported (it cannot be resized) while the region is registered; keep the object alive and do
        not change bytes a batch in flight reads. Such a region has no shared file: same-host peers write it over tcp;
        use ``alloc`` for a shm target.
        """
        view = memoryview(buffer)
        if view.readonly:
            raise PdrdmaError(Status.INVALID_ARGUMENT, f"region '{region_id}': the buffer is read-only")
        if not view.c_contiguous:
            raise PdrdmaError(Status.INVALID_ARGUMENT, f"region '{region_id}': the buffer is not C-contiguous")
        flat = view.cast("B") if view.format != "B" or view.ndim != 1 else view
        if flat.nbytes == 0:
            raise PdrdmaError(Status.INVALID_ARGUMENT, f"region '{region_id}': the buffer is empty")
        anchor = (ctypes.c_char * flat.nbytes).from_buffer(flat)
        handle = ctypes.c_void_p()
        check(lib().pdrdma_region_register(self.handle, region_id.encode("utf-8"), ctypes.addressof(anchor), flat.nbytes,
                                           MEMORY_HOST, 0, ctypes.byref(handle)))
        region = Region(self, region_id, handle.value, flat.nbytes, ctypes.addressof(anchor), (view, flat, anchor))
        self._regions.append(region)
        return region

    def alloc(self, region_id: str, length: int) -> "Region":
        """A zeroed host region the library owns (shared file, so same-host peers use shm); ``Region.view`` exposes it."""
        handle = ctypes.c_void_p()
        address = ctypes.c_void_p()
        check(lib().pdrdma_region_alloc(self.handle, region_id.encode("utf-8"), length, ctypes.byref(address), ctypes.byref(handle)))
        region = Region(self, region_id, handle.value, length, address.value or 0, None)
        self._regions.append(region)
        return region

    def connect(self, peer: str) -> "Connection":
        """Connects to the agent listening at ``peer`` ("IP:PORT"); blocks up to the configured connect timeout."""
        handle = ctypes.c_void_p()
        check(lib().pdrdma_connect(self.handle, peer.encode("utf-8"), ctypes.byref(handle)))
        return Connection(handle.value)

    def wait_notification(self, timeout: Optional[float] = None) -> Notification:
        """Blocks until a batch's notification arrives; raises PdrdmaError(TIMEOUT) after ``timeout`` seconds."""
        size = ctypes.c_size_t(0)
        batch_bytes = ctypes.c_uint64(0)
        peer = ctypes.create_string_buffer(256)
        payload = ctypes.create_string_buffer(4096)
        status = lib().pdrdma_notification_wait(self.handle, _ms(timeout), payload, len(payload), ctypes.byref(size),
                                                ctypes.byref(batch_bytes), peer, len(peer))
        if status == Status.BUFFER_TOO_SMALL:
            payload = ctypes.create_string_buffer(size.value)
            status = lib().pdrdma_notification_wait(self.handle, 0, payload, len(payload), ctypes.byref(size),
                                                    ctypes.byref(batch_bytes), peer, len(peer))
        check(status)
        return Notification(peer.value.decode("utf-8"), payload.raw[: size.value], batch_bytes.value)

    def close(self) -> None:
        """Closes every connection and waits for in-flight sessions; registered buffers are released."""
        if self._handle is None:
            return
        handle, self._handle = self._handle, None
        check(lib().pdrdma_agent_destroy(handle))
        for region in self._regions:
            region._forget()
        self._regions.clear()

    def __enter__(self) -> "Agent":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Region:
    """A registered region; ``deregister()`` (or leaving the ``with`` block) forgets it. Thread-safe like the agent."""

    def __init__(self, agent: Agent, region_id: str, handle: Optional[int], length: int, address: int, keep: Any) -> None:
        self.agent = agent
        self.id = region_id
        self.length = length
        self._address = address
        self._handle = handle
        self._keep = keep

    def view(self) -> memoryview:
        """A writable memoryview over the region's bytes (valid until deregistered)."""
        if self._handle is None:
            raise PdrdmaError(Status.INVALID_ARGUMENT, f"region '{self.id}' is deregistered")
        return memoryview((ctypes.c_char * self.length).from_address(self._address)).cast("B")

    def describe(self) -> dict:
        """The descriptor a peer receives at connect, as a dict."""
        if self._handle is None:
            raise PdrdmaError(Status.INVALID_ARGUMENT, f"region '{self.id}' is deregistered")
        return json.loads(_out_string(lib().pdrdma_region_describe, self._handle))

    def deregister(self) -> None:
        if self._handle is None:
            return
        handle, self._handle = self._handle, None
        check(lib().pdrdma_region_deregister(handle))
        self._forget()

    def _forget(self) -> None:
        self._handle = None
        if self._keep is not None:
            view, flat, anchor = self._keep
            self._keep = None
            del anchor
            flat.release()
            view.release()

    def __enter__(self) -> "Region":
        return self

    def __exit__(self, *exc: object) -> None:
        self.deregister()


class Writes:
    """A batch's writes encoded once for the C API and posted many times (``Connection.post(Writes(...))``): the
    cheap path for batches of thousands of blocks, where building the array per post would cost more than the post."""

    def __init__(self, writes: Sequence[Union[Write, tuple]]) -> None:
        self.count = len(writes)
        self.array = (WriteStruct * max(1, self.count))()
        names: dict[str, bytes] = {}
        for i, w in enumerate(writes):
            s, so, t, to, n = w
            src = names.setdefault(s, s.encode("utf-8"))
            dst = names.setdefault(t, t.encode("utf-8"))
            self.array[i] = WriteStruct(src, so, dst, to, n)
        self._names = list(names.values())  # the array points into these bytes


def _writes(writes: Union["Writes", Sequence[Union[Write, tuple]]]) -> "Writes":
    return writes if isinstance(writes, Writes) else Writes(writes)


class Batch:
    """A posted batch. ``wait()`` or ``poll()`` for its outcome; freeing it in flight abandons it."""

    def __init__(self, handle: int, keep: Any) -> None:
        self._handle: Optional[int] = handle
        self._keep = keep

    def poll(self) -> bool:
        """True once done; raises PdrdmaError with the batch's error code if it failed."""
        return check(lib().pdrdma_batch_poll(self._live())) == 0

    def wait(self, timeout: Optional[float] = None) -> None:
        """Blocks until done; raises PdrdmaError (TIMEOUT leaves the batch in flight)."""
        check(lib().pdrdma_batch_wait(self._live(), _ms(timeout)))

    def free(self) -> None:
        if self._handle is None:
            return
        handle, self._handle = self._handle, None
        check(lib().pdrdma_batch_free(handle))
        self._keep = None

    def _live(self) -> int:
        if self._handle is None:
            raise PdrdmaError(Status.INVALID_ARGUMENT, "the batch is freed")
        return self._handle

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.free()


class Connection:
    """A connection to one peer agent. Thread-safe; several batches may be in flight."""

    def __init__(self, handle: Optional[int]) -> None:
        self._handle = handle

    @property
    def backend(self) -> str:
        """"shm", "tcp" or "verbs"."""
        return _out_string(lib().pdrdma_conn_backend, self._live())

    def post(self, writes: Union[Writes, Sequence[Union[Write, tuple]]], notification: Optional[bytes] = None,
             checksum: bool = False) -> Batch:
        """Posts a batch; the notification (if any) is delivered after every byte is in place."""
        prepared = _writes(writes)
        handle = ctypes.c_void_p()
        note = notification or b""
        check(lib().pdrdma_post(self._live(), prepared.array, prepared.count, note if notification is not None else None,
                                len(note), CHECKSUM_XXH3 if checksum else 0, ctypes.byref(handle)))
        return Batch(handle.value or 0, prepared)

    def write(self, writes: Union[Writes, Sequence[Union[Write, tuple]]], notification: Optional[bytes] = None,
              checksum: bool = False, timeout: Optional[float] = None) -> None:
        """Posts, waits and frees in one call (the cheapest path for small batches)."""
        prepared = _writes(writes)
        note = notification or b""
        check(lib().pdrdma_write(self._live(), prepared.array, prepared.count, note if notification is not None else None,
                                 len(note), CHECKSUM_XXH3 if checksum else 0, _ms(timeout)))

    def close(self) -> None:
        if self._handle is None:
            return
        handle, self._handle = self._handle, None
        check(lib().pdrdma_conn_close(handle))

    def _live(self) -> int:
        if self._handle is None:
            raise PdrdmaError(Status.INVALID_ARGUMENT, "the connection is closed")
        return self._handle

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
