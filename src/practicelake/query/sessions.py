"""A query process's sessions: one per scope, each a cursor on the process's one locked
database (query.session), holding every relation its scope's queries have read as a temporary
table of that cursor, at the pinned snapshot it was read at. DuckDB answers a dashboard's query
over its own tables in about half the time it takes over an Arrow view, and a scope's next
query finds its tables there.

A temporary table belongs to its cursor: no other session can name it. The tables held by
all sessions stay within a byte budget: the sessions used longest ago are closed first (their
tables go with them), and a session alone over the budget keeps only what its query reads.
The database's memory limit is the query's limit plus that budget, so that what is held never
takes from what a query may use."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
from sqlglot import exp

from practicelake.curate.snapshots import Pin
from practicelake.query import session
from practicelake.query.scope import Scope
from practicelake.query.session import Limits

LOADING = "__practicelake_loading"  # the Arrow rows a temporary table is made from, for a moment
UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
         "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}  # fmt: skip
SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.IGNORECASE)


def memory_bytes(text: str) -> int:
    """A DuckDB memory setting ("1GB", "512MiB") in bytes."""
    found = SIZE.fullmatch(text)
    unit = "" if found is None else found.group(2).lower()
    if found is None or unit not in UNITS:
        raise ValueError(f"not a memory size: {text!r} (say 1GB or 512MiB, say)")
    return int(float(found.group(1)) * UNITS[unit])


@dataclass
class Session:
    cursor: duckdb.DuckDBPyConnection
    held: dict[str, tuple[int | None, int]] = field(default_factory=dict)
    """Each relation held: (the snapshot it was read at, its size in Arrow's memory)."""

    @property
    def nbytes(self) -> int:
        return sum(size for _, size in self.held.values())

    def hold(self, name: str, snapshot_id: int | None, rows: pa.Table) -> None:
        self.cursor.register(LOADING, rows)
        try:
            self.cursor.execute(_create(name))
        finally:
            self.cursor.unregister(LOADING)
        self.held[name] = (snapshot_id, rows.nbytes)

    def drop(self, name: str) -> None:
        self.cursor.execute(_drop(name))
        del self.held[name]


class Sessions:
    """The sessions of one query process, by scope. One thread at a time."""

    def __init__(self, limits: Limits, budget: int, most: int) -> None:
        self.limits = limits
        self.budget = budget
        self.most = most
        self.opened = 0
        self._database: duckdb.DuckDBPyConnection | None = None
        self._sessions: OrderedDict[Scope, Session] = OrderedDict()

    def ready(
        self, scope: Scope, read: list[str], pins: Mapping[str, Pin], rows: Callable[[str], pa.Table]
    ) -> duckdb.DuckDBPyConnection:
        """The scope's session, holding each relation of `read` at its pin (`rows` reads one
        that it does not hold yet, or holds at another snapshot)."""
        found = self._session(scope)
        for name in read:
            snapshot_id = pins[name].snapshot_id
            if name not in found.held or found.held[name][0] != snapshot_id:
                found.hold(name, snapshot_id, rows(name))
        self._trim(scope, read)
        return found.cursor

    def held(self) -> dict[Scope, dict[str, tuple[int | None, int]]]:
        return {scope: dict(found.held) for scope, found in self._sessions.items()}

    def close(self) -> None:
        while self._sessions:
            self._sessions.popitem()[1].cursor.close()
        if self._database is not None:
            self._database.close()
            self._database = None

    def _session(self, scope: Scope) -> Session:
        if scope in self._sessions:
            self._sessions.move_to_end(scope)
            return self._sessions[scope]
        if self._database is None:
            limit = memory_bytes(self.limits.memory) + self.budget
            self._database = session.locked_database(self.limits, memory=f"{limit // 2**20}MiB")
        found = Session(self._database.cursor())
        self.opened += 1
        self._sessions[scope] = found
        while len(self._sessions) > self.most:
            self._sessions.popitem(last=False)[1].cursor.close()
        return found

    def _trim(self, keep: Scope, read: list[str]) -> None:
        while len(self._sessions) > 1 and self._nbytes() > self.budget:
            oldest = next(iter(self._sessions))
            if oldest == keep:
                self._sessions.move_to_end(keep)
                oldest = next(iter(self._sessions))
            self._sessions.pop(oldest).cursor.close()
        current = self._sessions[keep]
        for name in [n for n in current.held if n not in read]:
            if current.nbytes <= self.budget:
                break
            current.drop(name)

    def _nbytes(self) -> int:
        return sum(found.nbytes for found in self._sessions.values())


def _create(name: str) -> str:
    table = exp.Table(this=exp.to_identifier(name, quoted=True))
    temporary = exp.Properties(expressions=[exp.TemporaryProperty()])
    select = exp.select("*").from_(exp.to_table(LOADING))
    return exp.Create(this=table, kind="TABLE", replace=True, expression=select, properties=temporary).sql("duckdb")


def _drop(name: str) -> str:
    table = exp.Table(this=exp.to_identifier(name, quoted=True))
    return exp.Drop(tables=[table], kind="TABLE", exists=True).sql("duckdb")
