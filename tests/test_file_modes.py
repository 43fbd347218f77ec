"""Everything practicelake writes is its owner's alone: every file 0600 (0400 for the
write-once objects of the store, read-only as well) and every folder 0700, in the warehouse,
the catalog, the state folder and the key store, even when the umask it starts under lets
the group and others read."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import pytest

from clean.generated import ingest_all, small_export
from lakes import local_settings
from practicelake.pipeline import Lakehouse
from practicelake.storage.private import private_folder

PERMISSIVE = 0o022
FILE_MODES = {0o600, 0o400}  # 0400: raw objects and run journal records, written once
FOLDER_MODE = 0o700


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(PERMISSIVE)
    try:
        yield
    finally:
        os.umask(previous)


def modes(root: Path) -> dict[str, int]:
    """Mode of `root` and of everything under it, by path relative to its parent."""
    return {
        path.relative_to(root.parent).as_posix(): stat.S_IMODE(path.lstat().st_mode)
        for path in (root, *root.rglob("*"))
    }


def test_a_run_from_exports_to_curated_writes_nothing_others_can_read(permissive_umask: None, tmp_path: Path) -> None:
    truth = small_export(tmp_path / "exports", practices=2, appointments=300, seed=7)
    settings = local_settings(tmp_path)
    lakehouse = Lakehouse.open(settings)
    ingest_all(lakehouse, tmp_path / "exports", truth)
    lakehouse.transform()
    lakehouse.curate()
    warehouse = Path(settings.warehouse_uri.removeprefix("file://"))
    assert Path(settings.resolved_catalog_uri.removeprefix("sqlite:///")).is_relative_to(warehouse)
    found: dict[str, int] = {}
    for root in (warehouse, settings.state_dir, settings.key_file.parent):
        found |= modes(root)
    kinds = {Path(name).suffix for name in found}
    assert {".parquet", ".avro", ".json", ".db", ".csv", ".log"} <= kinds  # every kind of file was written
    wrong = {
        name: oct(mode)
        for name, mode in found.items()
        if mode not in (FILE_MODES if (tmp_path / name).is_file() else {FOLDER_MODE})
    }
    assert wrong == {}


def test_the_catalog_and_the_store_make_new_files_private_whatever_the_umask(
    permissive_umask: None, tmp_path: Path
) -> None:
    """What pyiceberg, pyarrow, SQLite and DuckDB create takes its mode from the umask:
    opening the lakehouse tightens it for the rest of the process."""
    Lakehouse.open(local_settings(tmp_path))
    (tmp_path / "written-after").write_text("x", encoding="utf-8")
    assert stat.S_IMODE((tmp_path / "written-after").stat().st_mode) == 0o600


def test_many_threads_make_the_same_private_folder_at_once(tmp_path: Path) -> None:
    """Each thread sees the folder missing, then made by another: none takes it for a file."""
    for attempt in range(40):
        target = tmp_path / str(attempt) / "a" / "b"
        start = Barrier(8)

        def make(_: int, target: Path = target, start: Barrier = start) -> Path:
            start.wait()
            return private_folder(target)

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(make, range(8))) == [target] * 8
        assert stat.S_IMODE(target.stat().st_mode) == FOLDER_MODE


def test_a_file_where_a_private_folder_belongs_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keys").write_bytes(b"not a folder")
    with pytest.raises(NotADirectoryError, match="keys"):
        private_folder(tmp_path / "keys" / "inner")
