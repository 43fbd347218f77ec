"""Warming the read path before readers come: the query processes started, their tables'
files planned and the texts checked, so that the first readers wait for none of it, and
warming never lets through what the guard would refuse."""

from __future__ import annotations

import threading

import pytest
from pyiceberg.catalog import Catalog

from practicelake.query import QueryRefused, QueryService, Scope

P001 = Scope.of(["P001"])
COUNT = "select count(*) as n from visits"
JOINED = "select * from visits join payer_mix using (practice_id)"
HOSTILE = "copy (select * from visits) to '/tmp/out.csv'"


def test_warming_starts_every_query_process_before_the_first_reader(catalog: Catalog) -> None:
    service = QueryService(catalog, workers=2)
    try:
        assert service.warm() == 2
        assert service.stats().workers_started == 2
        results = []

        def ask() -> None:
            results.append(service.run(COUNT, P001).to_pylist())

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert results == [[{"n": 2}]] * 4
        assert service.stats().workers_started == 2  # the readers started none
        assert service.warm() == 0  # all are running already
    finally:
        service.close()


def test_a_warmed_verdict_needs_no_query_process(catalog: Catalog) -> None:
    service = QueryService(catalog, workers=1)
    try:
        service.warm([COUNT, JOINED], [["visits", "payer_mix"], ["visits"]])
        held = service._pool._acquire("holder", 30.0)  # the only process, busy from here on
        try:
            assert service.reads(JOINED, ["visits", "payer_mix"]) == ["payer_mix", "visits"]
            assert service.reads(COUNT, ["visits"]) == ["visits"]
            assert service.reads(JOINED, ["visits"]) == []  # payer_mix is not shown over this set
        finally:
            service._pool._release(held, "holder", sound=True)
    finally:
        service.close()


def test_warming_never_lets_a_refused_text_through(catalog: Catalog) -> None:
    service = QueryService(catalog, workers=1)
    try:
        service.warm([HOSTILE, "drop table visits"], [["visits"]])
        assert service.reads(HOSTILE, ["visits"]) == []
        assert service.reads("drop table visits", ["visits"]) == []
        refused_before = service.stats().refused
        for sql in (HOSTILE, "drop table visits"):
            with pytest.raises(QueryRefused):  # as without warming
                service.run(sql, P001)
        assert service.stats().refused == refused_before + 2
    finally:
        service.close()


def test_warming_reads_no_rows_and_a_closed_service_warms_nothing(catalog: Catalog) -> None:
    service = QueryService(catalog, workers=1)
    service.warm([COUNT], [["visits"]])
    assert service.stats().scanned == {}  # files planned, no table read
    assert service.stats().queries == 0
    service.close()
    assert service.warm([COUNT], [["visits"]]) == 0
