"""Two lakehouses on one warehouse, each with its own state folder (two machines sharing a
bucket): while one transforms, the other's transform and curate are refused and leave the
first's run alone; a transform whose lock was taken over stops and is redone by the next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clean.generated import ingest_all, small_export
from practicelake.clean.reconcile import reconcile
from practicelake.errors import LockedError, LockLostError
from practicelake.lakehouse.lock import LEASE, Lease, acquire, current
from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings


def two_lakehouses(settings: Settings, tmp_path: Path) -> tuple[Lakehouse, Lakehouse]:
    first = Lakehouse.open(settings)
    truth = small_export(tmp_path / "exports", practices=1, appointments=300)
    ingest_all(first, tmp_path / "exports", truth)
    second = Lakehouse.open(settings.model_copy(update={"state_dir": tmp_path / "second-state"}))
    return first, second


def test_a_second_lakehouse_is_refused_while_the_first_transforms(settings: Settings, tmp_path: Path) -> None:
    first, second = two_lakehouses(settings, tmp_path)
    refusals: list[str] = []

    def meanwhile(step: str) -> None:  # called by the first transform while it holds the lock
        for run in (second.transform, second.curate):
            with pytest.raises(LockedError) as refused:
                run()
            refusals.append(str(refused.value))

    report = first.transform(on_step=meanwhile)
    assert report.run_id is not None and refusals
    assert all(r.startswith("the warehouse is locked by transform on ") and "\n" not in r for r in refusals)
    assert first.store.exists(f"runs/{report.run_id}/finished.json")
    assert not first.store.exists(f"runs/{report.run_id}/rolled_back.json")
    assert current(first.store) is None

    again = second.transform()
    assert again.rolled_back == [] and again.run_id is None
    assert all(row["balanced"] for row in reconcile(second.catalog).to_pylist())


def test_a_transform_whose_lock_was_taken_over_stops_and_is_redone(settings: Settings, tmp_path: Path) -> None:
    first, second = two_lakehouses(settings, tmp_path)
    later = datetime.now(UTC) + LEASE + timedelta(minutes=1)  # the first's lease, unrenewed, has run out
    takers: list[Lease] = []

    def taken_over(step: str) -> None:
        if not takers:
            takers.append(acquire(second.store, "curate", clock=lambda: later))

    with pytest.raises(LockLostError, match=r"transform was taken over by curate on \S+ \(pid \d+\)"):
        first.transform(on_step=taken_over)
    assert current(second.store) == (takers[0].record, takers[0].version)  # the first left it alone
    assert not first.catalog.load_table("cleaned.appointment").scan().to_arrow().num_rows
    takers[0].release()

    redone = second.transform()
    assert len(redone.rolled_back) == 1 and redone.run_id is not None
    assert all(row["balanced"] for row in reconcile(second.catalog).to_pylist())
