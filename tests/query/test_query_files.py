"""Reading a scope's rows straight from its practices' files gives exactly what a pyiceberg
scan gives, and falls back to the scan wherever it could not."""

from __future__ import annotations

import pyarrow as pa
import pytest
from curated_lake import VISIT_ROWS, VISITS, write_table
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import EqualTo

from practicelake.curate.snapshots import open_pinned, pinned
from practicelake.lakehouse.catalog import ensure_table
from practicelake.query import files
from practicelake.query.scope import Scope
from practicelake.query.tables import CuratedTables, scan

SCOPES = [frozenset({"P001"}), frozenset({"P002"}), frozenset({"P001", "P002"}), frozenset({"P404"}), None]


def by_rows(table: pa.Table) -> list[tuple[object, ...]]:
    return sorted(tuple(row.values()) for row in table.to_pylist())


@pytest.mark.parametrize("practices", SCOPES, ids=["P001", "P002", "both", "absent", "every"])
def test_the_files_hold_what_the_scan_returns(catalog: Catalog, practices: frozenset[str] | None) -> None:
    # A second batch: a practice with two files at the snapshot.
    write_table(catalog, "visits", VISITS, VISIT_ROWS[:1])
    pins = pinned(catalog)
    for name in ("visits", "payer_mix"):
        table = open_pinned(catalog, pins[name])
        planned = files.plan(table, pins[name].snapshot_id or 0)
        assert planned is not None
        direct = files.read(table, planned, practices)
        assert direct is not None
        scanned = scan(table, pins[name], Scope(practices))
        assert direct.schema == table.schema().as_arrow()
        assert by_rows(direct) == by_rows(scanned)
        assert direct.num_rows > 0 or practices == frozenset({"P404"})


def test_rows_deleted_after_a_write_stay_deleted(catalog: Catalog) -> None:
    # pyiceberg deletes copy-on-write: the snapshot's files are rewritten without the row, and
    # the files read directly agree with the scan.
    table = catalog.load_table("curated.visits")
    gone = VISIT_ROWS[0]["visits"]
    table.delete(EqualTo("visits", gone))
    table = catalog.load_table("curated.visits")
    snapshot = table.current_snapshot()
    assert snapshot is not None
    planned = files.plan(table, snapshot.snapshot_id)
    assert planned is not None
    direct = files.read(table, planned, None)
    assert direct is not None
    assert gone not in direct["visits"].to_pylist()
    assert by_rows(direct) == by_rows(table.scan(snapshot_id=snapshot.snapshot_id).to_arrow())


def test_a_table_not_partitioned_by_practice_is_scanned(catalog: Catalog) -> None:
    flat = ensure_table(catalog, "curated.flat_visits", VISITS, partitioned=False)
    flat.append(pa.Table.from_pylist(VISIT_ROWS, schema=VISITS))
    snapshot = flat.current_snapshot()
    assert snapshot is not None
    assert files.plan(flat, snapshot.snapshot_id) is None


def test_a_file_of_another_layout_is_left_to_the_scan(catalog: Catalog) -> None:
    # A column renamed after the file was written: only the field ids still match.
    table = catalog.load_table("curated.visits")
    with table.update_schema() as update:
        update.rename_column("visits", "visit_count")
    table = catalog.load_table("curated.visits")
    snapshot = table.current_snapshot()
    assert snapshot is not None
    planned = files.plan(table, snapshot.snapshot_id)
    assert planned is not None
    assert files.read(table, planned, frozenset({"P001"})) is None


def test_the_cache_reads_through_the_files(catalog: Catalog) -> None:
    tables = CuratedTables(catalog)
    pin = pinned(catalog)["visits"]
    rows = tables.rows(pin, Scope.of({"P002"}))
    assert set(rows["practice_id"].to_pylist()) == {"P002"}
    assert tables.scanned == ["visits"]
