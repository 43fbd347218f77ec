"""One practice's rows never block the others: a practice whose curated sums overflow is
reported and left out, every other practice is built as if it were not there, and the next
curate tries it again; so with the benchmarks across practices."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from clean.generated import contents, ingest_all, small_export
from curate.benchmark_lake import BASE, JAN, figures, open_lake, served, write
from lakes import config_file, local_settings
from practicelake.curate.project import load_models
from practicelake.curate.runner import replace
from practicelake.lakehouse.catalog import practice_partition
from practicelake.pipeline import Lakehouse
from practicelake.synth import GenerationReport

TABLES = [f"curated.{m.name}" for m in load_models() if m.contract.materialized == "table"]
TOO_MUCH = Decimal("9999999999999999.99")  # the largest decimal(18, 2): two of them overflow any sum


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    root = tmp_path_factory.mktemp("failures") / "exports"
    return root, small_export(root, practices=3, appointments=1500, seed=44)


def overflow_charges(lakehouse: Lakehouse, practice_id: str) -> None:
    """Two of the practice's cleaned charges, copied with the largest amount a charge can hold."""
    table = lakehouse.catalog.load_table("cleaned.charge")
    rows = table.scan().to_arrow()
    theirs = rows.filter(pc.equal(rows["practice_id"], practice_id)).slice(0, 2)
    assert theirs.num_rows == 2
    copied = theirs.set_column(
        theirs.schema.get_field_index("charge_id"),
        "charge_id",
        pc.binary_join_element_wise(theirs["charge_id"], pa.scalar("-X"), ""),
    )
    amount = theirs.schema.get_field_index("amount")
    copied = copied.set_column(amount, theirs.schema.field(amount), pa.array([TOO_MUCH] * 2, pa.decimal128(18, 2)))
    table.append(copied)


def of(lakehouse: Lakehouse, identifier: str, practices: set[str]) -> list[dict[str, object]]:
    return [row for row in contents(lakehouse, identifier) if row["practice_id"] in practices]


def test_a_practice_that_fails_is_reported_and_the_others_are_built(
    exports: tuple[Path, GenerationReport], tmp_path: Path
) -> None:
    root, truth = exports
    bad = truth.practice_ids[1]
    good = [p for p in truth.practice_ids if p != bad]
    lakehouse = Lakehouse.open(local_settings(tmp_path / "lake"))
    ingest_all(lakehouse, root, truth)
    lakehouse.transform()
    overflow_charges(lakehouse, bad)
    config = config_file(tmp_path / "practicelake.toml", lakehouse.settings)

    done = subprocess.run(
        [sys.executable, "-m", "practicelake", "curate", "--config", str(config)],
        capture_output=True,
        text=True,
        env=os.environ | {"COLUMNS": "200"},
    )
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: practice {bad} not curated: model "), done.stderr
    assert "9999" not in done.stderr  # the reason names the model and the error, not the value
    assert f"1 failed, their curated rows left as they were: {bad}" in done.stdout

    state = contents(lakehouse, "ops.curate_state")
    assert sorted(row["practice_id"] for row in state) == ["*", *sorted(good)]  # not advanced: tried again next time
    (run,) = [row for row in contents(lakehouse, "ops.runs") if row["command"] == "curate"]
    assert run["status"] == f"failed_practices: {bad}"

    fresh = Lakehouse.open(local_settings(tmp_path / "fresh", key_file=lakehouse.settings.key_file))
    ingest_all(fresh, root, truth)
    fresh.transform()
    assert fresh.curate().failed == {}
    for identifier in TABLES:  # the others exactly as a run without the bad rows builds them
        assert of(lakehouse, identifier, set(good)) == of(fresh, identifier, set(good)), identifier
        assert of(lakehouse, identifier, {bad}) == [], identifier

    again = lakehouse.curate()
    assert list(again.failed) == [bad] and again.practices == []


def test_a_practice_the_benchmarks_choke_on_is_left_out_of_them_and_tried_again(tmp_path: Path) -> None:
    lakehouse = open_lake(tmp_path)
    write(lakehouse, figures(BASE, [JAN]))
    huge = 6_000_000_000_000_000_000  # two of them overflow the month's sum of kept visits
    table = lakehouse.catalog.load_table("curated.access_daily")
    rows = [
        {"practice_id": "P007", "provider_id": "D1", "day": day, "scheduled_appointments": huge,
         "kept_appointments": huge, "no_shows": 0, "cancellations": 0, "late_cancellations": 0,
         "unresolved_appointments": 0}
        for day in (date(2024, 1, 3), date(2024, 1, 20))
    ]  # fmt: skip
    replace(table, pa.Table.from_pylist(rows, schema=table.schema().as_arrow()), practice_partition("P007"), {})

    report = lakehouse.curate()
    assert list(report.left_out) == ["P007"] and report.left_out["P007"].startswith("model benchmark_access_monthly")
    assert "6000" not in report.left_out["P007"]  # the model and the error, not the value
    fresh = open_lake(tmp_path / "fresh", key_file=lakehouse.settings.key_file)
    write(fresh, figures(BASE, [JAN]))
    fresh.curate()
    assert served(lakehouse) == served(fresh) != {}  # the others, as if it were not there
    assert "*" not in {row["practice_id"] for row in contents(lakehouse, "ops.curate_state")}
    assert list(lakehouse.curate().left_out) == ["P007"]  # tried again
