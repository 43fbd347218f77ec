"""A run's scratch space in the local state folder: where DuckDB spills what memory cannot hold.
Its folders are 0700 and its files 0600 (DuckDB's spill files by the umask, storage.private).

Each run spills into its own folder, `<pid>-<random>` with an `owner` file naming its process,
removed when the run ends. A run that died leaves its folder behind: the next run removes it
once its process is known to have ended (same machine), or once nothing touched it for a day.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from practicelake.lakehouse.holder import process_ended, process_identity
from practicelake.storage.private import create_private_file, private_folder

ABANDONED_AFTER_SECONDS = 24 * 3600


@contextmanager
def run_folder(parent: Path) -> Iterator[Path]:
    """A folder of `parent` for this run alone; folders of dead runs are removed first."""
    private_folder(parent)
    for folder in parent.iterdir():
        if folder.is_dir() and _abandoned(folder):
            shutil.rmtree(folder, ignore_errors=True)
    mine = parent / f"{os.getpid()}-{secrets.token_hex(4)}"
    private_folder(mine)
    try:
        with os.fdopen(create_private_file(mine / "owner"), "w", encoding="ascii") as owner:
            owner.write(process_identity(os.getpid()) or "")
        yield mine
    finally:
        shutil.rmtree(mine, ignore_errors=True)


def _abandoned(folder: Path) -> bool:
    try:
        touched = max(p.stat().st_mtime for p in (folder, *folder.iterdir()))
    except OSError:
        return False  # being removed by its own run
    try:
        owner = (folder / "owner").read_text(encoding="ascii") or None
    except (OSError, UnicodeDecodeError):
        owner = None  # died before it said whose it is: judged by age
    pid = folder.name.partition("-")[0]
    if pid.isdigit() and process_ended(owner, int(pid)):
        return True
    return touched < time.time() - ABANDONED_AFTER_SECONDS


@contextmanager
def duckdb_session(scratch: Path, config: dict[str, Any]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection spilling into a folder of `scratch` that is this run's alone."""
    with run_folder(scratch) as folder, duckdb.connect(config={**config, "temp_directory": str(folder)}) as con:
        yield con
