"""The Access page's comparison of providers over the period: their counts, rates, lead times,
schedule use and third next available, as a bar chart of schedule use and a table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from practicelake.dashboard.access_queries.figures import (
    Counts,
    Percentiles,
    ScheduleUse,
    Span,
    ThirdNext,
    counts,
    measure_of,
    percentiles,
    schedule_use,
    third_next,
)
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.definitions import definition
from practicelake.dashboard.view import Cell, Chart, Column, Series, Table

T = TypeVar("T")
COLUMNS = [
    Column(key="provider_id", label="Provider", unit="text"),
    Column(key="scheduled_appointments", label="Scheduled", unit="count"),
    Column(key="kept_appointments", label="Kept", unit="count"),
    Column(key="no_show_rate", label="No-show rate", unit="rate"),
    Column(key="late_cancellation_rate", label="Late cancellation rate", unit="rate"),
    Column(key="lead_time_p50", label="Lead time, median", unit="days"),
    Column(key="lead_time_p90", label="Lead time, 90th percentile", unit="days"),
    Column(key="schedule_utilisation", label="Utilisation", unit="rate"),
    Column(key="fill_rate", label="Fill rate", unit="rate"),
    Column(key="third_next_available", label="Third next available", unit="days"),
]


@dataclass(frozen=True)
class ProviderFigures:
    """The period's figures of each provider, by provider id."""

    providers: list[str]
    counts: dict[str, Counts]
    lead: dict[str, Percentiles]
    use: dict[str, ScheduleUse]
    third: dict[str, ThirdNext]


def by_provider(ctx: PageContext) -> ProviderFigures:
    spans = [Span("current", ctx.period)]
    found = {g: c for (_, g), c in counts(ctx, spans, by="provider").items()}
    lead_days = measure_of(percentiles(ctx, "lead_time_histogram", spans, by="provider"), "lead_days")
    lead = {g: p for (_, g), p in lead_days.items()}
    use = {g: u for (_, g), u in schedule_use(ctx, spans, by="provider").items()}
    third = {g: t for (_, g), t in third_next(ctx, spans, by="provider").items()}
    return ProviderFigures(sorted(set(found) | set(use) | set(third)), found, lead, use, third)


def _of(figures: T | None, pick: Callable[[T], float | int | None]) -> float | None:
    value = None if figures is None else pick(figures)
    return None if value is None else float(value)


def schedule_chart(ctx: PageContext, figures: ProviderFigures) -> Chart:
    providers, use = figures.providers, figures.use
    return Chart(
        key="provider_schedule",
        title="Schedule utilisation and fill rate by provider",
        kind="bar",
        x_label="Provider",
        y_label="Share of the schedule",
        unit="rate",
        labels=providers,
        series=[
            Series(name="Utilisation", values=[_of(use.get(p), lambda u: u.utilisation) for p in providers]),
            Series(name="Fill rate", values=[_of(use.get(p), lambda u: u.fill_rate) for p in providers]),
        ],
        definition=definition("schedule utilisation"),
        as_of=ctx.stamp("access_schedule_daily"),
        drill=ctx.link("rows/access_schedule_daily"),
    )


def comparison_table(ctx: PageContext, figures: ProviderFigures) -> Table:
    rows: list[list[Cell]] = []
    for provider in figures.providers:
        found, lead = figures.counts.get(provider), figures.lead.get(provider)
        use, third = figures.use.get(provider), figures.third.get(provider)
        rows.append(
            [
                provider,
                _of(found, lambda c: c.scheduled),
                _of(found, lambda c: c.kept),
                _of(found, lambda c: c.no_show_rate),
                _of(found, lambda c: c.late_cancellation_rate),
                _of(lead, lambda p: p.p50),
                _of(lead, lambda p: p.p90),
                _of(use, lambda u: u.utilisation),
                _of(use, lambda u: u.fill_rate),
                _of(third, lambda t: t.mean_days),
            ]
        )
    return Table(
        key="providers",
        title="Providers compared",
        columns=COLUMNS,
        rows=rows,
        as_of=ctx.stamp("access_daily"),
        drill=ctx.link("rows/access_daily"),
    )
