"""Loads libpdrdma.so and declares every export's signature (ctypes; no compiled extension)."""
from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Optional

c_void_p = ctypes.c_void_p
c_char_p = ctypes.c_char_p
c_int = ctypes.c_int
c_uint32 = ctypes.c_uint32
c_uint64 = ctypes.c_uint64
c_size_t = ctypes.c_size_t
c_int32 = ctypes.c_int32

ABI_VERSION = 1


class WriteStruct(ctypes.Structure):
    """pdrdma_write_t"""
    _fields_ = [("source_region", c_char_p), ("source_offset", c_uint64), ("target_region", c_char_p),
                ("target_offset", c_uint64), ("length", c_uint64)]


class KvLayoutStruct(ctypes.Structure):
    """pdrdma_kv_layout_t"""
    _fields_ = [("layers", c_int32), ("kv_heads", c_int32), ("head_dim", c_int32), ("tokens_per_block", c_int32),
                ("dtype", c_int32), ("blocks", c_int32)]


class KvPushStruct(ctypes.Structure):
    """pdrdma_kv_push_t"""
    _fields_ = [("request_id", c_char_p), ("source_pool", c_char_p), ("target_endpoint", c_char_p),
                ("target_pool", c_char_p), ("layers", ctypes.POINTER(c_int32)), ("layer_count", c_size_t),
                ("source_blocks", ctypes.POINTER(c_int32)), ("target_blocks", ctypes.POINTER(c_int32)),
                ("block_count", c_size_t), ("target_layout", ctypes.POINTER(KvLayoutStruct))]


def _candidates() -> list[str]:
    found = []
    if os.environ.get("PDRDMA_LIBRARY"):
        found.append(os.environ["PDRDMA_LIBRARY"])
    # a checkout: python/pdrdma/_native.py -> <root>/.pdrdma/native/libpdrdma.so
    found.append(str(Path(__file__).resolve().parents[2] / ".pdrdma" / "native" / "libpdrdma.so"))
    found.append("libpdrdma.so")
    return found


def _load() -> ctypes.CDLL:
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise ImportError("libpdrdma.so not found (build it with `./pdrdma build native` or set PDRDMA_LIBRARY): "
                      + "; ".join(errors))


_lib: Optional[ctypes.CDLL] = None


def lib() -> ctypes.CDLL:
    """The loaded library, with its signatures declared; loaded on first use."""
    global _lib
    if _lib is not None:
        return _lib
    l = _load()
    P = ctypes.POINTER
    sig = {
        "pdrdma_abi_version": (c_uint32, []),
        "pdrdma_last_error": (c_char_p, []),
        "pdrdma_status_name": (c_char_p, [c_int]),
        "pdrdma_agent_create": (c_int, [c_char_p, P(c_void_p)]),
        "pdrdma_agent_destroy": (c_int, [c_void_p]),
        "pdrdma_agent_listen_address": (c_int, [c_void_p, c_char_p, c_size_t, P(c_size_t)]),
        "pdrdma_region_register": (c_int, [c_void_p, c_char_p, c_void_p, c_uint64, c_int, c_int, P(c_void_p)]),
        "pdrdma_region_alloc": (c_int, [c_void_p, c_char_p, c_uint64, P(c_void_p), P(c_void_p)]),
        "pdrdma_region_deregister": (c_int, [c_void_p]),
        "pdrdma_region_describe": (c_int, [c_void_p, c_char_p, c_size_t, P(c_size_t)]),
        "pdrdma_connect": (c_int, [c_void_p, c_char_p, P(c_void_p)]),
        "pdrdma_conn_backend": (c_int, [c_void_p, c_char_p, c_size_t, P(c_size_t)]),
        "pdrdma_conn_close": (c_int, [c_void_p]),
        "pdrdma_post": (c_int, [c_void_p, P(WriteStruct), c_size_t, c_void_p, c_size_t, c_uint32, P(c_void_p)]),
        "pdrdma_batch_poll": (c_int, [c_void_p]),
        "pdrdma_batch_wait": (c_int, [c_void_p, c_int]),
        "pdrdma_batch_free": (c_int, [c_void_p]),
        "pdrdma_write": (c_int, [c_void_p, P(WriteStruct), c_size_t, c_void_p, c_size_t, c_uint32, c_int]),
        "pdrdma_notification_wait": (c_int, [c_void_p, c_int, c_void_p, c_size_t, P(c_size_t), P(c_uint64), c_char_p, c_size_t]),
        "pdrdma_daemon_connect": (c_int, [c_char_p, P(c_void_p)]),
        "pdrdma_daemon_close": (c_int, [c_void_p]),
        "pdrdma_daemon_register_pool": (c_int, [c_void_p, c_char_p, c_char_p, c_uint64, P(KvLayoutStruct),
                                                c_char_p, c_size_t, c_char_p, c_size_t]),
        "pdrdma_daemon_reserve": (c_int, [c_void_p, c_char_p, c_char_p, P(c_int32), c_size_t, c_char_p, c_int]),
        "pdrdma_daemon_release": (c_int, [c_void_p, c_char_p]),
        "pdrdma_daemon_push": (c_int, [c_void_p, P(KvPushStruct), P(c_uint64)]),
        "pdrdma_daemon_finish": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, c_uint64]),
        "pdrdma_daemon_wait_arrival": (c_int, [c_void_p, c_char_p, c_int, P(c_uint64), c_char_p, c_size_t]),
    }
    for name, (restype, argtypes) in sig.items():
        fn = getattr(l, name)
        fn.restype = restype
        fn.argtypes = argtypes
    if l.pdrdma_abi_version() != ABI_VERSION:
        raise ImportError(f"libpdrdma.so speaks ABI {l.pdrdma_abi_version()}, this package {ABI_VERSION}")
    _lib = l
    return l
