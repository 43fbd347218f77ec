"""Errors of the read path. None of them is worth retrying with the same query."""

from __future__ import annotations

from practicelake.errors import PracticelakeError


class QueryRefused(PracticelakeError):
    """The query was not run, or was stopped: it is not a plain read of the allowed tables,
    or it went past a limit (rows, time, memory)."""


class QueryFailed(PracticelakeError):
    """The query was allowed but DuckDB could not run it (an unknown column, a bad cast, ...)."""
