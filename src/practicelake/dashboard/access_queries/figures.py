"""The access and flow figures of some spans of days, read through the page's context.

Each function runs one query of this package over every span at once and returns its figures
keyed by (span name, group): the group is the provider when asked `by="provider"`, else "".
A span without rows has no key: the caller shows None, not 0, for a period without data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, TypeVar

from practicelake.dashboard.access_queries import percentile_sql, sql
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.filters import Period

By = Literal["", "provider"]
Key = tuple[str, str]
T = TypeVar("T")


@dataclass(frozen=True)
class Span:
    name: str
    period: Period


def compared(ctx: PageContext, period: Period | None = None) -> list[Span]:
    """The period, the one before it and the same days a year before: a tile's three values."""
    shown = period or ctx.period
    return [Span("current", shown), Span("previous", shown.previous()), Span("year_ago", shown.year_ago())]


TREND_DAYS = 62
"""A trend over this many days or fewer has a point a day; a longer one a point a month."""


def trend(period: Period) -> list[Span]:
    """A trend's points over `period`: its days, or its months (the first and last cut to the
    period), each named as the chart labels it."""
    if period.days <= TREND_DAYS:
        days = [period.start + timedelta(days=i) for i in range(period.days)]
        return [Span(day.isoformat(), Period(day, day)) for day in days]
    spans = []
    for first in period.months():
        last = _month_end(first.year, first.month)
        spans.append(Span(first.strftime("%Y-%m"), Period(max(first, period.start), min(last, period.end))))
    return spans


def trend_axis(period: Period) -> str:
    return "Day" if period.days <= TREND_DAYS else "Month"


def _bound(ctx: PageContext, spans: Sequence[Span], by: By) -> dict[str, object]:
    return {
        "periods": [s.name for s in spans],
        "starts": [s.period.start for s in spans],
        "ends": [s.period.end for s in spans],
        "provider": ctx.filters.provider,
        "location": ctx.filters.location,
        "by": by,
    }


def values_of(
    found: Mapping[Key, T], pick: Callable[[T], float | int | None], group: str = ""
) -> dict[str, float | None]:
    """`pick` of each span's figures of `group`, by span name (a tile's current, previous, year_ago)."""
    values: dict[str, float | None] = {}
    for (span, grp), figures in found.items():
        if grp == group:
            value = pick(figures)
            values[span] = None if value is None else float(value)
    return values


def ratio(part: int | None, whole: int | None) -> float | None:
    return None if part is None or not whole else part / whole


@dataclass(frozen=True)
class Counts:
    scheduled: int
    kept: int
    no_shows: int
    cancellations: int
    late_cancellations: int
    unresolved: int

    @property
    def no_show_rate(self) -> float | None:
        """No-shows / (kept + no-shows): access_daily's definition, late cancellations apart."""
        return ratio(self.no_shows, self.kept + self.no_shows)

    @property
    def late_cancellation_rate(self) -> float | None:
        return ratio(self.late_cancellations, self.scheduled)


def counts(ctx: PageContext, spans: Sequence[Span], by: By = "") -> dict[Key, Counts]:
    return {
        (r["period"], r["grp"]): Counts(
            r["scheduled_appointments"],
            r["kept_appointments"],
            r["no_shows"],
            r["cancellations"],
            r["late_cancellations"],
            r["unresolved_appointments"],
        )
        for r in ctx.rows(sql("counts"), **_bound(ctx, spans, by))
    }


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p90: float
    observations: int


def percentiles(
    ctx: PageContext, histogram: Literal["lead_time_histogram", "flow_histogram"], spans: Sequence[Span], by: By = ""
) -> dict[tuple[str, str, str], Percentiles]:
    """Median and 90th percentile by (span, group, measure): lead_days, or wait, visit, cycle."""
    found: dict[tuple[str, str, str], dict[float, tuple[float, int]]] = {}
    for r in ctx.rows(percentile_sql(histogram), **_bound(ctx, spans, by)):
        found.setdefault((r["period"], r["grp"], r["measure"]), {})[r["rank"]] = (r["value"], r["observations"])
    return {key: Percentiles(ranks[0.5][0], ranks[0.9][0], ranks[0.5][1]) for key, ranks in found.items()}


def measure_of(found: Mapping[tuple[str, str, str], Percentiles], measure: str) -> dict[Key, Percentiles]:
    return {(span, grp): figures for (span, grp, name), figures in found.items() if name == measure}


@dataclass(frozen=True)
class ScheduleUse:
    available_minutes: int | None
    kept_minutes: int | None
    available_slots: int | None
    booked_slots: int | None

    @property
    def utilisation(self) -> float | None:
        return ratio(self.kept_minutes, self.available_minutes)

    @property
    def fill_rate(self) -> float | None:
        return ratio(self.booked_slots, self.available_slots)


def schedule_use(ctx: PageContext, spans: Sequence[Span], by: By = "") -> dict[Key, ScheduleUse]:
    return {
        (r["period"], r["grp"]): ScheduleUse(
            r["available_minutes"], r["kept_minutes"], r["available_slots"], r["booked_slots"]
        )
        for r in ctx.rows(sql("schedule"), **_bound(ctx, spans, by))
    }


@dataclass(frozen=True)
class ThirdNext:
    total_days: int | None
    measured_days: int
    schedule_days: int

    @property
    def mean_days(self) -> float | None:
        """The mean over the schedule days that found a third open slot (access_third_next)."""
        return ratio(self.total_days, self.measured_days)


def third_next(ctx: PageContext, spans: Sequence[Span], by: By = "") -> dict[Key, ThirdNext]:
    return {
        (r["period"], r["grp"]): ThirdNext(r["total_days"], r["measured_days"], r["schedule_days"])
        for r in ctx.rows(sql("third_next"), **_bound(ctx, spans, by))
    }


Grain = Literal["month", "quarter", "year"]


def calendar_unit(period: Period) -> tuple[Grain, date, date] | None:
    """The smallest calendar month, quarter or year that starts with `period` and holds it: its
    grain, first and last day; None when there is none."""
    start, end = period.start, period.end
    if start.day != 1:
        return None
    units: list[tuple[Grain, date]] = [("month", _month_end(start.year, start.month))]
    if start.month in (1, 4, 7, 10):
        units.append(("quarter", _month_end(start.year, start.month + 2)))
    if start.month == 1:
        units.append(("year", date(start.year, 12, 31)))
    for grain, last in units:
        if end <= last:
            return grain, start, last
    return None


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def patients_seen(ctx: PageContext, period: Period) -> tuple[bool, int | None]:
    """Distinct patients seen in `period`, when it can be counted exactly: a calendar month,
    quarter or year, or the start of one whose remaining days have no kept appointment
    recorded (a month, quarter or year to date). (False, None) when it cannot; (True, None)
    when it can but the period has no data."""
    unit = calendar_unit(period)
    if unit is None:
        return False, None
    grain, first, last = unit
    if period.end < last:
        rest = Span("rest", Period(period.end + timedelta(days=1), last))
        later = counts(ctx, [rest]).get(("rest", ""))
        if later is not None and later.kept > 0:
            return False, None
    found = ctx.rows(
        sql("patients_seen"),
        grain=grain,
        period_start=first,
        provider=ctx.filters.provider,
        location=ctx.filters.location,
    )
    if found:
        return True, int(found[0]["patients_seen"])
    seen_any = counts(ctx, [Span("current", period)])
    return True, (0 if seen_any else None)
