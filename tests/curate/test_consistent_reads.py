"""Readers see every curated table as of one completed curate: never some tables new and
others old, while a curate commits them one by one, nor after one was killed part-way.

Two practices are curated, then one of them gets a new batch: every table the reads below
look at changes between the two runs, so a read that mixes them shows a mix."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest

from clean.generated import batches, small_export
from lakes import local_settings
from practicelake.curate.export import export
from practicelake.curate.project import load_models
from practicelake.curate.snapshots import pinned
from practicelake.lakehouse.catalog import current_snapshot_id, open_catalog
from practicelake.pipeline import Lakehouse
from practicelake.query import QueryService, Scope
from practicelake.settings import Settings
from practicelake.synth import GenerationReport

RUNNER = Path(__file__).with_name("curate_until.py")
# One query over four tables: the revenue and A/R tables as well as access.
READ_TABLES = ("access_daily", "revenue_service_month", "ar_summary", "ar_ageing")
ACROSS_TABLES = """
select (select sum(scheduled_appointments) from access_daily) as scheduled,
       (select count(*) from revenue_service_month) as revenue_rows,
       (select sum(total_ar) from ar_summary) as total_ar,
       (select count(*) from ar_ageing) as ageing_rows
"""
READS = 200  # reads made while the curate runs, at most
# The curate is held (or killed) just before it commits the last of them: the others are new.
LAST_READ = [m.name for m in load_models() if m.name in READ_TABLES][-1]


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    root = tmp_path_factory.mktemp("reads") / "exports"
    return root, small_export(root, practices=2, appointments=2000, seed=33)


def read(service: QueryService) -> dict[str, Any]:
    rows: list[dict[str, Any]] = service.run(ACROSS_TABLES, Scope(None)).to_pylist()
    return rows[0]


def curated_then_more(settings: Settings, exports: tuple[Path, GenerationReport]) -> tuple[Lakehouse, str]:
    """A lake curated without one practice's last batch, then that batch transformed (not curated)."""
    root, truth = exports
    late = truth.practice_ids[-1]
    lakehouse = Lakehouse.open(settings)
    for practice in truth.practice_ids:
        folders = batches(root, practice)
        lakehouse.ingest(practice, folders[:-1] if practice == late else folders)
    lakehouse.transform()
    lakehouse.curate()
    lakehouse.ingest(late, batches(root, late)[-1:])
    lakehouse.transform()
    return lakehouse, late


def moved(lakehouse: Lakehouse) -> list[str]:
    """The curated tables whose current snapshot is not the one readers are given."""
    pins = pinned(lakehouse.catalog)
    return [
        n
        for n, pin in pins.items()
        if current_snapshot_id(lakehouse.catalog.load_table(("curated", n))) != pin.snapshot_id
    ]


class PauseBefore:
    """An on_step hook that holds the curate just before it commits `table`, until released."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.paused = threading.Event()
        self.release = threading.Event()

    def __call__(self, step: str) -> None:
        if step.endswith(": " + self.table):  # "<practices>: <table>" comes before each table's commit
            self.paused.set()
            self.release.wait()


def test_reads_during_a_curate_see_one_run(exports: tuple[Path, GenerationReport], tmp_path: Path) -> None:
    settings = local_settings(tmp_path)
    lakehouse, _ = curated_then_more(settings, exports)
    service = QueryService(open_catalog(settings), freshness_seconds=0)
    old = read(service)

    pause = PauseBefore(LAST_READ)
    curating = threading.Thread(target=lambda: lakehouse.curate(on_step=pause))
    seen: list[dict[str, Any]] = []
    done = threading.Event()

    def reader() -> None:
        with QueryService(open_catalog(settings), freshness_seconds=0) as own:
            while not done.is_set() and len(seen) < READS:
                seen.append(read(own))

    reading = threading.Thread(target=reader)
    curating.start()
    reading.start()
    try:
        assert pause.paused.wait(timeout=300), f"the curate never reached {LAST_READ}"
        half_done = set(moved(lakehouse))
        assert set(READ_TABLES) - half_done == {LAST_READ}, half_done  # a mix is on disk
        assert read(service) == old  # and readers do not see it
    finally:
        pause.release.set()
        curating.join()
        done.set()
        reading.join()
    new = read(service)
    assert moved(lakehouse) == []
    assert all(new[column] != old[column] for column in old), (old, new)  # every table changed
    assert seen and all(result in (old, new) for result in seen), [r for r in seen if r not in (old, new)]


@pytest.mark.slow
def test_after_a_killed_curate_reads_see_the_last_completed_one(
    exports: tuple[Path, GenerationReport], tmp_path: Path
) -> None:
    settings = local_settings(tmp_path)
    lakehouse, _ = curated_then_more(settings, exports)
    service = QueryService(open_catalog(settings), freshness_seconds=0)
    old = read(service)
    config = tmp_path / "settings.json"
    config.write_text(settings.model_dump_json(), encoding="utf-8")
    killed = subprocess.run([sys.executable, str(RUNNER), str(config), LAST_READ], capture_output=True, text=True)
    assert killed.returncode == 137, killed.stderr
    assert set(READ_TABLES) - set(moved(lakehouse)) == {LAST_READ}  # the others committed, the run dead
    assert read(service) == old
    # A copy for BI tools is of the same completed curate.
    copy = tmp_path / "copy.duckdb"
    export(lakehouse.catalog, copy, "duckdb")
    with duckdb.connect(str(copy), read_only=True) as con:
        copied = con.execute(ACROSS_TABLES).fetchall()[0]
    assert dict(zip(old, copied, strict=True)) == old

    report = Lakehouse.open(settings).curate()
    assert len(report.rolled_back) == 1 and report.run_id is not None
    new = read(service)
    assert moved(lakehouse) == []
    assert all(new[column] != old[column] for column in old), (old, new)
