"""A copy of the curated zone for BI tools that cannot read Iceberg: one DuckDB database file
(Metabase, Superset, DBeaver: open it read-only) or one Parquet file per table (spreadsheets,
Power BI). A copy as of the export, not a live view; it holds the practices asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysTrue, BooleanExpression, In, Reference
from sqlglot import exp

from practicelake.curate.project import load_models
from practicelake.curate.snapshots import open_pinned, pinned
from practicelake.errors import PracticelakeError

Format = Literal["duckdb", "parquet"]


def curated_tables(catalog: Catalog) -> list[str]:
    """The curated tables a completed curate recorded, in model order."""
    names = [m.name for m in load_models() if m.contract.materialized == "table"]
    recorded = pinned(catalog)
    return [name for name in names if name in recorded]


def export(catalog: Catalog, out: Path, fmt: Format, practices: list[str] | None = None) -> dict[str, int]:
    """Write the copy; returns rows per table. Never replaces an existing file or folder."""
    if out.exists():
        raise PracticelakeError(f"{out} exists: export writes a new file or folder, it never replaces one")
    names = curated_tables(catalog)
    if not names:
        raise PracticelakeError("the curated zone is empty: run `practicelake curate` first")
    where: BooleanExpression = AlwaysTrue()
    if practices:
        where = In(Reference("practice_id"), practices)  # type: ignore[call-arg,arg-type]
    partial = out.with_name(out.name + ".partial")
    counts: dict[str, int] = {}
    if fmt == "parquet":
        partial.mkdir(parents=True)
    pins = pinned(catalog)  # every table as one completed curate left it, as readers see them
    with duckdb.connect(str(partial) if fmt == "duckdb" else ":memory:") as con:
        for name in names:
            table = open_pinned(catalog, pins[name])
            rows = table.scan(row_filter=where, snapshot_id=pins[name].snapshot_id).to_arrow()
            counts[name] = rows.num_rows
            if fmt == "parquet":
                pq.write_table(rows, partial / f"{name}.parquet")
            else:
                _copy_into(con, name, rows)
    partial.rename(out)  # whole or not at all
    return counts


def _copy_into(con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table) -> None:
    con.register("__rows", rows)
    select = exp.select("*").from_("__rows")
    con.execute(exp.Create(this=exp.to_table(name, quoted=True), kind="TABLE", expression=select).sql("duckdb"))
    con.unregister("__rows")
