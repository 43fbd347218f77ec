"""Generated practices end to end, on a local folder and on S3: reconciliation against the
generator's ground truth, idempotency, incremental batches."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from clean.generated import (
    COMPARED,
    batches,
    contents,
    ingest_all,
    small_export,
    snapshot_ids,
)
from lakes import local_settings
from practicelake.clean.reconcile import reconcile
from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings
from practicelake.synth.generator import EXPORTED as CONTRACTS


def test_end_to_end_reconciles_with_ground_truth(settings: Settings, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    truth = small_export(exports)
    lakehouse = Lakehouse.open(settings)
    ingest_all(lakehouse, exports, truth)
    report = lakehouse.transform()
    assert report.run_id is not None and report.ledger is not None

    files = {(r["practice_id"], r["batch"], r["dataset"]): r for r in reconcile(lakehouse.catalog).to_pylist()}
    duplicates_by_dataset: Counter[str] = Counter()
    for relative, expected in truth.injected.items():
        practice, batch, name = Path(relative).parts
        row = files.get((practice, batch, name.removesuffix(".csv")))
        if row is None:  # a header-only file identical to an earlier one: an already-ingested no-op
            assert expected.rows == 0, relative
            continue
        assert (row["status"], row["rows_read"]) == ("loaded", expected.rows), relative
        assert row["rows_quarantined"] == expected.quarantined, relative
        assert row["balanced"], relative
        duplicates_by_dataset[name.removesuffix(".csv")] += expected.duplicates
    assert all(r["status"] == "loaded" and r["balanced"] for r in files.values())

    for contract in CONTRACTS:
        loaded = [r for r in files.values() if r["dataset"] == contract.dataset]
        superseded = sum(r["rows_duplicate"] for r in loaded)
        assert superseded == duplicates_by_dataset[contract.dataset] + truth.corrections[contract.dataset]
        cleaned = lakehouse.catalog.load_table(f"cleaned.{contract.entity}").scan().to_arrow()
        assert cleaned.num_rows == sum(r["rows_cleaned"] for r in loaded)
        keys = list(zip(cleaned["practice_id"].to_pylist(), cleaned[contract.cleaned_key].to_pylist(), strict=True))
        assert len(keys) == len(set(keys)), f"{contract.entity}: a key appears twice"
    # Every file written was ingested once (identical empty batches are recorded no-ops).
    assert sum(t.rows for t in truth.injected.values()) >= report.ledger.total("rows_read")


def test_second_transform_writes_nothing(settings: Settings, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    truth = small_export(exports, practices=1, appointments=800)
    lakehouse = Lakehouse.open(settings)
    ingest_all(lakehouse, exports, truth)
    assert lakehouse.transform().run_id is not None
    before_objects = sorted(lakehouse.store.list(""))
    before_snapshots = snapshot_ids(lakehouse)
    again = lakehouse.transform()
    assert again.run_id is None and again.ledger is None
    assert snapshot_ids(lakehouse) == before_snapshots
    assert sorted(lakehouse.store.list("")) == before_objects


def test_new_batches_load_only_new_files_and_match_a_single_load(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    truth = small_export(exports)
    keys = tmp_path / "keys.json"
    stepwise = Lakehouse.open(local_settings(tmp_path / "stepwise", key_file=keys))
    for practice in truth.practice_ids:
        stepwise.ingest(practice, batches(exports, practice)[:6])
    stepwise.transform()
    loaded_first = {r["sha256"] for r in contents(stepwise, "ops.file_loads")}
    for practice in truth.practice_ids:
        stepwise.ingest(practice, batches(exports, practice)[6:])
    second = stepwise.transform()
    assert second.ledger is not None
    assert not loaded_first & {str(load["sha256"]) for load in second.ledger.loads.values()}

    at_once = Lakehouse.open(local_settings(tmp_path / "at_once", key_file=keys))
    ingest_all(at_once, exports, truth)
    at_once.transform()
    for identifier in COMPARED:
        if identifier == "ops.file_loads":
            continue  # how many rows a file lost differs by when the correction arrived
        ignore = {"kept_raw_file_sha256", "kept_raw_line"}  # what replaced a row then, not now
        stepwise_rows = [{k: v for k, v in r.items() if k not in ignore} for r in contents(stepwise, identifier)]
        at_once_rows = [{k: v for k, v in r.items() if k not in ignore} for r in contents(at_once, identifier)]
        assert stepwise_rows == at_once_rows, identifier


@pytest.mark.parametrize("tampered", ["flip", "truncate"])
def test_altered_raw_object_fails_its_file_not_the_run(local: Settings, tmp_path: Path, tampered: str) -> None:
    exports = tmp_path / "exports"
    truth = small_export(exports, practices=1, appointments=500)
    lakehouse = Lakehouse.open(local)
    ingest_all(lakehouse, exports, truth)
    victim = next(
        e
        for e in lakehouse.catalog.load_table("ops.raw_files").scan().to_arrow().to_pylist()
        if e["dataset"] == "appointments" and e["status"] == "ingested"
    )
    path = Path(local.warehouse_uri.removeprefix("file://")) / victim["object_key"]
    data = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(data[:-10] if tampered == "truncate" else data[:20] + bytes([data[20] ^ 1]) + data[21:])
    report = lakehouse.transform()
    assert report.ledger is not None
    failed = report.ledger.failed
    assert [load["sha256"] for load in failed] == [victim["sha256"]]
    assert "fails authentication" in str(failed[0]["reason"])
    assert sum(1 for load in report.ledger.loads.values() if load["status"] == "loaded") > 10


def test_one_transform_at_a_time(local: Settings) -> None:
    from practicelake.errors import LockedError
    from practicelake.lakehouse.lock import writer_lock

    lakehouse = Lakehouse.open(local)
    with (
        writer_lock(lakehouse.store, kind="curate"),
        pytest.raises(LockedError, match="the warehouse is locked by curate"),
    ):
        lakehouse.transform()


def test_a_practice_no_longer_configured_is_refused_before_any_write(local: Settings, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    truth = small_export(exports, practices=1, appointments=300)
    ingest_all(Lakehouse.open(local), exports, truth)
    without = local.model_copy(update={"practices": {}})
    from practicelake.errors import UnknownPracticeError

    with pytest.raises(UnknownPracticeError, match="P001"):
        Lakehouse.open(without).transform()
    assert not list(Lakehouse.open(local).store.list("runs/"))
    assert Lakehouse.open(local).transform().run_id is not None
