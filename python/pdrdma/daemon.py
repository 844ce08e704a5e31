"""The node daemon's engine API (``pdrdma_daemon_*``): pools, leases, KV pushes, arrivals."""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Optional, Sequence

from ._native import KvLayoutStruct, KvPushStruct, lib
from .errors import PdrdmaError, Status, check

NAME_MAX = 256
FLOAT32, BFLOAT16, FLOAT16 = 0, 1, 2


@dataclass(frozen=True)
class KvLayout:
    """Paged KV pool tensor [layers, 2 (K,V), blocks, tokens_per_block, kv_heads, head_dim]."""
    layers: int
    kv_heads: int
    head_dim: int
    tokens_per_block: int
    dtype: int
    blocks: int

    @property
    def element_size(self) -> int:
        return 4 if self.dtype == FLOAT32 else 2

    @property
    def block_bytes(self) -> int:
        """Bytes of one (layer, K|V, block) extent."""
        return self.tokens_per_block * self.kv_heads * self.head_dim * self.element_size

    @property
    def total_bytes(self) -> int:
        return self.block_bytes * 2 * self.layers * self.blocks

    def offset(self, layer: int, part: int, block: int) -> int:
        """Byte offset of (layer, K=0|V=1, block) in the pool."""
        return ((layer * 2 + part) * self.blocks + block) * self.block_bytes

    def _struct(self) -> KvLayoutStruct:
        return KvLayoutStruct(self.layers, self.kv_heads, self.head_dim, self.tokens_per_block, self.dtype, self.blocks)


def _ints(values: Sequence[int]) -> "ctypes.Array[ctypes.c_int32]":
    return (ctypes.c_int32 * max(1, len(values)))(*values)


class Daemon:
    """A connection to the node daemon's Unix socket (subscribed to arrivals). Every call is bounded by 30 s."""

    def __init__(self, socket_path: str) -> None:
        handle = ctypes.c_void_p()
        check(lib().pdrdma_daemon_connect(socket_path.encode("utf-8"), ctypes.byref(handle)))
        self._handle: Optional[int] = handle.value

    def register_pool(self, pool_id: str, path: str, length: int, layout: KvLayout) -> tuple[str, str]:
        """Offers the pool file to peers; returns (this node's daemon id, the endpoint peers push to).

        This process opens its own file at ``path`` and hands the daemon the descriptor; the daemon opens no path."""
        node = ctypes.create_string_buffer(NAME_MAX)
        endpoint = ctypes.create_string_buffer(NAME_MAX)
        lay = layout._struct()
        check(lib().pdrdma_daemon_register_pool(self._live(), pool_id.encode(), path.encode(), length, ctypes.byref(lay),
                                                node, NAME_MAX, endpoint, NAME_MAX))
        return node.value.decode(), endpoint.value.decode()

    def reserve(self, request_id: str, pool_id: str, blocks: Sequence[int], peer_node_id: str, ttl: float = 30.0) -> None:
        """Decode side: lets ``peer_node_id`` write ``blocks`` for this request until it arrives or ``ttl`` passes."""
        check(lib().pdrdma_daemon_reserve(self._live(), request_id.encode(), pool_id.encode(), _ints(blocks), len(blocks),
                                          peer_node_id.encode(), int(ttl * 1000)))

    def release(self, request_id: str) -> None:
        check(lib().pdrdma_daemon_release(self._live(), request_id.encode()))

    def push(self, request_id: str, source_pool: str, target_endpoint: str, target_pool: str, layers: Sequence[int],
             source_blocks: Sequence[int], target_blocks: Sequence[int], target_layout: Optional[KvLayout] = None) -> int:
        """Prefill side: writes K and V of ``layers`` for the blocks; returns the bytes placed on the target."""
        if len(source_blocks) != len(target_blocks):
            raise PdrdmaError(Status.INVALID_ARGUMENT, "source_blocks and target_blocks differ in length")
        lay = target_layout._struct() if target_layout else None
        keep = (_ints(layers), _ints(source_blocks), _ints(target_blocks))
        push = KvPushStruct(request_id.encode(), source_pool.encode(), target_endpoint.encode(), target_pool.encode(),
                            keep[0], len(layers), keep[1], keep[2], len(source_blocks),
                            ctypes.pointer(lay) if lay is not None else None)
        written = ctypes.c_uint64(0)
        check(lib().pdrdma_daemon_push(self._live(), ctypes.byref(push), ctypes.byref(written)))
        return written.value

    def finish(self, request_id: str, target_endpoint: str, target_pool: str, total_bytes: int) -> None:
        """Prefill side, after every push: tells the target the request's KV is complete."""
        check(lib().pdrdma_daemon_finish(self._live(), request_id.encode(), target_endpoint.encode(), target_pool.encode(),
                                         total_bytes))

    def wait_arrival(self, request_id: str, timeout: Optional[float] = None) -> tuple[int, str]:
        """Decode side: blocks until every block arrived; returns (bytes, prefill node id)."""
        written = ctypes.c_uint64(0)
        peer = ctypes.create_string_buffer(NAME_MAX)
        ms = -1 if timeout is None else int(timeout * 1000)
        check(lib().pdrdma_daemon_wait_arrival(self._live(), request_id.encode(), ms, ctypes.byref(written), peer, NAME_MAX))
        return written.value, peer.value.decode()

    def close(self) -> None:
        if self._handle is None:
            return
        handle, self._handle = self._handle, None
        check(lib().pdrdma_daemon_close(handle))

    def _live(self) -> int:
        if self._handle is None:
            raise PdrdmaError(Status.INVALID_ARGUMENT, "the daemon connection is closed")
        return self._handle

    def __enter__(self) -> "Daemon":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
