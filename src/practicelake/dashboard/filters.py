"""What a dashboard view is filtered by: a period (a preset or custom dates), a provider, a
location, a payer and the date basis. The URL's query string carries all of it, so a view can
be bookmarked and shared; a colleague opening it gets the same view only where their own
grants allow (the read path decides, not the link)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from practicelake.errors import PracticelakeError

Preset = Literal["this_month", "last_month", "this_quarter", "year_to_date", "last_12_months", "custom"]
Basis = Literal["service", "posting"]
PRESETS: dict[str, str] = {
    "this_month": "This month",
    "last_month": "Last month",
    "this_quarter": "This quarter",
    "year_to_date": "Year to date",
    "last_12_months": "Last 12 months",
    "custom": "Custom",
}
BASES: dict[str, str] = {"service": "Service date", "posting": "Posting date"}
# Ids as exports name them (clean rule id_format); bounded so that a URL stays a URL.
ID = r"^[A-Za-z0-9][A-Za-z0-9 ._:/#-]{0,63}$"
LONGEST_CUSTOM = timedelta(days=366 * 5)
EARLIEST = date(1990, 1, 1)


class FilterError(PracticelakeError):
    """A filter that cannot be applied; the message names it."""


class Filters(BaseModel):
    """A view's filters as the query string gives them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    period: Preset = "last_month"
    start: date | None = None
    """First day of a custom period."""
    end: date | None = None
    """Last day of a custom period (inclusive)."""
    provider: str | None = Field(default=None, pattern=ID)
    location: str | None = Field(default=None, pattern=ID)
    payer: str | None = Field(default=None, pattern=ID)
    basis: Basis = "service"

    @model_validator(mode="after")
    def _custom_dates(self) -> Filters:
        if self.period == "custom":
            if self.start is None or self.end is None:
                raise ValueError("a custom period needs start and end dates")
            if self.start > self.end:
                raise ValueError("the period's start is after its end")
            if self.end - self.start > LONGEST_CUSTOM:
                raise ValueError("a custom period is at most 5 years")
            if self.start < EARLIEST or self.end > date(2100, 1, 1):
                raise ValueError("the period's dates are out of range")
        elif self.start is not None or self.end is not None:
            raise ValueError("start and end go with period=custom only")
        return self

    def query(self, **changes: object) -> dict[str, str]:
        """The query string of these filters (with `changes`), defaults left out."""
        values = self.model_dump() | changes
        defaults = Filters().model_dump()
        return {k: str(v) for k, v in values.items() if v is not None and v != defaults.get(k)}


@dataclass(frozen=True)
class Period:
    """Practice-local days from `start` to `end`, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def end_exclusive(self) -> date:
        return self.end + timedelta(days=1)

    def previous(self) -> Period:
        """The period just before: the months before a month-aligned period (the same days of
        them for a month, quarter or year to date), else the run of days of the same length."""
        if self.start.day != 1:
            return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))
        months = _month_index(self.end) - _month_index(self.start) + 1
        start = _month_start(_month_index(self.start) - months)
        if _whole_months(self):
            return Period(start, self.start - timedelta(days=1))
        last = _month_start(_month_index(self.end) - months)
        return Period(start, _day_of(last, self.end.day))

    def year_ago(self) -> Period:
        return Period(_years_back(self.start), _years_back(self.end))

    def months(self) -> list[date]:
        """The first day of every month the period touches."""
        return [_month_start(i) for i in range(_month_index(self.start), _month_index(self.end) + 1)]

    def label(self) -> str:
        if _whole_months(self) and self.start.month == self.end.month and self.start.year == self.end.year:
            return self.start.strftime("%B %Y")
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def resolve(filters: Filters, today: date) -> Period:
    """The days `filters` cover, `today` being the practice-local date."""
    this_month = today.replace(day=1)
    match filters.period:
        case "this_month":
            return Period(this_month, today)
        case "last_month":
            return Period(_month_start(_month_index(today) - 1), this_month - timedelta(days=1))
        case "this_quarter":
            return Period(today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1), today)
        case "year_to_date":
            return Period(today.replace(month=1, day=1), today)
        case "last_12_months":
            return Period(_month_start(_month_index(today) - 12), this_month - timedelta(days=1))
        case "custom":
            assert filters.start is not None and filters.end is not None  # the model checked
            return Period(filters.start, filters.end)
    raise FilterError(f"unknown period {filters.period!r}")


def trend_months(today: date, count: int = 13) -> Period:
    """The `count` whole months up to and including the current one: a trend's x axis."""
    index = _month_index(today)
    return Period(_month_start(index - count + 1), today)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _day_of(month: date, day: int) -> date:
    """`day` of `month`, or the month's last day if it is shorter."""
    following = _month_start(_month_index(month) + 1)
    return min(month.replace(day=1) + timedelta(days=day - 1), following - timedelta(days=1))


def _whole_months(period: Period) -> bool:
    return period.start.day == 1 and (period.end + timedelta(days=1)).day == 1


def _years_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)
