"""The daemon client from Python against two local daemons (sockets from PDRDMA_TEST_PREFILL_SOCKET and
PDRDMA_TEST_DECODE_SOCKET, started by tests/Python/PythonPackageTests): bad inputs get their Status and move nothing."""
import mmap
import os
import uuid

import numpy as np
import pytest

import pdrdma
from pdrdma import PdrdmaError, Status

PREFILL = os.environ.get("PDRDMA_TEST_PREFILL_SOCKET")
DECODE = os.environ.get("PDRDMA_TEST_DECODE_SOCKET")
pytestmark = pytest.mark.skipif(not (PREFILL and DECODE), reason="needs two daemons (run via ./pdrdma test python)")

LAYOUT = pdrdma.KvLayout(layers=2, kv_heads=1, head_dim=32, tokens_per_block=8, dtype=pdrdma.FLOAT32, blocks=8)


class Pool:
    def __init__(self, daemon: pdrdma.Daemon, name: str) -> None:
        self.id = f"{name}-{uuid.uuid4().hex[:8]}"
        self.path = f"/dev/shm/kv-{self.id}"
        with open(self.path, "wb") as f:
            f.truncate(LAYOUT.total_bytes)
        self.file = open(self.path, "r+b")
        self.map = mmap.mmap(self.file.fileno(), LAYOUT.total_bytes)
        self.bytes = np.frombuffer(self.map, dtype=np.uint8)
        self.node, self.endpoint = daemon.register_pool(self.id, self.path, LAYOUT.total_bytes, LAYOUT)

    def close(self) -> None:
        del self.bytes
        self.map.close()
        self.file.close()
        os.unlink(self.path)


def test_bad_inputs_get_their_status_and_move_nothing() -> None:
    with pytest.raises(PdrdmaError) as error:
        pdrdma.Daemon("/nonexistent/pdrdma.sock")
    assert error.value.code == Status.PEER_LOST

    with pdrdma.Daemon(PREFILL) as prefill, pdrdma.Daemon(DECODE) as decode:
        src, dst = Pool(prefill, "src"), Pool(decode, "dst")
        try:
            src.bytes[:] = np.random.default_rng(3).integers(0, 256, src.bytes.size, dtype=np.uint8)
            with pytest.raises(PdrdmaError) as error:
                prefill.register_pool("short", src.path, LAYOUT.total_bytes - 1, LAYOUT)
            assert error.value.code == Status.OUT_OF_BOUNDS

            # no lease: the target refuses, nothing lands
            with pytest.raises(PdrdmaError) as error:
                prefill.push("no-lease", src.id, dst.endpoint, dst.id, [0], [1], [2], LAYOUT)
            assert error.value.code == Status.ACCESS_DENIED, error.value
            # a lease for other blocks does not cover these
            decode.reserve("r1", dst.id, [5], src.node, ttl=30)
            with pytest.raises(PdrdmaError) as error:
                prefill.push("r1", src.id, dst.endpoint, dst.id, [0], [1], [2], LAYOUT)
            assert error.value.code == Status.ACCESS_DENIED, error.value
            assert not dst.bytes.any(), "a refused push changed the target pool"

            with pytest.raises(PdrdmaError) as error:
                decode.wait_arrival("never", timeout=0.2)
            assert error.value.code == Status.TIMEOUT
            with pytest.raises(PdrdmaError) as error:
                prefill.push("r1", src.id, dst.endpoint, dst.id, [0], [1, 2], [5], LAYOUT)
            assert error.value.code == Status.INVALID_ARGUMENT
            bad_layout = pdrdma.KvLayout(layers=-1, kv_heads=1, head_dim=32, tokens_per_block=8, dtype=0, blocks=8)
            with pytest.raises(PdrdmaError) as error:
                prefill.push("r1", src.id, dst.endpoint, dst.id, [0], [1], [5], bad_layout)
            assert error.value.code == Status.INVALID_ARGUMENT

            # the granted block goes through, and only it
            written = prefill.push("r1", src.id, dst.endpoint, dst.id, [0, 1], [1], [5], LAYOUT)
            assert written == 2 * 2 * LAYOUT.block_bytes
            prefill.finish("r1", dst.endpoint, dst.id, written)
            assert decode.wait_arrival("r1", timeout=30) == (written, src.node)
            for layer in range(2):
                for part in range(2):
                    a, b = LAYOUT.offset(layer, part, 1), LAYOUT.offset(layer, part, 5)
                    assert np.array_equal(dst.bytes[b:b + LAYOUT.block_bytes], src.bytes[a:a + LAYOUT.block_bytes])
                    dst.bytes[b:b + LAYOUT.block_bytes] = 0
            assert not dst.bytes.any(), "bytes outside the granted block changed"
        finally:
            src.close()
            dst.close()
    with pytest.raises(PdrdmaError) as error:
        decode.reserve("r2", "x", [1], "y")
    assert error.value.code == Status.INVALID_ARGUMENT  # closed
