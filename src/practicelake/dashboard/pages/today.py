"""Today, for the front desk: today's and this week's (ISO week, Monday to Sunday) appointments
by provider and hour, those kept and missed so far, arrivals by hour and waits. The period
filter does not apply: the page is fixed to the practice's today and its week. No money."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any, Literal

from practicelake.dashboard.access_queries import sql
from practicelake.dashboard.access_queries.charts import hour_labels, ignored_filters
from practicelake.dashboard.access_queries.figures import Counts, Span, counts, measure_of, percentiles, values_of
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.definitions import definition
from practicelake.dashboard.filters import Period
from practicelake.dashboard.pages import page_view
from practicelake.dashboard.tiles import compared_tile
from practicelake.dashboard.view import Cell, Chart, Column, PageView, PeriodView, Series, Table, Tile, Unit

FIXED = "The period filter does not apply here: this page shows today and its week (Monday to Sunday)."
COMPARED = "Today is compared with the same weekday a week and 52 weeks before; the week with the weeks then."
# A day or week compared with the same weekday (week) one week and 52 weeks before.
WEEK, YEAR = timedelta(days=7), timedelta(days=364)


def _shifted(period: Period, by: timedelta) -> Period:
    return Period(period.start - by, period.end - by)


def _spans(period: Period) -> list[Span]:
    return [Span("current", period), Span("previous", _shifted(period, WEEK)), Span("year_ago", _shifted(period, YEAR))]


def build(ctx: PageContext) -> PageView:
    today = Period(ctx.today, ctx.today)
    monday = ctx.today - timedelta(days=ctx.today.weekday())
    week = Period(monday, monday + timedelta(days=6))
    day_counts, week_counts = counts(ctx, _spans(today)), counts(ctx, _spans(week))
    waits = measure_of(percentiles(ctx, "flow_histogram", _spans(today)), "wait")
    hourly = ctx.rows(
        sql("hourly"), start=week.start, end=week.end, provider=ctx.filters.provider, location=ctx.filters.location
    )
    tiles = [
        *_count_tiles(ctx, day_counts, "today", "today", today),
        _tile(
            ctx,
            "unresolved_today",
            "Still to come today",
            values_of(day_counts, lambda c: c.unresolved),
            "scheduled appointments",
            today,
        ),
        _tile(
            ctx,
            "wait_p50_today",
            "Wait today, median",
            values_of(waits, lambda p: p.p50),
            "wait time",
            today,
            unit="minutes",
            relation="flow_minutes",
            better="lower",
        ),
        _tile(
            ctx,
            "wait_p90_today",
            "Wait today, 90th percentile",
            values_of(waits, lambda p: p.p90),
            "wait time",
            today,
            unit="minutes",
            relation="flow_minutes",
            better="lower",
        ),
        *_count_tiles(ctx, week_counts, "week", "this week", week),
    ]
    notes = [FIXED, COMPARED, *ignored_filters(ctx)]
    unknown = sum(r["scheduled_appointments"] for r in hourly if r["hour"] is None and r["day"] == ctx.today)
    if unknown:
        notes.append(f"{unknown} of today's appointments have a day but no start time: they are in no hour.")
    label = f"Today, {ctx.today.isoformat()}, and its week ({week.start.isoformat()} to {week.end.isoformat()})"
    return page_view(
        ctx,
        "today",
        tiles=tiles,
        charts=[_today_by_hour(ctx, hourly), _week_by_day(ctx, hourly, week), _arrivals(ctx)],
        tables=[_by_provider(ctx, hourly, today, "today"), _by_provider(ctx, hourly, week, "week")],
        notes=notes,
        period=PeriodView(start=week.start, end=week.end, label=label),
    )


def _tile(
    ctx: PageContext,
    key: str,
    label: str,
    values: dict[str, float | None],
    metric: str,
    shown: Period,
    *,
    unit: Unit = "count",
    relation: str = "access_hourly",
    better: Literal["higher", "lower"] | None = None,
) -> Tile:
    """A tile of today or the week, its drill to the rows of those days (not the filter's period)."""
    tile = compared_tile(ctx, key, label, unit, values, metric=metric, relation=relation, better=better)
    return tile.model_copy(update={"drill": _drill(ctx, relation, shown)})


def _drill(ctx: PageContext, relation: str, shown: Period) -> str:
    return ctx.link("rows/" + relation, period="custom", start=shown.start, end=shown.end)


def _count_tiles(
    ctx: PageContext, found: dict[tuple[str, str], Counts], key: str, when: str, shown: Period
) -> list[Tile]:
    return [
        _tile(
            ctx,
            f"scheduled_{key}",
            f"Appointments {when}",
            values_of(found, lambda c: c.scheduled),
            "scheduled appointments",
            shown,
        ),
        _tile(
            ctx, f"kept_{key}", f"Kept {when} so far", values_of(found, lambda c: c.kept), "kept appointments", shown
        ),
        _tile(
            ctx, f"no_shows_{key}", f"No-shows {when} so far", values_of(found, lambda c: c.no_shows), "no-shows", shown
        ),
    ]


def _today_by_hour(ctx: PageContext, hourly: list[dict[str, Any]]) -> Chart:
    rows = [r for r in hourly if r["day"] == ctx.today and r["hour"] is not None]
    labels = hour_labels(sorted({r["hour"] for r in rows}))
    by_provider: dict[str, dict[int, float]] = defaultdict(dict)
    for r in rows:
        by_provider[r["provider_id"]][r["hour"]] = float(r["scheduled_appointments"])
    return Chart(
        key="today_by_hour",
        title="Today's appointments by hour and provider",
        kind="stacked",
        x_label="Hour of the start (practice time)",
        y_label="Appointments",
        unit="count",
        labels=labels,
        series=[Series(name=p, values=[hours.get(int(h)) for h in labels]) for p, hours in sorted(by_provider.items())],
        definition=definition("appointments by hour"),
        as_of=ctx.stamp("access_hourly"),
        drill=_drill(ctx, "access_hourly", Period(ctx.today, ctx.today)),
    )


def _week_by_day(ctx: PageContext, hourly: list[dict[str, Any]], week: Period) -> Chart:
    labels = [(week.start + timedelta(days=i)).isoformat() for i in range(7)]
    by_provider: dict[str, dict[str, float]] = defaultdict(dict)
    for r in hourly:
        day = r["day"].isoformat()
        by_provider[r["provider_id"]][day] = by_provider[r["provider_id"]].get(day, 0.0) + r["scheduled_appointments"]
    return Chart(
        key="week_by_day",
        title="This week's appointments by day and provider",
        kind="stacked",
        x_label="Day",
        y_label="Appointments",
        unit="count",
        labels=labels,
        series=[Series(name=p, values=[days.get(d) for d in labels]) for p, days in sorted(by_provider.items())],
        definition=definition("appointments by hour"),
        as_of=ctx.stamp("access_hourly"),
        drill=_drill(ctx, "access_hourly", week),
    )


def _arrivals(ctx: PageContext) -> Chart:
    rows = ctx.rows(
        sql("check_ins"), start=ctx.today, end=ctx.today, provider=ctx.filters.provider, location=ctx.filters.location
    )
    by_hour = {r["hour"]: float(r["check_ins"]) for r in rows}
    labels = hour_labels(sorted(by_hour))
    return Chart(
        key="arrivals_today",
        title="Arrivals by hour today",
        kind="bar",
        x_label="Hour of the check-in (practice time)",
        y_label="Check-ins",
        unit="count",
        labels=labels,
        series=[Series(name="Check-ins", values=[by_hour.get(int(h)) for h in labels])],
        definition=definition("arrivals by hour"),
        as_of=ctx.stamp("flow_check_ins"),
        drill=_drill(ctx, "flow_check_ins", Period(ctx.today, ctx.today)),
    )


TABLE_COLUMNS = [
    Column(key="provider_id", label="Provider", unit="text"),
    Column(key="scheduled_appointments", label="Appointments", unit="count"),
    Column(key="kept_appointments", label="Kept", unit="count"),
    Column(key="no_shows", label="No-shows", unit="count"),
    Column(key="cancellations", label="Cancelled", unit="count"),
    Column(key="checked_in", label="Checked in", unit="count"),
]


def _by_provider(ctx: PageContext, hourly: list[dict[str, Any]], shown: Period, key: str) -> Table:
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0] * (len(TABLE_COLUMNS) - 1))
    for r in hourly:
        if shown.start <= r["day"] <= shown.end:
            for i, column in enumerate(TABLE_COLUMNS[1:]):
                totals[r["provider_id"]][i] += r[column.key]
    rows: list[list[Cell]] = [[provider, *values] for provider, values in sorted(totals.items())]
    return Table(
        key=f"providers_{key}",
        title="Today by provider" if key == "today" else "This week by provider",
        columns=TABLE_COLUMNS,
        rows=rows,
        definition=definition("appointments by hour"),
        as_of=ctx.stamp("access_hourly"),
        drill=_drill(ctx, "access_hourly", shown),
    )
