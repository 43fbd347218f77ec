"""Offboarding a practice: its keys are destroyed, its raw objects no longer decrypt, and no
table, snapshot or data file still holds its rows; the other practices are untouched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from clean.generated import ingest_all, small_export
from lakes import config_file, local_settings, s3_settings
from practicelake.cli.practice import practice_app
from practicelake.crypto.keystore import ShreddedError, open_keys
from practicelake.errors import IntegrityError, LockedError, UnknownPracticeError
from practicelake.ingest.journal import IngestJournal
from practicelake.lakehouse.catalog import NAMESPACES
from practicelake.lakehouse.lock import writer_lock
from practicelake.pipeline import Lakehouse
from practicelake.pipeline.offboard import OffboardReport, offboard

LEAVING = "P001"


def all_tables(lakehouse: Lakehouse) -> dict[str, Any]:
    return {
        ".".join(identifier): lakehouse.catalog.load_table(identifier)
        for namespace in NAMESPACES
        for identifier in lakehouse.catalog.list_tables(namespace)
    }


def rows_by_practice(lakehouse: Lakehouse) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per table with a practice_id column: its rows, by practice."""
    found: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name, table in all_tables(lakehouse).items():
        if "practice_id" in table.schema().column_names:
            for row in table.scan().to_arrow().to_pylist():
                found.setdefault(name, {}).setdefault(row["practice_id"], []).append(row)
    return found


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("offboard")
    truth = small_export(root / "exports", practices=3, appointments=1500, seed=11)
    lakehouse = Lakehouse.open(local_settings(root))
    ingest_all(lakehouse, root / "exports", truth)
    lakehouse.transform()
    lakehouse.curate()
    before = rows_by_practice(lakehouse)
    raw_files = lakehouse.catalog.load_table("ops.raw_files").scan().to_arrow().to_pylist()
    told: list[OffboardReport] = []
    report = offboard(lakehouse.settings, lakehouse.catalog, lakehouse.store, LEAVING, on_done=told.append)
    return {"lakehouse": lakehouse, "before": before, "raw_files": raw_files, "report": report, "told": told}


def test_report_says_what_was_destroyed(lake: dict[str, Any]) -> None:
    report: OffboardReport = lake["report"]
    assert lake["told"] == [report]
    assert report.keys_destroyed is True
    held = {name for name, practices in lake["before"].items() if LEAVING in practices}
    assert set(report.rows_deleted) == held
    assert {"cleaned.appointment", "ops.raw_files", "ops.curate_state"} <= held
    assert any(name.startswith("curated.") for name in held)
    for name in held:  # its rows, and those built from every practice ('*': the benchmarks' state)
        assert report.rows_deleted[name] == len(lake["before"][name][LEAVING]) + len(lake["before"][name].get("*", []))
    assert report.files_removed > 0
    assert report.raw_objects == sum(
        1 for f in lake["raw_files"] if f["practice_id"] == LEAVING and f["status"] != "already_ingested"
    )


def test_no_table_holds_the_practice_and_the_others_are_untouched(lake: dict[str, Any]) -> None:
    after = rows_by_practice(lake["lakehouse"])
    for name, practices in lake["before"].items():
        assert LEAVING not in after.get(name, {}) and "*" not in after.get(name, {}), name
        for practice_id, rows in practices.items():
            if practice_id not in (LEAVING, "*"):
                assert after[name][practice_id] == rows, (name, practice_id)


def test_time_travel_cannot_bring_the_rows_back(lake: dict[str, Any]) -> None:
    for name, table in all_tables(lake["lakehouse"]).items():
        if "practice_id" not in table.schema().column_names:
            continue
        for snapshot in table.snapshots():
            rows = table.scan(snapshot_id=snapshot.snapshot_id, selected_fields=("practice_id",)).to_arrow()
            assert LEAVING not in rows["practice_id"].to_pylist(), (name, snapshot.snapshot_id)


def test_no_data_file_of_the_practice_is_left_in_the_warehouse(lake: dict[str, Any]) -> None:
    warehouse = Path(lake["lakehouse"].settings.warehouse_uri.removeprefix("file://")) / "iceberg"
    left = [p for p in warehouse.rglob("*") if p.is_file() and f"practice_id={LEAVING}" in p.as_posix()]
    assert left == []


def test_raw_objects_no_longer_decrypt(lake: dict[str, Any]) -> None:
    raw = lake["lakehouse"].raw
    stored = [f for f in lake["raw_files"] if f["status"] != "already_ingested"]
    leaving = [f for f in stored if f["practice_id"] == LEAVING]
    assert leaving
    for entry in leaving:
        assert raw.store.exists(entry["object_key"])  # the ciphertext may stay: it is noise now
        with pytest.raises(IntegrityError, match=f"{entry['object_key']} cannot be decrypted.*offboarded"):
            raw.read(entry["object_key"], entry["sha256"])
    for entry in (f for f in stored if f["practice_id"] != LEAVING):
        raw.read(entry["object_key"], entry["sha256"])


def test_the_practice_id_takes_no_new_data_and_runs_go_on(lake: dict[str, Any], tmp_path: Path) -> None:
    lakehouse: Lakehouse = lake["lakehouse"]
    export = tmp_path / "2024-01" / "payers.csv"
    export.parent.mkdir()
    export.write_text("practice_id,payer_id,name,payer_type\nP001,PAY1,X,insurer\n", encoding="utf-8")
    with pytest.raises(ShreddedError, match="P001 was offboarded"):
        lakehouse.ingest(LEAVING, [export])
    assert list((lakehouse.settings.state_dir / "ingest").glob("*.jsonl")) == []  # not even a journal
    with pytest.raises(ShreddedError):
        open_keys(lakehouse.settings).pseudonym_secret(LEAVING)
    assert lakehouse.transform().run_id is None  # nothing of P001 is left pending
    lakehouse.curate()
    assert LEAVING not in {p for practices in rows_by_practice(lakehouse).values() for p in practices}


def test_offboarding_again_changes_nothing(lake: dict[str, Any]) -> None:
    lakehouse: Lakehouse = lake["lakehouse"]
    before = rows_by_practice(lakehouse)
    again = offboard(lakehouse.settings, lakehouse.catalog, lakehouse.store, LEAVING)
    assert again.keys_destroyed is False and again.rows_deleted == {}
    assert rows_by_practice(lakehouse) == before
    # The history runs made since the first are forgotten; then nothing is left to forget.
    assert offboard(lakehouse.settings, lakehouse.catalog, lakehouse.store, LEAVING).files_removed == 0


def test_unknown_practice_is_refused(tmp_path: Path) -> None:
    lakehouse = Lakehouse.open(local_settings(tmp_path))
    with pytest.raises(UnknownPracticeError):
        offboard(lakehouse.settings, lakehouse.catalog, lakehouse.store, "P404")
    assert not lakehouse.settings.key_file.exists()


def test_refused_while_a_transform_or_curate_runs(tmp_path: Path) -> None:
    lakehouse = Lakehouse.open(local_settings(tmp_path))
    open_keys(lakehouse.settings).data_key(LEAVING)
    with writer_lock(lakehouse.store, kind="transform"), pytest.raises(LockedError):
        offboard(lakehouse.settings, lakehouse.catalog, lakehouse.store, LEAVING)
    assert open_keys(lakehouse.settings).data_key(LEAVING)  # keys untouched


def test_refused_while_an_ingest_runs(tmp_path: Path) -> None:
    """An ingest takes no writer lock; its journal, locked while it runs, says it is running."""
    lakehouse = Lakehouse.open(local_settings(tmp_path))
    open_keys(lakehouse.settings).data_key(LEAVING)
    with IngestJournal(lakehouse.settings.state_dir, "20240101T000000-running0"), pytest.raises(LockedError):
        offboard(lakehouse.settings, lakehouse.catalog, lakehouse.store, LEAVING)
    assert open_keys(lakehouse.settings).data_key(LEAVING)  # keys untouched
    assert offboard(lakehouse.settings, lakehouse.catalog, lakehouse.store, LEAVING).keys_destroyed


def practicelake(*args: str, answer: str) -> Any:
    """The command as the main app will mount it: `practicelake practice offboard ...`."""
    app = typer.Typer()
    app.add_typer(practice_app, name="practice")
    return CliRunner().invoke(app, ["practice", *args], input=answer + "\n")


def settings_file(tmp_path: Path) -> Path:
    return config_file(tmp_path / "practicelake.toml", local_settings(tmp_path))


@pytest.mark.parametrize("answer", ["", "y", "yes", "P002", "p001"])
def test_command_needs_the_practice_id_typed_back(tmp_path: Path, answer: str) -> None:
    config = settings_file(tmp_path)
    keys = open_keys(local_settings(tmp_path))
    secret = keys.data_key(LEAVING)
    result = practicelake("offboard", LEAVING, "--config", str(config), answer=answer)
    assert result.exit_code == 1 and "nothing changed" in result.output
    assert keys.data_key(LEAVING) == secret


@pytest.mark.parametrize(("confirm", "answer"), [(["--yes"], ""), ([], LEAVING)])
def test_command_offboards_when_confirmed(tmp_path: Path, confirm: list[str], answer: str) -> None:
    config = settings_file(tmp_path)
    keys = open_keys(local_settings(tmp_path))
    keys.data_key(LEAVING)
    result = practicelake("offboard", LEAVING, "--config", str(config), *confirm, answer=answer)
    assert result.exit_code == 0, result.output
    assert "practice P001 offboarded" in result.output and "keys destroyed" in result.output
    with pytest.raises(ShreddedError):
        keys.data_key(LEAVING)


@pytest.mark.s3
def test_offboarding_on_s3_leaves_no_row_or_file_of_the_practice(tmp_path: Path, s3_endpoint: str) -> None:
    truth = small_export(tmp_path / "exports", practices=2, appointments=300, seed=3)
    lakehouse = Lakehouse.open(s3_settings(tmp_path, s3_endpoint))
    ingest_all(lakehouse, tmp_path / "exports", truth)
    lakehouse.transform()
    lakehouse.curate()
    assert any(f"practice_id={LEAVING}/" in key for key in lakehouse.store.list("iceberg/"))
    report = offboard(lakehouse.settings, lakehouse.catalog, lakehouse.store, LEAVING)
    assert report.keys_destroyed and report.files_removed > 0 and report.raw_objects > 0
    left = [key for key in lakehouse.store.list("iceberg/") if f"practice_id={LEAVING}/" in key]
    assert all(key.endswith("/") and lakehouse.store.get(key) == b"" for key in left)  # empty folder markers
    practices = rows_by_practice(lakehouse)
    assert practices and all(set(by_practice) == {"P002"} for by_practice in practices.values())
