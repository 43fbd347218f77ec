"""The Access and Patient flow pages, and the Overview's access tiles, against the cleaned rows:
every tile, chart point and table cell equals the figure computed straight from
cleaned.appointment and cleaned.provider_schedule (appointments_truth), for several periods
and filters; other practices' principals get nothing, staff no money, an empty period None."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from appointments_truth import Truth, context, owner

from practicelake.app import App
from practicelake.dashboard.access_queries.figures import Counts, calendar_unit
from practicelake.dashboard.filters import Filters, Period
from practicelake.dashboard.pages import BY_KEY, build, may_see
from practicelake.dashboard.tiles.access import LEAST_RISE, LEAST_Z, access_overview, no_show_rise
from practicelake.dashboard.view import Chart, PageView, Tile
from site_lake import SiteLake

CUSTOM = {"start": date(2026, 1, 20), "end": date(2026, 3, 10)}  # crosses two month ends
CASES = [
    ("last_month", None),
    ("this_quarter", None),
    ("year_to_date", None),
    ("last_12_months", None),
    ("custom", None),
    ("last_month", "provider"),
    ("year_to_date", "location"),
    ("custom", "payer"),
]
IDS = [f"{preset}-{chosen or 'all'}" for preset, chosen in CASES]
SPANS = ("current", "previous", "year_ago")


@pytest.fixture(scope="module")
def truth(site_app: App) -> Truth:
    return Truth(site_app, "P001")


def filters_for(truth: Truth, preset: str, chosen: str | None) -> Filters:
    given: dict[str, object] = {"period": preset, **(CUSTOM if preset == "custom" else {})}
    if chosen == "provider":
        given["provider"] = truth.appointments[0].provider
    elif chosen == "location":
        given["location"] = truth.appointments[0].location
    elif chosen == "payer":
        given["payer"] = "PAY01"
    return Filters.model_validate(given)


def page(
    site: SiteLake, app: App, key: str, filters: Filters, principal_of: str = "P001", role: str = "practice_owner"
) -> PageView:
    return build(BY_KEY[key], context(app, site, owner(principal_of, role), "P001", filters))


def spans(period: Period) -> dict[str, Period]:
    return {"current": period, "previous": period.previous(), "year_ago": period.year_ago()}


def values(tile: Tile) -> dict[str, float | None]:
    return {"current": tile.value, "previous": tile.previous, "year_ago": tile.year_ago}


def label_period(label: str, period: Period) -> Period:
    """The days a trend's label stands for: a day, or a month cut to the period."""
    if len(label) == 10:
        return Period(date.fromisoformat(label), date.fromisoformat(label))
    first = date.fromisoformat(label + "-01")
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return Period(max(first, period.start), min(last, period.end))


def series(chart: Chart, name: str) -> list[float | None]:
    (found,) = [s.values for s in chart.series if s.name == name]
    return found


def expected_patients(truth: Truth, period: Period, filters: Filters) -> tuple[bool, float | None]:
    """Countable when the period is a calendar month, quarter or year, or the start of one with
    no kept appointment after the period; None for a period without appointments."""
    unit = calendar_unit(period)
    if unit is None:
        return False, None
    rest = Period(period.end + timedelta(days=1), unit[2])
    if period.end < unit[2] and any(a.kept for a in truth.chosen(rest, filters)):
        return False, None
    if not truth.chosen(period, filters):
        return True, None
    return True, float(truth.patients_seen(period, filters))


@pytest.mark.parametrize(("preset", "chosen"), CASES, ids=IDS)
def test_access_page_equals_the_cleaned_rows(
    site: SiteLake, site_app: App, truth: Truth, preset: str, chosen: str | None
) -> None:
    filters = filters_for(truth, preset, chosen)
    view = page(site, site_app, "access", filters)
    tiles = {tile.key: tile for tile in view.tiles}
    period = Period(view.period.start, view.period.end)
    for name, span in spans(period).items():
        counted = truth.counts(span, filters)
        lead_p50, lead_p90 = truth.lead_time(span, filters)
        utilisation, fill_rate = truth.schedule_use(span, filters)
        expected = {
            "scheduled_appointments": counted["scheduled"],
            "kept_appointments": counted["kept"],
            "no_show_rate": counted["no_show_rate"],
            "late_cancellation_rate": counted["late_cancellation_rate"],
            "lead_time_p50": lead_p50,
            "lead_time_p90": lead_p90,
            "schedule_utilisation": utilisation,
            "fill_rate": fill_rate,
            "third_next_available": truth.third_next(span, filters),
            "patients_seen": expected_patients(truth, span, filters)[1],
        }
        assert {key: values(tile)[name] for key, tile in tiles.items()} == expected, name
    assert tiles["scheduled_appointments"].value, "every period of these cases has appointments"
    countable = expected_patients(truth, period, filters)[0]
    assert (tiles["patients_seen"].note is None) == countable
    assert countable == (preset in ("last_month", "this_quarter", "year_to_date"))
    for tile in view.tiles:
        assert tile.as_of is not None and tile.drill is not None and tile.drill.startswith("/p/P001/rows/")
    assert tiles["no_show_rate"].target is not None and tiles["fill_rate"].target is not None

    charts = {chart.key: chart for chart in view.charts}
    for label, shown in ((label, label_period(label, period)) for label in charts["appointments_trend"].labels):
        i = charts["appointments_trend"].labels.index(label)
        counted = truth.counts(shown, filters)
        assert series(charts["appointments_trend"], "Scheduled")[i] == counted["scheduled"]
        assert series(charts["appointments_trend"], "Kept")[i] == counted["kept"]
        assert series(charts["appointments_trend"], "No-shows")[i] == counted["no_shows"]
        assert series(charts["rates_trend"], "No-show rate")[i] == counted["no_show_rate"]
        assert series(charts["rates_trend"], "Late cancellation rate")[i] == counted["late_cancellation_rate"]
        assert (
            series(charts["lead_time_trend"], "Median")[i],
            series(charts["lead_time_trend"], "90th percentile")[i],
        ) == truth.lead_time(shown, filters)
        assert (
            series(charts["schedule_trend"], "Utilisation")[i],
            series(charts["schedule_trend"], "Fill rate")[i],
        ) == truth.schedule_use(shown, filters)
    days = [label_period(label, period) for label in charts["appointments_trend"].labels]
    assert days[0].start == period.start and days[-1].end == period.end

    heat = charts["weekday_hour"]
    cells: dict[tuple[int, int], float] = {}
    for a in truth.chosen(period, filters):
        if a.hour is not None:
            cells[(a.day.isoweekday(), a.hour)] = cells.get((a.day.isoweekday(), a.hour), 0.0) + 1
    assert [(s.name, s.values) for s in heat.series] == [
        (weekday, [cells.get((day, int(hour))) for hour in heat.labels])
        for day, weekday in enumerate(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), 1)
    ]
    assert set(heat.labels) >= {f"{hour:02d}" for _, hour in cells}

    (table,) = view.tables
    scheduled = {s.provider for s in truth.sessions if period.start <= s.day <= period.end}
    providers = sorted({a.provider for a in truth.chosen(period, filters)} | scheduled)
    assert [row[0] for row in table.rows] == providers
    for row in table.rows:
        mine = filters.model_copy(update={"provider": row[0]})
        counted = truth.counts(period, mine)
        assert row[1:] == [
            counted["scheduled"],
            counted["kept"],
            counted["no_show_rate"],
            counted["late_cancellation_rate"],
            *truth.lead_time(period, mine),
            *truth.schedule_use(period, mine),
            truth.third_next(period, mine),
        ]
    assert charts["provider_schedule"].labels == providers
    assert series(charts["provider_schedule"], "Utilisation") == [row[7] for row in table.rows]
    assert (chosen == "payer") == any("payer filter does not apply" in note for note in view.notes)
    assert (chosen == "location") == any("location filter does not apply" in note for note in view.notes)


@pytest.mark.parametrize(("preset", "chosen"), CASES, ids=IDS)
def test_flow_page_equals_the_cleaned_rows(
    site: SiteLake, site_app: App, truth: Truth, preset: str, chosen: str | None
) -> None:
    filters = filters_for(truth, preset, chosen)
    view = page(site, site_app, "flow", filters)
    tiles = {tile.key: tile for tile in view.tiles}
    period = Period(view.period.start, view.period.end)
    for measure in ("wait", "visit", "cycle"):
        for name, span in spans(period).items():
            p50, p90, _ = truth.flow(measure, span, filters)
            assert (values(tiles[f"{measure}_p50"])[name], values(tiles[f"{measure}_p90"])[name]) == (p50, p90)
    assert tiles["wait_p50"].value is not None

    charts = {chart.key: chart for chart in view.charts}
    for rank, key in ((0, "flow_p50_trend"), (1, "flow_p90_trend")):
        chart = charts[key]
        for i, label in enumerate(chart.labels):
            shown = label_period(label, period)
            for measure, name in (("wait", "Wait time"), ("visit", "Visit duration"), ("cycle", "Cycle time")):
                assert series(chart, name)[i] == truth.flow(measure, shown, filters)[rank], (label, name)

    arrivals = truth.check_ins(period, filters)
    by_hour: dict[int, float] = {}
    for check_in in arrivals:
        by_hour[check_in.hour] = by_hour.get(check_in.hour, 0.0) + 1
    hourly = charts["arrivals_by_hour"]
    assert {
        int(h): v for h, v in zip(hourly.labels, series(hourly, "Check-ins"), strict=True) if v is not None
    } == by_hour
    open_days: dict[int, set[date]] = {}
    for check_in in arrivals:
        open_days.setdefault(check_in.isoweekday(), set()).add(check_in.date())
    heat = charts["arrivals_weekday_hour"]
    for day, weekday in enumerate(heat.series, 1):
        for hour, value in zip(heat.labels, weekday.values, strict=True):
            n = sum(1 for c in arrivals if c.isoweekday() == day and c.hour == int(hour))
            assert value == (n / len(open_days[day]) if n else None)

    (table,) = view.tables
    for row in table.rows:
        mine = filters.model_copy(update={"provider": row[0]})
        cells: list[float | None] = []
        for measure in ("wait", "visit", "cycle"):
            p50, p90, n = truth.flow(measure, period, mine)
            cells += [float(n), p50, p90]
        assert row[1:] == cells
    timed = {a.provider for a in truth.chosen(period, filters) if (a.wait, a.visit, a.cycle) != (None, None, None)}
    assert [row[0] for row in table.rows] == sorted(timed)


def test_overview_access_tiles_and_attention(site: SiteLake, site_app: App, truth: Truth) -> None:
    for preset in ("last_month", "this_quarter", "last_12_months"):
        filters = Filters.model_validate({"period": preset})
        ctx = context(site_app, site, owner("P001"), "P001", filters)
        (kept, no_show), attention = access_overview(ctx)
        for name, span in spans(ctx.period).items():
            counted = truth.counts(span, filters)
            assert (values(kept)[name], values(no_show)[name]) == (counted["kept"], counted["no_show_rate"])
        now, before = truth.counts(ctx.period, filters), truth.counts(ctx.period.previous(), filters)
        z = no_show_rise(_counts(now), _counts(before))
        clearly_up = z is not None and z >= LEAST_Z and now["no_show_rate"] - before["no_show_rate"] >= LEAST_RISE  # type: ignore[operator]
        assert bool(attention) == clearly_up
        assert all(
            item.link == "/p/P001/access" + ("" if preset == "last_month" else f"?period={preset}")
            for item in attention
        )


def _counts(figures: dict[str, float | None]) -> Counts | None:
    if figures["scheduled"] is None:
        return None
    kept, no_shows = int(figures["kept"] or 0), int(figures["no_shows"] or 0)
    return Counts(int(figures["scheduled"]), kept, no_shows, 0, 0, 0)


def test_a_no_show_rise_must_be_large_and_not_chance() -> None:
    def of(no_shows: int, appointments: int) -> Counts:
        return Counts(appointments, appointments - no_shows, no_shows, 0, 0, 0)

    # 15% against 5% of 200: pooled 10%, spread sqrt(0.1 * 0.9 * 2 / 200) = 0.03, z = 0.10 / 0.03.
    assert no_show_rise(of(30, 200), of(10, 200)) == pytest.approx(10 / 3)
    # 7% against 5%: pooled 6%, z = 0.02 / sqrt(0.06 * 0.94 * 0.01), under 1: chance.
    assert no_show_rise(of(14, 200), of(10, 200)) == pytest.approx(0.02 / (0.06 * 0.94 * 0.01) ** 0.5)
    assert no_show_rise(of(3, 20), of(10, 200)) is None
    assert no_show_rise(of(0, 100), of(0, 100)) is None  # no spread: nothing to tell
    assert no_show_rise(None, of(10, 200)) is None


def test_staff_see_access_and_flow_and_no_money(site: SiteLake, site_app: App) -> None:
    filters = Filters()
    for key in ("access", "flow", "today"):
        assert may_see(owner("P001", "staff"), BY_KEY[key], "P001")
        staff = page(site, site_app, key, filters, role="staff")
        units = {t.unit for t in staff.tiles} | {c.unit for c in staff.charts}
        units |= {column.unit for table in staff.tables for column in table.columns}
        assert "money" not in units
        assert staff.tiles == page(site, site_app, key, filters).tiles  # nothing of theirs is money


def test_a_principal_of_another_practice_gets_nothing(site: SiteLake, site_app: App) -> None:
    filters = Filters.model_validate({"period": "last_12_months"})
    assert page(site, site_app, "access", filters).tiles[0].value  # P001's own owner sees data
    for key in ("access", "flow", "today"):
        other = page(site, site_app, key, filters, principal_of="P002")
        assert [t.value for t in other.tiles] == [None] * len(other.tiles)
        assert all(v is None for chart in other.charts for s in chart.series for v in s.values)
        assert all(table.rows == [] for table in other.tables)


def test_an_empty_period_gives_none(site: SiteLake, site_app: App) -> None:
    filters = Filters.model_validate({"period": "custom", "start": date(1995, 1, 30), "end": date(1995, 3, 2)})
    for key in ("access", "flow"):
        view = page(site, site_app, key, filters)
        assert {t.key: t.value for t in view.tiles} == {t.key: None for t in view.tiles}
        assert all(v is None for chart in view.charts for s in chart.series for v in s.values)
        trend = view.charts[0]
        assert len(trend.labels) == 32 and trend.labels[0] == "1995-01-30"
