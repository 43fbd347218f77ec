"""Patient flow: how long patients wait for the provider, how long the visit takes and how long
they are in the practice (medians and 90th percentiles of whole minutes, from histograms, so
exact for any period), and when they arrive, by hour and by weekday and hour."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from practicelake.dashboard.access_queries import sql
from practicelake.dashboard.access_queries.charts import (
    hour_labels,
    ignored_filters,
    span_series,
    trend_chart,
    weekday_hour_series,
)
from practicelake.dashboard.access_queries.figures import (
    Percentiles,
    Span,
    compared,
    measure_of,
    percentiles,
    trend,
    values_of,
)
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.definitions import definition
from practicelake.dashboard.pages import page_view
from practicelake.dashboard.tiles import TileSpec
from practicelake.dashboard.view import Cell, Chart, Column, PageView, Series, Table, Tile, Unit

# measure of flow_minutes -> (its label, its metric, which way is better)
MEASURES: dict[str, tuple[str, str, Literal["higher", "lower"] | None]] = {
    "wait": ("Wait time", "wait time", "lower"),
    "visit": ("Visit duration", "visit duration", None),
    "cycle": ("Cycle time", "cycle time", "lower"),
}

ChartKind = Literal["line", "bar", "stacked", "heatmap"]
PER_DAY_NOTE = "The average over the days of that weekday in the period with any check-in counted."


def _at(rank: str) -> Callable[[Percentiles], float]:
    """The median ("p50") or 90th percentile ("p90") of a measure's figures."""
    return (lambda p: p.p50) if rank == "p50" else (lambda p: p.p90)


def build(ctx: PageContext) -> PageView:
    found = percentiles(ctx, "flow_histogram", compared(ctx))
    tiles: list[Tile] = []
    for measure, (label, metric, better) in MEASURES.items():
        figures = measure_of(found, measure)
        for rank, name in (("p50", "median"), ("p90", "90th percentile")):
            spec = TileSpec(f"{measure}_{rank}", f"{label}, {name}", "minutes", metric, "flow_minutes", better)
            tiles.append(spec.tile(ctx, values_of(figures, _at(rank))))
    return page_view(
        ctx,
        "flow",
        tiles=tiles,
        charts=[*_trends(ctx), *_arrivals(ctx)],
        tables=[_providers(ctx)],
        notes=ignored_filters(ctx),
    )


def _trends(ctx: PageContext) -> list[Chart]:
    spans = trend(ctx.period)
    found = percentiles(ctx, "flow_histogram", spans)
    charts = []
    for rank, title in (("p50", "medians"), ("p90", "90th percentiles")):
        series = [
            span_series(label, spans, measure_of(found, measure), _at(rank))
            for measure, (label, _, _) in MEASURES.items()
        ]
        charts.append(
            trend_chart(ctx, spans, f"flow_{rank}_trend", f"Wait, visit and cycle times: {title}", "minutes",
                        "Minutes", series, metric="wait time", relation="flow_minutes")
        )  # fmt: skip
    return charts


def _arrivals(ctx: PageContext) -> list[Chart]:
    rows = ctx.rows(
        sql("check_ins"),
        start=ctx.period.start,
        end=ctx.period.end,
        provider=ctx.filters.provider,
        location=ctx.filters.location,
    )
    by_hour: dict[int, float] = {}
    per_day: dict[tuple[int, int], float] = {}
    for r in rows:
        by_hour[r["hour"]] = by_hour.get(r["hour"], 0.0) + r["check_ins"]
        per_day[(r["weekday"], r["hour"])] = r["check_ins"] / r["days"]
    labels = hour_labels(sorted(by_hour))
    hourly = [Series(name="Check-ins", values=[by_hour.get(int(label)) for label in labels])]

    def chart(key: str, title: str, kind: ChartKind, y_label: str, unit: Unit, series: list[Series]) -> Chart:
        return Chart(
            key=key,
            title=title,
            kind=kind,
            x_label="Hour of the day (practice time)",
            y_label=y_label,
            unit=unit,
            labels=labels,
            series=series,
            definition=definition("arrivals by hour"),
            as_of=ctx.stamp("flow_check_ins"),
            drill=ctx.link("rows/flow_check_ins"),
            note=PER_DAY_NOTE if unit == "per_day" else None,
        )

    return [
        chart("arrivals_by_hour", "Arrivals by hour", "bar", "Check-ins", "count", hourly),
        chart(
            "arrivals_weekday_hour",
            "Arrivals per day by weekday and hour",
            "heatmap",
            "Weekday",
            "per_day",
            weekday_hour_series(per_day, labels),
        ),
    ]


def _providers(ctx: PageContext) -> Table:
    found = percentiles(ctx, "flow_histogram", [Span("current", ctx.period)], by="provider")
    providers = sorted({grp for _, grp, _ in found})
    columns = [Column(key="provider_id", label="Provider", unit="text")]
    for measure, (label, _, _) in MEASURES.items():
        columns.append(Column(key=f"{measure}_visits", label=f"{label}: visits timed", unit="count"))
        columns.append(Column(key=f"{measure}_p50", label=f"{label}, median", unit="minutes"))
        columns.append(Column(key=f"{measure}_p90", label=f"{label}, 90th percentile", unit="minutes"))
    rows: list[list[Cell]] = []
    for provider in providers:
        row: list[Cell] = [provider]
        for measure in MEASURES:
            figures = found.get(("current", provider, measure))
            if figures is None:
                row += [None, None, None]
            else:
                row += [float(figures.observations), figures.p50, figures.p90]
        rows.append(row)
    return Table(
        key="providers",
        title="Providers compared",
        columns=columns,
        rows=rows,
        definition=definition("wait time"),
        as_of=ctx.stamp("flow_minutes"),
        drill=ctx.link("rows/flow_minutes"),
    )
