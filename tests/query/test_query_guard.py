"""The guard, attacked: every query below must be refused, with a reason naming what was
refused, before it could cost much: a function asked to build a huge value, a query too
long or too deep to read safely, SQL that sqlglot would render as more SQL. The session's own
walls are tested in test_query_session.py, the query processes' limits in test_abuse.py."""

from __future__ import annotations

import re
import sys

import pytest
from sqlglot import exp

from practicelake.errors import PracticelakeError
from practicelake.query import functions
from practicelake.query.errors import QueryRefused, Reason
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
    # functions that build values of a size they are given
    ("select len(range(10000000000))", "range() may build at most 10,000 values"),
    ("select range(0, 20000, 1)", "range() may build at most 10,000 values"),
    ("select generate_series(1, 1000000)", "generate_series() may build at most 10,000 values"),
    ("select range(1, 10, 0)", "range() may build at most 10,000 values"),
    ("select range(visits) from visits", "range() takes sizes written as whole numbers, not computed"),
    ("select range(10000 + 1)", "range() takes sizes written as whole numbers, not computed"),
    ("select repeat('x', 1000000000)", "repeat() takes sizes up to 10,000"),
    ("select repeat([1, 2], 100000)", "repeat() takes sizes up to 10,000"),
    ("select repeat('x', $times)", "repeat() takes sizes written as whole numbers, not computed"),
    ("select space(100000)", "repeat() takes sizes up to 10,000"),
    ("select lpad('x', 2000000000, 'y')", "lpad() takes sizes up to 10,000"),
    ("select rpad(practice_id, visits, 'y') from visits", "rpad() takes sizes written as whole numbers"),
    ("select list_resize([1], 1000000000)", "list_resize() takes sizes up to 10,000"),
    ("select array_resize([1], 100000, 0)", "array_resize() takes sizes up to 10,000"),
    ("select to_base(1, 2, 100000)", "to_base() takes sizes up to 10,000"),
    ("select bitstring('1', 100000)", "bitstring() takes sizes up to 10,000"),
    ("select equi_width_bins(0, 10, 100000, true)", "equi_width_bins() takes sizes up to 10,000"),
    ("select max(visits, 100000) from visits", "max() takes sizes up to 10,000"),
    ("select arg_max(practice_id, visits, 100000) from visits", "arg_max() takes sizes up to 10,000"),
    ("select reservoir_quantile(visits, 0.5, 100000) from visits", "reservoir_quantile() takes sizes up to 10,000"),
    ("select printf('%01000000000d', 1)", "printf() takes widths up to 10,000"),
    ("select printf('%*d', 1000000000, 1)", "printf() takes widths written in its format, not as arguments"),
    ("select printf(practice_id, 1) from visits", "printf() takes its format as a quoted text, not computed"),
    ("select format('{:>1000000000}', 1)", "format() takes widths up to 10,000"),
    ("select format('{:>{}}', 'x', 1000000000)", "format() takes widths written in its format"),
    ("select repeat(repeat('x', 10000), 10000)", "repeat() may not be used inside a lambda or another function"),
    ("select list_transform(range(100), x -> range(100))", "range() may not be used inside a lambda"),
    # SQL that sqlglot renders as more SQL: what runs is checked too
    ("select randstr(1000000000, 1)", "table functions are not allowed: range"),
    ("select zipf(1, 100000000, random())", "table functions are not allowed: range"),
    ("select minhash_combine(visits) from visits", "table functions are not allowed: unnest"),
    # too long, too many tokens, too deep: refused before parsing
    ("select 1" + " " * 100_000, "the query is longer than 100,000 characters"),
    ("select 1" + "+1" * 25_000, "the query has more than 20,000 tokens"),
    ("select 1" + "+1" * 10_500, "the query has more than 20,000 tokens"),
    ("select " + "(" * 33 + "1" + ")" * 33, "the query is nested more than 32 levels deep"),
    ("select " + "(" * 5_000 + "1" + ")" * 5_000, "the query is nested more than 32 levels deep"),
    ("select " + "[" * 40 + "1" + "]" * 40, "nested more than 32 levels deep"),
    ("select " + "case when true then " * 40 + "1" + " end" * 40, "nested more than 32 levels deep"),
    ("select * from " + "(select * from " * 2_000 + "visits" + ") t" * 2_000, "nested more than 32 levels deep"),
    ("select " + "not " * 5_000 + "true", "the query is nested too deeply"),
    ("select " + "- " * 5_000 + "1", "the query is nested too deeply"),
    # not a query at all
    ("", "no query given"),
    ("  ;  ", "no query given"),
    ("select 'unterminated", "not valid SQL"),
]


@pytest.mark.parametrize(("sql", "reason"), ATTACKS, ids=[f"{sql[:50]}-{len(sql)}" for sql, _ in ATTACKS])
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
    "select range(12), range(1, 13), range(0, 100, 10), generate_series(1, 10000)",
    "select lpad(cast(visits as varchar), 4, '0'), rpad(practice_id, 10), repeat('-', 40) from visits",
    "select max(visits), min(visits), max(visits, 3), arg_max(practice_id, visits) from visits",
    "select printf('%5.1f%%', no_show_rate * 100), format('{:>8}', practice_id) from visits",
    "select list_transform([1, 2, 3], x -> x * 2), list_resize([1, 2], 5, 0)",
    "select " + "(" * 32 + "1" + ")" * 32,
    "select * from visits where visits in (" + ", ".join(str(n) for n in range(5_000)) + ")",
    "select * from visits where " + " and ".join(f"visits <> {n}" for n in range(500)),
]


@pytest.mark.parametrize("sql", ALLOWED, ids=[f"{sql[:50]}-{len(sql)}" for sql in ALLOWED])
def test_plain_reads_pass(sql: str) -> None:
    assert isinstance(check(sql, RELATIONS), exp.Query)


def test_what_runs_is_the_checked_tree_without_comments() -> None:
    checked = check("select 1 /* ; drop table visits */ from visits", RELATIONS)
    assert checked.sql("duckdb", comments=False) == "SELECT 1 FROM visits"


def test_every_refusal_carries_a_reason_of_the_vocabulary() -> None:
    for sql, _ in ATTACKS:
        with pytest.raises(QueryRefused) as refused:
            check(sql, RELATIONS)
        assert refused.value.reason in set(Reason)
        assert refused.value.reason is not Reason.REFUSED, sql[:80]  # each names its own kind


def test_a_deep_query_is_refused_even_from_deep_in_the_stack() -> None:
    """A server calls the guard from far down its own stack: the refusal must still be clean."""

    def nested(levels: int) -> None:
        if levels:
            nested(levels - 1)
            return
        with pytest.raises(QueryRefused, match="nested"):
            check("select " + "(" * 32 + "1" + ")" * 32, RELATIONS)

    nested(sys.getrecursionlimit() - 150)


def test_bounded_functions_are_known_under_every_name_sqlglot_renders_them_by() -> None:
    """Each sqlglot node that renders as a bounded DuckDB function has its sizes checked."""
    unchecked = []
    for kind in _subclasses(exp.Func):
        try:
            node = kind(**{name: exp.column("x") for name, required in kind.arg_types.items() if required})
            rendered = node.sql("duckdb")
        except Exception:  # a node that cannot stand alone is never what a reader's query parses to
            continue
        heads = re.findall(r"([A-Za-z_]+)\(", rendered)
        if any(head.lower() in functions.BOUNDED for head in heads) and kind not in functions.BOUNDED_NODES:
            try:
                check(exp.select(node).sql("duckdb"), RELATIONS)
            except QueryRefused:
                continue  # refused as rendered: its sizes are computed, or it reads a table function
            unchecked.append(kind.__name__)
    assert unchecked == []


def _subclasses(kind: type[exp.Func]) -> set[type[exp.Func]]:
    found = set(kind.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_the_guard_reads_a_long_query_quickly() -> None:
    import time

    sql = "select * from visits where visits in (" + ", ".join(str(n) for n in range(9_000)) + ")"
    start = time.perf_counter()
    check(sql, RELATIONS)
    assert time.perf_counter() - start < 5
