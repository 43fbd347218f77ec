"""A query process's sessions: one per scope, each a cursor on the process's one locked
database (query.session), holding every relation its scope's queries have read as a view of
that cursor over the rows in Arrow's memory, at the pinned snapshot it was read at: a scope's
next query finds its relations there.

(DuckDB runs a dashboard's query over its own tables in about half the time it takes over
Arrow, but copying a table in costs more than the queries of a first page view save, and
the views seen again are answered by the query service's kept answers.)

A view belongs to its cursor: no other session can name it. The rows held by all sessions
stay within a byte budget: the sessions used longest ago are closed first (their rows go with
them), and a session alone over the budget keeps only what its query reads."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from practicelake.curate.snapshots import Pin
from practicelake.query import session
from practicelake.query.scope import Scope
from practicelake.query.session import Limits


@dataclass
class Session:
    cursor: duckdb.DuckDBPyConnection
    held: dict[str, tuple[int | None, int]] = field(default_factory=dict)
    """Each relation held: (the snapshot it was read at, its size in Arrow's memory)."""
    nbytes: int = 0
    """The size of all it holds."""

    def hold(self, name: str, snapshot_id: int | None, rows: pa.Table) -> int:
        """Hold `rows` as `name`; how many bytes more it holds now."""
        before = self.nbytes
        if name in self.held:
            self.drop(name)
        self.cursor.register(name, rows)
        self.held[name] = (snapshot_id, rows.nbytes)
        self.nbytes += rows.nbytes
        return self.nbytes - before

    def drop(self, name: str) -> int:
        """Let `name` go; how many bytes it held."""
        self.cursor.unregister(name)
        size = self.held.pop(name)[1]
        self.nbytes -= size
        return size


class Sessions:
    """The sessions of one query process, by scope. One thread at a time."""

    def __init__(self, limits: Limits, budget: int, most: int) -> None:
        self.limits = limits
        self.budget = budget
        self.most = most
        self.opened = 0
        self._database: duckdb.DuckDBPyConnection | None = None
        self._sessions: OrderedDict[Scope, Session] = OrderedDict()
        self._nbytes = 0
        """What all sessions hold."""

    def ready(
        self, scope: Scope, read: list[str], pins: Mapping[str, Pin], rows: Callable[[str], pa.Table]
    ) -> duckdb.DuckDBPyConnection:
        """The scope's session, holding each relation of `read` at its pin (`rows` reads one
        that it does not hold yet, or holds at another snapshot)."""
        found = self._session(scope)
        for name in read:
            snapshot_id = pins[name].snapshot_id
            if name not in found.held or found.held[name][0] != snapshot_id:
                self._nbytes += found.hold(name, snapshot_id, rows(name))
        self._trim(scope, read)
        return found.cursor

    @property
    def nbytes(self) -> int:
        """What all the sessions hold."""
        return self._nbytes

    def held(self) -> dict[Scope, dict[str, tuple[int | None, int]]]:
        return {scope: dict(found.held) for scope, found in self._sessions.items()}

    def close(self) -> None:
        while self._sessions:
            self._end(self._sessions.popitem()[1])
        if self._database is not None:
            self._database.close()
            self._database = None

    def _session(self, scope: Scope) -> Session:
        if scope in self._sessions:
            self._sessions.move_to_end(scope)
            return self._sessions[scope]
        if self._database is None:
            self._database = session.locked_database(self.limits)
        found = Session(self._database.cursor())
        self.opened += 1
        self._sessions[scope] = found
        while len(self._sessions) > self.most:
            self._end(self._sessions.popitem(last=False)[1])
        return found

    def _trim(self, keep: Scope, read: list[str]) -> None:
        while len(self._sessions) > 1 and self._nbytes > self.budget:
            oldest = next(iter(self._sessions))
            if oldest == keep:
                self._sessions.move_to_end(keep)
                oldest = next(iter(self._sessions))
            self._end(self._sessions.pop(oldest))
        current = self._sessions[keep]
        for name in [n for n in current.held if n not in read]:
            if current.nbytes <= self.budget:
                break
            self._nbytes -= current.drop(name)

    def _end(self, found: Session) -> None:
        found.cursor.close()
        self._nbytes -= found.nbytes
