"""Kill the transform at several points; the next run must leave exactly what an
uninterrupted run leaves: no row lost, none doubled."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.catalog.sql import SqlCatalog

from clean.generated import COMPARED, contents, ingest_all, small_export
from lakes import local_settings
from practicelake.clean.reconcile import reconcile
from practicelake.clean.transform import ensure_tables
from practicelake.pipeline import Lakehouse
from practicelake.synth import GenerationReport

RUNNER = Path(__file__).with_name("crash_runner.py")


class Commits:
    """Counts the catalog commits of an uninterrupted transform."""

    def __init__(self) -> None:
        self.count = 0


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    root = tmp_path_factory.mktemp("crash") / "exports"
    return root, small_export(root, practices=2, appointments=1200, seed=21)


@pytest.fixture(scope="module")
def uninterrupted(
    exports: tuple[Path, GenerationReport], tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, list[dict[str, Any]]], int, Path]:
    root, truth = exports
    work = tmp_path_factory.mktemp("baseline")
    keys = work / "keys.json"
    lakehouse = Lakehouse.open(local_settings(work, key_file=keys))
    ingest_all(lakehouse, root, truth)
    ensure_tables(lakehouse.catalog)  # so that every commit counted below is the run's own

    counter = Commits()
    original = SqlCatalog.commit_table

    def counting(self: SqlCatalog, *args: Any, **kwargs: Any) -> Any:
        counter.count += 1
        return original(self, *args, **kwargs)

    SqlCatalog.commit_table = counting  # type: ignore[method-assign]
    try:
        lakehouse.transform()
    finally:
        SqlCatalog.commit_table = original  # type: ignore[method-assign]
    return {t: contents(lakehouse, t) for t in COMPARED}, counter.count, keys


def crash_points(total: int) -> list[tuple[int, str]]:
    return [
        (1, "before"),
        (1, "after"),
        (total // 2, "before"),
        (total // 2 + 1, "after"),
        (total, "before"),
        (total, "after"),
    ]


@pytest.mark.parametrize("point", range(6))
def test_killed_transform_is_rolled_back_and_redone(
    exports: tuple[Path, GenerationReport],
    uninterrupted: tuple[dict[str, list[dict[str, Any]]], int, Path],
    tmp_path: Path,
    point: int,
) -> None:
    root, truth = exports
    expected, total_commits, keys = uninterrupted
    assert total_commits > 10
    crash_at, when = crash_points(total_commits)[point]
    settings = local_settings(tmp_path, key_file=keys)
    lakehouse = Lakehouse.open(settings)
    ingest_all(lakehouse, root, truth)
    ensure_tables(lakehouse.catalog)

    config = tmp_path / "settings.json"
    config.write_text(settings.model_dump_json(), encoding="utf-8")
    killed = subprocess.run(
        [sys.executable, str(RUNNER), str(config), str(crash_at), when], capture_output=True, text=True, timeout=300
    )
    assert killed.returncode == 137, killed.stderr

    report = Lakehouse.open(settings).transform()
    assert len(report.rolled_back) == 1 and report.run_id is not None
    for identifier in COMPARED:
        assert contents(lakehouse, identifier) == expected[identifier], identifier
    assert all(row["balanced"] for row in reconcile(lakehouse.catalog).to_pylist())
    assert Lakehouse.open(settings).transform().run_id is None  # and then nothing is left to do


def test_interrupted_ingest_is_completed_by_the_next(
    exports: tuple[Path, GenerationReport], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, truth = exports
    lakehouse = Lakehouse.open(local_settings(tmp_path))
    practice = truth.practice_ids[0]

    def dies(*args: Any) -> None:
        raise KeyboardInterrupt  # after the objects, before the manifest

    monkeypatch.setattr("practicelake.ingest.receive.append_entries", dies)
    with pytest.raises(KeyboardInterrupt):
        lakehouse.ingest(practice, [root / practice])
    stored = set(lakehouse.store.list("raw/"))
    assert stored
    monkeypatch.undo()
    report = lakehouse.ingest(practice, [root / practice])
    assert {e.object_key for e in report.entries if e.status == "ingested"} == stored
    assert json.dumps(sorted(stored)) == json.dumps(sorted(lakehouse.store.list("raw/")))


def test_recovery_keeps_what_was_ingested_after_the_crash(
    exports: tuple[Path, GenerationReport], tmp_path: Path
) -> None:
    root, truth = exports
    settings = local_settings(tmp_path)
    lakehouse = Lakehouse.open(settings)
    practice = truth.practice_ids[0]
    lakehouse.ingest(practice, sorted((root / practice).iterdir())[:3])
    ensure_tables(lakehouse.catalog)
    config = tmp_path / "settings.json"
    config.write_text(settings.model_dump_json(), encoding="utf-8")
    killed = subprocess.run([sys.executable, str(RUNNER), str(config), "3", "after"], capture_output=True, timeout=300)
    assert killed.returncode == 137
    late = lakehouse.ingest(practice, sorted((root / practice).iterdir())[3:4])
    report = Lakehouse.open(settings).transform()
    assert len(report.rolled_back) == 1 and report.ledger is not None
    loaded = {str(load["sha256"]) for load in report.ledger.loads.values()}
    assert {e.sha256 for e in late.entries if e.status == "ingested"} <= loaded
