"""libpdrdma.so from Python: the two-process transfer (numpy on both sides), buffer kinds, bad inputs."""
import mmap
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import pdrdma
from pdrdma import PdrdmaError, Status, Write

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scenario import BLOCK_FLOATS, BLOCKS, permutation, source  # noqa: E402

HERE = Path(__file__).resolve().parent
BLOCK = BLOCK_FLOATS * 4


def _wait_for(path: Path, process: subprocess.Popen) -> str:
    deadline = time.time() + 60
    while time.time() < deadline:
        if path.exists():
            return path.read_text()
        if process.poll() is not None:
            raise AssertionError(f"target exited early:\n{process.stdout.read() if process.stdout else ''}")
        time.sleep(0.05)
    raise AssertionError("the target never wrote its address")


@pytest.mark.parametrize("backend", ["shm", "tcp"])
def test_two_process(backend: str, secret_file: str, tmp_path: Path) -> None:
    address_file = tmp_path / "addr"
    target = subprocess.Popen([sys.executable, str(HERE / "target_process.py"), backend, secret_file, str(address_file)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        address = _wait_for(address_file, target)
        src = source()
        with pdrdma.Agent({"node_id": "py-initiator", "secret_file": secret_file, "backends": [backend]}) as agent:
            with agent.register("src", src), agent.connect(address) as conn:
                assert conn.backend == backend
                perm = permutation()
                writes = [Write("src", i * BLOCK, "kv", int(perm[i]) * BLOCK, BLOCK) for i in range(BLOCKS)]
                with conn.post(writes, notification=b"numpy-good", checksum=True) as batch:
                    batch.wait(timeout=60)
                    assert batch.poll()

                # bad inputs: each batch also holds a valid write into block 0 that must not land
                valid = Write("src", 5 * BLOCK, "kv", 0, BLOCK)
                cases = [
                    ([valid, Write("src", 0, "kv", BLOCKS * BLOCK - 100, 4096)], Status.OUT_OF_BOUNDS),
                    ([valid, Write("src", 0, "nope", 0, 4096)], Status.UNKNOWN_REGION),
                    ([valid, Write("nope", 0, "kv", 0, 4096)], Status.UNKNOWN_REGION),
                    ([valid, Write("src", src.nbytes - 8, "kv", 0, 4096)], Status.OUT_OF_BOUNDS),
                    ([valid, Write("src", 0, "kv", 0, 0)], Status.OUT_OF_BOUNDS),
                    ([valid, Write("src", 0, "kv", 2**64 - 1, 4096)], Status.OUT_OF_BOUNDS),
                ]
                for writes, code in cases:
                    with pytest.raises(PdrdmaError) as error:
                        conn.write(writes, notification=b"bad", timeout=30)
                    assert error.value.code == code, error.value
                    assert str(error.value)  # the library's message travels with the code
                with pytest.raises(PdrdmaError) as error:
                    conn.write([valid, ("src", -1, "kv", 0, 4096)], timeout=30)  # wraps to 2^64-1 in ctypes
                assert error.value.code == Status.OUT_OF_BOUNDS
                conn.write([], notification=b"bad-done" + b"x" * 10000, timeout=30)
        out, _ = target.communicate(timeout=60)
        assert target.returncode == 0, out
        assert "ok numpy array bit-identical" in out and "ok target unchanged after bad inputs" in out, out
    finally:
        if target.poll() is None:
            target.kill()


def test_buffer_kinds_and_refusals(secret_file: str) -> None:
    """bytearray, mmap and numpy regions in one process over tcp; read-only and strided buffers are refused."""
    config = {"secret_file": secret_file, "backends": ["tcp"]}
    with pdrdma.Agent({**config, "node_id": "t", "listen": "127.0.0.1:0"}) as target, \
            pdrdma.Agent({**config, "node_id": "i"}) as initiator:
        dst = bytearray(1 << 20)
        target.register("dst", dst)
        mapped = mmap.mmap(-1, 1 << 20)
        mapped.write(bytes(range(256)) * 4096)
        initiator.register("mm", mapped)
        arr = np.full(1 << 18, 7, dtype=np.int32)
        initiator.register("np", arr)
        with initiator.connect(target.listen_address) as conn:
            conn.write([Write("mm", 0, "dst", 0, 4096), Write("np", 0, "dst", 4096, 4096)], notification=b"n", timeout=30)
            assert target.wait_notification(timeout=10).payload == b"n"
            assert bytes(dst[:4096]) == bytes(range(256)) * 16
            assert np.array_equal(np.frombuffer(bytes(dst[4096:8192]), dtype=np.int32), np.full(1024, 7, dtype=np.int32))
            prepared = pdrdma.Writes([Write("np", 0, "dst", 8192, 64)])  # encoded once, posted twice
            conn.write(prepared, timeout=30)
            conn.write(prepared, timeout=30)
            assert bytes(dst[8192:8256]) == np.full(16, 7, dtype=np.int32).tobytes()
            batch = conn.post([Write("np", 0, "dst", 0, 16)])
            batch.wait(timeout=30)
            batch.free()
            with pytest.raises(PdrdmaError) as error:
                batch.wait()
            assert error.value.code == Status.INVALID_ARGUMENT
        with pytest.raises(PdrdmaError) as error:
            conn.write([Write("np", 0, "dst", 0, 16)])
        assert error.value.code == Status.INVALID_ARGUMENT
        for bad in (b"read-only bytes", np.zeros((64, 64), dtype=np.float32)[:, ::2]):
            with pytest.raises(PdrdmaError) as error:
                initiator.register("bad", bad)
            assert error.value.code == Status.INVALID_ARGUMENT
        with pytest.raises(PdrdmaError) as error:
            initiator.register("np", np.zeros(16, dtype=np.uint8))
        assert error.value.code == Status.INVALID_ARGUMENT  # already registered
        with pytest.raises(PdrdmaError) as error:
            initiator.connect("127.0.0.1:1")
        assert error.value.code == Status.PEER_LOST
        with pytest.raises(PdrdmaError) as error:
            initiator.connect("not-an-address")
        assert error.value.code == Status.INVALID_ARGUMENT
        with pytest.raises(BufferError):
            mapped.close()  # exported to the library while registered
    mapped.close()  # released with the agent


def test_bad_configs(tmp_path: Path) -> None:
    loose = tmp_path / "loose.key"
    loose.write_bytes(b"x" * 32)
    loose.chmod(0o644)
    for config in ["{", {"node_id": ""}, {"node_id": "x", "backends": ["carrier-pigeon"]}, {"node_id": "x", "listen": "localhost:1"},
                   {"node_id": "x", "secret_file": str(loose)}, {"node_id": "x", "extra": 1}]:
        with pytest.raises(PdrdmaError) as error:
            pdrdma.Agent(config)
        assert error.value.code == Status.INVALID_ARGUMENT, config
