"""The guard, attacked: every query below must be refused, with a reason naming what was
refused. The session's own walls are tested in test_query_session.py."""

from __future__ import annotations

import pytest
from sqlglot import exp

from practicelake.errors import PracticelakeError
from practicelake.query.errors import QueryRefused
from practicelake.query.guard import check

RELATIONS = {"visits", "payer_mix"}
READS_ONLY = "only reads are allowed"
FUNCTION = "is not allowed: it reaches files, settings or the system"

ATTACKS = [
    # writes and changes to the session
    ("insert into visits select * from visits", READS_ONLY + ": send one SELECT query (got INSERT)"),
    ("update visits set visits = 0", "(got UPDATE)"),
    ("delete from visits", "(got DELETE)"),
    ("create table stolen as select * from visits", "(got CREATE)"),
    ("create or replace view visits as select 1", "(got CREATE)"),
    ("drop table visits", "(got DROP)"),
    ("alter table visits rename to v", "(got ALTER)"),
    ("attach '/tmp/other.db' as other", "(got ATTACH)"),
    ("detach other", "(got DETACH)"),
    ("copy visits to '/tmp/visits.csv'", "(got COPY)"),
    ("copy (select * from visits) to '/tmp/visits.parquet' (format parquet)", "(got COPY)"),
    ("export database '/tmp/everything'", "(got EXPORT)"),
    ("import database '/tmp/everything'", "(got IMPORT)"),
    ("install httpfs", "(got INSTALL)"),
    ("load httpfs", "(got LOAD)"),
    ("set enable_external_access = true", "(got SET)"),
    ("SET memory_limit = '100GB'", "(got SET)"),
    ("reset lock_configuration", "(got RESET)"),
    ("pragma database_list", "(got PRAGMA)"),
    ("call duckdb_settings()", "(got CALL)"),
    ("use system", "(got USE)"),
    ("checkpoint", "(got CHECKPOINT)"),
    ("explain analyze select * from visits", "(got EXPLAIN)"),
    ("describe visits", "(got DESCRIBE)"),
    ("select * into stolen from visits", "INTO is not a read"),
    # more than one statement
    ("select * from visits; drop table visits", "one statement at a time: found 2"),
    ("select 1;select 2", "one statement at a time: found 2"),
    ("select * from visits /* just a comment */; attach '/tmp/x.db'", "one statement at a time: found 2"),
    ("select * from visits -- the rest is a comment\n; install httpfs", "one statement at a time: found 2"),
    ("/* select */ drop table visits", "(got DROP)"),
    # files, table functions, SQL from text
    ("select * from read_csv('/etc/passwd')", "read_csv() " + FUNCTION),
    ("select * from read_csv_auto('/etc/passwd')", "read_csv_auto() " + FUNCTION),
    ("SELECT * FROM Read_Parquet('/tmp/*.parquet')", "read_parquet() " + FUNCTION),
    ("select * from read_json('/etc/hosts')", "read_json() " + FUNCTION),
    ("select * from read_text('/etc/hostname')", "read_text() " + FUNCTION),
    ("select * from read_blob('/etc/shadow')", "read_blob() " + FUNCTION),
    ("select * from glob('/etc/*')", "glob() " + FUNCTION),
    ("select * from iceberg_scan('/work/lakehouse/iceberg/curated/visits')", "iceberg_scan() " + FUNCTION),
    ("select * from parquet_metadata('/tmp/x.parquet')", "parquet_metadata() " + FUNCTION),
    ("select * from sniff_csv('/etc/passwd')", "sniff_csv() " + FUNCTION),
    ("select * from sqlite_scan('/tmp/catalog.db', 'iceberg_tables')", "sqlite_scan() " + FUNCTION),
    ("select * from query('select * from duckdb_settings()')", "query() " + FUNCTION),
    ("select * from query_table('visits')", "query_table() " + FUNCTION),
    ("select json_execute_serialized_sql('{}')", "json_execute_serialized_sql() " + FUNCTION),
    ("select * from visits, read_csv('/etc/passwd')", "read_csv() " + FUNCTION),
    ("select * from '/etc/passwd'", "no such table: /etc/passwd"),
    ("select * from 'visits.csv'", "no such table: visits.csv"),
    ("select * from range(100000000)", "table functions are not allowed: range"),
    ("select * from generate_series(1, 10) t(n)", "table functions are not allowed: generate_series"),
    ("select * from visits, unnest([1, 2, 3])", "table functions are not allowed: unnest"),
    ("select * from visits(1)", "table functions are not allowed: visits"),
    # settings, the catalog and the system
    ("select * from duckdb_settings()", "duckdb_settings() " + FUNCTION),
    ("select * from duckdb_tables()", "duckdb_tables() " + FUNCTION),
    ("select * from duckdb_tables", "no such table: duckdb_tables"),
    ("select current_setting('enable_external_access')", "current_setting() " + FUNCTION),
    ("select getenv('HOME')", "getenv() " + FUNCTION),
    ("select 'HOME'.getenv()", "getenv() " + FUNCTION),
    ("select getvariable('scope')", "getvariable() " + FUNCTION),
    ("select * from pragma_database_list()", "pragma_database_list() " + FUNCTION),
    ("select pg_get_viewdef('visits')", "pg_get_viewdef() " + FUNCTION),
    ("select current_database()", "current_database() " + FUNCTION),
    ("select current_role", "current_role is not allowed: it reads the session, not the data"),
    ('select "CURRENT_SCHEMA"', "CURRENT_SCHEMA is not allowed: it reads the session"),
    ("select user from visits", "user is not allowed"),
    ("select * from visits where exists (select 1 from duckdb_settings())", "duckdb_settings() " + FUNCTION),
    ("select * from information_schema.tables", "system schemas are not readable: information_schema.tables"),
    ("select * from pg_catalog.pg_class", "system schemas are not readable: pg_catalog.pg_class"),
    ("select * from pg_class", "no such table: pg_class"),
    ("select * from sqlite_master", "no such table: sqlite_master"),
    ("select * from system.main.duckdb_tables()", "duckdb_tables() " + FUNCTION),
    ("select pg_catalog.upper('x')", "qualified function names are not allowed: pg_catalog.upper"),
    # qualified, quoted and case-varied names of things not allowed
    ("select * from curated.visits", "schema-qualified names are not allowed: curated.visits (write visits)"),
    ('select * from "curated"."visits"', "schema-qualified names are not allowed: curated.visits"),
    ("select * from main.visits", "system schemas are not readable: main.visits"),
    ("select * from memory.main.visits", "system schemas are not readable: memory.main.visits"),
    ('select * from "curated.visits"', "no such table: curated.visits"),
    ('select * from "DuckDB_Settings"()', "duckdb_settings() " + FUNCTION),
    ('select * from "Information_Schema"."Tables"', "system schemas are not readable: Information_Schema.Tables"),
    ("select * from Cleaned.Appointment", "schema-qualified names are not allowed: Cleaned.Appointment"),
    ('select * from "appointment"', "no such table: appointment (the tables are: payer_mix, visits)"),
    ("select * from VISITS_ALL", "no such table: VISITS_ALL"),
    # forbidden relations hidden in CTEs, subqueries and scopes
    ("with v as (select * from appointment) select * from v", "no such table: appointment"),
    ("with v as (select * from curated.visits) select * from v", "schema-qualified names are not allowed"),
    ("select * from visits where practice_id in (select practice_id from appointment)", "no such table: appointment"),
    ("select (select count(*) from appointment)", "no such table: appointment"),
    ("select * from visits, lateral (select * from appointment)", "no such table: appointment"),
    ("select * from visits union all select * from information_schema.columns", "system schemas are not readable"),
    ("select * from (with pg_class as (select 1) select 1) t, pg_class", "no such table: pg_class"),
    ("select * from visits at (version => 1)", "time travel is not allowed: visits"),
    # not a query at all
    ("", "no query given"),
    ("  ;  ", "no query given"),
    ("select 'unterminated", "not valid SQL"),
]


@pytest.mark.parametrize(("sql", "reason"), ATTACKS, ids=[sql[:60] for sql, _ in ATTACKS])
def test_attack_is_refused_with_its_reason(sql: str, reason: str) -> None:
    with pytest.raises(QueryRefused) as refused:
        check(sql, RELATIONS)
    assert reason in str(refused.value)
    assert "\n" not in str(refused.value)


def test_refusal_is_a_user_error() -> None:
    assert issubclass(QueryRefused, PracticelakeError)


ALLOWED = [
    "select * from visits",
    "SELECT * FROM Visits",
    'select * from "VISITS"',
    "from visits",
    "select * from visits;",
    "select practice_id, sum(visits) as visits from visits group by practice_id order by 1",
    "with monthly as (select month, sum(visits) as n from visits group by month) select * from monthly",
    "WITH Monthly AS (select 1 as n) select * from monthly",
    "with recursive r(n) as (select 1 union all select n + 1 from r where n < 3) select * from r",
    "select * from visits v join payer_mix p using (practice_id)",
    "select practice_id from visits union select practice_id from payer_mix",
    "select * from visits where practice_id in (select practice_id from payer_mix where share > 0.5)",
    "select percentile_cont(0.5) within group (order by visits) from visits",
    "select cast(month as date), date_trunc('month', month), current_date from visits",
    "select * from (values (1, 'a'), (2, 'b')) as t(n, s)",
    "select 'a; drop table visits' as text",
    "select 1 -- ; drop table visits",
]


@pytest.mark.parametrize("sql", ALLOWED)
def test_plain_reads_pass(sql: str) -> None:
    assert isinstance(check(sql, RELATIONS), exp.Query)


def test_what_runs_is_the_checked_tree_without_comments() -> None:
    checked = check("select 1 /* ; drop table visits */ from visits", RELATIONS)
    assert checked.sql("duckdb", comments=False) == "SELECT 1 FROM visits"
