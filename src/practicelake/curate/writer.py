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
from functools import reduce

import pyarrow as pa
from pyiceberg.expressions import BooleanExpression, Or
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table

from practicelake.lakehouse.datafiles import write_data_files


def _written(table: Table, rows: pa.Table) -> list[DataFile]:
    # Grouped by practice, each practice's rows are one slice: one file per practice.
    return write_data_files(table.metadata, table.io, rows.sort_by("practice_id"), None)


class CuratedWriter:
    """Replacements of curated rows, gathered over a run and committed table by table."""

    def __init__(self, tables: Mapping[str, Table], properties: dict[str, str]) -> None:
        self.tables, self.properties = tables, properties
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="practicelake-curate-write")
        self._replaced: dict[str, list[BooleanExpression]] = {}
        self._files: dict[str, list[Future[list[DataFile]]]] = {}
        self.rows: dict[str, int] = {}  # written, by table

    def add(self, results: Mapping[str, pa.Table], where: Mapping[str, BooleanExpression]) -> None:
        """For each table: the rows matching `where[table]` become `results[table]`."""
        for name, replaced in where.items():
            self._replaced.setdefault(name, []).append(replaced)
        for name, rows in results.items():
            self.rows[name] = self.rows.get(name, 0) + rows.num_rows
            if rows.num_rows:
                self._files.setdefault(name, []).append(self._pool.submit(_written, self.tables[name], rows))

    def commit(self, on_step: Callable[[str], None] | None, label: str) -> None:
        """Each table in one commit (none for a table with nothing to do), in the tables' order."""
        try:
            for name, table in self.tables.items():
                replaced = self._replaced.get(name, [])
                files = [file for pending in self._files.get(name, []) for file in pending.result()]
                if not replaced and not files:
                    continue
                if on_step:
                    on_step(f"{label}: {name}")  # before the table's commit
                _replace(table, reduce(Or, replaced) if replaced else None, files, self.properties)
        finally:
            self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _replace(table: Table, where: BooleanExpression | None, files: list[DataFile], properties: dict[str, str]) -> None:
    with table.transaction() as transaction:
        if where is not None and next(iter(table.scan(row_filter=where).plan_files()), None) is not None:
            transaction.delete(where, snapshot_properties=properties)
        if files:
            with transaction.update_snapshot(snapshot_properties=properties).fast_append() as append:
                for data_file in files:
                    append.append_data_file(data_file)
