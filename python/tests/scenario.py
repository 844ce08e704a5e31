"""The data both sides of test_two_process agree on: float32 blocks, and where each source block lands."""
import numpy as np

BLOCK_FLOATS = 16 << 10  # 64 KiB blocks
BLOCKS = 256             # 16 MiB


def source() -> np.ndarray:
    return np.arange(BLOCKS * BLOCK_FLOATS, dtype=np.float32) * np.float32(0.5) + np.float32(3.0)


def permutation() -> np.ndarray:
    return np.random.default_rng(1234).permutation(BLOCKS)


def expected_target() -> np.ndarray:
    src = source().reshape(BLOCKS, BLOCK_FLOATS)
    out = np.empty_like(src)
    out[permutation()] = src
    return out.reshape(-1)
