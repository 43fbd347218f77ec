"""Access: how many appointments, how many kept, missed and cancelled late, how far ahead they
are booked, how much of the schedule is used, how soon the third open slot comes, and who was
seen; as tiles against the period before and a year before, trends over the period, a
weekday-by-hour picture of demand and a comparison of providers. Every figure is summed from
day-grain curated rows (percentiles from histograms), so it is exact for any period."""

from __future__ import annotations

from practicelake.dashboard.access_queries import sql
from practicelake.dashboard.access_queries.charts import (
    hour_labels,
    ignored_filters,
    span_series,
    trend_chart,
    weekday_hour_series,
)
from practicelake.dashboard.access_queries.figures import (
    Span,
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
from practicelake.dashboard.access_queries.providers import by_provider, comparison_table, schedule_chart
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.definitions import definition
from practicelake.dashboard.pages import page_view
from practicelake.dashboard.tiles import TileSpec
from practicelake.dashboard.tiles.access import kept_tile, no_show_tile
from practicelake.dashboard.view import Chart, PageView, Target, Tile

FILL_TARGET = Target(low=0.90, high=0.95, source="AAFP: 90-95% the usual fill rate target in primary care")
SCHEDULED = TileSpec(
    "scheduled_appointments", "Scheduled appointments", "count", "scheduled appointments", "access_daily"
)
LATE = TileSpec(
    "late_cancellation_rate", "Late cancellation rate", "rate", "late cancellation rate", "access_daily", "lower"
)
LEAD_P50 = TileSpec("lead_time_p50", "Lead time, median", "days", "lead time", "access_lead_time", "lower")
LEAD_P90 = TileSpec("lead_time_p90", "Lead time, 90th percentile", "days", "lead time", "access_lead_time", "lower")
UTILISATION = TileSpec(
    "schedule_utilisation", "Schedule utilisation", "rate", "schedule utilisation", "access_schedule_daily", "higher"
)
FILL = TileSpec("fill_rate", "Fill rate", "rate", "fill rate", "access_schedule_daily", "higher", FILL_TARGET)
THIRD_NEXT = TileSpec(
    "third_next_available", "Third next available", "days", "third next available", "access_third_next", "lower"
)
PATIENTS = TileSpec(
    "patients_seen", "Distinct patients seen", "count", "distinct patients seen", "access_patients_seen", "higher"
)
NOT_COUNTABLE = (
    "Distinct patients are counted per calendar month, quarter and year (or one of them to date): "
    "not available for this period."
)
LOCATION_NOTE = (
    "Third next available is each provider's, over all their locations: the location filter does not apply to it."
)


def build(ctx: PageContext) -> PageView:
    spans = compared(ctx)
    found = counts(ctx, spans)
    lead = measure_of(percentiles(ctx, "lead_time_histogram", spans), "lead_days")
    use = schedule_use(ctx, spans)
    third = third_next(ctx, spans)
    tiles = [
        SCHEDULED.tile(ctx, values_of(found, lambda c: c.scheduled)),
        kept_tile(ctx, found),
        no_show_tile(ctx, found),
        LATE.tile(ctx, values_of(found, lambda c: c.late_cancellation_rate)),
        LEAD_P50.tile(ctx, values_of(lead, lambda p: p.p50)),
        LEAD_P90.tile(ctx, values_of(lead, lambda p: p.p90)),
        UTILISATION.tile(ctx, values_of(use, lambda u: u.utilisation)),
        FILL.tile(ctx, values_of(use, lambda u: u.fill_rate)),
        THIRD_NEXT.tile(ctx, values_of(third, lambda t: t.mean_days)),
        _patients_tile(ctx, spans),
    ]
    notes = ignored_filters(ctx)
    if ctx.filters.location is not None:
        notes.append(LOCATION_NOTE)
    providers = by_provider(ctx)
    return page_view(
        ctx,
        "access",
        tiles=tiles,
        charts=[*_trends(ctx), _weekday_hour(ctx), schedule_chart(ctx, providers)],
        tables=[comparison_table(ctx, providers)],
        notes=notes,
    )


def _patients_tile(ctx: PageContext, spans: list[Span]) -> Tile:
    values: dict[str, float | None] = {}
    countable = {}
    for span in spans:
        countable[span.name], seen = patients_seen(ctx, span.period)
        values[span.name] = None if seen is None else float(seen)
    return PATIENTS.tile(ctx, values, note=None if countable["current"] else NOT_COUNTABLE)


def _trends(ctx: PageContext) -> list[Chart]:
    spans = trend(ctx.period)
    found = counts(ctx, spans)
    lead = measure_of(percentiles(ctx, "lead_time_histogram", spans), "lead_days")
    use = schedule_use(ctx, spans)
    appointments = [
        span_series("Scheduled", spans, found, lambda c: c.scheduled),
        span_series("Kept", spans, found, lambda c: c.kept),
        span_series("No-shows", spans, found, lambda c: c.no_shows),
    ]
    rates = [
        span_series("No-show rate", spans, found, lambda c: c.no_show_rate),
        span_series("Late cancellation rate", spans, found, lambda c: c.late_cancellation_rate),
    ]
    lead_time = [
        span_series("Median", spans, lead, lambda p: p.p50),
        span_series("90th percentile", spans, lead, lambda p: p.p90),
    ]
    schedule = [
        span_series("Utilisation", spans, use, lambda u: u.utilisation),
        span_series("Fill rate", spans, use, lambda u: u.fill_rate),
    ]
    return [
        trend_chart(
            ctx,
            spans,
            "appointments_trend",
            "Appointments",
            "count",
            "Appointments",
            appointments,
            metric="scheduled appointments",
            relation="access_daily",
        ),
        trend_chart(
            ctx,
            spans,
            "rates_trend",
            "No-show and late cancellation rates",
            "rate",
            "Share of appointments",
            rates,
            metric="no-show rate",
            relation="access_daily",
        ),
        trend_chart(
            ctx,
            spans,
            "lead_time_trend",
            "Lead time",
            "days",
            "Days booked ahead",
            lead_time,
            metric="lead time",
            relation="access_lead_time",
        ),
        trend_chart(
            ctx,
            spans,
            "schedule_trend",
            "Schedule utilisation and fill rate",
            "rate",
            "Share of the schedule",
            schedule,
            metric="schedule utilisation",
            relation="access_schedule_daily",
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
