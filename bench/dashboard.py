"""Ten typical dashboard queries (one practice, one year) through practicelake's read path
(QueryService: scoped, guarded, locked DuckDB over the curated Iceberg tables), beside the
floor: the same queries in plain DuckDB over the same tables exported to Parquet files."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from practicelake.curate.export import export
from practicelake.lakehouse.catalog import open_catalog
from practicelake.query import QueryService, Scope
from practicelake.settings import Settings

REPEATS = 10
# $since/$until: the last full year of data. The practice comes from the scope (practicelake)
# or from $practice (the floor, which reads every practice's Parquet).
QUERIES = {
    "visits by month": """
        select date_trunc('month', day) as month, sum(scheduled_appointments) as scheduled,
               sum(kept_appointments) as kept, sum(no_shows) as no_shows,
               sum(no_shows) / nullif(sum(kept_appointments) + sum(no_shows), 0) as no_show_rate
        from access_daily where practice_id = $practice and day between $since and $until
        group by 1 order by 1""",
    "no-shows by provider and week": """
        select provider_id, week_start, no_show_rate, late_cancellation_rate
        from access_weekly where practice_id = $practice and week_start between $since and $until
        order by provider_id, week_start""",
    "utilisation and fill by provider": """
        select provider_id, sum(kept_minutes) / nullif(sum(available_minutes), 0) as utilisation,
               sum(booked_slots) / nullif(sum(available_slots), 0) as fill_rate,
               avg(third_next_available_days) as third_next_available
        from access_schedule_daily where practice_id = $practice and day between $since and $until
        group by 1 order by 1""",
    "wait time by month": """
        select date_trunc('month', day) as month, avg(wait_p50_minutes) as wait_p50,
               max(wait_p90_minutes) as worst_wait_p90, avg(cycle_time_p50_minutes) as cycle_p50
        from flow_daily where practice_id = $practice and day between $since and $until
        group by 1 order by 1""",
    "arrivals heatmap": """
        select weekday, hour, sum(check_ins) as check_ins
        from flow_arrivals where practice_id = $practice and month between $since and $until
        group by 1, 2 order by 1, 2""",
    "revenue by service month": """
        select service_month, sum(gross_charges) as charges, sum(payments) as payments,
               sum(payments) / nullif(sum(adjusted_charges), 0) as net_collection_rate
        from revenue_service_month where practice_id = $practice and service_month between $since and $until
        group by 1 order by 1""",
    "denials by payer": """
        select payer_id, sum(claims_initially_denied) as denied, sum(claims_adjudicated) as adjudicated,
               sum(claims_initially_denied) / nullif(sum(claims_adjudicated), 0) as initial_denial_rate
        from revenue_activity_month where practice_id = $practice and month between $since and $until
        group by 1 order by 1""",
    "A/R ageing at the last month end": """
        select payer_id, ar_0_30, ar_31_60, ar_61_90, ar_91_120, ar_over_120, total_ar
        from ar_ageing where practice_id = $practice
          and as_of_date = (select max(as_of_date) from ar_ageing where practice_id = $practice)
        order by total_ar desc""",
    "payer mix": """
        select payer_type, sum(visits) as visits, sum(charges) as charges
        from revenue_payer_mix where practice_id = $practice and month between $since and $until
        group by 1 order by 2 desc""",
    "provider productivity": """
        select provider_id, sum(kept_visits) as visits, sum(work_rvus) as work_rvus,
               sum(charges) as charges, sum(collections) as collections
        from productivity_provider_month where practice_id = $practice and month between $since and $until
        group by 1 order by 1""",
}


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def _timed(run: object, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return times


def measure(work: Path, settings: Settings) -> dict[str, float]:
    catalog = open_catalog(settings)
    service = QueryService(catalog)
    last = service.run("select max(day) as last from access_daily", Scope.every_practice())["last"][0].as_py()
    until = date(last.year - 1, 12, 31) if (last.month, last.day) != (12, 31) else last
    since = date(until.year, 1, 1)
    practice = sorted(settings.practices)[0]
    parameters = {"practice": practice, "since": since, "until": until}
    scope = Scope.of([practice])

    folder = Path(tempfile.mkdtemp(prefix="dashboard-floor-", dir=work))
    export(catalog, folder / "parquet", "parquet")
    floor = duckdb.connect()
    for file in sorted((folder / "parquet").glob("*.parquet")):
        floor.read_parquet(str(file)).create_view(file.stem)

    cold_start = time.perf_counter()
    for sql in QUERIES.values():  # the first read of each table, at its snapshot
        service.run(sql, scope, parameters)
    cold = time.perf_counter() - cold_start
    ours: list[float] = []
    plain: list[float] = []
    for sql in QUERIES.values():
        ours += _timed(lambda sql=sql: service.run(sql, scope, parameters), REPEATS)
        used = {name: parameters[name] for name in parameters if "$" + name in sql}
        plain += _timed(lambda sql=sql, used=used: floor.execute(sql, used).to_arrow_table(), REPEATS)
    service.close()
    p50, p95 = _percentiles(ours)
    floor_p50, floor_p95 = _percentiles(plain)
    return {"seconds": sum(ours), "p50_ms": p50, "p95_ms": p95, "floor_p50_ms": floor_p50,
            "floor_p95_ms": floor_p95, "cold_seconds": cold, "queries": len(QUERIES)}  # fmt: skip
