"""The second wall of the read path: a DuckDB session that holds only the reader's relations
(in memory, already scoped) and can reach nothing else: no files, no extensions, no settings
changes. A session serves one scope and one set of tables; it runs one query at a time. A
query process keeps one locked database and opens each session as a cursor on it: a cursor
costs a few hundred microseconds where a database costs over ten milliseconds, and the views
registered on one cursor are not visible to another.

Limits hold per query: at most `max_rows` rows and `result_bytes` bytes come back, DuckDB
stops the query after `seconds` (an interrupt) and keeps its own buffers under `memory`.
DuckDB's memory limit does not cover every allocation (strings and lists a function builds
are outside it), so sessions run in a query process (query.worker) whose whole address space
is capped at `address_space`."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pyarrow as pa
from sqlglot import exp

from practicelake.query.errors import QueryFailed, QueryRefused, Reason
from practicelake.query.guard import DIALECT, READS_ONLY
from practicelake.query.watchdog import WATCHDOG

# Fixed statements, run in this order when the database is made. The last one makes every
# setting, these included, impossible to change for the rest of the database's life.
LOCKDOWN = (
    "set enable_external_access = false",
    "set autoinstall_known_extensions = false",
    "set autoload_known_extensions = false",
    "set allow_community_extensions = false",
    "set lock_configuration = true",
)


@dataclass(frozen=True)
class Limits:
    max_rows: int = 100_000
    """More rows than this and the query is refused (never cut short silently)."""
    seconds: float = 30.0
    """The query is interrupted after this long."""
    memory: str = "1GB"
    """DuckDB memory limit; nothing spills to disk."""
    threads: int = 1
    """DuckDB threads per query. The dashboard's queries are small and many run at once, one
    per query process: a second thread each costs more in handing work over than it saves
    (bench/web_load.py: 18% less CPU in the query processes and a lower p95 with one)."""
    result_bytes: int = 128 * 1024 * 1024
    """A larger result (in Arrow's memory) is refused, however few its rows."""
    address_space: int = 4 * 1024**3
    """The cap on a query process's virtual memory (RLIMIT_AS), in bytes: DuckDB's buffers,
    what functions build outside them, the cached rows and the process itself (about 1.6 GiB
    of it reserved before the first query)."""


def locked_database(limits: Limits) -> duckdb.DuckDBPyConnection:
    """An in-memory database that holds nothing, locked down: sessions are cursors on it
    (`session_on`, query.sessions), each with its own relations. A cursor sees only the views
    registered on it, and the settings locked here hold for every cursor."""
    con = duckdb.connect(
        ":memory:",
        config={
            "memory_limit": limits.memory,
            "threads": limits.threads,
            "temp_directory": "",  # no spilling: an in-memory session writes no files
            "python_enable_replacements": False,  # a name never resolves to a Python variable
        },
    )
    try:
        for statement in LOCKDOWN:
            con.execute(statement)
    except BaseException:
        con.close()
        raise
    return con


def session_on(database: duckdb.DuckDBPyConnection, relations: Mapping[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    """A session on a locked database: a cursor where each relation is a view under its plain
    name, visible to this cursor only."""
    cursor = database.cursor()
    try:
        for name, rows in relations.items():
            cursor.register(name, rows)
    except BaseException:
        cursor.close()
        raise
    return cursor


def locked_connection(relations: Mapping[str, pa.Table], limits: Limits) -> duckdb.DuckDBPyConnection:
    """A locked database of its own with one session on it, holding `relations`."""
    return session_on(locked_database(limits), relations)


def execute(
    con: duckdb.DuckDBPyConnection,
    query: exp.Query | str,
    limits: Limits,
    parameters: Mapping[str, object] | None = None,
    *,
    seconds: float | None = None,
) -> pa.Table:
    """Run a checked query; refuse it if it returns more than `limits.max_rows` rows or
    `limits.result_bytes` bytes, or runs longer than `seconds` (what is left of the query's
    time; `limits.seconds` if not given)."""
    sql = query if isinstance(query, str) else query.sql(DIALECT, comments=False)
    batches: list[pa.RecordBatch] = []
    rows = size = 0
    with _deadline(con, limits.seconds if seconds is None else seconds) as expired:
        try:
            reader = con.execute(_one_select(con, sql), parameters or None).to_arrow_reader(
                batch_size=min(limits.max_rows + 1, 100_000)
            )
            for batch in reader:
                rows += batch.num_rows
                size += batch.nbytes
                if rows > limits.max_rows:
                    raise QueryRefused(
                        f"the query returns more than {limits.max_rows:,} rows: aggregate, filter or add a limit",
                        Reason.ROWS,
                    )
                if size > limits.result_bytes:
                    raise QueryRefused(
                        f"the query returns more than {limits.result_bytes / 2**20:,.0f} MiB: select fewer columns",
                        Reason.RESULT_BYTES,
                    )
                batches.append(batch)
            schema = reader.schema
        # Errors raised while batches stream out come through Arrow as OSError.
        except (duckdb.Error, OSError) as exc:
            raise _refusal(exc, expired.is_set(), limits) from None
    return pa.Table.from_batches(batches, schema=schema)


def run(
    relations: Mapping[str, pa.Table],
    query: exp.Query,
    limits: Limits,
    parameters: Mapping[str, object] | None = None,
) -> pa.Table:
    """A checked query over `relations`, in a fresh locked session."""
    con = locked_connection(relations, limits)
    try:
        return execute(con, query, limits, parameters)
    finally:
        con.close()


def _one_select(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.Statement:
    """The one SELECT statement DuckDB's own parser finds in `sql`: the guard's view, checked again."""
    statements = con.extract_statements(sql)
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        kinds = ", ".join(statement.type.name for statement in statements) or "nothing"
        raise QueryRefused(f"{READS_ONLY} (DuckDB reads {kinds})", Reason.NOT_A_READ)
    return statements[0]


def _refusal(exc: Exception, expired: bool, limits: Limits) -> QueryRefused | QueryFailed:
    if expired:
        return QueryRefused(f"the query ran longer than {limits.seconds:g} s and was stopped", Reason.TIME)
    message = _first_line(exc)
    if isinstance(exc, duckdb.OutOfMemoryException) or message.startswith("Out of Memory Error"):
        return QueryRefused(f"the query needs more than {limits.memory} of memory", Reason.MEMORY)
    return QueryFailed(message, Reason.ENGINE)


@contextmanager
def _deadline(con: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[threading.Event]:
    expired = threading.Event()

    def stop() -> None:
        expired.set()
        con.interrupt()

    number = WATCHDOG.watch(seconds, stop)
    try:
        yield expired
    finally:
        WATCHDOG.cancel(number)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
