"""One query process's state, driven directly: one session per scope on one locked database,
each holding the tables its queries read, within the byte budget."""

from __future__ import annotations

import importlib
import json
import sys
from datetime import date

import pyarrow as pa
import pytest
from curated_lake import VISITS, write_table
from pyiceberg.catalog import Catalog

from practicelake.curate.snapshots import pinned
from practicelake.query.scope import Scope
from practicelake.query.session import Limits
from practicelake.query.sessions import memory_bytes
from practicelake.query.worker import QueryProcess, Run, mark_absent

VISITS_SQL = "select practice_id, sum(visits) as visits from visits group by practice_id order by practice_id"
BOTH = "select (select count(*) from visits) as visits, (select count(*) from payer_mix) as payers"


def ask(process: QueryProcess, catalog: Catalog, practices: set[str], sql: str = VISITS_SQL) -> list[dict[str, object]]:
    request = Run(sql, frozenset({"visits", "payer_mix"}), Scope.of(practices), pinned(catalog))
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
        assert process.sessions.opened == 2
        assert ask(process, catalog, {"P001"}, BOTH) == [{"visits": 2, "payers": 2}]  # the same session
        assert process.sessions.opened == 2
        assert ask(process, catalog, {"P001"}) == first
        assert process.tables.scanned == []  # held by the session: not read again
    finally:
        process.close()


def test_a_new_curate_is_read_into_the_session(catalog: Catalog) -> None:
    process = QueryProcess(catalog, Limits(), cache_bytes=64 * 2**20)
    try:
        before = ask(process, catalog, {"P001"})
        row = {"practice_id": "P001", "month": date(2024, 3, 1), "visits": 5, "charges": None, "no_show_rate": None}
        write_table(catalog, "visits", VISITS, [row])
        after = ask(process, catalog, {"P001"})
        assert int(str(after[0]["visits"])) == int(str(before[0]["visits"])) + 5
    finally:
        process.close()


def test_the_sessions_hold_no_more_than_the_budget(catalog: Catalog) -> None:
    # A budget smaller than one scope's rows: each new scope's session closes the older ones,
    # and a session keeps only what its query reads.
    process = QueryProcess(catalog, Limits(), cache_bytes=1)
    try:
        ask(process, catalog, {"P001"})
        ask(process, catalog, {"P002"})
        assert ask(process, catalog, {"P001", "P002"}, BOTH) == [{"visits": 4, "payers": 3}]
        held = process.sessions.held()
        assert list(held) == [Scope.of({"P001", "P002"})]
        totals = [(row["practice_id"], int(str(row["visits"]))) for row in ask(process, catalog, {"P001", "P002"})]
        assert totals == [("P001", 30), ("P002", 1850)]
        assert set(process.sessions.held()[Scope.of({"P001", "P002"})]) == {"visits"}
    finally:
        process.close()


def test_memory_sizes_read_as_duckdb_reads_them() -> None:
    assert memory_bytes("1GB") == 10**9
    assert memory_bytes("512MiB") == 512 * 2**20
    assert memory_bytes(" 1.5 gib ") == 3 * 2**29
    with pytest.raises(ValueError, match="not a memory size"):
        memory_bytes("lots")


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
