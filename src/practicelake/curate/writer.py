"""The per-practice curated tables' new rows, written while the next group is built and
committed once per table at the end of the run.

Each group's rows are written as data files (lakehouse.datafiles) on a background thread as
soon as the group is built, so DuckDB works on the next group while Parquet is encoded (both
leave Python's lock), and a group's rows are held only until their files are written. Nothing
is committed until every group is built: then each table gets one commit, deleting the rows the
run replaces (the practices it rebuilt) and adding the run's files.
So a run makes one commit per table whatever the number of groups, and a practice whose build
failed keeps its old rows (its rows are not in any replacement). A run that dies before its
commits leaves only unreferenced files; one that dies part-way through them is rolled back by
the next (lakehouse.journal).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow as pa
from pyiceberg.expressions import BooleanExpression, In, Not, Reference
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table

from practicelake.lakehouse.datafiles import write_data_files


@dataclass(frozen=True)
class Replaced:
    """The rows of a table a group's new rows replace: those of `practices`, or, with `where`,
    only those of theirs matching it (the others are kept)."""

    practices: tuple[str, ...]
    where: BooleanExpression | None = None


def _written(table: Table, rows: pa.Table, replaced: Replaced) -> list[DataFile]:
    if replaced.where is not None:
        chosen = In(Reference("practice_id"), replaced.practices)  # type: ignore[call-arg,arg-type]
        kept = table.scan(row_filter=chosen & Not(replaced.where)).to_arrow()
        rows = pa.concat_tables([kept.select(rows.column_names).cast(rows.schema), rows])
    # Grouped by practice, each practice's rows are one slice: one file per practice.
    return write_data_files(table.metadata, table.io, rows.sort_by("practice_id"), None)


class CuratedWriter:
    """Replacements of curated rows, gathered over a run and committed table by table."""

    def __init__(self, tables: Mapping[str, Table], properties: dict[str, str]) -> None:
        self.tables, self.properties = tables, properties
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="practicelake-curate-write")
        self._replaced: dict[str, list[str]] = {}
        self._files: dict[str, list[Future[list[DataFile]]]] = {}
        self.rows: dict[str, int] = {}  # written (new rows, not those kept), by table

    def add(self, results: Mapping[str, pa.Table], replaced: Mapping[str, Replaced]) -> None:
        """For each table: the rows `replaced[table]` names become `results[table]`."""
        for name, which in replaced.items():
            self._replaced.setdefault(name, []).extend(which.practices)
            rows = results.get(name)
            if rows is None:
                continue
            self.rows[name] = self.rows.get(name, 0) + rows.num_rows
            if rows.num_rows or which.where is not None:
                self._files.setdefault(name, []).append(self._pool.submit(_written, self.tables[name], rows, which))

    def commit(self, on_step: Callable[[str], None] | None, label: str) -> None:
        """Each table in one commit (none for a table with nothing to do), in the tables' order."""
        try:
            for name, table in self.tables.items():
                practices = self._replaced.get(name, [])
                files = [file for pending in self._files.get(name, []) for file in pending.result()]
                if not practices and not files:
                    continue
                if on_step:
                    on_step(f"{label}: {name}")  # before the table's commit
                _replace(table, practices, files, self.properties)
        finally:
            self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _replace(table: Table, practices: list[str], files: list[DataFile], properties: dict[str, str]) -> None:
    """One snapshot: the practices' data files out, `files` in."""
    gone = []
    if practices and table.current_snapshot() is not None:
        chosen = In(Reference("practice_id"), practices)  # type: ignore[call-arg,arg-type]
        gone = [task.file for task in table.scan(row_filter=chosen).plan_files()]
    if not gone and not files:
        return
    with table.transaction() as transaction:
        update = transaction.update_snapshot(snapshot_properties=properties)
        with update.overwrite() if gone else update.fast_append() as snapshot:
            for data_file in gone:
                snapshot.delete_data_file(data_file)
            for data_file in files:
                snapshot.append_data_file(data_file)
