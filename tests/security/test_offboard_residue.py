"""After offboarding, no byte of the warehouse, the catalog or the state folder holds anything
of the practice, in any form a reader could get back (files read as stored, decompressed
and decoded): not its id, its patients' pseudonyms, its files' hashes, its row counts or its
amounts; no metadata file, manifest or catalog row of the history that held them; no role
and no journal row naming it. The other practices read as before.

Three practices are built; a cross-practice table stands for the benchmark models, which
aggregate every practice. What stays on purpose is checked to be only that: the raw
objects (ciphertext under the destroyed key, in the practice's raw folder) and the audit
log's records of who ingested and offboarded, which name the practice but hold none of its
patients, hashes or amounts."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from clean.generated import ingest_all, small_export
from lakes import local_settings
from practicelake.access.principals import PrincipalStore
from practicelake.curate.snapshots import open_pinned, pinned
from practicelake.errors import IntegrityError
from practicelake.ingest.journal import IngestJournal
from practicelake.ingest.manifest import ManifestEntry
from practicelake.lakehouse.catalog import NAMESPACES, ensure_table
from practicelake.pipeline import Lakehouse
from practicelake.pipeline.offboard import OffboardReport, offboard
from security.residue import Readable, decimals, hex_windows, read_all

pytestmark = pytest.mark.slow

LEAVING, STAYING = "P001", "P002"
BENCHMARKS = ("curated.benchmark_charges_month", "curated.benchmark_charges_named")  # without, with practice_id
LARGE = Decimal("1000")  # amounts this large are told apart by their digits


@dataclass
class Traces:
    """What a practice left in the lakehouse, as it could be found again."""

    practice_id: bytes
    pseudonyms: set[bytes]  # the first characters of each (manifest bounds keep 16)
    file_hashes: set[bytes]  # keyed (manifest, lineage, object names) and plain (the exports')
    amounts: set[bytes]  # its own amounts and totals, as decimal text
    row_counts: dict[str, int]  # its rows, by table


def tables(lakehouse: Lakehouse) -> dict[str, Any]:
    catalog = lakehouse.catalog
    return {".".join(i): catalog.load_table(i) for n in NAMESPACES for i in catalog.list_tables(n)}


def rows_by_practice(lakehouse: Lakehouse) -> dict[str, dict[str, list[dict[str, Any]]]]:
    found: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name, table in tables(lakehouse).items():
        if "practice_id" in table.schema().column_names:
            for row in table.scan().to_arrow().to_pylist():
                found.setdefault(name, {}).setdefault(row["practice_id"], []).append(row)
    return found


def amounts_of(rows: list[dict[str, Any]]) -> set[Decimal]:
    return {v for row in rows for v in row.values() if isinstance(v, Decimal)}


def traces_of(practice_id: str, rows: dict[str, dict[str, list[dict[str, Any]]]], exports: Path) -> Traces:
    own = {name: by_practice.get(practice_id, []) for name, by_practice in rows.items()}
    others = {
        name: [r for p, rs in by_practice.items() if p != practice_id for r in rs] for name, by_practice in rows.items()
    }
    pseudonyms = {r["patient_key"][:15].encode() for rs in own.values() for r in rs if r.get("patient_key")}
    hashes = {r["sha256"] for r in own["ops.raw_files"]}
    hashes |= {hashlib.sha256(p.read_bytes()).hexdigest() for p in (exports / practice_id).rglob("*") if p.is_file()}
    totals = {
        sum((r[c] for r in rs), Decimal(0))
        for rs in own.values()
        if rs
        for c, v in rs[0].items()
        if isinstance(v, Decimal)
    }
    theirs = {v for rs in others.values() for v in amounts_of(rs)}
    amounts = {v for v in {*totals, *(v for rs in own.values() for v in amounts_of(rs))} if abs(v) >= LARGE} - theirs
    return Traces(
        practice_id=practice_id.encode(),
        pseudonyms=pseudonyms,
        file_hashes={h[:15].encode() for h in hashes},
        amounts={str(v).encode() for v in amounts},
        row_counts={name: len(rs) for name, rs in own.items() if rs},
    )


def add_benchmarks(lakehouse: Lakehouse) -> set[bytes]:
    """Curated tables built from every practice, as the benchmark models are (with too few
    practices here to publish any): charges per month across the network, one table without
    a practice_id column, one with '*' in it. Returns their amounts, each every practice's sum."""
    monthly: dict[str, Decimal] = {}
    for row in lakehouse.catalog.load_table("cleaned.charge").scan().to_arrow().to_pylist():
        month = row["service_date"].strftime("%Y-%m")
        monthly[month] = monthly.get(month, Decimal(0)) + row["amount"]
    rows = [{"practice_id": "*", "month": m, "network_charges": v} for m, v in monthly.items()]
    schema = pa.schema(
        [("practice_id", pa.string()), ("month", pa.string()), ("network_charges", pa.decimal128(18, 2))]
    )
    for name, columns in zip(BENCHMARKS, (schema.remove(0), schema), strict=True):
        table = ensure_table(lakehouse.catalog, name, columns, partitioned=False)
        table.append(pa.Table.from_pylist(rows, schema).select(columns.names).cast(columns))
    return {str(v).encode() for v in monthly.values()}


def leave_a_dead_ingest(lakehouse: Lakehouse) -> None:
    """The journal of an ingest that died: a row of the leaving practice, one of another."""
    manifest = lakehouse.catalog.load_table("ops.raw_files").scan().to_arrow().to_pylist()
    journal = IngestJournal(lakehouse.settings.state_dir, "20240101T000000-dead0000")
    journal.__enter__()
    for practice_id in (LEAVING, STAYING):
        row = next(r for r in manifest if r["practice_id"] == practice_id)
        journal.add(ManifestEntry(**row))
    journal.__exit__(None, None, None)  # unlocked, never finished: left behind


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("residue")
    truth = small_export(root / "exports", practices=3, appointments=600, seed=11)
    lakehouse = Lakehouse.open(local_settings(root))
    ingest_all(lakehouse, root / "exports", truth)
    lakehouse.transform()
    lakehouse.curate()
    benchmark = add_benchmarks(lakehouse)
    users = PrincipalStore(lakehouse.settings.users_db)
    for user, practice, role in (("owner1", LEAVING, "practice_owner"), ("owner2", STAYING, "practice_owner")):
        users.add_user(user, "a long enough password")
        users.grant(user, role, practice)
    leave_a_dead_ingest(lakehouse)
    before = rows_by_practice(lakehouse)
    traces = {p: traces_of(p, before, root / "exports") for p in (LEAVING, STAYING)}
    traces[LEAVING].amounts |= benchmark
    warehouse = Path(lakehouse.settings.warehouse_uri.removeprefix("file://"))
    old_metadata = {p.name.encode() for p in warehouse.rglob("*.metadata.json")}
    raw_files = lakehouse.catalog.load_table("ops.raw_files").scan().to_arrow().to_pylist()
    report = offboard(lakehouse.settings, lakehouse.catalog, lakehouse.store, LEAVING)
    return {
        "lakehouse": lakehouse,
        "report": report,
        "before": before,
        "traces": traces,
        "old_metadata": old_metadata,
        "raw_files": raw_files,
        "warehouse": warehouse,
        "files": read_all([warehouse, lakehouse.settings.state_dir]),
    }


def in_raw_zone(lake: dict[str, Any], file: Readable) -> bool:
    return file.path.is_relative_to(lake["warehouse"] / "raw")


def in_audit_log(lake: dict[str, Any], file: Readable) -> bool:
    return file.path.is_relative_to(lake["lakehouse"].settings.audit_log.parent)


def hits(files: list[Readable], terms: set[bytes], *, windows: bool = False, decoded: bool = True) -> list[str]:
    found = []
    for file in files:
        forms = file.decoded if decoded else file.every_form
        present = set(hex_windows(forms)) if windows else None
        for term in terms:
            if (term in present) if present is not None else any(term in form for form in forms):
                found.append(f"{file.path}: {term.decode(errors='replace')}")
    return found


def test_the_files_searched_are_the_whole_lakehouse(lake: dict[str, Any]) -> None:
    kinds = {file.path.suffix for file in lake["files"]}
    assert {".parquet", ".avro", ".json", ".db", ".csv", ".log"} <= kinds
    assert any(file.path.name == "users.db" for file in lake["files"])
    assert any(file.path.parent.name == "ingest" for file in lake["files"])


def test_the_search_sees_through_compression(lake: dict[str, Any]) -> None:
    """The staying practice is found wherever it is kept: in decoded Parquet values, in
    decompressed Avro manifests (partition values and column bounds), in metadata."""
    staying: Traces = lake["traces"][STAYING]
    by_kind = {kind: [f for f in lake["files"] if f.path.suffix == kind] for kind in (".parquet", ".avro")}
    for kind, files in by_kind.items():
        assert hits(files, {staying.practice_id}), kind
        assert hits(files, staying.pseudonyms, windows=True), kind
    manifests = [f for f in by_kind[".avro"] if f.opaque]  # deflate-compressed: only decoded do they show it
    assert manifests and not [f for f in manifests if staying.practice_id in b"".join(f.opaque)]
    assert staying.amounts & decimals(form for f in by_kind[".parquet"] for form in f.decoded)


def test_no_file_name_names_the_practice_but_its_raw_folder(lake: dict[str, Any]) -> None:
    named = [f.path for f in lake["files"] if LEAVING in f.path.relative_to(lake["warehouse"].parent).as_posix()]
    assert named and all(p.is_relative_to(lake["warehouse"] / "raw" / f"practice_id={LEAVING}") for p in named)
    left = [p for p in lake["warehouse"].rglob(f"*{LEAVING}*") if not p.is_relative_to(lake["warehouse"] / "raw")]
    assert left == []  # not even an empty partition folder


def test_no_byte_holds_the_practice_id(lake: dict[str, Any]) -> None:
    """Outside the raw zone (ciphertext, where four bytes could be noise) and the audit log."""
    searched = [f for f in lake["files"] if not in_raw_zone(lake, f) and not in_audit_log(lake, f)]
    assert hits(searched, {lake["traces"][LEAVING].practice_id}) == []


def test_no_pseudonym_of_its_patients_anywhere(lake: dict[str, Any]) -> None:
    leaving: Traces = lake["traces"][LEAVING]
    assert leaving.pseudonyms
    assert hits(lake["files"], leaving.pseudonyms, windows=True, decoded=False) == []


def test_no_hash_of_its_files_anywhere(lake: dict[str, Any]) -> None:
    leaving: Traces = lake["traces"][LEAVING]
    assert hits(lake["files"], leaving.file_hashes, windows=True, decoded=False) == []


def test_no_amount_of_its_own_anywhere(lake: dict[str, Any]) -> None:
    leaving: Traces = lake["traces"][LEAVING]
    assert len(leaving.amounts) > 50
    found = {number for f in lake["files"] for number in decimals(f.decoded) & leaving.amounts}
    assert found == set()


def test_no_snapshot_summary_counts_its_rows(lake: dict[str, Any]) -> None:
    leaving: Traces = lake["traces"][LEAVING]
    checked = 0
    for name, count in leaving.row_counts.items():
        others = [len(rows) for p, rows in lake["before"][name].items() if p != LEAVING]
        if count < 2 or count in {*others, sum(others)}:
            continue  # the count of another practice, or theirs together, is no trace of this one
        checked += 1
        folder = lake["warehouse"] / "iceberg" / name.replace(".", "/") / "metadata"
        for path in folder.glob("*.metadata.json"):
            summaries = [s["summary"] for s in json.loads(path.read_bytes())["snapshots"]]
            values = {v for summary in summaries for v in summary.values()}
            assert str(count) not in values, (name, count)
    assert checked > 10


def test_no_earlier_metadata_file_is_left_or_named(lake: dict[str, Any]) -> None:
    """But the metadata of a table that never held a row (a benchmark without enough
    practices to publish): it has no history to forget."""
    unchanged = {t.metadata_location.rsplit("/", 1)[-1].encode() for t in tables(lake["lakehouse"]).values()}
    unchanged &= lake["old_metadata"]
    for name in unchanged:
        (path,) = lake["warehouse"].rglob(name.decode())
        assert json.loads(path.read_bytes()).get("snapshots", []) == [], path
    earlier = lake["old_metadata"] - unchanged
    assert [p for p in lake["warehouse"].rglob("*.metadata.json") if p.name.encode() in earlier] == []
    assert hits(lake["files"], earlier) == []
    catalog = sqlite3.connect(lake["warehouse"] / "catalog.db")
    try:
        previous = catalog.execute("select count(*) from iceberg_tables where previous_metadata_location is not null")
        assert previous.fetchone() == (0,)
    finally:
        catalog.close()
    for table in tables(lake["lakehouse"]).values():
        assert len(table.snapshots()) <= 1 and table.metadata.metadata_log == []


def test_rows_built_from_every_practice_are_deleted_for_the_curate_to_rebuild(lake: dict[str, Any]) -> None:
    report: OffboardReport = lake["report"]
    for name in BENCHMARKS:
        benchmark = lake["lakehouse"].catalog.load_table(name)
        assert benchmark.scan().to_arrow().num_rows == 0 and len(benchmark.snapshots()) == 1
        assert report.rows_deleted[name] > 0
    assert "*" in lake["before"]["ops.curate_state"]  # the benchmarks' version: without it they are rebuilt
    assert all("*" not in by_practice for by_practice in rows_by_practice(lake["lakehouse"]).values())


def test_its_roles_and_journal_rows_are_gone_and_the_others_stay(lake: dict[str, Any]) -> None:
    settings = lake["lakehouse"].settings
    users = {u.name: u.grants for u in PrincipalStore(settings.users_db).list_users()}
    assert users["owner1"] == () and [g.practice_id for g in users["owner2"]] == [STAYING]
    assert lake["report"].grants_revoked == 1
    (journal,) = (settings.state_dir / "ingest").glob("*.jsonl")
    assert [json.loads(line)["practice_id"] for line in journal.read_text().splitlines()] == [STAYING]


def test_ops_runs_keep_the_others_and_their_counts(lake: dict[str, Any]) -> None:
    runs = lake["lakehouse"].catalog.load_table("ops.runs").scan().to_arrow().to_pylist()
    loads = [load for p, ls in lake["before"]["ops.file_loads"].items() if p != LEAVING for load in ls]
    assert {r["command"] for r in runs} == {"transform", "curate"}
    for run in runs:
        assert LEAVING not in run["practices"] and run["practices"]
        if run["command"] == "transform":
            theirs = [load for load in loads if load["run_id"] == run["run_id"]]
            assert run["rows_read"] == sum(load["rows_read"] for load in theirs)
            assert sorted(run["input_files"]) == sorted(load["sha256"] for load in theirs)
        else:  # the cleaned rows of the practices it curated
            assert run["rows_read"] == sum(
                load["rows_accepted"] for load in loads if load["loaded_at"] < run["started_at"]
            )


def test_the_other_practices_read_as_before(lake: dict[str, Any]) -> None:
    lakehouse: Lakehouse = lake["lakehouse"]
    after = rows_by_practice(lakehouse)
    for name, practices in lake["before"].items():
        assert LEAVING not in after.get(name, {}), name
        for practice_id, rows in practices.items():
            if practice_id not in (LEAVING, "*"):  # '*': built from every practice, for the curate to rebuild
                assert after[name][practice_id] == rows, (name, practice_id)
    for pin in pinned(lakehouse.catalog).values():  # what readers see: the pins, and the files they lead to
        rows = open_pinned(lakehouse.catalog, pin).scan(snapshot_id=pin.snapshot_id).to_arrow()
        assert LEAVING not in set(rows.column("practice_id").to_pylist() if "practice_id" in rows.column_names else [])
    for entry in lake["raw_files"]:
        if entry["status"] == "already_ingested":
            continue
        if entry["practice_id"] == LEAVING:
            with pytest.raises(IntegrityError, match="cannot be decrypted"):
                lakehouse.raw.read(entry["object_key"], entry["sha256"])
        else:
            lakehouse.raw.read(entry["object_key"], entry["sha256"])


def test_a_curate_and_a_second_offboarding_find_nothing_left_to_do(lake: dict[str, Any]) -> None:
    lakehouse: Lakehouse = lake["lakehouse"]
    again = offboard(lakehouse.settings, lakehouse.catalog, lakehouse.store, LEAVING)
    assert (again.rows_deleted, again.files_removed, again.grants_revoked) == ({}, 0, 0)
    lakehouse.curate()
    after = rows_by_practice(lakehouse)
    assert all(LEAVING not in by_practice for by_practice in after.values())
    assert "*" in after["ops.curate_state"]  # the benchmarks were rebuilt, from the other practices
