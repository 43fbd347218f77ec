"""The curate run over real Iceberg tables: incremental by practice, a no-op when nothing
changed, rebuilt when the reference changes, and all-or-nothing when killed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog

from clean.generated import batches, contents, small_export
from lakes import PRACTICES, local_settings
from practicelake.curate.project import load_models
from practicelake.curate.runner import practice_settings
from practicelake.curate.snapshots import pinned, record_current
from practicelake.lakehouse.catalog import current_snapshot_id, ensure_table
from practicelake.pipeline import Lakehouse
from practicelake.query import QueryService, Scope
from practicelake.settings import Settings
from practicelake.synth import GenerationReport

RUNNER = Path(__file__).parent.parent / "clean" / "crash_runner.py"
TABLES = [f"curated.{m.name}" for m in load_models() if m.contract.materialized == "table"]
CROSS_PRACTICE_TABLES = {f"curated.{m.name}" for m in load_models() if m.contract.cross_practice}
CROSS_PRACTICE = {"*"}
WATCHED = [*TABLES, "ops.curate_state", "ops.runs", "ops.curated_snapshots"]


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    root = tmp_path_factory.mktemp("curate") / "exports"
    return root, small_export(root, practices=2, appointments=2000, seed=33)


def loaded(
    settings: Settings, root: Path, truth: GenerationReport, *, hold_last_batch_of: str | None = None
) -> Lakehouse:
    lakehouse = Lakehouse.open(settings)
    for practice in truth.practice_ids:
        folders = batches(root, practice)
        if practice == hold_last_batch_of:
            folders = folders[:-1]
        lakehouse.ingest(practice, folders)
    lakehouse.transform()
    return lakehouse


def state(lakehouse: Lakehouse) -> dict[str, tuple[int | None, str]]:
    out = {}
    for identifier in WATCHED:
        table = lakehouse.catalog.load_table(identifier)
        snapshot = table.current_snapshot()
        out[identifier] = (snapshot.snapshot_id if snapshot else None, table.metadata_location)
    return out


def pinned_at_current(lakehouse: Lakehouse) -> bool:
    """What readers are given is every curated table at its current snapshot."""
    pins = pinned(lakehouse.catalog)
    assert sorted(f"curated.{name}" for name in pins) == sorted(TABLES)
    return all(
        current_snapshot_id(lakehouse.catalog.load_table(f"curated.{name}")) == pin.snapshot_id
        for name, pin in pins.items()
    )


def files_of(lakehouse: Lakehouse, practice: str) -> dict[str, set[str]]:
    """Each curated table's data files holding the practice's rows."""
    out = {}
    for identifier in TABLES:
        table = lakehouse.catalog.load_table(identifier)
        out[identifier] = {t.file.file_path for t in table.scan().plan_files() if t.file.partition[0] == practice}
    return out


def test_models_cover_every_practice_and_only_theirs(exports: tuple[Path, GenerationReport], tmp_path: Path) -> None:
    root, truth = exports
    lakehouse = loaded(local_settings(tmp_path), root, truth)
    report = lakehouse.curate()
    assert report.run_id is not None and report.practices == sorted(truth.practice_ids)
    assert TABLES, "no curated models"
    for identifier in TABLES:
        practices = {row["practice_id"] for row in contents(lakehouse, identifier)}
        assert practices <= (CROSS_PRACTICE if identifier in CROSS_PRACTICE_TABLES else set(truth.practice_ids))
    state_rows = contents(lakehouse, "ops.curate_state")
    assert [r["practice_id"] for r in state_rows] == ["*", *sorted(truth.practice_ids)]  # "*": the benchmarks'
    runs = [r for r in contents(lakehouse, "ops.runs") if r["command"] == "curate"]
    assert len(runs) == 1 and runs[0]["status"] == "succeeded"


def test_nothing_new_writes_nothing_and_a_new_batch_rebuilds_only_its_practice(
    exports: tuple[Path, GenerationReport], tmp_path: Path
) -> None:
    root, truth = exports
    late, steady = truth.practice_ids[1], truth.practice_ids[0]
    settings = local_settings(tmp_path)
    lakehouse = loaded(settings, root, truth, hold_last_batch_of=late)
    lakehouse.curate()
    before = state(lakehouse)
    assert lakehouse.curate().run_id is None
    assert state(lakehouse) == before  # no snapshot, no metadata file: the pins stay

    steady_files = files_of(lakehouse, steady)
    steady_rows = {t: [r for r in contents(lakehouse, t) if r["practice_id"] == steady] for t in TABLES}
    lakehouse.ingest(late, batches(root, late)[-1:])
    lakehouse.transform()
    report = lakehouse.curate()
    assert report.practices == [late]
    assert pinned_at_current(lakehouse)  # every table recorded, not only those the run rewrote
    assert files_of(lakehouse, steady) == steady_files  # its partitions were not rewritten
    assert {t: [r for r in contents(lakehouse, t) if r["practice_id"] == steady] for t in TABLES} == steady_rows

    fresh = Lakehouse.open(local_settings(tmp_path / "fresh"))
    for practice in truth.practice_ids:
        fresh.ingest(practice, batches(root, practice))
    fresh.transform()
    fresh.curate()
    for identifier in TABLES:  # incremental = rebuilt from scratch
        assert contents(lakehouse, identifier) == contents(fresh, identifier), identifier


def test_replacing_the_value_units_rebuilds_every_practice(
    exports: tuple[Path, GenerationReport], tmp_path: Path
) -> None:
    root, truth = exports
    lakehouse = loaded(local_settings(tmp_path), root, truth)
    lakehouse.curate()
    units = tmp_path / "units.csv"
    units.write_text("procedure_code,work_rvu\n99213,1.5\n", encoding="utf-8")
    report = Lakehouse.open(local_settings(tmp_path, value_units_file=units)).curate()
    assert report.practices == sorted(truth.practice_ids)


def test_a_practices_configured_time_zone_rebuilds_that_practice_only(
    exports: tuple[Path, GenerationReport], tmp_path: Path
) -> None:
    root, truth = exports
    lakehouse = loaded(local_settings(tmp_path), root, truth)
    lakehouse.curate()
    moved = truth.practice_ids[0]
    practices = {p: dict(v) for p, v in PRACTICES.items()} | {moved: PRACTICES[moved] | {"time_zone": "Asia/Tokyo"}}
    report = Lakehouse.open(local_settings(tmp_path, practices=practices)).curate()
    assert report.practices == [moved]
    configured = practice_settings(local_settings(tmp_path, practices=practices)).to_pylist()
    assert {"practice_id": moved, "time_zone": "Asia/Tokyo", "currency": PRACTICES[moved]["currency"]} in configured
    assert {r["practice_id"] for r in configured} == set(PRACTICES)


def test_a_table_made_again_for_new_columns_is_read_from_the_new_table(
    exports: tuple[Path, GenerationReport], tmp_path: Path
) -> None:
    root, truth = exports
    lakehouse = loaded(local_settings(tmp_path), root, truth)
    lakehouse.curate()
    name, every_column = "ar_summary", "select * from ar_summary"
    old = lakehouse.catalog.load_table(f"curated.{name}").scan().to_arrow()
    lakehouse.catalog.drop_table(f"curated.{name}")  # as a release whose ar_summary had one more column
    legacy = old.append_column("retired", pa.array([1] * old.num_rows, pa.int64()))
    ensure_table(lakehouse.catalog, f"curated.{name}", legacy.schema).append(legacy)
    record_current(lakehouse.catalog, "earlier-release")
    dropped = pinned(lakehouse.catalog)[name].metadata_location
    with QueryService(lakehouse.catalog, freshness_seconds=0) as service:
        assert "retired" in service.run(every_column, Scope(None)).column_names
        units = tmp_path / "units.csv"  # a new release: every practice is rebuilt
        units.write_text("procedure_code,work_rvu\n99213,1.5\n", encoding="utf-8")
        assert Lakehouse.open(local_settings(tmp_path, value_units_file=units)).curate().run_id is not None
        table = lakehouse.catalog.load_table(f"curated.{name}")
        assert pinned(lakehouse.catalog)[name].metadata_location == table.metadata_location != dropped
        assert pinned_at_current(lakehouse)
        assert "retired" not in service.run(every_column, Scope(None)).column_names


def test_a_value_units_file_without_its_columns_is_refused(tmp_path: Path) -> None:
    from practicelake.curate.project import ModelError
    from practicelake.curate.runner import load_references

    units = tmp_path / "units.csv"
    units.write_text("code,rvu\n99213,1.5\n", encoding="utf-8")
    with pytest.raises(ModelError, match=r"units.csv: missing column\(s\) procedure_code, work_rvu"):
        load_references(units)


@pytest.mark.slow
@pytest.mark.parametrize("when", ["before", "after"])
def test_killed_curate_is_rolled_back_and_redone(
    exports: tuple[Path, GenerationReport], tmp_path: Path, when: str
) -> None:
    root, truth = exports
    baseline = loaded(local_settings(tmp_path / "baseline"), root, truth)
    commits = count_commits(baseline)
    expected = {t: contents(baseline, t) for t in TABLES}

    settings = local_settings(tmp_path / "killed", key_file=tmp_path / "baseline" / "keys" / "keys.json")
    lakehouse = loaded(settings, root, truth)
    config = tmp_path / "settings.json"
    config.write_text(settings.model_dump_json(), encoding="utf-8")
    crash_at = max(2, commits // 2)
    killed = subprocess.run(
        [sys.executable, str(RUNNER), str(config), str(crash_at), when, "curate"], capture_output=True, text=True
    )
    assert killed.returncode == 137, killed.stderr
    report = Lakehouse.open(settings).curate()
    assert len(report.rolled_back) == 1 and report.practices == sorted(truth.practice_ids)
    for identifier in TABLES:
        assert contents(lakehouse, identifier) == expected[identifier], identifier
    assert Lakehouse.open(settings).curate().run_id is None


def count_commits(lakehouse: Lakehouse) -> int:
    original = SqlCatalog.commit_table
    count = 0

    def counting(self: SqlCatalog, *args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        return original(self, *args, **kwargs)

    SqlCatalog.commit_table = counting  # type: ignore[method-assign]
    try:
        lakehouse.curate()
    finally:
        SqlCatalog.commit_table = original  # type: ignore[method-assign]
    return count


@pytest.fixture(scope="module")
def five_practices(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    root = tmp_path_factory.mktemp("benchmarks") / "exports"
    return root, small_export(root, practices=5, appointments=300, seed=8)


@pytest.mark.slow
def test_the_benchmarks_follow_every_practices_curated_rows(
    five_practices: tuple[Path, GenerationReport], tmp_path: Path
) -> None:
    root, truth = five_practices
    served = {p: {"time_zone": "UTC", "currency": "USD"} for p in truth.practice_ids}
    late = truth.practice_ids[2]
    lakehouse = loaded(local_settings(tmp_path, practices=served), root, truth, hold_last_batch_of=late)
    lakehouse.curate()
    before = {t: contents(lakehouse, t) for t in CROSS_PRACTICE_TABLES}
    assert all(before.values()), "five practices contribute: every benchmark has cells"
    assert lakehouse.curate().run_id is None  # nothing changed: nothing rebuilt

    lakehouse.ingest(late, batches(root, late)[-1:])
    lakehouse.transform()
    report = lakehouse.curate()
    assert report.practices == [late]
    assert {f"curated.{name}" for name in report.rows} >= CROSS_PRACTICE_TABLES  # rebuilt
    assert pinned_at_current(lakehouse)
    after = {t: contents(lakehouse, t) for t in CROSS_PRACTICE_TABLES}
    assert after != before  # the late batch moved some cell

    key_file = lakehouse.settings.key_file  # the deployment's key: the same perturbations
    fresh = Lakehouse.open(local_settings(tmp_path / "fresh", practices=served, key_file=key_file))
    for practice in truth.practice_ids:
        fresh.ingest(practice, batches(root, practice))
    fresh.transform()
    fresh.curate()
    for identifier in CROSS_PRACTICE_TABLES:  # incremental = rebuilt from scratch
        assert contents(lakehouse, identifier) == after[identifier] == contents(fresh, identifier), identifier
