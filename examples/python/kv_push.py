#!/usr/bin/env python3
"""An engine-side KV connector on the pdrdma Python package: how a Python engine (the shape of a vLLM or SGLang
KV connector) pushes its paged KV blocks to a decode node through the node daemons.

    decode engine:  register its pool -> reserve blocks for the request (a lease for the prefill node) -> wait
    prefill engine: register its pool -> push each layer's blocks as soon as the layer is computed -> finish

Both engines run in this one script for the demonstration; in production each is its own process on its own node and
the (endpoint, pool, blocks) target travels with the request through the router.

    python3 examples/python/kv_push.py --prefill-socket /run/pdrdma/a.sock --decode-socket /run/pdrdma/b.sock

Exit 0 when every pushed block arrived bit-identical in the decode pool; 1 otherwise.
"""
from __future__ import annotations

import argparse
import mmap
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
import pdrdma  # noqa: E402


@dataclass(frozen=True)
class KvTarget:
    """Where a request's KV goes: the decode daemon's endpoint, its pool and the blocks it reserved."""
    endpoint: str
    pool: str
    blocks: list[int]


class KvPushConnector:
    """One engine's side: its paged KV pool (a file under /dev/shm shared with its daemon) and the daemon connection."""

    def __init__(self, socket_path: str, pool_id: str, layout: pdrdma.KvLayout, pool_dir: str | None = None) -> None:
        self.layout = layout
        self.pool_id = pool_id
        folder = pool_dir or ("/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir())
        self.path = os.path.join(folder, f"kv-{pool_id}")
        with open(self.path, "wb") as f:
            f.truncate(layout.total_bytes)
        os.chmod(self.path, 0o660)
        self._file = open(self.path, "r+b")
        self._map = mmap.mmap(self._file.fileno(), layout.total_bytes)
        dtype = {pdrdma.FLOAT32: np.float32, pdrdma.FLOAT16: np.float16, pdrdma.BFLOAT16: np.uint16}[layout.dtype]
        # [layers, K/V, blocks, tokens, heads, dim]: the order the daemon's KvLayout addresses
        self.kv = np.frombuffer(self._map, dtype=dtype).reshape(
            layout.layers, 2, layout.blocks, layout.tokens_per_block, layout.kv_heads, layout.head_dim)
        self.daemon = pdrdma.Daemon(socket_path)
        self.node_id, self.endpoint = self.daemon.register_pool(pool_id, self.path, layout.total_bytes, layout)

    # decode side
    def grant(self, request_id: str, blocks: list[int], prefill_node_id: str, ttl: float = 30.0) -> KvTarget:
        self.daemon.reserve(request_id, self.pool_id, blocks, prefill_node_id, ttl)
        return KvTarget(self.endpoint, self.pool_id, blocks)

    def wait(self, request_id: str, timeout: float = 30.0) -> int:
        arrived, _peer = self.daemon.wait_arrival(request_id, timeout)
        return arrived

    # prefill side
    def push_layer(self, request_id: str, layer: int, source_blocks: list[int], target: KvTarget) -> int:
        return self.daemon.push(request_id, self.pool_id, target.endpoint, target.pool, [layer], source_blocks,
                                target.blocks[: len(source_blocks)], self.layout)

    def finish(self, request_id: str, target: KvTarget, total_bytes: int) -> None:
        self.daemon.finish(request_id, target.endpoint, target.pool, total_bytes)

    def close(self) -> None:
        self.daemon.close()
        del self.kv
        self._map.close()
        self._file.close()
        os.unlink(self.path)

    def __enter__(self) -> "KvPushConnector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefill-socket", required=True, help="engine socket of the prefill node's daemon")
    parser.add_argument("--decode-socket", required=True, help="engine socket of the decode node's daemon")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--blocks", type=int, default=32)
    parser.add_argument("--request-blocks", type=int, default=6)
    args = parser.parse_args()

    layout = pdrdma.KvLayout(layers=args.layers, kv_heads=2, head_dim=64, tokens_per_block=16, dtype=pdrdma.FLOAT16,
                             blocks=args.blocks)
    rng = np.random.default_rng(7)
    # pool ids are unique per engine process: a daemon keeps the first file registered under an id
    with KvPushConnector(args.prefill_socket, f"prefill-{os.getpid()}", layout) as prefill, \
            KvPushConnector(args.decode_socket, f"decode-{os.getpid()}", layout) as decode:
        request = f"req-{os.getpid()}"
        source_blocks = [int(b) for b in rng.choice(args.blocks, args.request_blocks, replace=False)]
        target_blocks = [int(b) for b in rng.choice(args.blocks, args.request_blocks, replace=False)]
        target = decode.grant(request, target_blocks, prefill.node_id)

        started = time.perf_counter()
        total = 0
        for layer in range(layout.layers):
            # the engine computes this layer's K and V, then pushes them while it computes the next
            prefill.kv[layer] = rng.standard_normal(prefill.kv[layer].shape).astype(np.float16)
            total += prefill.push_layer(request, layer, source_blocks, target)
        prefill.finish(request, target, total)
        arrived = decode.wait(request)
        elapsed = time.perf_counter() - started

        same = np.array_equal(decode.kv[:, :, target_blocks].view(np.uint16), prefill.kv[:, :, source_blocks].view(np.uint16))
        print(f"kv_push: {total} bytes of {len(source_blocks)} blocks x {layout.layers} layers pushed, {arrived} reported "
              f"arrived in {elapsed * 1000:.1f} ms; {'bit-identical' if same else 'MISMATCH'}")
        return 0 if same and arrived == total else 1


if __name__ == "__main__":
    sys.exit(main())
