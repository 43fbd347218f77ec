"""Benchmark: the practice's own monthly figures beside its anonymised peers' quartiles (the
disclosure-controlled benchmark_* models, docs/disclosure.md): no-show and late cancellation
rates, net collection and initial denial rates, days in A/R and the share of A/R over 90 days.
The practice's figure is computed as it contributes to the benchmark (whole months, the whole
practice). Where the rules withhold a month (fewer than 5 contributing practices, or a cell
suppressed) the page says so; an analyst sees the peers only."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from practicelake.dashboard.billing import sql
from practicelake.dashboard.billing.figures import activity, as_of_dates, ratio, receivables, service
from practicelake.dashboard.billing.frame import chart, sees, sees_money
from practicelake.dashboard.billing.spans import Span, month_end
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.filters import Period, trend_months
from practicelake.dashboard.pages import page_view
from practicelake.dashboard.view import Chart, Column, Number, PageView, Series, Table, Unit

MONTHS = 13
WITHHELD = "fewer than 5 practices contributed, or the disclosure rules suppressed the cell"
NO_FILTERS = "Benchmarks compare whole practices: the provider, payer, location and date basis filters do not apply."
PEERS_ONLY = "This role sees the peers' figures only: no practice's own figures are shown."


@dataclass(frozen=True)
class Measure:
    key: str
    title: str
    y_label: str
    unit: Unit
    metric: str
    peers: str  # the benchmark relation
    quartiles: tuple[str | None, str, str | None]  # its p25, p50, p75 columns (None: not published)


MEASURES = (
    Measure(
        "no_show_rate",
        "No-show rate",
        "Share of kept + no-show appointments",
        "rate",
        "peer no-show rate",
        "benchmark_access_monthly",
        ("no_show_rate_p25", "no_show_rate_p50", "no_show_rate_p75"),
    ),
    Measure(
        "late_cancellation_rate",
        "Late cancellation rate",
        "Share of scheduled appointments",
        "rate",
        "peer late cancellation rate",
        "benchmark_access_monthly",
        (None, "late_cancellation_rate_p50", None),
    ),
    Measure(
        "net_collection_rate",
        "Net collection rate",
        "Payments / adjusted charges",
        "rate",
        "peer net collection rate",
        "benchmark_revenue_monthly",
        ("net_collection_rate_p25", "net_collection_rate_p50", "net_collection_rate_p75"),
    ),
    Measure(
        "initial_denial_rate",
        "Initial denial rate",
        "Share of claims adjudicated",
        "rate",
        "peer initial denial rate",
        "benchmark_revenue_monthly",
        (None, "initial_denial_rate_p50", None),
    ),
    Measure(
        "days_in_ar",
        "Days in A/R",
        "Days at the month end",
        "days",
        "peer days in A/R",
        "benchmark_ar_monthly",
        ("days_in_ar_p25", "days_in_ar_p50", "days_in_ar_p75"),
    ),
    Measure(
        "ar_over_90_share",
        "A/R over 90 days",
        "Share of A/R at the month end",
        "rate",
        "peer A/R over 90 days",
        "benchmark_ar_monthly",
        (None, "ar_over_90_share_p50", None),
    ),
)
PEER_QUERIES = {
    "benchmark_access_monthly": "peers_access",
    "benchmark_revenue_monthly": "peers_revenue",
    "benchmark_ar_monthly": "peers_ar",
}
OWN_DATASET = {
    "benchmark_access_monthly": "access",
    "benchmark_revenue_monthly": "revenue",
    "benchmark_ar_monthly": "ar",
}


def benchmark_months(ctx: PageContext) -> list[Span]:
    """Whole months: those of the period when it spans more than 13, else the 13 to its end."""
    shown = ctx.period if len(ctx.period.months()) > MONTHS else trend_months(ctx.period.end, MONTHS)
    return [Span(first.strftime("%Y-%m"), Period(first, month_end(first))) for first in shown.months()]


def build(ctx: PageContext) -> PageView:
    if not sees(ctx, "benchmark"):
        return page_view(ctx, "benchmark", notes=["Benchmarks are not shown to this role."])
    months = benchmark_months(ctx)
    first, last = months[0].period.start, months[-1].period.end
    peers = {relation: _peers(ctx, relation, query, first, last) for relation, query in PEER_QUERIES.items()}
    own = _own(ctx, months)
    filtered = any((ctx.filters.provider, ctx.filters.payer, ctx.filters.location, ctx.filters.basis != "service"))
    charts, notes = [], [NO_FILTERS] if filtered else []
    for measure in MEASURES:
        if not sees_money(ctx, measure.peers):
            continue
        charts.append(_chart(ctx, measure, months, peers[measure.peers], own.get(measure.key)))
    if not any(sees(ctx, dataset) for dataset in OWN_DATASET.values()):
        notes.append(PEERS_ONLY)
    for relation, cells in peers.items():
        missing = [span.name for span in months if span.name not in cells]
        if missing:
            notes.append(f"No peer figures in {relation} for {_listed(missing)}: {WITHHELD}.")
    return page_view(ctx, "benchmark", charts=charts, tables=[_totals(ctx, months, peers)], notes=notes)


def _listed(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _peers(ctx: PageContext, relation: str, query: str, first: date, last: date) -> dict[str, dict[str, Any]]:
    """The published cells by month label (an A/R cell is its month end's)."""
    column = "as_of_date" if relation == "benchmark_ar_monthly" else "month"
    return {r[column].strftime("%Y-%m"): r for r in ctx.rows(sql(query), first=first, last=last)}


def _own(ctx: PageContext, months: Sequence[Span]) -> dict[str, dict[str, Number]]:
    """The practice's own figures by measure and month, as it contributes them to the benchmark,
    for each dataset the principal sees of it."""
    own: dict[str, dict[str, Number]] = {}
    if sees(ctx, "access"):
        access = {r["period"]: r for r in ctx.rows(sql("own_access"), **_bound(months))}
        own["no_show_rate"] = {
            m: ratio(r["no_shows"], r["kept_appointments"] + r["no_shows"]) for m, r in access.items()
        }
        own["late_cancellation_rate"] = {
            m: ratio(r["late_cancellations"], r["scheduled_appointments"]) for m, r in access.items()
        }
    if sees(ctx, "revenue"):
        if sees_money(ctx, "revenue_service_day"):
            served = service(ctx, months, applied="none")
            own["net_collection_rate"] = {m: s.net_collection_rate for (m, _), s in served.items()}
        acted = activity(ctx, months, applied="none")
        own["initial_denial_rate"] = {m: a.initial_denial_rate for (m, _), a in acted.items()}
    if sees(ctx, "ar") and sees_money(ctx, "ar_daily"):
        ends = {span.name: span.period.end for span in months}
        measured = {m: d for m, d in as_of_dates(ctx, ends).items() if d == ends[m]}
        found = receivables(ctx, measured, applied="none") if measured else {}
        own["days_in_ar"] = {m: r.days_in_ar for (m, _), r in found.items()}
        own["ar_over_90_share"] = {m: r.over_90_share for (m, _), r in found.items()}
    return own


def _bound(months: Sequence[Span]) -> dict[str, object]:
    return {
        "periods": [s.name for s in months],
        "starts": [s.period.start for s in months],
        "ends": [s.period.end for s in months],
    }


def _chart(
    ctx: PageContext,
    measure: Measure,
    months: Sequence[Span],
    cells: Mapping[str, Mapping[str, Any]],
    own: Mapping[str, Number] | None,
) -> Chart:
    labels = [span.name for span in months]
    pick: Callable[[str, str], Number] = lambda month, column: _number(cells.get(month, {}).get(column))  # noqa: E731
    series = []
    if own is not None:
        series.append(Series(name="This practice", values=[own.get(month) for month in labels]))
    for name, column in zip(
        ("Peers, lower quartile", "Peers, median", "Peers, upper quartile"), measure.quartiles, strict=True
    ):
        if column is not None:
            series.append(Series(name=name, values=[pick(month, column) for month in labels]))
    x_label = "Month end" if measure.peers == "benchmark_ar_monthly" else "Month"
    return chart(
        ctx,
        measure.key,
        f"{measure.title} beside the peers",
        "line",
        (x_label, measure.y_label),
        measure.unit,
        labels,
        series,
        metric=measure.metric,
        relation=measure.peers,
    )


def _number(value: object) -> Number:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _totals(ctx: PageContext, months: Sequence[Span], peers: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> Table:
    """The peers' published totals by month; empty where a rule withholds them."""
    access, revenue = peers["benchmark_access_monthly"], peers["benchmark_revenue_monthly"]
    rows: list[list[str | float | None]] = []
    for span in months:
        rows.append(
            [
                span.name,
                _number(access.get(span.name, {}).get("kept_visits")),
                _number(revenue.get(span.name, {}).get("claims_adjudicated")),
                "published" if span.name in peers["benchmark_ar_monthly"] else "withheld",
            ]
        )
    columns = [
        Column(key="month", label="Month", unit="text"),
        Column(key="kept_visits", label="Peers' kept visits (rounded to 10)", unit="count"),
        Column(key="claims_adjudicated", label="Peers' claims adjudicated (rounded to 10)", unit="count"),
        Column(key="ar_cell", label="Peers' A/R at the month end", unit="text"),
    ]
    return Table(
        key="peer_totals",
        title="What the peers' benchmark publishes, by month",
        columns=columns,
        rows=rows,
        note=f"An empty total is withheld: {WITHHELD}, or one practice dominates it or it is from 1 to 10.",
        as_of=ctx.stamp("benchmark_access_monthly"),
        drill=ctx.link("rows/benchmark_access_monthly"),
    )
