"""Target side of test_two_process (its own process): receives scattered float32 blocks into a numpy array and checks
them bit for bit; then checks that no refused batch changed a byte. Exit 0 only when everything held."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pdrdma  # noqa: E402
from scenario import BLOCK_FLOATS, BLOCKS, expected_target  # noqa: E402


def main(backend: str, secret: str, address_file: str) -> int:
    with pdrdma.Agent({"node_id": "py-target", "listen": "127.0.0.1:0", "secret_file": secret, "backends": [backend]}) as agent:
        nbytes = BLOCKS * BLOCK_FLOATS * 4
        if backend == "shm":
            region = agent.alloc("kv", nbytes)  # same-host peers need a shared file
            kv = np.frombuffer(region.view(), dtype=np.float32)
        else:
            kv = np.zeros(BLOCKS * BLOCK_FLOATS, dtype=np.float32)
            region = agent.register("kv", kv)
        assert region.describe()["length"] == nbytes
        Path(address_file + ".tmp").write_text(agent.listen_address)
        Path(address_file + ".tmp").rename(address_file)

        note = agent.wait_notification(timeout=60)
        assert note.payload == b"numpy-good" and note.peer == "py-initiator", note
        assert note.batch_bytes == nbytes, note.batch_bytes
        want = expected_target()
        assert np.array_equal(kv, want), "numpy array differs after the good batch"
        print("ok numpy array bit-identical", flush=True)

        note = agent.wait_notification(timeout=60)  # 10 KiB payload: grows past the first buffer
        assert note.payload[:8] == b"bad-done" and len(note.payload) == 8 + 10000, len(note.payload)
        assert np.array_equal(kv, want), "a refused batch changed the target"
        print("ok target unchanged after bad inputs", flush=True)
        try:
            agent.wait_notification(timeout=0.2)
            raise AssertionError("a notification nobody sent")
        except pdrdma.PdrdmaError as e:
            assert e.code == pdrdma.Status.TIMEOUT, e
        region.deregister()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
