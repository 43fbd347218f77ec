"""The curated tables as a scope shows them: each table's rows of the scope's practices, read
at the snapshot its pin names, with the columns the scope hides left out. The rows are not
kept here: the query process's sessions hold what they read (query.sessions).

This runs in the query process (query.worker), so that rows are never copied between
processes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysTrue, BooleanExpression, In, Reference
from pyiceberg.table import Table

from practicelake.curate.snapshots import Pin, open_pinned
from practicelake.query import files
from practicelake.query.errors import QueryFailed, Reason
from practicelake.query.scope import Scope

TABLES = 64  # pinned tables' metadata kept, by metadata file


class CuratedTables:
    """Scoped rows of pinned curated tables; the tables' metadata and planned files are kept,
    the rows are not (the query process's sessions hold them). One thread at a time."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.scanned: list[str] = []
        """The name of every table read from Iceberg since the caller last cleared it."""
        self._tables: OrderedDict[str, Table] = OrderedDict()  # by metadata file: never changes
        self._planned: OrderedDict[tuple[str, int], files.Planned | None] = OrderedDict()

    def relations(self, read: list[str], scope: Scope, pins: Mapping[str, Pin]) -> dict[str, pa.Table]:
        """Each relation of `read` as `scope` shows it."""
        relations: dict[str, pa.Table] = {}
        for name in read:
            view = scope.view(name)
            assert view is not None
            rows = self.rows(pins[name], Scope(view.practices))
            relations[name] = rows.drop_columns([c for c in rows.column_names if c in view.hidden])
        return relations

    def rows(self, pin: Pin, scope: Scope) -> pa.Table:
        """The table's rows of the scope's practices, at its pinned snapshot."""
        try:
            rows = scan(self._table(pin), pin, scope, self._plan)
        except FileNotFoundError:
            # Offboarding deletes a practice's rows and the history that held them.
            raise QueryFailed(
                f"{pin.name}: the snapshot the last curate recorded is gone; run `practicelake curate`",
                Reason.SNAPSHOT_GONE,
            ) from None
        self.scanned.append(pin.name)
        return rows

    def prepare(self, pin: Pin) -> None:
        """Open the pinned table and plan its files, before its rows are first wanted."""
        if pin.snapshot_id is not None:
            self._plan(self._table(pin), pin)

    def _plan(self, table: Table, pin: Pin) -> files.Planned | None:
        """The pinned snapshot's files by practice, planned once (query.files)."""
        assert pin.snapshot_id is not None
        key = (pin.name, pin.snapshot_id)
        if key not in self._planned:
            self._planned[key] = files.plan(table, pin.snapshot_id)
            while len(self._planned) > TABLES:
                self._planned.popitem(last=False)
        self._planned.move_to_end(key)
        return self._planned[key]

    def _table(self, pin: Pin) -> Table:
        if pin.metadata_location in self._tables:
            self._tables.move_to_end(pin.metadata_location)
            return self._tables[pin.metadata_location]
        table = open_pinned(self.catalog, pin)
        self._tables[pin.metadata_location] = table
        while len(self._tables) > TABLES:
            self._tables.popitem(last=False)
        return table


Planner = Callable[[Table, Pin], files.Planned | None]


def scan(table: Table, pin: Pin, scope: Scope, planner: Planner | None = None) -> pa.Table:
    """The scope's rows of the pinned snapshot: straight from its practices' files where
    `planner` plans them (query.files), else through a pyiceberg scan."""
    name = pin.name
    if "practice_id" not in table.schema().column_names:
        raise QueryFailed(
            f"{name} has no practice_id column: it cannot be scoped, so it is not served", Reason.UNSCOPED
        )
    if pin.snapshot_id is None or (scope.practices is not None and not scope.practices):
        return table.schema().as_arrow().empty_table()
    planned = None if planner is None else planner(table, pin)
    rows = None if planned is None else files.read(table, planned, scope.practices)
    if rows is None:
        rows = table.scan(row_filter=_practice_filter(scope), snapshot_id=pin.snapshot_id).to_arrow()
    # The files or the filter above are the scope; this only proves it held.
    if scope.practices is not None:
        inside = pc.is_in(rows["practice_id"], value_set=pa.array(sorted(scope.practices), pa.string()))
        outside = pc.invert(pc.fill_null(inside, False))
        if pc.any(outside).as_py():
            raise QueryFailed(f"{name}: the scan returned rows outside the reader's practices", Reason.SCOPE_BREACH)
    return rows


def _practice_filter(scope: Scope) -> BooleanExpression:
    if scope.practices is None:
        return AlwaysTrue()
    return In(Reference("practice_id"), sorted(scope.practices))  # type: ignore[call-arg,arg-type]
