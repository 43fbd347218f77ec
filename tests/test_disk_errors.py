"""A full disk or a read-only mount under the warehouse: ingest, transform and curate, run as
the command, end with one line on stderr naming the problem, never a traceback.

The warehouse is put on a small tmpfs of its own (mounted by the test, as root; skipped only
where mounting is not allowed), filled up or remounted read-only after the earlier stages.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clean.generated import batches, small_export
from lakes import config_file, local_settings
from practicelake.errors import StorageError
from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings
from practicelake.storage.local import LocalStore

PROBLEMS = {
    "full": r"(no space left on device|disk is full)",
    "read-only": r"(read-only file system|readonly database)",
}


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if mounted.returncode != 0 and os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    # As root (CI and the development machines run the suite as root) the mount must work:
    # these tests never silently stop running.
    assert mounted.returncode == 0, f"tmpfs could not be mounted: {mounted.stderr.strip()}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path) -> None:
    with (disk / "filler").open("wb") as filler:
        try:
            while True:
                filler.write(b"\0" * (1 << 20))
                filler.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    for size in (1 << 16, 1 << 12, 1 << 8, 1):  # the last partial blocks too
        try:
            with (disk / f"filler-{size}").open("wb") as filler:
                while True:
                    filler.write(b"\0" * size)
                    filler.flush()
        except OSError:
            continue


def break_disk(lakehouse: Lakehouse, disk: Path, problem: str) -> None:
    lakehouse.catalog.engine.dispose()  # type: ignore[attr-defined]  # a mount with open files stays writable
    if problem == "full":
        fill(disk)
    else:
        remounted = subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True, text=True)
        assert remounted.returncode == 0, remounted.stderr


def command(settings: Settings, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = config_file(tmp_path / "practicelake.toml", settings)
    return subprocess.run(
        [sys.executable, "-m", "practicelake", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], problem: str, disk: Path) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    # Off a terminal the progress display ends with an empty line; the error is the one line.
    lines = result.stderr.lstrip("\n").splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert re.search(PROBLEMS[problem], lines[0].lower()) and f"{disk}/lakehouse/" in lines[0], lines[0]


@pytest.fixture
def lake(disk: Path, tmp_path: Path) -> tuple[Settings, Path]:
    settings = local_settings(tmp_path, warehouse_uri=(disk / "lakehouse").as_uri())
    truth = small_export(tmp_path / "exports", practices=1, appointments=300)
    assert list(truth.practice_ids) == ["P001"]
    return settings, tmp_path / "exports"


@pytest.mark.parametrize("problem", PROBLEMS)
def test_ingest(lake: tuple[Settings, Path], disk: Path, tmp_path: Path, problem: str) -> None:
    settings, exports = lake
    first, *later = batches(exports, "P001")
    assert later
    lakehouse = Lakehouse.open(settings)
    lakehouse.ingest("P001", [first])  # the manifest exists: the later batches are what no longer fit
    break_disk(lakehouse, disk, problem)
    result = command(settings, tmp_path, "ingest", "--practice", "P001", *map(str, later))
    assert_one_line(result, problem, disk)


@pytest.mark.parametrize("problem", PROBLEMS)
def test_transform(lake: tuple[Settings, Path], disk: Path, tmp_path: Path, problem: str) -> None:
    settings, exports = lake
    lakehouse = Lakehouse.open(settings)
    lakehouse.ingest("P001", [exports / "P001"])
    break_disk(lakehouse, disk, problem)
    assert_one_line(command(settings, tmp_path, "transform"), problem, disk)


@pytest.mark.parametrize("problem", PROBLEMS)
def test_curate(lake: tuple[Settings, Path], disk: Path, tmp_path: Path, problem: str) -> None:
    settings, exports = lake
    lakehouse = Lakehouse.open(settings)
    lakehouse.ingest("P001", [exports / "P001"])
    lakehouse.transform()
    break_disk(lakehouse, disk, problem)
    assert_one_line(command(settings, tmp_path, "curate"), problem, disk)


def test_a_full_disk_is_named_by_the_store_and_leaves_no_temporary_file(disk: Path) -> None:
    store = LocalStore((disk / "lakehouse").as_uri())
    fill(disk)
    with pytest.raises(StorageError, match=r"^no space left on device writing .*/lakehouse/raw/big\.csv$"):
        store.put_new("raw/big.csv", b"x" * (1 << 20))
    assert not [p for p in disk.rglob(".tmp-*")]


def test_a_store_under_a_file_is_named_with_its_problem(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    store = LocalStore((tmp_path / "file" / "lakehouse").as_uri())
    with pytest.raises(StorageError, match=r"^not a directory writing .*/file/lakehouse/raw/a\.csv$"):
        store.put_new("raw/a.csv", b"data")
