"""The Today page against the cleaned rows: today's and this week's appointments by provider
and hour, kept and missed so far, arrivals by hour and waits, whatever the period filter says."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from appointments_truth import Truth, context, owner

from practicelake.app import App
from practicelake.dashboard.filters import Filters, Period
from practicelake.dashboard.pages import BY_KEY, build
from practicelake.dashboard.view import PageView
from site_lake import SiteLake

MONDAY = date(2026, 6, 15)  # of the week of site_lake.TODAY, Wednesday 17 June 2026
WEEK = Period(MONDAY, MONDAY + timedelta(days=6))


def today_page(site: SiteLake, app: App, practice_id: str, filters: Filters, role: str = "practice_owner") -> PageView:
    return build(BY_KEY["today"], context(app, site, owner(practice_id, role), practice_id, filters))


def shifted(period: Period, days: int) -> Period:
    return Period(period.start - timedelta(days=days), period.end - timedelta(days=days))


@pytest.mark.parametrize(
    ("practice_id", "chosen"),
    [("P003", None), ("P003", "provider"), ("P004", "location"), ("P001", None)],
    ids=["P003", "P003-provider", "P004-location", "P001-none-today"],
)
def test_today_equals_the_cleaned_rows(site: SiteLake, site_app: App, practice_id: str, chosen: str | None) -> None:
    truth = Truth(site_app, practice_id)
    given: dict[str, object] = {}
    if chosen is not None:
        first = truth.appointments[0]
        given[chosen] = first.provider if chosen == "provider" else first.location
    filters = Filters.model_validate(given)
    view = today_page(site, site_app, practice_id, filters)
    today = Period(site.today, site.today)
    assert (view.period.start, view.period.end) == (WEEK.start, WEEK.end)
    tiles = {tile.key: (tile.value, tile.previous, tile.year_ago) for tile in view.tiles}
    for shown, key in ((today, "today"), (WEEK, "week")):
        # The day (week) against the same weekday (week) one week and 52 weeks before.
        compared = [truth.counts(shifted(shown, days), filters) for days in (0, 7, 364)]
        assert tiles[f"scheduled_{key}"] == tuple(c["scheduled"] for c in compared)
        assert tiles[f"kept_{key}"] == tuple(c["kept"] for c in compared)
        assert tiles[f"no_shows_{key}"] == tuple(c["no_shows"] for c in compared)
    assert tiles["unresolved_today"] == tuple(
        truth.counts(shifted(today, d), filters)["unresolved"] for d in (0, 7, 364)
    )
    waits = [truth.flow("wait", shifted(today, days), filters) for days in (0, 7, 364)]
    assert tiles["wait_p50_today"] == tuple(w[0] for w in waits)
    assert tiles["wait_p90_today"] == tuple(w[1] for w in waits)
    if practice_id == "P001":  # its exports have nothing on the 17th
        assert tiles["scheduled_today"][0] is None and tiles["wait_p50_today"][0] is None
        assert tiles["scheduled_week"][0]
    else:
        assert tiles["scheduled_today"][0] and tiles["wait_p50_today"][0] is not None

    charts = {chart.key: chart for chart in view.charts}
    appointments = truth.chosen(WEEK, filters)
    hourly: dict[str, dict[str, float]] = {}
    for a in appointments:
        if a.day == site.today and a.hour is not None:
            cells = hourly.setdefault(a.provider, {})
            cells[f"{a.hour:02d}"] = cells.get(f"{a.hour:02d}", 0.0) + 1
    by_hour = charts["today_by_hour"]
    assert {
        s.name: {h: v for h, v in zip(by_hour.labels, s.values, strict=True) if v} for s in by_hour.series
    } == hourly
    daily: dict[str, dict[str, float]] = {}
    for a in appointments:
        cells = daily.setdefault(a.provider, {})
        cells[a.day.isoformat()] = cells.get(a.day.isoformat(), 0.0) + 1
    by_day = charts["week_by_day"]
    assert by_day.labels == [(MONDAY + timedelta(days=i)).isoformat() for i in range(7)]
    assert {s.name: {d: v for d, v in zip(by_day.labels, s.values, strict=True) if v} for s in by_day.series} == daily
    arrivals: dict[str, float] = {}
    for check_in in truth.check_ins(today, filters):
        arrivals[f"{check_in.hour:02d}"] = arrivals.get(f"{check_in.hour:02d}", 0.0) + 1
    chart = charts["arrivals_today"]
    assert {h: v for h, v in zip(chart.labels, chart.series[0].values, strict=True) if v} == arrivals

    for table, shown in zip(view.tables, (today, WEEK), strict=True):
        expected = {}
        for a in truth.chosen(shown, filters):
            row = expected.setdefault(a.provider, [0.0] * 5)
            for i, counted in enumerate((True, a.kept, a.no_show, a.cancelled, a.check_in is not None)):
                row[i] += counted
        assert table.rows == [[provider, *row] for provider, row in sorted(expected.items())]
    assert any("period filter does not apply" in note for note in view.notes)
    for tile in view.tiles:
        assert tile.drill is not None and "period=custom" in tile.drill


def test_the_period_filter_does_not_move_today(site: SiteLake, site_app: App) -> None:
    shown = today_page(site, site_app, "P003", Filters())
    for given in ({"period": "last_12_months"}, {"period": "custom", "start": "2025-01-01", "end": "2025-01-31"}):
        other = today_page(site, site_app, "P003", Filters.model_validate(given))
        # The drills too: they name today's and the week's days, not the filter's.
        assert (other.tiles, other.charts, other.tables) == (shown.tiles, shown.charts, shown.tables)
        assert other.period == shown.period


def test_the_front_desk_sees_today_as_the_owner_does(site: SiteLake, site_app: App) -> None:
    staff = today_page(site, site_app, "P003", Filters(), role="staff")
    assert staff.tiles == today_page(site, site_app, "P003", Filters()).tiles
    assert "money" not in {t.unit for t in staff.tiles} | {c.unit for c in staff.charts}
