"""The read path end to end over real Iceberg tables: what a scope lets through, whatever the
SQL, and a cache that never crosses scopes or snapshots."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from curated_lake import PAYER_MIX, PAYER_MIX_ROWS, VISITS, write_table
from pyiceberg.catalog import Catalog

from lakes import local_settings
from practicelake.curate.snapshots import record_current
from practicelake.lakehouse.catalog import ensure_table, open_catalog
from practicelake.query import Limits, QueryFailed, QueryRefused, QueryService, Scope
from practicelake.query.errors import Reason
from practicelake.query.scope import View
from practicelake.settings import Settings

P001 = Scope.of(["P001"])
P002 = Scope.of(["P002"])


def cells(result: pa.Table) -> list[str]:
    return [str(value) for column in result.columns for value in column.to_pylist()]


def test_relations_are_the_curated_tables_by_plain_name(service: QueryService) -> None:
    assert service.relations() == ["payer_mix", "visits"]


def test_every_practice_sees_all_rows(service: QueryService) -> None:
    result = service.run("select practice_id, sum(visits) as visits from visits group by 1 order by 1", Scope(None))
    assert result.to_pylist() == [{"practice_id": "P001", "visits": 30}, {"practice_id": "P002", "visits": 1850}]


def test_types_come_through(service: QueryService) -> None:
    result = service.run("select * from visits where month = date '2024-02-01' order by practice_id", P001)
    assert result.to_pylist() == [
        {
            "practice_id": "P001",
            "month": date(2024, 2, 1),
            "visits": 20,
            "charges": Decimal("2500.50"),
            "no_show_rate": None,
        }
    ]


SHAPES = [
    "select * from visits",
    "select * from visits where practice_id = 'P002'",
    "select * from visits where practice_id <> 'P001' or 1 = 1",
    "select practice_id from visits union select practice_id from visits",
    "select * from visits union all select * from visits",
    "with everything as (select * from visits) select * from everything",
    "with recursive r as (select practice_id from visits union select practice_id from r) select * from r",
    "select * from visits where practice_id in (select practice_id from payer_mix)",
    "select * from visits where exists (select 1 from payer_mix where payer_type = 'government')",
    "select (select max(practice_id) from visits) as last, (select max(visits) from visits) as most",
    "select * from visits v full outer join payer_mix p using (practice_id)",
    "select * from visits a cross join visits b",
    "select string_agg(practice_id, ',') as ids, string_agg(payer_type, ',') as payers from payer_mix",
    "select list(visits) as all_visits from visits",
    "select max(visits), max(charges), max(practice_id) from visits",
    "select * from visits order by visits desc limit 1",
    "select practice_id, payer_type from payer_mix where share = 1.0",
]


@pytest.mark.parametrize("sql", SHAPES)
def test_a_scope_never_returns_another_practices_rows(service: QueryService, sql: str) -> None:
    for value in cells(service.run(sql, P001)):
        assert "P002" not in value
        assert "government" not in value
        for other in ("900", "950", "99000", "98000"):
            assert other not in value


def test_aggregates_without_group_by_count_only_the_scope(service: QueryService) -> None:
    result = service.run(
        "select count(*) as n, sum(visits) as visits, sum(charges) as charges, avg(no_show_rate) as rate from visits",
        P001,
    )
    assert result.to_pylist() == [{"n": 2, "visits": 30, "charges": Decimal("4000.50"), "rate": 0.1}]
    other = service.run("select count(*) as n, sum(visits) as visits from visits", P002)
    assert other.to_pylist() == [{"n": 2, "visits": 1850}]


def test_an_empty_scope_sees_nothing(service: QueryService) -> None:
    result = service.run("select count(*) as n from visits", Scope.of([]))
    assert result.to_pylist() == [{"n": 0}]


def test_a_practice_not_in_the_lake_sees_nothing(service: QueryService) -> None:
    assert service.run("select * from visits", Scope.of(["P404"])).num_rows == 0


def test_a_scope_of_two_practices_sees_both(service: QueryService) -> None:
    result = service.run("select distinct practice_id from payer_mix order by 1", Scope.of(["P001", "P002"]))
    assert result.column("practice_id").to_pylist() == ["P001", "P002"]


def test_the_cache_never_hands_one_scopes_rows_to_another(service: QueryService) -> None:
    query = "select distinct practice_id from visits order by 1"
    assert service.run(query, Scope(None)).column("practice_id").to_pylist() == ["P001", "P002"]
    assert service.run(query, P001).column("practice_id").to_pylist() == ["P001"]
    assert service.run(query, P002).column("practice_id").to_pylist() == ["P002"]
    assert service.run(query, P001).column("practice_id").to_pylist() == ["P001"]


def test_repeated_queries_read_the_table_once(service: QueryService) -> None:
    for _ in range(3):
        service.run("select sum(visits) from visits", P001)
    assert service.stats().scanned == {"visits": 1}
    service.run("select sum(visits) from visits", P002)
    assert service.stats().scanned == {"visits": 2}


def test_a_new_snapshot_is_read_again(service: QueryService, catalog: Catalog) -> None:
    assert service.run("select sum(visits) as n from visits", P001).to_pylist() == [{"n": 30}]
    row = {"practice_id": "P001", "month": date(2024, 3, 1), "visits": 5, "charges": None, "no_show_rate": None}
    write_table(catalog, "visits", VISITS, [row])
    assert service.run("select sum(visits) as n from visits", P001).to_pylist() == [{"n": 35}]


def test_a_commit_no_curate_recorded_is_not_read(service: QueryService, catalog: Catalog) -> None:
    row = {"practice_id": "P001", "month": date(2024, 3, 1), "visits": 5, "charges": None, "no_show_rate": None}
    write_table(catalog, "visits", VISITS, [row], pin=False)
    assert service.run("select sum(visits) as n from visits", P001).to_pylist() == [{"n": 30}]
    write_table(catalog, "visits", VISITS, [row])
    assert service.run("select sum(visits) as n from visits", P001).to_pylist() == [{"n": 40}]


def test_a_table_no_curate_recorded_is_not_served(service: QueryService, catalog: Catalog) -> None:
    write_table(catalog, "later", VISITS, [], pin=False)
    assert service.relations() == ["payer_mix", "visits"]
    with pytest.raises(QueryRefused, match="no such table: later"):
        service.run("select * from later", Scope(None))


def test_nothing_is_served_before_the_first_curate(tmp_path: Path) -> None:
    catalog = open_catalog(local_settings(tmp_path))
    write_table(catalog, "visits", VISITS, [], pin=False)
    with QueryService(catalog) as service:
        assert service.relations() == []
        with pytest.raises(QueryRefused, match="no such table: visits"):
            service.run("select * from visits", Scope(None))


def test_a_recorded_snapshot_whose_files_are_gone_is_a_clear_error(service: QueryService, catalog: Catalog) -> None:
    for task in catalog.load_table("curated.visits").scan().plan_files():
        Path(task.file.file_path.removeprefix("file://")).unlink()  # as offboarding removes history
    with pytest.raises(QueryFailed, match="visits: the snapshot the last curate recorded is gone"):
        service.run("select count(*) from visits", P001)


def test_only_the_tables_the_query_reads_are_loaded(service: QueryService) -> None:
    service.run("select count(*) from payer_mix", P001)
    assert service.stats().scanned == {"payer_mix": 1}


def test_the_guard_stands_in_front(service: QueryService) -> None:
    with pytest.raises(QueryRefused, match=r"schema-qualified names are not allowed: curated\.visits"):
        service.run("select * from curated.visits", Scope(None))
    with pytest.raises(QueryRefused, match="no such table: appointment"):
        service.run("select * from appointment", Scope(None))


def test_a_table_without_practice_id_is_not_served(catalog: Catalog) -> None:
    schema = pa.schema([pa.field("code", pa.string())])
    ensure_table(catalog, "curated.codes", schema, partitioned=False).append(pa.table({"code": ["A"]}, schema=schema))
    record_current(catalog, "test-write")
    with pytest.raises(QueryFailed, match="codes has no practice_id column"):
        QueryService(catalog).run("select * from codes", Scope(None))


def test_limits_apply_through_the_service(catalog: Catalog) -> None:
    with pytest.raises(QueryRefused, match="more than 3 rows"):
        QueryService(catalog, Limits(max_rows=3)).run("select * from visits", Scope(None))


def test_parameters_are_bound_not_written_into_the_sql(service: QueryService) -> None:
    sql = "select month, visits from visits where month >= $since order by month"
    since = service.run(sql, P001, {"since": date(2024, 2, 1)})
    assert since["month"].to_pylist() and min(since["month"].to_pylist()) >= date(2024, 2, 1)
    hostile = "2024-01-01' union all select month, -1 from visits --"
    everything = service.run("select month, visits from visits order by month", P001).to_pylist()
    injected = service.run(sql, P001, {"since": hostile}).to_pylist()
    assert injected and all(row in everything for row in injected)  # the text stayed a value: no row of its own


def test_a_placeholder_without_a_value_is_a_clear_error(service: QueryService) -> None:
    with pytest.raises(QueryFailed, match=r"no value for \$since"):
        service.run("select * from visits where month >= $since", P001, {"unused": 1})


def test_sessions_are_reused_only_within_a_scope(service: QueryService) -> None:
    query = "select distinct practice_id from visits order by 1"
    for _ in range(3):
        assert service.run(query, P001).column("practice_id").to_pylist() == ["P001"]
        assert service.run(query, P002).column("practice_id").to_pylist() == ["P002"]
    assert service.stats().sessions_opened == 2  # one session each, reused


def test_a_commit_is_served_after_the_freshness_window(catalog: Catalog) -> None:
    service = QueryService(catalog, freshness_seconds=0.2)
    assert service.run("select sum(visits) as n from visits", P001).to_pylist() == [{"n": 30}]
    row = {"practice_id": "P001", "month": date(2024, 3, 1), "visits": 5, "charges": None, "no_show_rate": None}
    write_table(catalog, "visits", VISITS, [row])
    time.sleep(0.3)
    assert service.run("select sum(visits) as n from visits", P001).to_pylist() == [{"n": 35}]


EXIT_WITHOUT_CLOSING = """
import json, sys
from practicelake.lakehouse.catalog import open_catalog
from practicelake.query import QueryService, Scope
from practicelake.settings import load_settings
from practicelake.query.zygote import zygote
service = QueryService(open_catalog(load_settings(**json.loads(sys.argv[1]))))
service.run("select count(*) from visits", Scope(None))
started = zygote().process.pid
print(started, open(f"/proc/{started}/task/{started}/children").read())
"""


@pytest.mark.slow  # six interpreters, each with its zygote and query process
def test_a_process_that_never_closes_the_service_still_exits_cleanly(lake: Settings) -> None:
    """DuckDB aborts a process whose connections are left for interpreter shutdown; query
    processes must not outlive the process that started them."""
    import subprocess
    import sys

    for _ in range(6):
        done = subprocess.run([sys.executable, "-c", EXIT_WITHOUT_CLOSING, lake.model_dump_json()], capture_output=True)
        assert done.returncode == 0, done.stderr[-300:]
        left = [int(pid) for pid in done.stdout.split()]
        assert len(left) == 2  # the zygote and one query process
        deadline = time.monotonic() + 10
        while left and time.monotonic() < deadline:
            left = [pid for pid in left if Path(f"/proc/{pid}").exists()]
            threading.Event().wait(0.05)
        assert left == []


def test_threads_share_one_service(catalog: Catalog) -> None:
    """Readers of several scopes at once, through one service: each gets their own rows."""
    expected = {"P001": 30, "P002": 1850}
    failures: list[BaseException] = []
    with QueryService(catalog, freshness_seconds=0) as shared:

        def read(practice: str) -> None:
            try:
                for _ in range(6):
                    result = shared.run("select sum(visits) as n from visits", Scope.of([practice]))
                    assert result.to_pylist() == [{"n": expected[practice]}]
                    assert shared.reads("select * from payer_mix", ["payer_mix", "visits"]) == ["payer_mix"]
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=read, args=(practice,)) for practice in ["P001", "P002"] * 4]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        stats = shared.stats()
    assert stats.queries == 48 and stats.refused == 0
    assert stats.workers_started <= 2 and stats.workers_replaced == 0


def test_reads_never_raises(service: QueryService) -> None:
    assert service.reads("select * from visits", ["visits"]) == ["visits"]
    assert service.reads("drop table visits", ["visits"]) == []
    assert service.reads("select " + "(" * 5_000, ["visits"]) == []
    assert service.reads("x" * 5_000_000, ["visits"]) == []


def test_a_parameter_that_cannot_be_sent_is_a_clear_error(service: QueryService) -> None:
    with pytest.raises(QueryFailed, match="parameters cannot be sent") as failed:
        service.run("select * from visits where month >= $since", P001, {"since": threading.Lock()})
    assert failed.value.reason is Reason.PARAMETER


def test_a_closed_service_answers_no_more(catalog: Catalog) -> None:
    service = QueryService(catalog)
    assert service.run("select count(*) as n from visits", P001).to_pylist() == [{"n": 2}]
    service.close()
    with pytest.raises(QueryFailed, match="closed"):
        service.run("select count(*) as n from visits", P001)


def test_at_least_one_query_process(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="at least one"):
        QueryService(catalog, workers=0)


def test_an_answer_is_given_again_only_for_the_same_question(service: QueryService) -> None:
    query = "select practice_id, sum(visits) as n from visits where month >= $since group by 1 order by 1"
    since = {"since": date(2024, 1, 1)}
    first = service.run(query, P001, since)
    assert service.run(query, P001, since).to_pylist() == first.to_pylist()
    assert service.stats().answered_again == 1
    # Another scope, other parameters or another text: asked again, never the kept answer.
    assert service.run(query, P002, since).column("practice_id").to_pylist() == ["P002"]
    assert service.run(query, Scope(None), since).column("practice_id").to_pylist() == ["P001", "P002"]
    assert service.run(query, P001, {"since": date(2030, 1, 1)}).num_rows == 0
    assert service.run(query, P001, {"since": "2024-01-01"}).to_pylist() == first.to_pylist()
    assert service.run(query + " ", P001, since).to_pylist() == first.to_pylist()
    assert service.stats().answered_again == 1


def test_a_kept_answer_never_crosses_scopes_with_the_same_practices(service: QueryService) -> None:
    # Same practices, but one scope hides a column and sees fewer relations: the key is the
    # whole scope, not its practices.
    query = "select sum(visits) as n from visits"
    plain = Scope.per_relation({"visits": View(frozenset({"P001"}))})
    hiding = Scope.per_relation({"visits": View(frozenset({"P001"}), frozenset({"visits"}))})
    assert service.run(query, plain).to_pylist() == [{"n": 30}]
    with pytest.raises(QueryFailed):
        service.run(query, hiding)
    assert service.stats().answered_again == 0


def test_a_new_curate_is_never_answered_from_before(service: QueryService, catalog: Catalog) -> None:
    query = "select sum(visits) as n from visits"
    assert service.run(query, P001).to_pylist() == [{"n": 30}]
    assert service.run(query, P001).to_pylist() == [{"n": 30}]
    row = {"practice_id": "P001", "month": date(2024, 3, 1), "visits": 5, "charges": None, "no_show_rate": None}
    write_table(catalog, "visits", VISITS, [row])
    assert service.run(query, P001).to_pylist() == [{"n": 35}]
    # A table the query does not read moved: the kept answer still holds.
    write_table(catalog, "payer_mix", PAYER_MIX, PAYER_MIX_ROWS[:1])
    again = service.stats().answered_again
    assert service.run(query, P001).to_pylist() == [{"n": 35}]
    assert service.stats().answered_again == again + 1
