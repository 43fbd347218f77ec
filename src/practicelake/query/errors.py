"""Errors of the read path. None of them is worth retrying with the same query, except
QueryBusy.

Each carries a `reason` from one fixed vocabulary (`Reason`) beside its message. The message
is for the reader and may name what they typed; the reason is what the audit log keeps, and
holds nothing taken from the query: no identifier, literal or value."""

from __future__ import annotations

from enum import StrEnum

from practicelake.errors import PracticelakeError


class Reason(StrEnum):
    """Why a query was refused or failed, in words no query can change."""

    EMPTY = "no query given"
    NOT_SQL = "not valid SQL"
    NOT_A_READ = "not one read-only query"
    TOO_LARGE = "query text over the size limit"
    TOO_MANY_TOKENS = "query over the token limit"
    TOO_DEEP = "query nested too deeply"
    FUNCTION = "function not allowed"
    SIZE_ARGUMENT = "size argument not a small literal"
    SESSION_NAME = "name that reads the session"
    UNKNOWN_RELATION = "relation not visible to the reader"
    QUALIFIED_NAME = "qualified name"
    TABLE_FUNCTION = "table function"
    TIME_TRAVEL = "time travel"
    UNRESOLVED = "relations read cannot be told"
    ROWS = "result over the row limit"
    RESULT_BYTES = "result over the size limit"
    TIME = "time limit"
    MEMORY = "memory limit"
    STOPPED = "query process stopped"
    BUSY = "no query process free in time"
    NOT_CURATED = "relation not curated yet"
    SNAPSHOT_GONE = "recorded snapshot gone"
    UNSCOPED = "relation cannot be scoped"
    SCOPE_BREACH = "scan returned rows outside the scope"
    PARAMETER = "parameter missing or not usable"
    ENGINE = "DuckDB could not run the query"
    UNAVAILABLE = "read path unavailable"
    REFUSED = "refused"
    FAILED = "failed"
    UNEXPECTED = "unexpected error"
    INTERRUPTED = "interrupted"


class QueryError(PracticelakeError):
    """A query the read path did not answer: the message for the reader, the reason for the log."""

    default_reason = Reason.FAILED

    def __init__(self, message: str, reason: Reason | None = None) -> None:
        super().__init__(message)
        self.reason = reason or self.default_reason

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (str(self), self.reason)


class QueryRefused(QueryError):
    """The query was not run, or was stopped: it is not a plain read of the allowed tables,
    or it went past a limit (size, nesting, rows, time, memory)."""

    default_reason = Reason.REFUSED


class QueryFailed(QueryError):
    """The query was allowed but could not be run (an unknown column, a bad cast, ...)."""

    default_reason = Reason.FAILED


class QueryBusy(QueryError):
    """Every query process this reader may use stayed busy for the whole time limit."""

    transient = True
    default_reason = Reason.BUSY


def as_query_error(exc: Exception) -> PracticelakeError:
    """What a reader is told of an error: practicelake's own as they are, any other as a refusal
    or failure that says no more than its kind."""
    if isinstance(exc, PracticelakeError):
        return exc
    if isinstance(exc, RecursionError):
        return QueryRefused("the query is nested too deeply", Reason.TOO_DEEP)
    if isinstance(exc, MemoryError):
        return QueryRefused("the query needs more memory than a query may use", Reason.MEMORY)
    return QueryFailed("the query could not be run: an unexpected error", Reason.UNEXPECTED)


def audit_reason(exc: BaseException) -> str:
    """The reason the audit log keeps: the error's kind and a phrase of the fixed vocabulary.
    Class names are the project's or Python's own, never the query's."""
    if isinstance(exc, QueryError):
        return f"{type(exc).__name__}: {exc.reason}"
    if isinstance(exc, Exception):
        converted = as_query_error(exc)
        if isinstance(converted, QueryError):
            return f"{type(converted).__name__}: {converted.reason} ({type(exc).__name__})"
        return f"{type(exc).__name__}: {Reason.FAILED}"
    return f"{type(exc).__name__}: {Reason.INTERRUPTED}"
