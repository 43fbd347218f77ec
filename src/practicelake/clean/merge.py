"""Merge new rows into a practice's partition: one row per key, the latest source record wins.

Source order is the export batch, then when the file was received, then the line. Rows that
lose are not dropped silently: they are returned, with the row that replaced them.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa
from pyiceberg.table import Table

from practicelake.clean.sql import ident, render, sql
from practicelake.lakehouse.catalog import practice_partition

RANKED = """
select
    __key__ as record_key, raw_file_sha256, raw_line, is_new,
    row_number() over w as rank,
    first_value(raw_file_sha256) over w as kept_raw_file_sha256,
    first_value(raw_line) over w as kept_raw_line
from candidates join file_order on raw_file_sha256 = sha256
window w as (partition by __key__ order by batch desc, received_at desc, raw_file_sha256 desc, raw_line desc)
"""


@dataclass(frozen=True)
class Merged:
    rows: pa.Table  # what to write
    replace_partition: bool  # True: overwrite the practice's partition; False: append
    superseded: pa.Table  # record_key, raw_file_sha256, raw_line, kept_raw_file_sha256, kept_raw_line


def merge(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    key: str,
    practice_id: str,
    incoming: pa.Table,
    file_order: pa.Table,
) -> Merged:
    partition = practice_partition(practice_id)
    has_rows = table.current_snapshot() is not None
    existing_keys = (
        table.scan(row_filter=partition, selected_fields=(key, "raw_file_sha256", "raw_line")).to_arrow()
        if has_rows
        else pa.table(
            {
                key: incoming.column(key).slice(0, 0),
                "raw_file_sha256": pa.array([], pa.string()),
                "raw_line": pa.array([], pa.int64()),
            }
        )
    )
    candidates = pa.concat_tables(
        [
            existing_keys.append_column("is_new", pa.repeat(False, existing_keys.num_rows)),
            incoming.select([key, "raw_file_sha256", "raw_line"]).append_column(
                "is_new", pa.repeat(True, incoming.num_rows)
            ),
        ],
        promote_options="permissive",
    )
    con.register("candidates", candidates)
    con.register("file_order", file_order)
    con.register("incoming", incoming)
    con.execute("create or replace temp table ranked as " + sql(render(RANKED, key=ident(key))))
    superseded = con.sql(
        "select record_key, raw_file_sha256, raw_line, kept_raw_file_sha256, kept_raw_line "
        "from ranked where rank > 1 order by raw_file_sha256, raw_line"
    ).to_arrow_table()
    lost_existing = con.sql("select count(*) from ranked where rank > 1 and not is_new").fetchone()
    kept_new = con.sql(
        "select incoming.* from incoming semi join "
        "(select raw_file_sha256, raw_line from ranked where rank = 1 and is_new) kept "
        "using (raw_file_sha256, raw_line) order by raw_file_sha256, raw_line"
    ).to_arrow_table()
    if not lost_existing or lost_existing[0] == 0:
        return Merged(rows=kept_new, replace_partition=False, superseded=superseded)
    existing = table.scan(row_filter=partition).to_arrow()
    con.register("existing", existing)
    kept_old = con.sql(
        "select existing.* from existing anti join "
        "(select raw_file_sha256, raw_line from ranked where rank > 1 and not is_new) lost "
        "using (raw_file_sha256, raw_line)"
    ).to_arrow_table()
    return Merged(
        rows=pa.concat_tables([kept_old, kept_new], promote_options="permissive"),
        replace_partition=True,
        superseded=superseded,
    )
