"""Real sample files of every format through the whole pipeline, their formats detected from
their content: per file and dataset, the records read are the rows cleaned, quarantined and
superseded; the amounts of the cleaned rows are those added up from the files with plain
Python; and no patient identifier of any file reaches the cleaned zone."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from formats.x12.x12_samples import FIXTURES as X12
from formats.x12.x12_samples import cas_amounts, of, plb_amounts, segments, total
from lakes import local_settings
from practicelake.clean import read as read_module
from practicelake.clean.reconcile import reconcile
from practicelake.contracts import CONTRACTS
from practicelake.ingest.manifest import read_manifest
from practicelake.ingest.raw import RawZone
from practicelake.pipeline import Lakehouse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "formats"
MAPPED = {
    "Appointment", "Slot", "Schedule", "Encounter", "Claim", "ClaimResponse", "ExplanationOfBenefit", "Coverage",
    "Patient", "Practitioner", "PractitionerRole", "Organization", "Location",
}  # fmt: skip


def _load(tmp_path: Path, folder: Path) -> Lakehouse:
    lakehouse = Lakehouse.open(local_settings(tmp_path / "lake"))
    lakehouse.ingest("P001", [folder])
    lakehouse.transform()
    return lakehouse


def _table(lakehouse: Lakehouse, name: str) -> pa.Table:
    return lakehouse.catalog.load_table(name).scan().to_arrow()


def _balanced(lakehouse: Lakehouse) -> dict[tuple[str, str], dict[str, int]]:
    """Per (file, dataset) loaded: the file's records of the dataset, accounted for."""
    manifest = [r for r in read_manifest(lakehouse.catalog).to_pylist() if r["status"] == "ingested"]
    loads = {(r["sha256"], r["dataset"]): r for r in _table(lakehouse, "ops.file_loads").to_pylist()}
    quarantined = Counter((r["raw_file_sha256"], r["entity"]) for r in _table(lakehouse, "ops.quarantine").to_pylist())
    entity = {c.dataset: c.entity for c in CONTRACTS}
    found = {}
    for row in manifest:
        load = loads[(row["sha256"], row["dataset"])]  # every dataset of every file was loaded
        assert load["status"] == "loaded", (row["source_name"], row["dataset"], load["reason"])
        read, kept = load["rows_read"], load["rows_accepted"] + load["rows_quarantined"]
        assert read == kept, (row["source_name"], row["dataset"])
        assert quarantined[(row["sha256"], entity[row["dataset"]])] == load["rows_quarantined"]
        found[(row["source_name"], row["dataset"])] = load
    # The same, counted from the tables themselves (what `practicelake status` shows).
    reconciled = [r for r in reconcile(lakehouse.catalog).to_pylist() if r["status"] == "loaded"]
    assert len(reconciled) == len(found) and all(r["balanced"] for r in reconciled)
    return found


def _cleaned_text(lakehouse: Lakehouse) -> set[str]:
    """Every text value of every cleaned table."""
    values: set[str] = set()
    for contract in CONTRACTS:
        table = _table(lakehouse, f"cleaned.{contract.entity}")
        for column in table.columns:
            if pa.types.is_string(column.type):
                values |= {v for v in pc.unique(column).to_pylist() if v}
    return values


def test_x12_files_load_in_full_to_the_cent(tmp_path: Path) -> None:
    lakehouse = _load(tmp_path, X12)
    loads = _balanced(lakehouse)
    assert {dataset for _, dataset in loads} == {
        "claim_outcomes", "payments", "adjustments", "claims", "charges", "encounters", "patients",
    }  # fmt: skip
    manifest = read_manifest(lakehouse.catalog).to_pylist()
    shas = {r["source_name"]: r["sha256"] for r in manifest if r["status"] == "ingested"}
    outcomes = _table(lakehouse, "cleaned.claim_outcome").to_pylist()
    adjustments = _table(lakehouse, "cleaned.adjustment").to_pylist()
    payments = _table(lakehouse, "cleaned.payment").to_pylist()
    patient_ids: set[str] = set()
    checked = 0
    for path in sorted(X12.rglob("*")):
        if not path.is_file() or path.name not in shas:
            continue
        found = segments(path.read_bytes())
        patient_ids |= {s[9] for s in found if s[0] == "NM1" and s[1] in ("QC", "IL") and len(s) > 9 and s[9]}
        load = loads.get((path.name, "claim_outcomes"))
        paid = loads.get((path.name, "payments"))  # a remittance that pays nothing feeds no payments
        if load is None or load["rows_quarantined"] or (paid is not None and paid["rows_quarantined"]):
            continue  # a remittance with a claim the contracts refuse: its figures are not all loaded
        sha = shas[path.name]
        mine = [o for o in outcomes if o["raw_file_sha256"] == sha]
        assert len(mine) == len(of(found, "CLP")), path.name
        assert sum(o["paid_amount"] for o in mine) == total([s[4] for s in of(found, "CLP")]), path.name
        assert sum(o["billed_amount"] for o in mine) == total([s[3] for s in of(found, "CLP")]), path.name
        adjusted = sum((a["amount"] for a in adjustments if a["raw_file_sha256"] == sha), Decimal(0))
        assert adjusted == total(cas_amounts(found)), path.name
        paid = sum((p["amount"] for p in payments if p["raw_file_sha256"] == sha), Decimal(0))
        assert paid == total([s[4] for s in of(found, "CLP")]) - total(plb_amounts(found)), path.name
        checked += 1
    assert checked >= 3
    assert patient_ids and not patient_ids & _cleaned_text(lakehouse)


def _hl7_segments(path: Path) -> list[list[str]]:
    return [line.split("|") for line in re.split(r"\r\n|\r|\n", path.read_text(encoding="latin-1")) if line]


def test_hl7_messages_load_and_their_patients_stay_in_raw(tmp_path: Path) -> None:
    folder = FIXTURES / "hl7v2"
    lakehouse = _load(tmp_path, folder)
    loads = _balanced(lakehouse)
    failed = {r["source_name"] for r in read_manifest(lakehouse.catalog).to_pylist() if r["status"] == "failed"}
    files = sorted(p for p in folder.glob("*.hl7"))
    kinds = {p.name: next(s[8] for s in _hl7_segments(p) if s[0] == "MSH") for p in files}
    # BAR and DFT P11 messages feed no dataset: those files fail, named, and nothing else does.
    assert failed == {name for name, kind in kinds.items() if not kind.startswith(("SIU", "DFT^P03", "ADT^A0"))}
    appointment_ids = {
        s[2].split("^")[0] or s[1].split("^")[0] for p in files for s in _hl7_segments(p) if s[0] == "SCH"
    }
    appointments = _table(lakehouse, "cleaned.appointment")
    assert set(appointments["appointment_id"].to_pylist()) == appointment_ids
    charges = _table(lakehouse, "cleaned.charge")
    amounts: dict[str, Decimal] = {}  # by charge id: FT1-2, else MSH-10 and FT1-1 (a later file's wins)
    for path in files:
        if kinds[path.name].startswith("DFT^P03"):
            control = ""
            for fields in _hl7_segments(path):
                control = fields[9] if fields[0] == "MSH" else control
                if fields[0] == "FT1":
                    amounts[fields[2] or f"{control}-{fields[1]}"] = Decimal(fields[11].split("^")[0].split("&")[0])
    assert dict(zip(charges["charge_id"].to_pylist(), charges["amount"].to_pylist(), strict=True)) == amounts
    assert sum(load["rows_quarantined"] for (_, dataset), load in loads.items() if dataset == "charges") == 0
    patient_ids = {s[3].split("^")[0] for p in files for s in _hl7_segments(p) if s[0] == "PID" and s[3]}
    assert patient_ids and not patient_ids & _cleaned_text(lakehouse)


def test_fhir_resources_load_and_their_patients_stay_in_raw(tmp_path: Path) -> None:
    folder = tmp_path / "fhir"
    shutil.copytree(FIXTURES / "fhir" / "r4-examples", folder / "examples")
    for packed in (FIXTURES / "fhir" / "synthea" / "fhir").glob("*.json.gz"):
        (folder / packed.name.removesuffix(".gz")).write_bytes(gzip.decompress(packed.read_bytes()))
    lakehouse = _load(tmp_path, folder)
    loads = _balanced(lakehouse)
    manifest = read_manifest(lakehouse.catalog).to_pylist()
    assert {r["format"] for r in manifest} == {"fhir-r4"}
    resources: dict[str, list[dict[str, object]]] = defaultdict(list)
    unread: set[str] = set()
    for path in folder.rglob("*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        bundled = document["resourceType"] == "Bundle"
        entries = [e["resource"] for e in document.get("entry", [])] if bundled else [document]
        for resource in entries:
            resources[str(resource["resourceType"])].append(resource)
        if not {str(r["resourceType"]) for r in entries} & MAPPED:
            unread.add(path.name)
    failed = {r["source_name"]: r["reason"] for r in manifest if r["status"] == "failed"}
    assert set(failed) == unread and "AppointmentResponse-example.json" in unread
    assert all("nothing in it feeds a dataset" in reason for reason in failed.values())
    encounters = _table(lakehouse, "cleaned.encounter")
    read = sum(load["rows_read"] for (_, dataset), load in loads.items() if dataset == "encounters")
    assert read == len(resources["Encounter"]) and encounters.num_rows > 0
    patient_ids = {str(p["id"]) for p in resources["Patient"]}
    patient_ids |= {str(i["value"]) for p in resources["Patient"] for i in p.get("identifier", []) if i.get("value")}  # type: ignore[union-attr,attr-defined]
    assert patient_ids and not patient_ids & _cleaned_text(lakehouse)


@pytest.mark.parametrize("name", ["claims_transactions", "patients", "encounters"])
def test_a_synthea_export_through_its_mapping_loads_in_full(tmp_path: Path, name: str) -> None:
    packed = FIXTURES / "mapping" / "synthea" / f"{name}.csv.gz"
    export = tmp_path / "export" / f"{name}.csv"
    export.parent.mkdir()
    export.write_bytes(gzip.decompress(packed.read_bytes()))
    lakehouse = Lakehouse.open(local_settings(tmp_path / "lake"))
    mapping = Path(__file__).parents[2] / "src" / "practicelake" / "formats" / "mappings" / "synthea.toml"
    report = lakehouse.ingest("P001", [export], mapping=mapping)
    assert {e.format for e in report.entries} == {"csv:synthea"} and all(e.mapping_key for e in report.entries)
    lakehouse.transform()
    loads = _balanced(lakehouse)
    assert loads and all(load["rows_read"] > 0 for (_, dataset), load in loads.items() if dataset != "adjustments")
    ids = {line.split(",")[0] for line in export.read_text(encoding="utf-8").splitlines()[1:]}
    if name == "patients":
        assert not ids & _cleaned_text(lakehouse)


def test_the_same_synthea_patients_through_the_csv_mapping_and_fhir_give_the_same_cleaned_rows(
    tmp_path: Path,
) -> None:
    lakehouse = Lakehouse.open(local_settings(tmp_path / "lake"))
    exports = tmp_path / "a-csv"
    exports.mkdir()
    for name in ("patients", "encounters"):
        packed = FIXTURES / "mapping" / "synthea" / f"{name}.csv.gz"
        (exports / f"{name}.csv").write_bytes(gzip.decompress(packed.read_bytes()))
    mapping = Path(__file__).parents[2] / "src" / "practicelake" / "formats" / "mappings" / "synthea.toml"
    lakehouse.ingest("P001", [exports], mapping=mapping)
    lakehouse.transform()
    keys = {"encounter": "encounter_id", "patient": "patient_key"}
    through_csv = {entity: _rows_by(lakehouse, entity, key) for entity, key in keys.items()}
    bundles = tmp_path / "b-fhir"  # a later batch: its rows supersede the CSV's
    bundles.mkdir()
    for packed in (FIXTURES / "fhir" / "synthea" / "fhir").glob("*.json.gz"):
        (bundles / packed.name.removesuffix(".gz")).write_bytes(gzip.decompress(packed.read_bytes()))
    lakehouse.ingest("P001", [bundles])
    lakehouse.transform()
    through_fhir = {entity: _rows_by(lakehouse, entity, key) for entity, key in keys.items()}
    fhir_files = {r["sha256"] for r in read_manifest(lakehouse.catalog).to_pylist() if r["format"] == "fhir-r4"}
    compared = {"encounter": ("patient_key", "encounter_date"), "patient": ("birth_year", "sex", "postal_prefix")}
    for entity, columns in compared.items():
        from_fhir = {k: row for k, row in through_fhir[entity].items() if row["raw_file_sha256"] in fhir_files}
        assert len(from_fhir) >= 2, entity  # the two patients of the bundles, and their visits
        for key, row in from_fhir.items():
            assert key in through_csv[entity], (entity, key)
            assert {c: row[c] for c in columns} == {c: through_csv[entity][key][c] for c in columns}, entity


def _rows_by(lakehouse: Lakehouse, entity: str, key: str) -> dict[str, dict[str, object]]:
    return {str(row[key]): row for row in _table(lakehouse, f"cleaned.{entity}").to_pylist()}


def test_a_file_that_feeds_several_datasets_is_read_once_and_the_same_as_read_for_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remittance = X12 / "linuxforhealth-x12" / "835_005010X221A1" / "cob-contractural-adjustment.835"
    reads: Counter[str] = Counter()
    original = RawZone.read

    def counted(zone: RawZone, key: str, address: str) -> bytes:
        reads[key] += 1
        return original(zone, key, address)

    monkeypatch.setattr(RawZone, "read", counted)
    cleaned = {}
    for kept in (read_module.KEPT_BYTES, 0):  # 0: nothing waits between passes, each reads again
        monkeypatch.setattr(read_module, "KEPT_BYTES", kept)
        reads.clear()
        lakehouse = _load(tmp_path / str(kept), remittance.parent)
        _balanced(lakehouse)  # every record accounted for, either way
        rows = [r for r in read_manifest(lakehouse.catalog).to_pylist() if r["source_name"] == remittance.name]
        assert {r["dataset"] for r in rows} == {"claim_outcomes", "payments", "adjustments"}
        assert len({r["object_key"] for r in rows}) == 1  # one object, a manifest row per dataset
        assert reads[rows[0]["object_key"]] == (1 if kept else 3)
        cleaned[kept] = {
            entity: _table(lakehouse, f"cleaned.{entity}").drop_columns(["run_id"]).sort_by("raw_line").to_pylist()
            for entity in ("claim_outcome", "payment", "adjustment")
        }
    assert cleaned[read_module.KEPT_BYTES] == cleaned[0]
