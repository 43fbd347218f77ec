"""Merge new rows into a practice's partition: one row per key, the latest source record wins.

Source order is the export batch, then when the file was received, then the line. Rows that
lose are not dropped silently: they are returned, with the row that replaced them.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import And, In, Reference
from pyiceberg.table import Table

from practicelake.clean.sql import ident, render, sql
from practicelake.lakehouse.catalog import practice_partition

# Only keys that occur more than once need ranking: most rows skip the window entirely.
SUPERSEDED = """
with repeated as (
    select __key__ as repeated_key from candidates group by __key__ having count(*) > 1
), ranked as (
    select
        __key__ as record_key, raw_file_sha256, raw_line, is_new,
        row_number() over w as rank,
        first_value(raw_file_sha256) over w as kept_raw_file_sha256,
        first_value(raw_line) over w as kept_raw_line
    from candidates semi join repeated on __key__ = repeated_key join file_order on raw_file_sha256 = sha256
    window w as (partition by __key__ order by batch desc, received_at desc, raw_file_sha256 desc, raw_line desc)
)
select record_key, raw_file_sha256, raw_line, kept_raw_file_sha256, kept_raw_line, is_new
from ranked where rank > 1 order by raw_file_sha256, raw_line
"""

KEPT_NEW = """
select * from incoming anti join superseded using (raw_file_sha256, raw_line)
"""


@dataclass(frozen=True)
class Merged:
    rows: pa.Table  # new rows to append
    replaced_keys: list[str]  # keys whose row in the table is replaced by a newer one
    superseded: pa.Table  # record_key, raw_file_sha256, raw_line, kept_raw_file_sha256, kept_raw_line


def merge(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    key: str,
    practice_id: str,
    incoming: pa.Table,
    file_order: pa.Table,
) -> Merged:
    lineage = ("raw_file_sha256", "raw_line")
    if table.current_snapshot() is not None:
        scan = table.scan(row_filter=practice_partition(practice_id), selected_fields=(key, *lineage))
        existing = scan.to_arrow().select([key, *lineage])
    else:
        existing = incoming.select([key, *lineage]).slice(0, 0)
    candidates = pa.concat_tables(
        [
            existing.append_column("is_new", pa.repeat(False, existing.num_rows)),
            incoming.select([key, *lineage]).append_column("is_new", pa.repeat(True, incoming.num_rows)),
        ],
        promote_options="permissive",
    )
    con.register("candidates", candidates)
    con.register("file_order", file_order)
    superseded = con.sql(sql(render(SUPERSEDED, key=ident(key)))).to_arrow_table()
    kept_new = incoming
    if pc.any(superseded["is_new"]).as_py():
        con.register("incoming", incoming)
        con.register("superseded", superseded)
        kept_new = con.sql(KEPT_NEW).to_arrow_table()
        for name in ("incoming", "superseded"):
            con.unregister(name)
    for name in ("candidates", "file_order"):
        con.unregister(name)
    replaced = superseded.filter(pc.invert(superseded["is_new"]))["record_key"].to_pylist()
    return Merged(rows=kept_new, replaced_keys=replaced, superseded=superseded.drop_columns(["is_new"]))


def write(
    table: Table, schema: pa.Schema, key: str, practice_id: str, merged: Merged, properties: dict[str, str]
) -> None:
    """Append the new rows, removing the rows they replace in the same commit."""
    rows = merged.rows.cast(schema)
    if merged.replaced_keys:
        replaced = In(Reference(key), merged.replaced_keys)  # type: ignore[call-arg,arg-type]
        with table.transaction() as transaction:
            transaction.delete(And(practice_partition(practice_id), replaced), snapshot_properties=properties)
            if rows.num_rows:
                transaction.append(rows, snapshot_properties=properties)
    elif rows.num_rows:
        table.append(rows, snapshot_properties=properties)
