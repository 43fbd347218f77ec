"""Merge new rows into their practices' partitions: one row per practice and key, the latest
source record wins.

The latest is the one the source recorded last, where it says when (formats.base.RECORDED: an
HL7 v2 message's time, a FHIR resource's meta.lastUpdated), whatever file brought it and
whenever that file was received: a resend, a replayed interface queue, files delivered out of
order do not undo a newer record. The order is one sort, total and the same whatever the order
the files arrived in, by when each row was recorded or, for a row whose source does not say,
when its file is known to have been current:

1. A row's time: its recorded time, but never later than its file's receipt (a later one is a
   sender's clock or zone gone wrong, and must not win for good); for a row without one, the
   latest receipt of its file and of every file before it in the order of step 2, a moment its
   file's snapshot was current at (the running latest, so that rows without a time keep exactly
   step 2's order among themselves).
2. Equal times, and rows without a time among themselves: the order of files before recorded
   times, the export batch, then when the file was received, then its hash, then the line.

So a CSV export received after an HL7 message was recorded wins over it, and a message recorded
after the export was received wins over the export: a practice that moves from CSV to HL7 (or
back) gets the newer source's rows. Rows that lose are not dropped silently: they are returned,
with the row that replaced them.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import And, In, Reference
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table

from practicelake.clean.sql import ident, render, sql
from practicelake.formats.base import RECORDED
from practicelake.lakehouse.catalog import practice_partition
from practicelake.lakehouse.datafiles import write_data_files

# Only keys that occur more than once need ranking: most rows skip the window entirely.
# A recorded time may be NULL; least() would skip a NULL rather than give it, hence the CASE.
SUPERSEDED = """
with files as (
    select
        practice_id as file_practice_id, sha256, batch, received_at,
        max(received_at) over (
            partition by practice_id order by batch, received_at, sha256 rows unbounded preceding
        ) as current_by
    from file_order
), repeated as (
    select practice_id as repeated_practice, __key__ as repeated_key
    from candidates group by practice_id, __key__ having count(*) > 1
), ranked as (
    select
        candidates.practice_id, __key__ as record_key, raw_file_sha256, raw_line, is_new, position,
        row_number() over w as rank,
        first_value(raw_file_sha256) over w as kept_raw_file_sha256,
        first_value(raw_line) over w as kept_raw_line
    from candidates
    semi join repeated on candidates.practice_id = repeated_practice and __key__ = repeated_key
    join files on candidates.practice_id = file_practice_id and raw_file_sha256 = sha256
    window w as (
        partition by candidates.practice_id, __key__
        order by
            case when __recorded__ is null then current_by else least(__recorded__, received_at) end desc,
            batch desc, received_at desc, raw_file_sha256 desc, raw_line desc
    )
)
select practice_id, record_key, raw_file_sha256, raw_line, kept_raw_file_sha256, kept_raw_line, is_new, position
from ranked where rank > 1 order by practice_id, raw_file_sha256, raw_line
"""

SMALL_RESULT_ROWS = 8192
LINEAGE = ("practice_id", "raw_file_sha256", "raw_line", RECORDED)


@dataclass(frozen=True)
class Merged:
    rows: pa.Table  # new rows, including those that lose to a newer one
    keep: np.ndarray | None  # which of `rows` to append; None: all
    replaced: dict[str, list[str]]  # by practice: keys whose row in the table a newer one replaces
    superseded: pa.Table  # practice_id, record_key, raw_file_sha256, raw_line, kept_raw_file_sha256, kept_raw_line


def _existing(table: Table, key: str, practices: list[str], incoming: pa.Table) -> pa.Table:
    columns = list(dict.fromkeys([key, *LINEAGE]))  # the practice entity's key is practice_id
    if table.current_snapshot() is None:
        return incoming.select(columns).slice(0, 0)
    in_chunk = In(Reference("practice_id"), practices)  # type: ignore[call-arg,arg-type]
    return table.scan(row_filter=in_chunk, selected_fields=tuple(columns)).to_arrow().select(columns)


def _repeated_keys(keys: pa.ChunkedArray) -> pa.Array:
    """Rows whose key occurs more than once, in any practice: a superset of the rows that
    compete, found in one hash pass; only those go through the exact ranking."""
    encoded = pc.dictionary_encode(keys.combine_chunks())
    codes = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy()  # NULL keys: one more value
    return pa.array(np.bincount(codes)[codes] > 1) if len(codes) else pa.array([], pa.bool_())


def merge(con: duckdb.DuckDBPyConnection, table: Table, key: str, incoming: pa.Table, file_order: pa.Table) -> Merged:
    """`file_order`: practice_id, sha256, batch, received_at of every ingested file of the entity."""
    practices = pc.unique(incoming["practice_id"]).to_pylist()
    existing = _existing(table, key, practices, incoming)
    # `position`: where a new row sits in `incoming`, so that the rows that lose are dropped
    # by a mask rather than by joining every column back.
    candidates = pa.concat_tables(
        [
            existing.append_column("is_new", pa.repeat(False, existing.num_rows)).append_column(
                "position", pa.nulls(existing.num_rows, pa.int64())
            ),
            incoming.select(existing.column_names)
            .append_column("is_new", pa.repeat(True, incoming.num_rows))
            .append_column("position", pa.array(np.arange(incoming.num_rows, dtype=np.int64))),
        ],
        promote_options="permissive",
    )
    con.register("candidates", candidates.filter(_repeated_keys(candidates[key])))
    con.register("file_order", file_order)
    # Batches of a few thousand rows: DuckDB reserves each batch's buffers for its full size,
    # and these few rows are kept until the ledger writes them (a million-row batch held
    # about 45 MiB per chunk until the end of the entity).
    superseded = con.sql(sql(render(SUPERSEDED, key=ident(key), recorded=ident(RECORDED)))).to_arrow_table(
        batch_size=SMALL_RESULT_ROWS
    )
    for name in ("candidates", "file_order"):
        con.unregister(name)
    keep = None
    lost_new = superseded["position"].drop_null().to_numpy()
    if len(lost_new):
        keep = np.ones(incoming.num_rows, dtype=bool)
        keep[lost_new] = False
    replaced: dict[str, list[str]] = defaultdict(list)
    lost = superseded.filter(pc.invert(superseded["is_new"])).select(["practice_id", "record_key"])
    for practice_id, record_key in zip(*lost.to_pydict().values(), strict=True):
        replaced[practice_id].append(record_key)
    return Merged(
        rows=incoming, keep=keep, replaced=dict(replaced), superseded=superseded.drop_columns(["is_new", "position"])
    )


class Writer:
    """Writes a chunk's data files in the background while the next chunk is cleaned; the
    commit stays in order, before the next chunk is merged against the table."""

    def __init__(self, table: Table, key: str, properties: dict[str, str]) -> None:
        self.table, self.key, self.properties = table, key, properties
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="practicelake-write")
        self._pending: tuple[Merged, Future[list[DataFile]]] | None = None

    def start(self, merged: Merged, schema: pa.Schema) -> None:
        self.finish()
        rows = merged.rows.cast(schema)
        metadata, io = self.table.metadata, self.table.io
        files = self._pool.submit(write_data_files, metadata, io, rows, merged.keep)
        self._pending = (merged, files)

    def finish(self) -> None:
        """Commit the chunk in flight: delete the rows it replaces and add its files, in one commit."""
        if self._pending is None:
            return
        merged, pending = self._pending
        self._pending = None
        files = pending.result()
        if not merged.replaced and not files:
            return
        with self.table.transaction() as transaction:
            for practice_id, keys in sorted(merged.replaced.items()):
                replaced = In(Reference(self.key), keys)  # type: ignore[call-arg,arg-type]
                transaction.delete(And(practice_partition(practice_id), replaced), snapshot_properties=self.properties)
            if files:
                with transaction.update_snapshot(snapshot_properties=self.properties).fast_append() as append:
                    for data_file in files:
                        append.append_data_file(data_file)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
