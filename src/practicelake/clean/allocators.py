"""Memory allocators for a long transform: what a chunk frees should serve the next chunk or
go back to the OS, not pile up. Measured at 10M appointments (bench/run.py)."""

from __future__ import annotations

import ctypes
import ctypes.util

import pyarrow as pa

M_ARENA_MAX = -8  # glibc's mallopt parameter


def tune_allocators() -> None:
    """Arrow allocates from jemalloc, which returns freed chunks to the OS sooner than its
    default pool (peak -15 % at 4M appointments). glibc, used by DuckDB's Arrow results,
    gives every thread an arena of its own and keeps what each frees: two arenas are
    shared instead (peak -7 % at 10M, no slower). Elsewhere than glibc, only the first."""
    pa.set_memory_pool(pa.jemalloc_memory_pool())
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "mallopt"):
            libc.mallopt(M_ARENA_MAX, 2)
    except OSError:
        pass
