"""The locked session, attacked with the guard out of the way: SQL goes straight to the
connection, as it would if a query ever slipped past the guard. DuckDB itself must refuse."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from sqlglot import exp

from practicelake.query.errors import QueryFailed, QueryRefused, Reason
from practicelake.query.guard import check
from practicelake.query.session import Limits, execute, locked_connection, locked_database, run, session_on
from practicelake.query.sessions import Session

VISITS = pa.table({"practice_id": ["P001", "P001", "P002"], "visits": [10, 20, 900]})
NUMBERS = pa.table({"n": list(range(2_000))})
RELATIONS = {"visits": VISITS, "numbers": NUMBERS}


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = locked_connection(RELATIONS, Limits())
    yield connection
    connection.close()


def test_relations_are_views_under_their_plain_names(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute("select sum(visits) from visits").fetchall() == [(930,)]
    assert con.execute("select count(*) from numbers").fetchall() == [(2_000,)]


FILE_ACCESS = [
    "select * from read_csv('/etc/passwd')",
    "select * from read_text('/etc/hostname')",
    "select * from read_blob('/etc/hostname')",
    "select * from read_parquet('/tmp/*.parquet')",
    "select * from glob('/etc/*')",
    "copy visits to '/tmp/practicelake-stolen.csv'",
    "attach '/tmp/practicelake-other.db' as other",
    "export database '/tmp/practicelake-everything'",
    "install httpfs",
]


@pytest.mark.parametrize("sql", FILE_ACCESS)
def test_files_are_out_of_reach(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
        con.execute(sql)


def test_nothing_was_written(con: duckdb.DuckDBPyConnection) -> None:
    for sql in FILE_ACCESS:
        with contextlib.suppress(duckdb.Error):
            con.execute(sql)
    assert not Path("/tmp/practicelake-stolen.csv").exists()
    assert not Path("/tmp/practicelake-other.db").exists()
    assert not Path("/tmp/practicelake-everything").exists()


def test_extensions_cannot_be_loaded(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.PermissionException, match="Loading external extensions is disabled"):
        con.execute("load httpfs")


SETTINGS = [
    "set enable_external_access = true",
    "set lock_configuration = false",
    "set memory_limit = '100GB'",
    "set threads = 64",
    "reset memory_limit",
    "set autoload_known_extensions = true",
    "pragma threads = 64",
]


@pytest.mark.parametrize("sql", SETTINGS)
def test_settings_are_locked(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    with pytest.raises(duckdb.InvalidInputException, match="the configuration has been locked"):
        con.execute(sql)


def test_the_lock_holds_the_limits(con: duckdb.DuckDBPyConnection) -> None:
    settings = dict(
        con.execute(
            "select name, value from duckdb_settings() where name in "
            "('enable_external_access', 'lock_configuration', 'threads', 'autoload_known_extensions')"
        ).fetchall()
    )
    assert settings == {
        "enable_external_access": "false",
        "lock_configuration": "true",
        "threads": "1",
        "autoload_known_extensions": "false",
    }


def test_a_name_never_resolves_to_a_python_variable(con: duckdb.DuckDBPyConnection) -> None:
    secret = pa.table({"key": ["do-not-read"]})
    assert secret.num_rows == 1
    with pytest.raises(duckdb.CatalogException, match="secret does not exist"):
        con.execute("select * from secret")


def test_a_path_is_not_a_table(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.CatalogException):
        con.execute("select * from '/etc/passwd'")


def test_a_second_statement_behind_the_guard_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    # A tree that renders as two statements: what a guard bypass would look like.
    smuggled = exp.select(exp.Var(this="1; drop view visits"))
    with pytest.raises(QueryRefused, match=r"only reads are allowed.*SELECT, DROP"):
        execute(con, smuggled, Limits())
    assert con.execute("select count(*) from visits").fetchall() == [(3,)]


def test_rows_up_to_the_limit_are_returned() -> None:
    result = run(RELATIONS, check("select n from numbers order by n", {"numbers"}), Limits(max_rows=2_000))
    assert result.column("n").to_pylist() == list(range(2_000))


def test_too_many_rows_is_refused_not_cut() -> None:
    with pytest.raises(QueryRefused, match="the query returns more than 1,999 rows"):
        run(RELATIONS, check("select n from numbers", {"numbers"}), Limits(max_rows=1_999))


def test_too_many_rows_of_a_cross_join_is_refused() -> None:
    query = check("select a.n, b.n from numbers a, numbers b", {"numbers"})
    with pytest.raises(QueryRefused, match="more than 100,000 rows"):
        run(RELATIONS, query, Limits(max_rows=100_000))


def test_a_query_that_runs_too_long_is_stopped() -> None:
    query = check(
        "with a as (select n from numbers), b as (select n from numbers), c as (select n from numbers) "
        "select sum(a.n * b.n + c.n) from a, b, c",
        {"numbers"},
    )
    with pytest.raises(QueryRefused, match=r"the query ran longer than 0.3 s and was stopped"):
        run(RELATIONS, query, Limits(seconds=0.3))


def test_a_query_that_needs_too_much_memory_is_stopped() -> None:
    query = check("select a.n from numbers a, numbers b order by a.n desc, b.n", {"numbers"})
    with pytest.raises(QueryRefused, match="the query needs more than 32MB of memory"):
        run(RELATIONS, query, Limits(memory="32MB", max_rows=10))


def test_a_mistake_in_the_query_is_one_line() -> None:
    with pytest.raises(QueryFailed, match='Referenced column "nope" not found') as failed:
        run(RELATIONS, check("select nope from visits", {"visits"}), Limits())
    assert "\n" not in str(failed.value)


def test_a_result_too_large_is_refused_however_few_its_rows() -> None:
    query = check("select repeat(practice_id, 1000) as wide from visits", {"visits"})
    with pytest.raises(QueryRefused, match="the query returns more than 0 MiB") as refused:
        run(RELATIONS, query, Limits(result_bytes=10_000))
    assert refused.value.reason is Reason.RESULT_BYTES


def test_what_is_left_of_the_time_limit_stops_the_query() -> None:
    query = check(
        "with a as (select n from numbers), b as (select n from numbers), c as (select n from numbers) "
        "select sum(a.n * b.n + c.n) from a, b, c",
        {"numbers"},
    )
    con = locked_connection(RELATIONS, Limits())
    try:
        with pytest.raises(QueryRefused, match="longer than 30 s") as refused:
            execute(con, query, Limits(), seconds=0.2)  # the guard and the load took the rest
    finally:
        con.close()
    assert refused.value.reason is Reason.TIME


def test_refusals_carry_their_reason() -> None:
    with pytest.raises(QueryRefused) as rows:
        run(RELATIONS, check("select n from numbers", {"numbers"}), Limits(max_rows=10))
    assert rows.value.reason is Reason.ROWS
    with pytest.raises(QueryFailed) as failed:
        run(RELATIONS, check("select nope from visits", {"visits"}), Limits())
    assert failed.value.reason is Reason.ENGINE


SNOOPING = [
    "select * from secret_visits",
    "select * from temp.secret_visits",
    "select * from temp.main.secret_visits",
    "select * from memory.secret_visits",
    "select * from main.secret_visits",
]


@pytest.mark.parametrize("sql", SNOOPING)
def test_a_session_cannot_read_another_sessions_relations(sql: str) -> None:
    # A query process opens every scope's session on one database: each is a cursor whose
    # views the others cannot name.
    database = locked_database(Limits())
    try:
        theirs = session_on(database, {"secret_visits": VISITS})
        mine = session_on(database, {"numbers": NUMBERS})
        assert theirs.execute("select count(*) from secret_visits").fetchall() == [(3,)]
        with pytest.raises(duckdb.CatalogException):
            mine.execute(sql).fetchall()
        listed = mine.execute(
            "select view_name from duckdb_views() union all select table_name from information_schema.tables"
        ).fetchall()
        assert ("secret_visits",) not in listed
        assert ("numbers",) in listed
    finally:
        database.close()


def test_every_session_on_a_database_is_locked() -> None:
    database = locked_database(Limits())
    try:
        later = session_on(database, RELATIONS)
        for sql in ("set memory_limit = '64GB'", "set enable_external_access = true"):
            with pytest.raises(duckdb.Error):
                later.execute(sql)
        with pytest.raises(duckdb.Error):
            later.execute("select * from read_csv('/etc/passwd')").fetchall()
    finally:
        database.close()


@pytest.mark.parametrize("sql", SNOOPING)
def test_a_session_cannot_read_what_another_session_holds(sql: str) -> None:
    # A query process's sessions, one per scope, hold what they read on cursors of one
    # database (query.sessions).
    database = locked_database(Limits())
    try:
        theirs = Session(database.cursor())
        theirs.hold("secret_visits", 1, VISITS)
        mine = Session(database.cursor())
        mine.hold("numbers", 1, NUMBERS)
        assert theirs.cursor.execute("select count(*) from secret_visits").fetchall() == [(3,)]
        with pytest.raises(duckdb.CatalogException):
            mine.cursor.execute(sql).fetchall()
        listed = mine.cursor.execute("select view_name from duckdb_views() where not internal").fetchall()
        assert listed == [("numbers",)]
        theirs.drop("secret_visits")
        with pytest.raises(duckdb.CatalogException):
            theirs.cursor.execute("select count(*) from secret_visits").fetchall()
    finally:
        database.close()
