"""PdRdma from Python: ctypes over libpdrdma.so (the NativeAOT build of the C# transport and daemon client).

    with pdrdma.Agent({"node_id": "a", "backends": ["tcp"]}) as agent:
        src = agent.register("src", numpy_array)
        with agent.connect("127.0.0.1:7000") as conn:
            conn.write([pdrdma.Write("src", 0, "kv", 0, 4096)], notification=b"done")

Every failure raises PdrdmaError whose ``code`` is a Status (one-to-one with the C API and TransferErrorCode).
"""
from ._native import ABI_VERSION
from .daemon import BFLOAT16, FLOAT16, FLOAT32, Daemon, KvLayout
from .errors import PdrdmaError, Status
from .transfer import CHECKSUM_XXH3, Agent, Batch, Connection, Notification, Region, Write, Writes

__all__ = ["ABI_VERSION", "Agent", "Batch", "BFLOAT16", "CHECKSUM_XXH3", "Connection", "Daemon", "FLOAT16", "FLOAT32",
           "KvLayout", "Notification", "PdrdmaError", "Region", "Status", "Write", "Writes"]
