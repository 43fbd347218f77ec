"""What the Access, Patient flow and Today pages share beyond their queries: the PageView
frame, the notes on filters that do not apply, and charts of figures by span or by weekday
and hour."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from practicelake.dashboard.access_queries.figures import Key, Span, trend_axis
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.definitions import definition
from practicelake.dashboard.view import Chart, Number, Series, Unit

T = TypeVar("T")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def ignored_filters(ctx: PageContext) -> list[str]:
    """Notes on the filters set that no figure of these pages uses."""
    notes = []
    if ctx.filters.payer is not None:
        notes.append(
            "The payer filter does not apply here: appointments, schedules and patient flow are counted whoever pays."
        )
    if ctx.filters.basis != "service":
        notes.append("The date basis applies to revenue figures only: appointments count on their own day.")
    return notes


def span_series(
    name: str, spans: Sequence[Span], found: Mapping[Key, T], pick: Callable[[T], float | int | None], group: str = ""
) -> Series:
    """One value per span: `pick` of the span's figures, None where it has none."""
    values: list[Number] = []
    for span in spans:
        figures = found.get((span.name, group))
        value = None if figures is None else pick(figures)
        values.append(None if value is None else float(value))
    return Series(name=name, values=values)


def hour_labels(hours: Sequence[int]) -> list[str]:
    """Every hour from the first to the last with data, as "08"; none without data."""
    return [f"{hour:02d}" for hour in range(min(hours), max(hours) + 1)] if hours else []


def weekday_hour_series(cells: Mapping[tuple[int, int], float], labels: Sequence[str]) -> list[Series]:
    """One series per ISO weekday (Monday first) of the values by (weekday, hour)."""
    return [
        Series(name=WEEKDAYS[day - 1], values=[cells.get((day, int(label))) for label in labels]) for day in range(1, 8)
    ]


def trend_chart(
    ctx: PageContext, spans: Sequence[Span], key: str, title: str, unit: Unit, y_label: str, series: list[Series],
    *, metric: str, relation: str,
) -> Chart:  # fmt: skip
    """A line chart of `series` over the trend's spans of the context's period."""
    return Chart(
        key=key,
        title=title,
        kind="line",
        x_label=trend_axis(ctx.period),
        y_label=y_label,
        unit=unit,
        labels=[span.name for span in spans],
        series=series,
        definition=definition(metric),
        as_of=ctx.stamp(relation),
        drill=ctx.link("rows/" + relation),
    )
