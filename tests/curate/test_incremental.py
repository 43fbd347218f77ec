"""An incremental curate over real Iceberg tables: after a late batch, each practice it touched is
rebuilt only from the first day the batch can change, and every curated table is still, cell by
cell, what a full rebuild of the same cleaned zone gives: for a new month, a late remittance for
an old claim, an old appointment cancelled or moved, a corrected charge, a new patient's first
visit, and a batch of another practice."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from clean.generated import batches, small_export
from lakes import local_settings
from practicelake.curate.build import build
from practicelake.curate.project import load_models
from practicelake.curate.runner import load_references, practice_settings
from practicelake.pipeline import Lakehouse
from practicelake.synth import GenerationReport

MODELS = tuple(m for m in load_models() if not m.contract.cross_practice)
TABLES = [m.name for m in MODELS if m.contract.materialized == "table"]
WINDOWED = [m.name for m in MODELS if m.contract.materialized == "table" and m.contract.window is not None]


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    root = tmp_path_factory.mktemp("incremental") / "exports"
    return root, small_export(root, practices=2, appointments=2000, seed=41)


def loaded(root: Path, truth: GenerationReport, tmp_path: Path, *, hold_last_of: str | None = None) -> Lakehouse:
    lakehouse = Lakehouse.open(local_settings(tmp_path))
    for practice in truth.practice_ids:
        folders = batches(root, practice)
        lakehouse.ingest(practice, folders[:-1] if practice == hold_last_of else folders)
    lakehouse.transform()
    lakehouse.curate()
    return lakehouse


def canonical(rows: pa.Table) -> list[dict[str, Any]]:
    listed = rows.to_pylist()
    return sorted(listed, key=lambda row: [str(row[c]) for c in rows.column_names])


def assert_as_rebuilt(lakehouse: Lakehouse) -> None:
    """Every per-practice curated table equals the models run afresh over the whole cleaned zone."""
    settings = lakehouse.settings
    references = load_references(settings.value_units_file) | {"practice_settings": practice_settings(settings)}
    practices = sorted(settings.practices)
    fresh = build(lakehouse.catalog, MODELS, practices, references)
    for name in TABLES:
        stored = lakehouse.catalog.load_table(f"curated.{name}").scan().to_arrow()
        assert canonical(stored) == canonical(fresh[name]), name


def rows_of(lakehouse: Lakehouse, name: str, practice: str) -> int:
    table = lakehouse.catalog.load_table(f"curated.{name}").scan().to_arrow()
    return sum(1 for p in table["practice_id"].to_pylist() if p == practice)


def csv_rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def late_batch(under: Path, practice: str, name: str, files: dict[str, list[dict[str, str]]]) -> Path:
    """A batch folder after every other of the practice's, holding `files` (CSV name -> rows)."""
    folder = under / "late" / practice / name
    folder.mkdir(parents=True)
    for file, rows in files.items():
        with (folder / f"{file}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return folder


def test_a_new_month_rebuilds_from_its_first_day_only(exports: tuple[Path, GenerationReport], tmp_path: Path) -> None:
    root, truth = exports
    late = truth.practice_ids[0]
    lakehouse = loaded(root, truth, tmp_path, hold_last_of=late)
    before = {name: rows_of(lakehouse, name, late) for name in TABLES}
    lakehouse.ingest(late, batches(root, late)[-1:])
    lakehouse.transform()
    report = lakehouse.curate()
    assert report.practices == [late] and not report.failed
    starts = report.windows[late]  # rebuilt from what the batch changes, not whole
    first_day = date.fromisoformat(batches(root, late)[0].name + "-01")
    assert all(starts[name] > first_day for name in WINDOWED)
    for name in WINDOWED:  # fewer rows written than the practice has: the months before are kept
        assert report.rows.get(name, 0) < rows_of(lakehouse, name, late), name
    assert sum(report.rows.get(n, 0) for n in TABLES) < sum(before.values())
    assert_as_rebuilt(lakehouse)


def _remittance(folders: list[Path]) -> dict[str, list[dict[str, str]]]:
    """A payer payment, received in the last month, for a claim of the second month."""
    claim = next(c for c in csv_rows(folders[1], "claims") if c["payer_id"])
    paid = csv_rows(folders[-1], "payments")[-1]["paid_at"]
    payment = csv_rows(folders[1], "payments")[0] | {
        "payment_id": "PMTLATE0001",
        "claim_id": claim["claim_id"],
        "encounter_id": claim["encounter_id"],
        "patient_id": claim["patient_id"],
        "payer_id": claim["payer_id"],
        "payment_source": "Insurance",
        "paid_at": paid,
        "amount": "123.45",
        "method": "eft",
        "at_point_of_service": "false",
        "remittance_ref": "EFTLATE",
    }
    return {"payments": [payment]}


def _appointments(folders: list[Path]) -> dict[str, list[dict[str, str]]]:
    """An old kept appointment cancelled late, and another moved a week on."""
    kept = [a for a in csv_rows(folders[2], "appointments") if a["status"] == "Completed"]
    cancelled = kept[0] | {
        "status": "Cancelled",
        "cancelled_at": kept[0]["start_at"],
        "checked_in_at": "",
        "visit_start_at": "",
        "visit_end_at": "",
    }
    start = kept[1]["start_at"]
    moved = kept[1] | {"start_at": start[:8] + f"{min(int(start[8:10]) + 7, 28):02d}" + start[10:]}
    moved |= {"checked_in_at": "", "visit_start_at": "", "visit_end_at": "", "status": "Scheduled"}
    return {"appointments": [cancelled, moved]}


def _charge(folders: list[Path]) -> dict[str, list[dict[str, str]]]:
    """An old charge line corrected: a tenth more."""
    charge = csv_rows(folders[1], "charges")[3]
    return {"charges": [charge | {"amount": f"{float(charge['amount']) * 1.1:.2f}"}]}


def _new_patient(folders: list[Path]) -> dict[str, list[dict[str, str]]]:
    """A patient registered late, with a first visit in the last month: appointment, encounter, charge."""
    patient = csv_rows(folders[0], "patients")[0] | {"patient_id": "MRNLATE0001"}
    appointment = next(a for a in csv_rows(folders[-1], "appointments") if a["status"] == "Completed")
    encounter = next(e for e in csv_rows(folders[-1], "encounters") if e["appointment_id"])
    charge = next(c for c in csv_rows(folders[-1], "charges") if c["encounter_id"] == encounter["encounter_id"])
    return {
        "patients": [patient],
        "appointments": [appointment | {"appointment_id": "APTLATE0001", "patient_id": "MRNLATE0001"}],
        "encounters": [
            encounter | {"encounter_id": "ENCLATE0001", "appointment_id": "APTLATE0001", "patient_id": "MRNLATE0001"}
        ],
        "charges": [charge | {"charge_id": "CHGLATE0001", "encounter_id": "ENCLATE0001", "patient_id": "MRNLATE0001"}],
    }


@pytest.mark.parametrize(
    "kind", [pytest.param(k, id=k.__name__.strip("_")) for k in (_remittance, _appointments, _charge, _new_patient)]
)
def test_a_late_batch_changing_earlier_periods_is_rebuilt_exactly(
    exports: tuple[Path, GenerationReport], tmp_path: Path, kind: Any
) -> None:
    root, truth = exports
    practice = truth.practice_ids[0]
    lakehouse = loaded(root, truth, tmp_path)
    folders = batches(root, practice)
    lakehouse.ingest(practice, [late_batch(tmp_path, practice, "2099-12", kind(folders))], batch="2099-12")
    lakehouse.transform()
    report = lakehouse.curate()
    assert report.practices == [practice] and not report.failed
    assert practice in report.windows  # rebuilt from the batch's first day, not whole
    assert_as_rebuilt(lakehouse)


def test_another_practices_batch_leaves_the_first_as_it_was(
    exports: tuple[Path, GenerationReport], tmp_path: Path
) -> None:
    root, truth = exports
    steady, late = truth.practice_ids
    lakehouse = loaded(root, truth, tmp_path, hold_last_of=late)
    steady_rows = {n: rows_of(lakehouse, n, steady) for n in TABLES}
    lakehouse.ingest(late, batches(root, late)[-1:])
    lakehouse.transform()
    report = lakehouse.curate()
    assert report.practices == [late] and list(report.windows) == [late]
    assert {n: rows_of(lakehouse, n, steady) for n in TABLES} == steady_rows
    assert_as_rebuilt(lakehouse)
