"""The manifest records each file's format and extension; a manifest written before those
columns existed gains them and its rows still load; a format that does not exist is refused
before anything is read or recorded."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from lakes import local_settings
from practicelake.errors import PracticelakeError
from practicelake.formats import compressed
from practicelake.ingest.manifest import ManifestEntry, read_manifest
from practicelake.lakehouse.catalog import ensure_table
from practicelake.lakehouse.schemas import RAW_FILES
from practicelake.pipeline import Lakehouse

PAYERS = b"practice_id,payer_id,name,payer_type\nP001,PAY1,Discovery Health,insurer\n"
ADDED = ("format", "extension", "mapping_key")


def test_a_file_is_recorded_with_its_format_and_extension(lakehouse: Lakehouse, tmp_path: Path) -> None:
    export = tmp_path / "2024-01" / "PAYERS.CSV"
    export.parent.mkdir()
    export.write_bytes(PAYERS)
    (entry,) = lakehouse.ingest("P001", [export]).entries
    assert (entry.status, entry.dataset, entry.format, entry.extension) == (
        "ingested",
        "payers",
        "practicelake-csv",
        ".csv",
    )
    assert entry.object_key.endswith(f"/{entry.sha256}.csv")
    (row,) = read_manifest(lakehouse.catalog).to_pylist()
    assert (row["format"], row["extension"], row["mapping_key"]) == ("practicelake-csv", ".csv", None)


def test_an_unknown_format_is_refused_before_anything_is_recorded(lakehouse: Lakehouse, tmp_path: Path) -> None:
    export = tmp_path / "payers.csv"
    export.write_bytes(PAYERS)
    with pytest.raises(PracticelakeError, match=r"unknown format 'x12-999' \(expected one of: .*x12-835"):
        lakehouse.ingest("P001", [export], source_format="x12-999")
    assert read_manifest(lakehouse.catalog).num_rows == 0
    assert list(lakehouse.store.list("raw/")) == []


def test_a_manifest_from_before_formats_gains_the_columns_and_its_files_still_load(tmp_path: Path) -> None:
    settings = local_settings(tmp_path)
    lakehouse = Lakehouse.open(settings)
    old_schema = pa.schema([field for field in RAW_FILES if field.name not in ADDED])
    ensure_table(lakehouse.catalog, "ops.raw_files", old_schema)
    export = tmp_path / "2024-01" / "payers.csv"
    export.parent.mkdir()
    export.write_bytes(PAYERS)
    first = lakehouse.ingest("P001", [export]).entries[0]
    # The manifest as an ingest of before wrote it: the same row, without the new columns.
    lakehouse.catalog.drop_table("ops.raw_files")
    old = ensure_table(lakehouse.catalog, "ops.raw_files", old_schema)
    old_row = {name: value for name, value in vars(first).items() if name not in ADDED}
    old.append(pa.Table.from_pylist([old_row], schema=old_schema))
    assert "format" not in lakehouse.catalog.load_table("ops.raw_files").schema().column_names
    rows = read_manifest(lakehouse.catalog).to_pylist()
    assert [(row["status"], row["format"]) for row in rows] == [("ingested", None)]
    report = lakehouse.transform()
    assert report.ledger is not None and report.ledger.total("rows_accepted") == 1
    cleaned = lakehouse.catalog.load_table("cleaned.payer").scan().to_arrow()
    assert cleaned["payer_id"].to_pylist() == ["PAY1"]


def test_a_folders_txt_file_is_taken_only_when_a_format_claims_it(lakehouse: Lakehouse, tmp_path: Path) -> None:
    folder = tmp_path / "2024-01"
    folder.mkdir()
    remittance = Path(__file__).parents[1] / "fixtures" / "formats" / "x12" / "pyx12" / "835_simple.txt"
    (folder / "remit.txt").write_bytes(remittance.read_bytes())
    (folder / "README.txt").write_text("exported by the billing system\n", encoding="utf-8")
    report = lakehouse.ingest("P001", [folder])
    assert {(e.source_name, e.format) for e in report.entries} == {("remit.txt", "x12-835")}
    assert report.count("ingested") == 1 < len(report.entries)  # one file, a row per dataset it feeds
    assert [(s.path.name, s.reason) for s in report.skipped] == [
        ("README.txt", "not an export: no format recognises its content")
    ]
    assert len({e.object_key for e in report.entries}) == 1 == len(list(lakehouse.store.list("raw/")))
    named = tmp_path / "notes.txt"  # named on the command line: taken, and its content decides
    named.write_text("a,b\n1,2\n", encoding="utf-8")
    (entry,) = lakehouse.ingest("P001", [named]).entries
    assert entry.status == "failed" and "unknown dataset 'notes'" in (entry.reason or "")


def test_gzip_exports_are_kept_compressed_and_read_as_what_they_hold(
    lakehouse: Lakehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "2024-01"
    folder.mkdir()
    packed = gzip.compress(PAYERS)
    (folder / "payers.csv.gz").write_bytes(packed)
    bundles = Path(__file__).parents[1] / "fixtures" / "formats" / "fhir" / "synthea" / "fhir"
    bundle = next(bundles.glob("Christeen*.json.gz"))  # a patient's record
    shutil.copy(bundle, folder / "bundle.json.gz")
    (folder / "cut.csv.gz").write_bytes(packed[: len(packed) // 2])
    (folder / "readme.txt.gz").write_bytes(gzip.compress(b"notes of the export\n"))
    report = lakehouse.ingest("P001", [folder])
    by_name: dict[str, list[ManifestEntry]] = {}
    for entry in report.entries:
        by_name.setdefault(entry.source_name, []).append(entry)
    (payers,) = by_name["payers.csv.gz"]
    assert (payers.status, payers.dataset, payers.format, payers.extension) == (
        "ingested",
        "payers",
        "practicelake-csv",
        ".csv.gz",
    )
    assert payers.object_key.endswith(".csv.gz") and lakehouse.raw.read(payers.object_key, payers.sha256) == packed
    assert {e.format for e in by_name["bundle.json.gz"]} == {"fhir-r4"} and len(by_name["bundle.json.gz"]) > 1
    (cut,) = by_name["cut.csv.gz"]
    assert cut.status == "failed" and cut.reason == "gzip: cannot be decompressed (EOFError)"
    assert [s.path.name for s in report.skipped] == ["readme.txt.gz"]
    lakehouse.transform()
    cleaned = lakehouse.catalog.load_table("cleaned.payer").scan().to_arrow()
    assert "PAY1" in cleaned["payer_id"].to_pylist()
    assert lakehouse.catalog.load_table("cleaned.patient").scan().to_arrow().num_rows >= 1
    monkeypatch.setattr(compressed, "EXPANDED_LIMIT", 1000)  # 2 GiB in use: a file expanding past it is refused
    bomb = tmp_path / "bomb.ndjson.gz"
    bomb.write_bytes(gzip.compress(b"\n" * 5000))
    (refused,) = lakehouse.ingest("P001", [bomb]).entries
    assert refused.status == "failed" and "expands past" in (refused.reason or "")
