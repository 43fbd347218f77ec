"""A run's DuckDB scratch folder: its own, removed when it ends; a dead run's removed by the next."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from practicelake.lakehouse.holder import process_identity
from practicelake.lakehouse.scratch import duckdb_session, run_folder


def left_behind(parent: Path, name: str, owner: str | None, *, age_seconds: float = 0) -> Path:
    folder = parent / name
    folder.mkdir(parents=True)
    (folder / "duckdb_temp_block-1.block").write_bytes(b"spilled")
    if owner is not None:
        (folder / "owner").write_text(owner, encoding="ascii")
    then = time.time() - age_seconds
    for path in (*folder.iterdir(), folder):
        os.utime(path, (then, then))
    return folder


def test_dead_runs_folders_go_running_ones_stay(tmp_path: Path) -> None:
    parent = tmp_path / "duckdb-tmp"
    with subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE, text=True) as ended:
        identity = process_identity(ended.pid)
        ended.communicate("\n")
    dead = left_behind(parent, f"{ended.pid}-a1", identity)
    running = left_behind(parent, f"{os.getpid()}-b2", process_identity(os.getpid()))
    unowned_old = left_behind(parent, "123-c3", None, age_seconds=2 * 24 * 3600)
    unowned_recent = left_behind(parent, "124-d4", None, age_seconds=60)
    with run_folder(parent) as mine:
        assert mine.is_dir() and mine.name.startswith(f"{os.getpid()}-")
        assert not dead.exists() and not unowned_old.exists()
        assert running.exists() and unowned_recent.exists()
    assert not mine.exists()


def test_duckdb_spills_into_the_runs_folder(tmp_path: Path) -> None:
    with duckdb_session(tmp_path / "duckdb-tmp", {"memory_limit": "1GB"}) as con:
        folder = con.execute("select current_setting('temp_directory')").fetchone()
        assert folder is not None and Path(folder[0]).parent == tmp_path / "duckdb-tmp"
        assert Path(folder[0]).is_dir()
    assert not Path(folder[0]).exists()
