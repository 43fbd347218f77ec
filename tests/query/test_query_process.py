"""One query process's state, driven directly: one session per scope on one locked database,
each holding the tables its queries read, within the byte budget."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pyarrow as pa
from curated_lake import VISITS, write_table
from pyiceberg.catalog import Catalog

from practicelake.curate.snapshots import pinned
from practicelake.query.scope import Scope
from practicelake.query.session import Limits
from practicelake.query.worker import QueryProcess, Run

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


CHECK_ABSENT = """
import importlib, sys
from practicelake.query.worker import mark_absent
mark_absent(("practicelake_module_that_is_not_installed", "json"))
try:
    importlib.import_module("practicelake_module_that_is_not_installed")
except ModuleNotFoundError:
    pass
else:
    raise SystemExit("imported what is not installed")
assert "practicelake_module_that_is_not_installed" not in sys.modules
import json
import duckdb
import pyarrow as pa
import pyarrow.dataset  # pyarrow asks whether pandas is there: it must hear no, not crash
from datetime import date
rows = duckdb.connect().execute("select $d as d, $n as n", {"d": date(2026, 1, 1), "n": [1, 2]}).to_arrow_table()
assert rows.to_pylist() == [{"d": date(2026, 1, 1), "n": [1, 2]}]
assert pa.array([1, 2]).to_pylist() == [1, 2]
print("ok")
"""


def test_modules_not_installed_fail_to_import_at_once_and_nothing_else_changes() -> None:
    # In a fresh interpreter, as in a query process: nothing imported pandas before.
    ran = subprocess.run([sys.executable, "-c", CHECK_ABSENT], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "ok"
