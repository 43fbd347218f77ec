"""An ingest that dies after storing objects, before appending their manifest rows: the next
ingest appends them, so every stored object ends with exactly one row."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from practicelake.ingest.journal import FOLDER
from practicelake.ingest.manifest import read_manifest
from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings

DIES = """
import json, os, sys
from pathlib import Path
from practicelake.pipeline import Lakehouse
from practicelake.settings import load_settings

settings = load_settings(**json.loads(Path(sys.argv[1]).read_text()))
received = 0

def dies(entry):  # called once the file's object is stored
    global received
    received += 1
    if received == int(sys.argv[3]):
        os._exit(137)  # as a kill would: no cleanup

Lakehouse.open(settings).ingest("P001", [Path(sys.argv[2])], on_file=dies)
"""
DATASETS = ["adjustments", "charges", "payers", "providers"]


def exports(folder: Path) -> Path:
    batch = folder / "2024-01"
    batch.mkdir(parents=True)
    for i, dataset in enumerate(DATASETS):
        (batch / f"{dataset}.csv").write_bytes(
            f"practice_id,payer_id,name,payer_type\nP001,PAY{i},X,insurer\n".encode()
        )
    return batch


def ingest_and_die(settings: Settings, tmp_path: Path, folder: Path, after: int) -> None:
    config = tmp_path / "settings.json"
    config.write_text(settings.model_dump_json(), encoding="utf-8")
    died = subprocess.run(
        [sys.executable, "-c", DIES, str(config), str(folder), str(after)], capture_output=True, text=True, timeout=120
    )
    assert died.returncode == 137, died.stderr


def one_row_per_object(lakehouse: Lakehouse) -> None:
    rows = read_manifest(lakehouse.catalog).to_pylist()
    stored = Counter(row["object_key"] for row in rows if row["status"] != "already_ingested")
    assert set(stored) == set(lakehouse.store.list("raw/")) and set(stored.values()) == {1}


def test_the_next_ingest_of_other_files_appends_the_dead_ones_rows(local: Settings, tmp_path: Path) -> None:
    lakehouse = Lakehouse.open(local)
    ingest_and_die(local, tmp_path, exports(tmp_path / "P001"), after=3)
    assert len(list(lakehouse.store.list("raw/"))) == 3 and len(read_manifest(lakehouse.catalog)) == 0
    other = tmp_path / "P002" / "payers.csv"
    other.parent.mkdir()
    other.write_bytes(b"practice_id,payer_id,name,payer_type\nP002,PAY1,X,insurer\n")
    report = lakehouse.ingest("P002", [other])
    assert [(e.practice_id, e.source_name) for e in report.recovered] == [
        ("P001", "adjustments.csv"),
        ("P001", "charges.csv"),
        ("P001", "payers.csv"),
    ]
    assert {row["batch"] for row in read_manifest(lakehouse.catalog).to_pylist() if row["practice_id"] == "P001"} == {
        "2024-01"
    }  # the rows as the dead ingest made them
    one_row_per_object(lakehouse)
    assert list((local.state_dir / FOLDER).iterdir()) == []


def test_reingesting_the_same_files_records_them_once(local: Settings, tmp_path: Path) -> None:
    lakehouse = Lakehouse.open(local)
    folder = exports(tmp_path / "P001")
    ingest_and_die(local, tmp_path, folder, after=2)
    report = lakehouse.ingest("P001", [folder])
    # the same rows as an ingest that had not died (only payers.csv holds what its name says)
    assert [e.status for e in report.entries] == ["failed", "failed", "ingested", "failed"]
    assert report.recovered == []
    one_row_per_object(lakehouse)
    again = lakehouse.ingest("P001", [folder])
    assert {e.status for e in again.entries} == {"already_ingested"}
    one_row_per_object(lakehouse)
