"""Exports into the raw zone: byte-exact, content-addressed, write-once, recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from practicelake.crypto.keystore import open_keys
from practicelake.errors import SettingsError, UnknownPracticeError
from practicelake.ingest.manifest import read_manifest
from practicelake.pipeline import Lakehouse

PAYERS = b"practice_id,payer_id,name,payer_type\r\nP001,PAY1,Discovery Health,Medical Scheme\r\n"


def write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def test_file_is_stored_byte_for_byte_under_its_keyed_hash(lakehouse: Lakehouse, tmp_path: Path) -> None:
    path = write(tmp_path / "exports" / "2024-01", "payers.csv", PAYERS)
    report = lakehouse.ingest("P001", [path])
    (entry,) = report.entries
    address = hmac.new(open_keys(lakehouse.settings).file_hash_secret("P001"), PAYERS, "sha256").hexdigest()
    assert entry.status == "ingested" and entry.sha256 == address and entry.batch == "2024-01"
    assert entry.object_key.startswith("raw/practice_id=P001/source=pms/dataset=payers/ingest_date=")
    assert entry.object_key.endswith(f"/{address}.csv")
    assert lakehouse.raw.read(entry.object_key, address) == PAYERS
    assert PAYERS not in lakehouse.store.get(entry.object_key)  # encrypted at rest


def test_no_plain_sha256_of_a_file_is_kept(lakehouse: Lakehouse, tmp_path: Path) -> None:
    """Whoever holds a file and can list the bucket or read the manifest cannot confirm that
    it was received: object names and manifest rows carry only the keyed hash."""
    path = write(tmp_path / "2024-01", "payers.csv", PAYERS)
    lakehouse.ingest("P001", [path])
    plain = hashlib.sha256(PAYERS).hexdigest()
    assert not [key for key in lakehouse.store.list("raw/") if plain in key]
    assert plain not in str(read_manifest(lakehouse.catalog).to_pylist())


def test_the_keyed_hash_differs_by_practice(lakehouse: Lakehouse, tmp_path: Path) -> None:
    path = write(tmp_path / "2024-01", "payers.csv", PAYERS)
    a = lakehouse.ingest("P001", [path]).entries[0]
    b = lakehouse.ingest("P002", [path]).entries[0]
    assert a.sha256 != b.sha256


def test_keys_of_an_earlier_version_are_refused_with_what_to_do(lakehouse: Lakehouse, tmp_path: Path) -> None:
    """A key store from before keyed file names has no file hash secret: its practices' raw
    objects are named by their plain SHA-256, which no keyed hash would ever match."""
    keys = open_keys(lakehouse.settings)
    keys.data_key("P001")
    document = json.loads(keys.path.read_text(encoding="utf-8"))
    del document["practices"]["P001"]["file_hash_secret"]
    keys.path.write_text(json.dumps(document), encoding="utf-8")
    path = write(tmp_path / "2024-01", "payers.csv", PAYERS)
    with pytest.raises(SettingsError, match=r"earlier practicelake.*plain SHA-256.*start a new lakehouse"):
        lakehouse.ingest("P001", [path])
    assert list(lakehouse.store.list("raw/")) == []


def test_reingesting_identical_bytes_is_a_recorded_no_op(lakehouse: Lakehouse, tmp_path: Path) -> None:
    path = write(tmp_path / "2024-01", "payers.csv", PAYERS)
    first = lakehouse.ingest("P001", [path])
    second = lakehouse.ingest("P001", [path])
    assert second.entries[0].status == "already_ingested"
    assert second.entries[0].object_key == first.entries[0].object_key
    manifest = read_manifest(lakehouse.catalog).to_pylist()
    assert sorted(row["status"] for row in manifest) == ["already_ingested", "ingested"]
    assert len(list(lakehouse.store.list("raw/"))) == 1


def test_same_bytes_for_two_practices_are_two_objects(lakehouse: Lakehouse, tmp_path: Path) -> None:
    path = write(tmp_path / "2024-01", "payers.csv", PAYERS)
    a = lakehouse.ingest("P001", [path]).entries[0]
    b = lakehouse.ingest("P002", [path]).entries[0]
    assert a.status == b.status == "ingested" and a.object_key != b.object_key


def test_practice_must_be_configured(lakehouse: Lakehouse, tmp_path: Path) -> None:
    path = write(tmp_path / "2024-01", "payers.csv", PAYERS)
    with pytest.raises(UnknownPracticeError, match="P999"):
        lakehouse.ingest("P999", [path])
    assert list(lakehouse.store.list("raw/")) == []


def test_folder_ingest_takes_every_csv_in_order(lakehouse: Lakehouse, tmp_path: Path) -> None:
    write(tmp_path / "P001" / "2024-02", "payers.csv", PAYERS + b"P001,PAY2,Gov,government\n")
    write(tmp_path / "P001" / "2024-01", "payers.csv", PAYERS)
    write(tmp_path / "P001" / "2024-01", "readme.txt", b"not an export")
    report = lakehouse.ingest("P001", [tmp_path / "P001"])
    assert [(e.batch, e.status) for e in report.entries] == [("2024-01", "ingested"), ("2024-02", "ingested")]


MALFORMED = {
    "empty": (b"", "empty file"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content"),
    "latin-1": ("practice_id,payer_id,name,payer_type\nP001,PAY1,Caf\u00e9,insurer\n".encode("latin-1"), "not UTF-8"),
    "wrong columns": (b"practice_id,payer_id,label\nP001,PAY1,x\n", "missing columns: name, payer_type"),
    "truncated": (PAYERS + b"P001,PAY2,Gover", "truncated"),
    "open quote": (PAYERS + b'P001,PAY2,"Gover', "truncated"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_file_is_kept_marked_failed_and_does_not_stop_others(
    lakehouse: Lakehouse, tmp_path: Path, case: str
) -> None:
    data, reason = MALFORMED[case]
    bad = write(tmp_path / "2024-01", "payers.csv", data)
    good = write(tmp_path / "2024-02", "payers.csv", PAYERS)
    report = lakehouse.ingest("P001", [bad, good])
    failed, ok = report.entries
    assert failed.status == "failed" and reason in (failed.reason or "")
    assert "\n" not in (failed.reason or "")
    assert ok.status == "ingested"
    assert lakehouse.raw.read(failed.object_key, failed.sha256) == data  # kept in raw as received


def test_unknown_dataset_is_kept_and_failed(lakehouse: Lakehouse, tmp_path: Path) -> None:
    path = write(tmp_path / "2024-01", "invoices.csv", b"a,b\n1,2\n")
    (entry,) = lakehouse.ingest("P001", [path]).entries
    assert entry.status == "failed" and "unknown dataset 'invoices'" in (entry.reason or "")
    assert lakehouse.raw.read(entry.object_key, entry.sha256) == b"a,b\n1,2\n"


def test_header_names_are_normalised(lakehouse: Lakehouse, tmp_path: Path) -> None:
    path = write(
        tmp_path / "2024-01", "payers.csv", b"\xef\xbb\xbfPractice ID,Payer-ID,Name,Payer Type\nP001,A,B,insurer\n"
    )
    (entry,) = lakehouse.ingest("P001", [path]).entries
    assert entry.status == "ingested", entry.reason
