"""The one read path for people: `QueryService.run(sql, scope)`. The scope is applied here,
when each curated table is loaded into the session (only the scope's practices' rows are
read); the reader's SQL is checked by the guard and runs in a locked session.

Every curated table is read as the last completed curate left it (curate.snapshots), never
at its current snapshot: a query that reads several tables sees them all from one run, even
while a curate commits them one by one, or after one died part-way. A table no completed
curate recorded is not served."""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysTrue, BooleanExpression, In, Reference
from pyiceberg.table import Table
from sqlglot import exp

from practicelake.curate.snapshots import Pin, open_pinned, pinned
from practicelake.errors import PracticelakeError
from practicelake.query import benchmarks, guard, session
from practicelake.query.errors import QueryFailed
from practicelake.query.scope import Scope
from practicelake.query.session import Limits

ZONE = "curated"
CACHE_BYTES = 512 * 1024 * 1024
CHECKED_QUERIES = 512  # the guard's verdicts kept, by query text
SESSIONS = 32  # locked sessions kept open
TABLES = 64  # pinned tables' metadata kept, by metadata file

# (table, snapshot id, the scope's practices): an entry holds one scope's rows only.
CacheKey = tuple[str, int | None, frozenset[str] | None]


@dataclass(frozen=True)
class Checked:
    """A query the guard let through, as DuckDB will run it."""

    sql: str  # rendered from the checked tree, comments dropped
    reads: frozenset[str]  # lower-case names of the relations it reads
    placeholders: frozenset[str]


@dataclass
class Session:
    """A locked DuckDB session holding one scope's rows of some tables at given snapshots.
    Reused by the queries that read the same; one query at a time."""

    con: duckdb.DuckDBPyConnection
    lock: threading.Lock = field(default_factory=threading.Lock)


# (the scope's practices, (table, pinned snapshot) of every table read): a session never
# serves another scope, and a curate that completes makes new sessions.
SessionKey = tuple[Scope, tuple[str, ...], tuple[tuple[str, int | None], ...]]
BENCHMARKS = frozenset(benchmarks.BENCHMARKS)


class QueryService:
    """Readers' SQL over the curated zone, each reader within their scope. One instance can be
    shared by threads. It keeps each table's scoped rows per pinned snapshot, the guard's verdict
    per query text and a locked session per scope and tables read, so that a dashboard's
    repeated queries cost their execution only. It reads the pins again after
    `freshness_seconds`: a completed curate is served at most that much later."""

    def __init__(
        self,
        catalog: Catalog,
        limits: Limits | None = None,
        cache_bytes: int = CACHE_BYTES,
        freshness_seconds: float = 1.0,
    ) -> None:
        self.catalog = catalog
        self.limits = limits or Limits()
        self.cache_bytes = cache_bytes
        self.freshness_seconds = freshness_seconds
        self._cache: OrderedDict[CacheKey, pa.Table] = OrderedDict()
        self._checked: OrderedDict[tuple[str, frozenset[str]], Checked] = OrderedDict()
        self._sessions: OrderedDict[SessionKey, Session] = OrderedDict()
        self._tables: OrderedDict[str, Table] = OrderedDict()  # by metadata file: never changes
        self._pins: tuple[float, dict[str, Pin]] = (-1e18, {})
        self._lock = threading.Lock()
        weakref.finalize(self, _close_sessions, self._sessions, self._lock)

    def close(self) -> None:
        """Close the kept sessions (also done when the service is collected, or at exit: DuckDB
        aborts the process if its connections are left for interpreter shutdown)."""
        _close_sessions(self._sessions, self._lock)

    def __enter__(self) -> QueryService:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def relations(self) -> list[str]:
        """The curated tables a query may read, by plain name (`visits`, not `curated.visits`):
        those the last completed curate recorded."""
        return sorted(self._pinned())

    def run(self, sql: str, scope: Scope, parameters: Mapping[str, object] | None = None) -> pa.Table:
        """`sql` over the relations `scope` shows, as it shows them. `parameters` fill `$name`
        placeholders (a dashboard's date range, say): bound by DuckDB, never written into the SQL."""
        names = self._visible(scope)
        checked = self._check(sql, frozenset(names))
        read = sorted(name for name in names if name.lower() in checked.reads)
        sources = sorted(
            {*(n for n in read if n not in BENCHMARKS), *(benchmarks.sources() if BENCHMARKS & set(read) else ())}
        )
        pins = self._pinned()
        missing = [name for name in sources if name not in pins]
        if missing:
            raise QueryFailed(f"{', '.join(missing)}: not curated yet (run `practicelake curate`)")
        chosen = {name: pins[name] for name in sources}
        snapshots = tuple((name, pin.snapshot_id) for name, pin in chosen.items())
        key: SessionKey = (scope, tuple(read), snapshots)
        found = self._session(key, lambda: self._relations(read, scope, chosen))
        with found.lock:
            return session.execute(found.con, checked.sql, self.limits, _used(checked, parameters or {}))

    def reads(self, sql: str, relations: list[str]) -> list[str]:
        """The relations among `relations` that `sql` reads; none if the guard refuses it."""
        try:
            checked = self._check(sql, frozenset(relations))
        except PracticelakeError:
            return []
        return sorted(name for name in relations if name.lower() in checked.reads)

    def _visible(self, scope: Scope) -> list[str]:
        names = [name for name in self.relations() if scope.view(name) is not None]
        # Benchmarks span every practice: only a scope that grants them by name, or sees everything.
        if scope.views is not None or scope.practices is None:
            names += [name for name in sorted(BENCHMARKS) if scope.view(name) is not None]
        return names

    def _relations(self, read: list[str], scope: Scope, pins: Mapping[str, Pin]) -> dict[str, pa.Table]:
        relations: dict[str, pa.Table] = {}
        for name in read:
            view = scope.view(name)
            assert view is not None
            if name in BENCHMARKS:
                everything = Scope.every_practice()
                computed = benchmarks.compute(
                    {n: self._rows(pins[n], everything) for n in sorted(benchmarks.sources())}, self.limits
                )
                rows = computed[name]
            else:
                rows = self._rows(pins[name], Scope(view.practices))
            relations[name] = rows.drop_columns([c for c in rows.column_names if c in view.hidden])
        return relations

    def _check(self, sql: str, relations: frozenset[str]) -> Checked:
        with self._lock:
            if (sql, relations) in self._checked:
                self._checked.move_to_end((sql, relations))
                return self._checked[(sql, relations)]
        query = guard.check(sql, set(relations))
        checked = Checked(
            sql=query.sql(guard.DIALECT, comments=False),
            reads=frozenset(table.name.lower() for table in query.find_all(exp.Table)),
            placeholders=frozenset(placeholder.name for placeholder in query.find_all(exp.Placeholder)),
        )
        with self._lock:
            self._checked[(sql, relations)] = checked
            if len(self._checked) > CHECKED_QUERIES:
                self._checked.popitem(last=False)
        return checked

    def _pinned(self) -> dict[str, Pin]:
        seen_at, pins = self._pins
        if time.monotonic() - seen_at > self.freshness_seconds:
            pins = pinned(self.catalog)
            self._pins = (time.monotonic(), pins)
        return pins

    def _table(self, pin: Pin) -> Table:
        with self._lock:
            if pin.metadata_location in self._tables:
                self._tables.move_to_end(pin.metadata_location)
                return self._tables[pin.metadata_location]
        table = open_pinned(self.catalog, pin)
        with self._lock:
            self._tables[pin.metadata_location] = table
            while len(self._tables) > TABLES:
                self._tables.popitem(last=False)
        return table

    def _session(self, key: SessionKey, relations: Callable[[], dict[str, pa.Table]]) -> Session:
        with self._lock:
            if key in self._sessions:
                self._sessions.move_to_end(key)
                return self._sessions[key]
        made = Session(session.locked_connection(relations(), self.limits))
        with self._lock:
            self._sessions[key] = made
            while len(self._sessions) > SESSIONS:
                _, evicted = self._sessions.popitem(last=False)
                with evicted.lock:
                    evicted.con.close()
        return made

    def _rows(self, pin: Pin, scope: Scope) -> pa.Table:
        """The table's rows of the scope's practices, at its pinned snapshot."""
        key: CacheKey = (pin.name, pin.snapshot_id, scope.practices)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        try:
            rows = _scan(self._table(pin), pin, scope)
        except FileNotFoundError:
            # Offboarding deletes a practice's rows and the history that held them.
            raise QueryFailed(
                f"{pin.name}: the snapshot the last curate recorded is gone; run `practicelake curate`"
            ) from None
        with self._lock:
            self._cache[key] = rows
            while len(self._cache) > 1 and sum(t.nbytes for t in self._cache.values()) > self.cache_bytes:
                self._cache.popitem(last=False)
        return rows


def _close_sessions(sessions: OrderedDict[SessionKey, Session], lock: threading.Lock) -> None:
    with lock:
        kept = list(sessions.values())
        sessions.clear()
    for found in kept:
        with found.lock:
            found.con.close()


def _used(checked: Checked, parameters: Mapping[str, object]) -> dict[str, object]:
    """The values of the query's `$name` placeholders: a named query may leave some unused."""
    names = checked.placeholders
    missing = sorted(names - set(parameters))
    if missing:
        raise QueryFailed("no value for " + ", ".join("$" + name for name in missing))
    return {name: parameters[name] for name in names}


def _scan(table: Table, pin: Pin, scope: Scope) -> pa.Table:
    name = pin.name
    if "practice_id" not in table.schema().column_names:
        raise QueryFailed(f"{name} has no practice_id column: it cannot be scoped, so it is not served")
    if pin.snapshot_id is None or (scope.practices is not None and not scope.practices):
        return table.schema().as_arrow().empty_table()
    rows = table.scan(row_filter=_practice_filter(scope), snapshot_id=pin.snapshot_id).to_arrow()
    # The filter above is the scope; this only proves it held.
    if scope.practices is not None:
        inside = pc.is_in(rows["practice_id"], value_set=pa.array(sorted(scope.practices), pa.string()))
        outside = pc.invert(pc.fill_null(inside, False))
        if pc.any(outside).as_py():
            raise QueryFailed(f"{name}: the scan returned rows outside the reader's practices")
    return rows


def _practice_filter(scope: Scope) -> BooleanExpression:
    if scope.practices is None:
        return AlwaysTrue()
    return In(Reference("practice_id"), sorted(scope.practices))  # type: ignore[call-arg,arg-type]
