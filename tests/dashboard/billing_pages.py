"""What the billing page tests share: principals, a page context over the suite's site lake,
the practice's cleaned rows attributed (billing_truth), the spans a page compares, and one way
to compare a shown value with an expected one."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
from billing_truth import Truth, load

from practicelake.access.principals import Principal
from practicelake.app import App
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.filters import Filters, Period, resolve
from practicelake.dashboard.pages import BY_KEY, build
from practicelake.dashboard.view import PageView
from site_lake import TODAY

OWNER = Principal("olga", "user", MappingProxyType({"P001": "practice_owner"}))
OTHER_OWNER = Principal("oscar", "user", MappingProxyType({"P002": "practice_owner"}))
STAFF = Principal("sam", "user", MappingProxyType({"P001": "staff"}))
BILLING = Principal("bea", "user", MappingProxyType({"P001": "billing"}))
ANALYST = Principal("ana", "user", MappingProxyType({"*": "analyst"}))
PRACTICE = "P001"
PAYER = "PYR002"
PROVIDER = "PRV0001"  # every practice of the site lake has this one provider
# Periods every page is checked over: presets, and a custom range across month ends.
PERIODS: list[dict[str, Any]] = [
    {"period": "last_month"},
    {"period": "this_quarter"},
    {"period": "year_to_date"},
    {"period": "last_12_months"},
    {"period": "custom", "start": date(2026, 1, 20), "end": date(2026, 3, 9)},
    {"period": "last_12_months", "payer": PAYER},
    {"period": "custom", "start": date(2025, 11, 5), "end": date(2026, 2, 14), "provider": PROVIDER},
    {"period": "this_quarter", "provider": "PRV9999"},  # a provider with no rows: nothing shown
]
EMPTY = {"period": "custom", "start": date(2019, 1, 1), "end": date(2019, 3, 31)}  # before any data


def ids(filters: dict[str, Any]) -> str:
    return "-".join(str(v) for v in filters.values())


@pytest.fixture(scope="module")
def truth(site_app: App) -> Truth:
    practice = site_app.settings.practices[PRACTICE]
    return load(site_app.catalog, PRACTICE, practice.time_zone)


def stamp_of(app: App) -> Any:
    def stamp(relation: str) -> datetime | None:
        snapshot = app.catalog.load_table("curated." + relation).current_snapshot()
        return None if snapshot is None else datetime.fromtimestamp(snapshot.timestamp_ms / 1000)

    return stamp


def context(app: App, principal: Principal = OWNER, practice: str = PRACTICE, **filters: Any) -> PageContext:
    chosen = Filters(**filters)
    return PageContext(
        reader=app.reader, principal=principal, practice_id=practice, practice=app.settings.practices[practice],
        filters=chosen, period=resolve(chosen, TODAY), today=TODAY, stamp=stamp_of(app),
    )  # fmt: skip


def page(app: App, key: str, principal: Principal = OWNER, **filters: Any) -> tuple[PageView, PageContext]:
    ctx = context(app, principal, **filters)
    return build(BY_KEY[key], ctx), ctx


def compared(period: Period) -> dict[str, Period]:
    """A tile's three periods, by the name of the Tile field that shows each."""
    return {"value": period, "previous": period.previous(), "year_ago": period.year_ago()}


def month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def trend_spans(last: date) -> list[tuple[str, date, date]]:
    """The 13 months to `last` (label, first day, last day), the last month cut at `last`."""
    firsts = []
    year, month = last.year, last.month
    for _ in range(13):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return [(f.strftime("%Y-%m"), f, min(month_end(f), last)) for f in reversed(firsts)]


def same(shown: float | None, expected: Decimal | float | int | None) -> None:
    """Money to the cent exactly; rates and averages to floating-point precision."""
    if expected is None:
        assert shown is None
    elif isinstance(expected, Decimal):
        assert shown == float(expected)
    else:
        assert shown == pytest.approx(float(expected), rel=1e-12, abs=1e-12)


def tiles_of(view: PageView) -> dict[str, Any]:
    return {tile.key: tile for tile in view.tiles}


def charts_of(view: PageView) -> dict[str, Any]:
    return {chart.key: chart for chart in view.charts}


def series_of(chart: Any) -> dict[str, list[float | None]]:
    return {series.name: series.values for series in chart.series}
