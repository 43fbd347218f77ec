"""Access: how many appointments, how many kept, missed and cancelled late, how far ahead they
are booked, how much of the schedule is used, how soon the third open slot comes, and who was
seen; as tiles against the period before and a year before, trends over the period, a
weekday-by-hour picture of demand and a comparison of providers. Every figure is summed from
day-grain curated rows (percentiles from histograms), so it is exact for any period."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from practicelake.dashboard.access_queries import sql
from practicelake.dashboard.access_queries.charts import (
    hour_labels,
    ignored_filters,
    page_view,
    span_series,
    weekday_hour_series,
)
from practicelake.dashboard.access_queries.figures import (
    Counts,
    Percentiles,
    ScheduleUse,
    Span,
    ThirdNext,
    compared,
    counts,
    measure_of,
    patients_seen,
    percentiles,
    schedule_use,
    third_next,
    trend,
    values_of,
)
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.definitions import definition
from practicelake.dashboard.tiles import compared_tile
from practicelake.dashboard.tiles.access import kept_tile, no_show_tile
from practicelake.dashboard.view import Cell, Chart, Column, PageView, Series, Table, Target, Tile, Unit

FILL_TARGET = Target(low=0.90, high=0.95, source="AAFP: 90-95% the usual fill rate target in primary care")
T = TypeVar("T")
LOCATION_NOTE = (
    "Third next available is each provider's, over all their locations: the location filter does not apply to it."
)
NOT_COUNTABLE = (
    "Distinct patients are counted per calendar month, quarter and year (or one of them to date): "
    "not available for this period."
)


def build(ctx: PageContext) -> PageView:
    spans = compared(ctx)
    found = counts(ctx, spans)
    lead = measure_of(percentiles(ctx, "lead_time_histogram", spans), "lead_days")
    use = schedule_use(ctx, spans)
    third = third_next(ctx, spans)
    tiles = [
        compared_tile(
            ctx,
            "scheduled_appointments",
            "Scheduled appointments",
            "count",
            values_of(found, lambda c: c.scheduled),
            metric="scheduled appointments",
            relation="access_daily",
        ),
        kept_tile(ctx, found),
        no_show_tile(ctx, found),
        compared_tile(
            ctx,
            "late_cancellation_rate",
            "Late cancellation rate",
            "rate",
            values_of(found, lambda c: c.late_cancellation_rate),
            metric="late cancellation rate",
            relation="access_daily",
            better="lower",
        ),
        compared_tile(
            ctx,
            "lead_time_p50",
            "Lead time, median",
            "days",
            values_of(lead, lambda p: p.p50),
            metric="lead time",
            relation="access_lead_time",
            better="lower",
        ),
        compared_tile(
            ctx,
            "lead_time_p90",
            "Lead time, 90th percentile",
            "days",
            values_of(lead, lambda p: p.p90),
            metric="lead time",
            relation="access_lead_time",
            better="lower",
        ),
        compared_tile(
            ctx,
            "schedule_utilisation",
            "Schedule utilisation",
            "rate",
            values_of(use, lambda u: u.utilisation),
            metric="schedule utilisation",
            relation="access_schedule_daily",
            better="higher",
        ),
        compared_tile(
            ctx,
            "fill_rate",
            "Fill rate",
            "rate",
            values_of(use, lambda u: u.fill_rate),
            metric="fill rate",
            relation="access_schedule_daily",
            better="higher",
            target=FILL_TARGET,
        ),
        compared_tile(
            ctx,
            "third_next_available",
            "Third next available",
            "days",
            values_of(third, lambda t: t.mean_days),
            metric="third next available",
            relation="access_third_next",
            better="lower",
        ),
        _patients_tile(ctx, spans),
    ]
    notes = ignored_filters(ctx)
    if ctx.filters.location is not None:
        notes.append(LOCATION_NOTE)
    providers = _by_provider(ctx)
    return page_view(
        ctx,
        "access",
        tiles=tiles,
        charts=[*_trends(ctx), _weekday_hour(ctx), _provider_use(ctx, providers)],
        tables=[_provider_table(ctx, providers)],
        notes=notes,
    )


def _patients_tile(ctx: PageContext, spans: list[Span]) -> Tile:
    values: dict[str, float | None] = {}
    available = True
    for span in spans:
        countable, seen = patients_seen(ctx, span.period)
        values[span.name] = None if seen is None else float(seen)
        if span.name == "current":
            available = countable
    return compared_tile(
        ctx,
        "patients_seen",
        "Distinct patients seen",
        "count",
        values,
        metric="distinct patients seen",
        relation="access_patients_seen",
        better="higher",
        note=None if available else NOT_COUNTABLE,
    )


def _trends(ctx: PageContext) -> list[Chart]:
    spans = trend(ctx.period)
    labels = [span.name for span in spans]
    x_label = "Day" if spans and len(spans[0].name) == 10 else "Month"
    found = counts(ctx, spans)
    lead = measure_of(percentiles(ctx, "lead_time_histogram", spans), "lead_days")
    use = schedule_use(ctx, spans)

    def chart(
        key: str, title: str, unit: Unit, y_label: str, series: list[Series], metric: str, relation: str
    ) -> Chart:
        return Chart(
            key=key,
            title=title,
            kind="line",
            x_label=x_label,
            y_label=y_label,
            unit=unit,
            labels=labels,
            series=series,
            definition=definition(metric),
            as_of=ctx.stamp(relation),
            drill=ctx.link("rows/" + relation),
        )

    return [
        chart(
            "appointments_trend",
            "Appointments",
            "count",
            "Appointments",
            [
                span_series("Scheduled", spans, found, lambda c: c.scheduled),
                span_series("Kept", spans, found, lambda c: c.kept),
                span_series("No-shows", spans, found, lambda c: c.no_shows),
            ],
            "scheduled appointments",
            "access_daily",
        ),
        chart(
            "rates_trend",
            "No-show and late cancellation rates",
            "rate",
            "Share of appointments",
            [
                span_series("No-show rate", spans, found, lambda c: c.no_show_rate),
                span_series("Late cancellation rate", spans, found, lambda c: c.late_cancellation_rate),
            ],
            "no-show rate",
            "access_daily",
        ),
        chart(
            "lead_time_trend",
            "Lead time",
            "days",
            "Days booked ahead",
            [
                span_series("Median", spans, lead, lambda p: p.p50),
                span_series("90th percentile", spans, lead, lambda p: p.p90),
            ],
            "lead time",
            "access_lead_time",
        ),
        chart(
            "schedule_trend",
            "Schedule utilisation and fill rate",
            "rate",
            "Share of the schedule",
            [
                span_series("Utilisation", spans, use, lambda u: u.utilisation),
                span_series("Fill rate", spans, use, lambda u: u.fill_rate),
            ],
            "schedule utilisation",
            "access_schedule_daily",
        ),
    ]


def _weekday_hour(ctx: PageContext) -> Chart:
    rows = ctx.rows(
        sql("weekday_hour"),
        start=ctx.period.start,
        end=ctx.period.end,
        provider=ctx.filters.provider,
        location=ctx.filters.location,
    )
    cells = {(r["weekday"], r["hour"]): float(r["scheduled_appointments"]) for r in rows}
    labels = hour_labels([hour for _, hour in cells])
    return Chart(
        key="weekday_hour",
        title="Appointments by weekday and hour of the start",
        kind="heatmap",
        x_label="Hour of the day (practice time)",
        y_label="Weekday",
        unit="count",
        labels=labels,
        series=weekday_hour_series(cells, labels),
        definition=definition("appointments by weekday and hour"),
        as_of=ctx.stamp("access_hourly"),
        drill=ctx.link("rows/access_hourly"),
    )


@dataclass(frozen=True)
class ProviderFigures:
    """The period's figures of each provider, by provider id."""

    providers: list[str]
    counts: dict[str, Counts]
    lead: dict[str, Percentiles]
    use: dict[str, ScheduleUse]
    third: dict[str, ThirdNext]


def _by_provider(ctx: PageContext) -> ProviderFigures:
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


def _provider_use(ctx: PageContext, figures: ProviderFigures) -> Chart:
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


PROVIDER_COLUMNS = [
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


def _provider_table(ctx: PageContext, figures: ProviderFigures) -> Table:
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
        columns=PROVIDER_COLUMNS,
        rows=rows,
        as_of=ctx.stamp("access_daily"),
        drill=ctx.link("rows/access_daily"),
    )
