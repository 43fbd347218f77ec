"""One query process's state, driven directly: its sessions share one locked database, and the
rows its cache lets go of are not kept alive by a session."""

from __future__ import annotations

import importlib
import json
import sys

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog

from practicelake.curate.snapshots import pinned
from practicelake.query.scope import Scope
from practicelake.query.session import Limits
from practicelake.query.worker import QueryProcess, Run, mark_absent

VISITS = "select practice_id, sum(visits) as visits from visits group by practice_id order by practice_id"


def ask(process: QueryProcess, catalog: Catalog, practices: set[str]) -> list[dict[str, object]]:
    request = Run(VISITS, frozenset({"visits", "payer_mix"}), Scope.of(practices), pinned(catalog))
    header, payload = process.answer(request)
    assert header["ok"], header
    assert payload is not None
    rows: list[dict[str, object]] = pa.ipc.open_stream(payload).read_all().to_pylist()
    return rows


def test_each_scope_gets_its_own_session_and_its_own_rows(catalog: Catalog) -> None:
    process = QueryProcess(catalog, Limits(), cache_bytes=64 * 2**20)
    try:
        first = ask(process, catalog, {"P001"})
        second = ask(process, catalog, {"P002"})
        assert {row["practice_id"] for row in first} == {"P001"}
        assert {row["practice_id"] for row in second} == {"P002"}
        assert process.sessions_opened == 2
        assert ask(process, catalog, {"P001"}) == first  # its session again
        assert process.sessions_opened == 2
    finally:
        process.close()


def test_a_session_does_not_outlive_the_rows_the_cache_dropped(catalog: Catalog) -> None:
    # A budget smaller than one scope's rows: each new scope's rows push the last one's out,
    # and the session that held them is closed rather than keeping them in memory.
    process = QueryProcess(catalog, Limits(), cache_bytes=1)
    try:
        ask(process, catalog, {"P001"})
        ask(process, catalog, {"P002"})
        ask(process, catalog, {"P001", "P002"})
        assert len(process._sessions) <= 2
        held = set().union(*process._uses.values())
        cached = set(process.tables._cache)
        assert held - cached <= process.tables.evicted  # dropped rows are only held until the next session
        assert {row["practice_id"] for row in ask(process, catalog, {"P002"})} == {"P002"}
    finally:
        process.close()


def test_modules_not_installed_are_marked_absent_and_others_left_alone() -> None:
    missing = "practicelake_module_that_is_not_installed"
    try:
        mark_absent((missing, "json"))
        assert sys.modules[missing] is None
        with pytest.raises(ImportError):
            importlib.import_module(missing)
        assert sys.modules["json"] is json
    finally:
        sys.modules.pop(missing, None)
