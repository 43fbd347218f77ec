"""The runs of days a billing figure is wanted over: a tile's period, the period before it and
the same days a year before; a trend's months; the dates A/R is read at."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from practicelake.dashboard.context import PageContext
from practicelake.dashboard.filters import Period, trend_months

TREND_MONTHS = 13


@dataclass(frozen=True)
class Span:
    name: str
    period: Period


def compared(period: Period) -> list[Span]:
    """The period, the one before it and the same days a year before: a tile's three values."""
    return [Span("current", period), Span("previous", period.previous()), Span("year_ago", period.year_ago())]


def month_end(first: date) -> date:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def months(period: Period) -> list[Span]:
    """Each month the period touches, cut to the period, named as a chart labels it (2026-05)."""
    return [
        Span(first.strftime("%Y-%m"), Period(max(first, period.start), min(month_end(first), period.end)))
        for first in period.months()
    ]


def trend(ctx: PageContext) -> list[Span]:
    """The 13 months up to the period's end (or today, if that is earlier), the last to that day."""
    return months(trend_months(min(ctx.period.end, ctx.today), TREND_MONTHS))


def shown_end(ctx: PageContext, period: Period) -> date:
    """The last day of `period` that has happened: A/R is not read in the future."""
    return min(period.end, ctx.today)


def bound(spans: Sequence[Span]) -> dict[str, object]:
    return {
        "periods": [s.name for s in spans],
        "starts": [s.period.start for s in spans],
        "ends": [s.period.end for s in spans],
    }
