"""The query process: where readers' queries are checked and run, apart from the process that
serves them all (query.pool starts and replaces these processes).

Each one holds the guard's verdicts and a locked session per scope, which keeps the scoped rows
its queries have read (query.sessions, read through query.tables), and
answers one request at a time. Before the first it
caps itself: its address space at `Limits.address_space` (RLIMIT_AS, hard: it cannot be
raised again), no core files, and for each request its CPU time at the query's time limit
for every DuckDB thread and the process's own, plus CPU_SLACK_SECONDS (RLIMIT_CPU: past it
the kernel stops the process). An allocation past the cap fails inside DuckDB as an
out-of-memory error, or ends the process; either way only this process and its query are
lost, and the serving process starts another.

Replies are JSON and Arrow IPC, never pickles: the serving process does not run code from
what a query process sends, even if a query ever took one over."""

from __future__ import annotations

import contextlib
import ctypes
import importlib.abc
import importlib.util
import json
import math
import pickle
import resource
import signal
import sys
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import duckdb
import pyarrow as pa
from pyiceberg.catalog import Catalog

from practicelake.curate.snapshots import Pin
from practicelake.errors import PracticelakeError
from practicelake.query import guard, session
from practicelake.query.errors import QueryError, QueryFailed, QueryRefused, Reason, as_query_error
from practicelake.query.guard import Checked
from practicelake.query.scope import Scope
from practicelake.query.session import Limits
from practicelake.query.sessions import Sessions
from practicelake.query.tables import CuratedTables

SESSIONS = 256  # sessions kept open, one per scope (query.sessions)
CHECKED_QUERIES = 512  # the guard's verdicts kept, by query text and relations
CPU_SLACK_SECONDS = 5
M_ARENA_MAX = -8  # glibc's mallopt parameter
ABSENT_MODULES = ("pandas",)  # looked for by DuckDB on each bound parameter


@dataclass(frozen=True)
class CatalogSpec:
    """How a query process opens the service's catalog again: its class, name and properties."""

    kind: type[Catalog]
    name: str
    properties: Mapping[str, str]

    @classmethod
    def of(cls, catalog: Catalog) -> CatalogSpec:
        return cls(type(catalog), catalog.name, dict(catalog.properties))

    def open(self) -> Catalog:
        return self.kind(self.name, **self.properties)


@dataclass(frozen=True)
class Check:
    """The guard's verdict on `sql` over `relations`, without running it."""

    sql: str
    relations: frozenset[str]


@dataclass(frozen=True)
class Warm:
    """Make ready before readers come: plan the files of every table in `pins` and check each
    of `queries` over each set of `relations`; the reply's `verdicts` are what each reads
    (None: refused), per query for each set in turn."""

    pins: Mapping[str, Pin]
    queries: tuple[str, ...] = ()
    relations: tuple[frozenset[str], ...] = ()


@dataclass(frozen=True)
class Hold:
    """Read `relations` into `scope`'s session at `pins`, before its reader comes: no query
    runs and no row leaves the process. The reply's `held` is what all its sessions hold."""

    relations: tuple[str, ...]
    scope: Scope
    pins: Mapping[str, Pin]


@dataclass(frozen=True)
class Run:
    """`sql` over `relations` as `scope` shows them, at `pins`, with `parameters` bound."""

    sql: str
    relations: frozenset[str]
    scope: Scope
    pins: Mapping[str, Pin]
    parameters: Mapping[str, object] = field(default_factory=dict)


class QueryProcess:
    """The state of one query process."""

    def __init__(self, catalog: Catalog, limits: Limits, cache_bytes: int) -> None:
        self.limits = limits
        self.tables = CuratedTables(catalog)  # reads rows; the sessions hold them
        self.sessions = Sessions(limits, cache_bytes, SESSIONS)
        self._checked: OrderedDict[tuple[str, frozenset[str]], Checked] = OrderedDict()

    def answer(self, request: Check | Run | Warm | Hold) -> tuple[dict[str, Any], pa.Buffer | None]:
        """The reply's header and, for rows, their Arrow IPC stream."""
        if isinstance(request, Warm):
            return self.warm(request), None
        if isinstance(request, Hold):
            return self.hold(request), None
        start = time.monotonic()
        self.tables.scanned.clear()
        opened = self.sessions.opened
        checked: Checked | None = None
        header: dict[str, Any] = {}
        payload: pa.Buffer | None = None
        try:
            checked = self.check(request.sql, request.relations)
            if isinstance(request, Run):
                payload = _ipc(self.run(request, checked, start))
            header["ok"] = True
        except Exception as exc:
            error = _as_error(exc)
            header |= {"ok": False, "error": type(error).__name__, "message": str(error).splitlines()[0]}
            header["reason"] = error.reason if isinstance(error, QueryError) else Reason.FAILED
            # Memory past the cap, or a failure no one foresaw: this process may not be sound.
            header["retire"] = header["reason"] in (Reason.MEMORY, Reason.UNEXPECTED)
        header["reads"] = None if checked is None else sorted(checked.reads)
        header["scanned"] = list(self.tables.scanned)
        header["opened"] = self.sessions.opened - opened
        return header, payload

    def warm(self, request: Warm) -> dict[str, Any]:
        for pin in request.pins.values():
            with contextlib.suppress(Exception):  # a table that cannot be planned fails its own queries later
                self.tables.prepare(pin)
        verdicts: list[list[str] | None] = []
        for relations in request.relations:
            for sql in request.queries:
                try:
                    verdicts.append(sorted(self.check(sql, relations).reads))
                except Exception:
                    verdicts.append(None)
        return {"ok": True, "verdicts": verdicts}

    def hold(self, request: Hold) -> dict[str, Any]:
        def rows(name: str) -> pa.Table:
            return self.tables.relations([name], request.scope, request.pins)[name]

        self.tables.scanned.clear()
        header: dict[str, Any] = {"ok": True}
        try:
            self.sessions.ready(request.scope, list(request.relations), request.pins, rows)
        except Exception as exc:  # the scope's first query reads them, or fails, as it would have
            header = {"ok": False, "error": type(exc).__name__}
        return header | {"held": self.sessions.nbytes, "budget": self.sessions.budget, "scanned": self.tables.scanned}

    def check(self, sql: str, relations: frozenset[str]) -> Checked:
        key = (sql, relations)
        if key in self._checked:
            self._checked.move_to_end(key)
            return self._checked[key]
        checked = guard.verdict(sql, set(relations))
        self._checked[key] = checked
        while len(self._checked) > CHECKED_QUERIES:
            self._checked.popitem(last=False)
        return checked

    def run(self, request: Run, checked: Checked, start: float) -> pa.Table:
        read = sorted(name for name in request.relations if name.lower() in checked.reads)
        sources = read
        missing = [name for name in sources if name not in request.pins]
        if missing:
            raise QueryFailed(f"{', '.join(missing)}: not curated yet (run `practicelake curate`)", Reason.NOT_CURATED)
        chosen = {name: request.pins[name] for name in sources}

        def rows(name: str) -> pa.Table:
            return self.tables.relations([name], request.scope, chosen)[name]

        con = self.sessions.ready(request.scope, read, chosen, rows)
        left = self.limits.seconds - (time.monotonic() - start)
        if left <= 0:
            raise QueryRefused(f"the query ran longer than {self.limits.seconds:g} s and was stopped", Reason.TIME)
        return session.execute(con, checked.sql, self.limits, _used(checked, request.parameters), seconds=left)

    def close(self) -> None:
        """Close the sessions and their database: DuckDB aborts a process whose connections
        outlive the interpreter."""
        self.sessions.close()


def main(fd: int) -> None:
    """A query process's start, in the zygote's child: what to serve comes first on its socket."""
    conn = Connection(fd)
    catalog, limits, cache_bytes = pickle.loads(conn.recv_bytes())  # noqa: S301  (from the serving process)
    serve(conn, catalog, limits, cache_bytes)


def serve(conn: Connection, catalog: CatalogSpec, limits: Limits, cache_bytes: int) -> None:
    """The query process's life: cap itself, say it is ready, answer requests until told to
    stop (None), until the serving process goes away, or until a reply says it retires."""
    # Ctrl-C reaches the whole process group: the serving process decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    confine(limits)
    mark_absent(ABSENT_MODULES)
    process = QueryProcess(catalog.open(), limits, cache_bytes)
    try:
        conn.send_bytes(_json({"ready": True}))
        while True:
            try:
                request = pickle.loads(conn.recv_bytes())  # noqa: S301  (from the serving process only)
            except (EOFError, OSError):
                return
            if request is None:
                return
            with cpu_budget(limits):
                header, payload = process.answer(request)
            conn.send_bytes(_json(header | {"bytes": 0 if payload is None else payload.size}))
            if payload is not None:
                conn.send_bytes(memoryview(payload))
            if header.get("retire"):
                return
    except (BrokenPipeError, EOFError):
        return
    finally:
        process.close()


def mark_absent(modules: tuple[str, ...]) -> None:
    """Make importing these modules, when they are not installed, fail at once. DuckDB tries
    to import pandas for every parameter it binds; without pandas each try walks the whole
    import path again (about a millisecond for a dashboard query's parameters). A finder first
    in line says they are not there; nothing is put in `sys.modules` (pyarrow reads a module
    it finds there as installed)."""
    absent = frozenset(name for name in modules if name not in sys.modules and importlib.util.find_spec(name) is None)
    if absent:
        sys.meta_path.insert(0, _NotInstalled(absent))


class _NotInstalled(importlib.abc.MetaPathFinder):
    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


def confine(limits: Limits) -> None:
    """Cap this process's address space and forbid core files (a dump would hold rows)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(OSError, AttributeError):
        # Each thread's malloc arena reserves 64 MiB of address space, which would count
        # against the cap without holding anything.
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, 2)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = limits.address_space if hard == resource.RLIM_INFINITY else min(limits.address_space, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


@contextlib.contextmanager
def cpu_budget(limits: Limits) -> Iterator[None]:
    """Let the next request use at most its share of CPU time; past it, SIGXCPU ends the process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    allowed = usage.ru_utime + usage.ru_stime + limits.seconds * (limits.threads + 1) + CPU_SLACK_SECONDS
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    budget = math.ceil(allowed) if hard == resource.RLIM_INFINITY else min(math.ceil(allowed), hard)
    resource.setrlimit(resource.RLIMIT_CPU, (budget, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _as_error(exc: Exception) -> PracticelakeError:
    """The error to report: DuckDB's own when it fails outside a query (opening a session past
    the cap, say), else as the read path reports any."""
    if isinstance(exc, duckdb.OutOfMemoryException):
        return QueryRefused("the query needs more memory than a query may use", Reason.MEMORY)
    if isinstance(exc, duckdb.Error):
        return QueryFailed("DuckDB could not open a session for the query", Reason.UNEXPECTED)
    return as_query_error(exc)


def _used(checked: Checked, parameters: Mapping[str, object]) -> dict[str, object]:
    """The values of the query's `$name` placeholders: a named query may leave some unused."""
    names = checked.placeholders
    missing = sorted(names - set(parameters))
    if missing:
        raise QueryFailed("no value for " + ", ".join("$" + name for name in missing), Reason.PARAMETER)
    return {name: parameters[name] for name in names}


def _ipc(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _json(header: Mapping[str, Any]) -> bytes:
    return json.dumps(header, default=str).encode("utf-8")
