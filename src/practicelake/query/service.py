"""The one read path for people: `QueryService.run(sql, scope)`. The scope is applied here,
when each curated table is loaded into the session (only the scope's practices' rows are
read); the reader's SQL is checked by the guard and runs in a locked session."""

from __future__ import annotations

import threading
from collections import OrderedDict

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysTrue, BooleanExpression, In, Reference
from pyiceberg.table import Table
from sqlglot import exp

from practicelake.lakehouse.catalog import current_snapshot_id
from practicelake.query import guard, session
from practicelake.query.errors import QueryFailed
from practicelake.query.scope import Scope
from practicelake.query.session import Limits

ZONE = "curated"
CACHE_BYTES = 512 * 1024 * 1024

# (table, snapshot id, the scope's practices): an entry holds one scope's rows only.
CacheKey = tuple[str, int | None, frozenset[str] | None]


class QueryService:
    """Readers' SQL over the curated zone, each reader within their scope. One instance can be
    shared by threads; it keeps each table's scoped rows per snapshot until the table changes."""

    def __init__(self, catalog: Catalog, limits: Limits | None = None, cache_bytes: int = CACHE_BYTES) -> None:
        self.catalog = catalog
        self.limits = limits or Limits()
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[CacheKey, pa.Table] = OrderedDict()
        self._lock = threading.Lock()

    def relations(self) -> list[str]:
        """The curated tables a query may read, by plain name (`visits`, not `curated.visits`)."""
        return sorted(identifier[-1] for identifier in self.catalog.list_tables(ZONE))

    def run(self, sql: str, scope: Scope) -> pa.Table:
        names = self.relations()
        query = guard.check(sql, set(names))
        read = {table.name.lower() for table in query.find_all(exp.Table)}
        relations = {name: self._rows(name, scope) for name in names if name.lower() in read}
        return session.run(relations, query, self.limits)

    def _rows(self, name: str, scope: Scope) -> pa.Table:
        """The table's rows of the scope's practices, at its current snapshot."""
        table = self.catalog.load_table((ZONE, name))
        key: CacheKey = (name, current_snapshot_id(table), scope.practices)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        rows = _scan(table, name, scope)
        with self._lock:
            self._cache[key] = rows
            while len(self._cache) > 1 and sum(t.nbytes for t in self._cache.values()) > self.cache_bytes:
                self._cache.popitem(last=False)
        return rows


def _scan(table: Table, name: str, scope: Scope) -> pa.Table:
    if "practice_id" not in table.schema().column_names:
        raise QueryFailed(f"{name} has no practice_id column: it cannot be scoped, so it is not served")
    if scope.practices is not None and not scope.practices:
        return table.schema().as_arrow().empty_table()
    rows = table.scan(row_filter=_practice_filter(scope)).to_arrow()
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
