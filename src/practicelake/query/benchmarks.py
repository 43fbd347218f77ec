"""Cross-practice benchmarks: what an analyst may see, and all they may see.

Each benchmark is computed from every practice's curated rows and published with the
small-cell rule: a month appears only where at least MIN_PRACTICES practices contribute (so
every percentile is over at least that many), and a count from 1 to MAX_SUPPRESSED is
withheld (NULL). Nothing names a practice.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import pyarrow as pa
import sqlglot
from sqlglot import exp

from practicelake.query import session
from practicelake.query.session import Limits

MIN_PRACTICES = 5
MAX_SUPPRESSED = 10

# __min_practices__ and __max_suppressed__ are replaced by literals from the constants above.
BENCHMARKS: dict[str, str] = {
    "benchmark_access_monthly": """
        with per_practice as (
            select practice_id, date_trunc('month', day) as month, sum(kept_appointments) as kept,
                sum(no_shows) as no_shows, sum(late_cancellations) as late_cancellations,
                sum(scheduled_appointments) as scheduled
            from access_daily group by practice_id, date_trunc('month', day)
        ), rates as (
            select month, kept, cast(no_shows as double) / nullif(kept + no_shows, 0) as no_show_rate,
                cast(late_cancellations as double) / nullif(scheduled, 0) as late_cancellation_rate
            from per_practice where scheduled > 0
        )
        select cast(month as date) as month,
            case when sum(kept) > __max_suppressed__ then sum(kept) end as kept_visits,
            percentile_cont(0.25) within group (order by no_show_rate) as no_show_rate_p25,
            percentile_cont(0.5) within group (order by no_show_rate) as no_show_rate_p50,
            percentile_cont(0.75) within group (order by no_show_rate) as no_show_rate_p75,
            percentile_cont(0.5) within group (order by late_cancellation_rate) as late_cancellation_rate_p50
        from rates group by month having count(*) >= __min_practices__
    """,
    "benchmark_revenue_monthly": """
        with per_practice as (
            select practice_id, service_month as month,
                cast(sum(payments) as double) / nullif(cast(sum(adjusted_charges) as double), 0) as net_collection_rate
            from revenue_service_month group by practice_id, service_month
        ), denials as (
            select practice_id, month,
                cast(sum(claims_initially_denied) as double)
                    / nullif(sum(claims_adjudicated), 0) as initial_denial_rate,
                sum(claims_adjudicated) as adjudicated
            from revenue_activity_month group by practice_id, month
        ), joined as (
            select p.month, p.net_collection_rate, d.initial_denial_rate, d.adjudicated
            from per_practice as p join denials as d on d.practice_id = p.practice_id and d.month = p.month
        )
        select cast(month as date) as month,
            case when sum(adjudicated) > __max_suppressed__ then sum(adjudicated) end as claims_adjudicated,
            percentile_cont(0.25) within group (order by net_collection_rate) as net_collection_rate_p25,
            percentile_cont(0.5) within group (order by net_collection_rate) as net_collection_rate_p50,
            percentile_cont(0.75) within group (order by net_collection_rate) as net_collection_rate_p75,
            percentile_cont(0.5) within group (order by initial_denial_rate) as initial_denial_rate_p50
        from joined group by month having count(*) >= __min_practices__
    """,
    "benchmark_ar_monthly": """
        select as_of_date,
            percentile_cont(0.25) within group (order by days_in_ar) as days_in_ar_p25,
            percentile_cont(0.5) within group (order by days_in_ar) as days_in_ar_p50,
            percentile_cont(0.75) within group (order by days_in_ar) as days_in_ar_p75,
            percentile_cont(0.5) within group (order by ar_over_90_share) as ar_over_90_share_p50
        from ar_summary where days_in_ar is not null
        group by as_of_date having count(*) >= __min_practices__
    """,
}


@cache
def _sql(name: str) -> str:
    tree = sqlglot.parse_one(BENCHMARKS[name], read="duckdb")
    constants = {"__min_practices__": MIN_PRACTICES, "__max_suppressed__": MAX_SUPPRESSED}

    def fill(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and node.name in constants:
            return exp.Literal.number(constants[node.name])
        return node

    return tree.transform(fill).sql("duckdb")


@cache
def sources() -> frozenset[str]:
    """The curated tables the benchmarks are computed from (their CTEs are not tables)."""
    trees = [sqlglot.parse_one(sql, read="duckdb") for sql in BENCHMARKS.values()]
    tables = {table.name for tree in trees for table in tree.find_all(exp.Table)}
    return frozenset(tables - {cte.alias for tree in trees for cte in tree.find_all(exp.CTE)})


def compute(every_practice: Mapping[str, pa.Table], limits: Limits) -> dict[str, pa.Table]:
    """The benchmark relations, from every practice's rows of their source tables."""
    con = session.locked_connection(every_practice, limits)
    try:
        return {name: session.execute(con, _sql(name), limits) for name in BENCHMARKS}
    finally:
        con.close()
