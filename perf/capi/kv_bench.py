#!/usr/bin/env python3
"""The KV-shaped transfer driven from Python through python/pdrdma (same plan as kv_bench.c and the C# initiator), then
the latency of a one-write batch of 64 B. Usage: kv_bench.py PEER BACKEND BLOCK TOTAL BUDGET_MS DEPTH"""
import json
import sys
import time
from collections import deque
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
import pdrdma  # noqa: E402


def main(peer: str, backend: str, block: int, total: int, budget_ms: int, depth: int) -> None:
    budget = budget_ms / 1000
    count = total // block
    region_bytes = (2 * total + 4095) // 4096 * 4096
    src = np.random.default_rng(11).integers(0, 256, region_bytes, dtype=np.uint8)
    with pdrdma.Agent({"node_id": "py-bench", "backend": backend}) as agent, agent.register("bench-src", src), \
            agent.connect(peer) as conn:
        # prepared once, posted many times (as the C and C# drivers do)
        writes = pdrdma.Writes([pdrdma.Write("bench-src", 2 * i * block, "bench-dst", 2 * i * block, block) for i in range(count)])
        conn.write(writes)  # warm-up: first touch
        best, iterations = 0.0, 0
        for _ in range(3):
            ring: deque = deque()
            posted = 0
            start = time.perf_counter()
            while time.perf_counter() - start < budget / 3 or posted < 2:
                if len(ring) == depth:
                    b = ring.popleft()
                    b.wait()
                    b.free()
                ring.append(conn.post(writes))
                posted += 1
            while ring:
                b = ring.popleft()
                b.wait()
                b.free()
            best = max(best, posted * count * block * 8 / (time.perf_counter() - start) / 1e9)
            iterations += posted
        print(json.dumps({"driver": "python", "kind": "kv", "block": block, "ops": count, "gbps": round(best, 3),
                          "iterations": iterations}), flush=True)

        one = pdrdma.Writes([pdrdma.Write("bench-src", 0, "bench-dst", 0, 64)])
        samples = []
        start = time.perf_counter()
        while (time.perf_counter() - start < budget / 2 or len(samples) < 5) and len(samples) < 20000:
            t = time.perf_counter()
            conn.write(one)
            samples.append((time.perf_counter() - t) * 1e6)
        samples.sort()
        print(json.dumps({"driver": "python", "kind": "latency", "bytes": 64, "p50_us": round(samples[len(samples) // 2], 2),
                          "p99_us": round(samples[int(len(samples) * 0.99)], 2), "samples": len(samples)}), flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]))
