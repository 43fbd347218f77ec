"""Memory allocators for a long transform: what a chunk frees should serve the next chunk or
go back to the OS, not pile up. Measured at 10M appointments (bench/run.py)."""

from __future__ import annotations

import ctypes
from functools import cache

import pyarrow as pa

M_ARENA_MAX = -8  # glibc's mallopt parameter


@cache  # once per process: the settings hold for every later run
def tune_allocators() -> None:
    """Arrow allocates from jemalloc, which returns freed chunks to the OS sooner than its
    default pool (peak -15 % at 4M appointments). glibc, used by DuckDB's Arrow results,
    gives every thread an arena of its own and keeps what each frees: two arenas are
    shared instead (peak -7 % at 10M, no slower). Elsewhere than glibc, only the first."""
    pa.set_memory_pool(pa.jemalloc_memory_pool())
    process = ctypes.CDLL(None)  # the symbols already loaded, the C library's among them
    if hasattr(process, "mallopt"):
        process.mallopt(M_ARENA_MAX, 2)
