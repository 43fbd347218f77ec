"""The curated state readers see: the snapshot of every curated table as one completed curate
left it.

A curate commits each curated table on its own (one commit per table per group of
practices), so the tables' current snapshots can disagree while it runs, or after it dies.
Its very last catalog commit therefore records, in one commit to `ops.curated_snapshots`, the
snapshot and metadata file of every table it left; readers (query.service) read each table as
of that record, never its current snapshot. The metadata file is kept beside the snapshot
because a table whose columns changed is dropped and created again: readers stay on the
dropped table's last snapshot until the run that rebuilt it completes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.table import StaticTable, Table

from practicelake.lakehouse.catalog import current_snapshot_id, ensure_table

SNAPSHOTS = "ops.curated_snapshots"
CURATED_SNAPSHOTS = pa.schema(
    [
        pa.field("table_name", pa.string(), nullable=False),  # plain name: access_daily
        pa.field("snapshot_id", pa.int64()),  # none: the table was created but holds no rows yet
        pa.field("metadata_location", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("recorded_at", pa.timestamp("us"), nullable=False),
    ]
)


@dataclass(frozen=True)
class Pin:
    """One curated table as the last completed curate left it."""

    name: str
    snapshot_id: int | None
    metadata_location: str
    run_id: str


def snapshots_table(catalog: Catalog) -> Table:
    return ensure_table(catalog, SNAPSHOTS, CURATED_SNAPSHOTS, partitioned=False)


def pinned(catalog: Catalog) -> dict[str, Pin]:
    """Every curated table a completed curate recorded, by plain name; none before the first."""
    try:
        rows = catalog.load_table(SNAPSHOTS).scan().to_arrow().to_pylist()
    except NoSuchTableError:
        return {}
    return {r["table_name"]: Pin(r["table_name"], r["snapshot_id"], r["metadata_location"], r["run_id"]) for r in rows}


def recorded_at(catalog: Catalog) -> dict[str, datetime]:
    """When the last completed curate recorded each curated table (UTC): its "as of"."""
    try:
        rows = catalog.load_table(SNAPSHOTS).scan().to_arrow().to_pylist()
    except NoSuchTableError:
        return {}
    return {r["table_name"]: r["recorded_at"].replace(tzinfo=UTC) for r in rows}


def unchanged(pins: Mapping[str, Pin], tables: Mapping[str, Table]) -> bool:
    """The pins are these tables, each at its current snapshot."""
    if set(pins) != set(tables):
        return False
    return all(
        pins[name].snapshot_id == current_snapshot_id(table) and pins[name].metadata_location == table.metadata_location
        for name, table in tables.items()
    )


def record(catalog: Catalog, tables: Mapping[str, Table], run_id: str) -> None:
    """Make `tables` (by plain name, each at its current snapshot) what readers see, in one commit."""
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            "table_name": name,
            "snapshot_id": current_snapshot_id(table),
            "metadata_location": table.metadata_location,
            "run_id": run_id,
            "recorded_at": now,
        }
        for name, table in sorted(tables.items())
    ]
    target = snapshots_table(catalog)
    properties = {"practicelake.run_id": run_id}
    with target.transaction() as transaction:
        if target.current_snapshot() is not None:
            transaction.delete(AlwaysTrue(), snapshot_properties=properties)
        transaction.append(pa.Table.from_pylist(rows, schema=CURATED_SNAPSHOTS), snapshot_properties=properties)


def record_current(catalog: Catalog, run_id: str) -> None:
    """Every table of the curated zone, as it is now, becomes what readers see. For a writer
    that changed curated tables outside a curate (offboarding), holding the writer lock."""
    tables = {identifier[-1]: catalog.load_table(identifier) for identifier in catalog.list_tables("curated")}
    record(catalog, tables, run_id)


def open_pinned(catalog: Catalog, pin: Pin) -> Table:
    """The table as its pin recorded it (read-only: its metadata file, not the catalog's)."""
    return StaticTable.from_metadata(pin.metadata_location, properties=dict(catalog.properties))
