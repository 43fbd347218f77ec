"""The access and flow figures a dashboard period needs are exact at any grain: percentiles
from histograms equal percentile_cont over the values themselves, distinct patients are
counted per calendar month, quarter and year, and locations are part of every grain."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

import duckdb
import pytest

from curate.inputs import PRACTICE, run
from practicelake.dashboard.access_queries import sql

NEW_YORK = PRACTICE | {"time_zone": "America/New_York"}
# The percentile query over a histogram of bound values: (period, grp, measure, value) rows
# counted, as the curated histograms hold them.
HISTOGRAM = """
with histogram as (
    select o.period, o.grp, o.measure, o.value, count(*) as count
    from (
        select unnest($periods) as period, unnest($groups) as grp, unnest($measures) as measure,
            unnest($values) as value
    ) as o
    group by o.period, o.grp, o.measure, o.value
),
"""
TRUTH = """
select o.period, o.grp, o.measure, count(*) as n,
    percentile_cont(0.5) within group (order by o.value) as p50,
    percentile_cont(0.9) within group (order by o.value) as p90
from (
    select unnest($periods) as period, unnest($groups) as grp, unnest($measures) as measure,
        unnest($values) as value
) as o
group by o.period, o.grp, o.measure
"""


def from_histogram(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str, str, int]]) -> dict[Any, Any]:
    """(period, grp, measure) -> (n, p50, p90) by percentiles.sql over the rows' histogram."""
    found: dict[Any, dict[float, tuple[int, float]]] = {}
    for period, grp, measure, rank, n, value in con.execute(HISTOGRAM + sql("percentiles"), bound(rows)).fetchall():
        found.setdefault((period, grp, measure), {})[rank] = (n, value)
    return {key: (ranks[0.5][0], ranks[0.5][1], ranks[0.9][1]) for key, ranks in found.items()}


def direct(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str, str, int]]) -> dict[Any, Any]:
    """The same from DuckDB's percentile_cont over the values themselves."""
    return {(p, g, m): (n, p50, p90) for p, g, m, n, p50, p90 in con.execute(TRUTH, bound(rows)).fetchall()}


def bound(rows: list[tuple[str, str, str, int]]) -> dict[str, list[Any]]:
    return {
        "periods": [r[0] for r in rows],
        "groups": [r[1] for r in rows],
        "measures": [r[2] for r in rows],
        "values": [r[3] for r in rows],
    }


@pytest.mark.parametrize(
    "values",
    [[5], [3, 7], [2, 2, 2], [1, 1, 2, 2, 9], [0] * 10 + [100], [4, 0], [7, 7, 1, 1, 1, 30], list(range(11))],
    ids=["one", "two", "ties", "ties-and-a-tail", "mostly-zero", "unsorted-two", "ties-both-ends", "eleven"],
)
def test_percentile_from_a_histogram_is_percentile_cont(values: list[int]) -> None:
    rows = [("current", "", "m", v) for v in values]
    with duckdb.connect() as con:
        found = from_histogram(con, rows)
        assert found == direct(con, rows)
    # Worked by hand for the small ones: rank h = (n - 1) p between floor(h) and ceil(h).
    expected = {(5,): (5.0, 5.0), (3, 7): (5.0, 3 * 0.1 + 7 * 0.9), (2, 2, 2): (2.0, 2.0)}
    if tuple(values) in expected:
        assert found[("current", "", "m")][1:] == expected[tuple(values)]


def test_percentile_of_no_observations_is_no_row() -> None:
    with duckdb.connect() as con:
        empty = con.execute(
            HISTOGRAM + sql("percentiles"),
            {"periods": [], "groups": [], "measures": [], "values": []},
        ).fetchall()
    assert empty == []


def test_percentiles_of_many_groups_at_once_are_each_their_own() -> None:
    rng = random.Random(20260617)
    rows: list[tuple[str, str, str, int]] = []
    for period in ("current", "previous", "2026-05"):
        for grp in ("", "D1", "D2"):
            for measure in ("wait", "visit"):
                size = rng.choice([1, 2, 3, 10, 57])
                spread = rng.choice([2, 40, 700])
                rows += [(period, grp, measure, rng.randint(0, spread)) for _ in range(size)]
    rng.shuffle(rows)
    with duckdb.connect() as con:
        found = from_histogram(con, rows)
        assert len(found) == 18
        assert found == direct(con, rows)


def test_percentiles_match_over_many_random_samples() -> None:
    rng = random.Random(11)
    rows = [
        (str(sample), "", "m", rng.randint(0, rng.choice([1, 5, 90, 2000])))
        for sample in range(400)
        for _ in range(rng.randint(1, 40))
    ]
    with duckdb.connect() as con:
        assert from_histogram(con, rows) == direct(con, rows)


def appointment(appointment_id: str, start: datetime, **fields: Any) -> dict[str, Any]:
    """A kept 15-minute appointment of provider D1 at L1, with its start time, booked a week ahead."""
    return {
        "practice_id": "P001",
        "appointment_id": appointment_id,
        "patient_key": "patient-" + appointment_id,
        "provider_id": "D1",
        "location_id": "L1",
        "booked_at": start - timedelta(days=7),
        "booked_time_known": True,
        "start_at": start,
        "start_time_known": True,
        "duration_minutes": 15,
        "appointment_type": "follow-up",
        "status": "fulfilled",
    } | fields


def schedule(schedule_id: str, day: date, start: time, end: time, **fields: Any) -> dict[str, Any]:
    return {
        "practice_id": "P001",
        "schedule_id": schedule_id,
        "provider_id": "D1",
        "location_id": "L1",
        "schedule_date": day,
        "start_time": start,
        "end_time": end,
        "slot_minutes": 15,
        "held_slots": 0,
    } | fields


def test_lead_time_histogram_gives_the_percentiles_of_any_days() -> None:
    leads = {date(2024, 1, 30): [0, 3, 3, 12], date(2024, 1, 31): [1, 40], date(2024, 2, 1): [2, 2, 5, 9, 9, 9]}
    rows = [
        appointment(
            f"A{day.day}-{i}",
            datetime.combine(day, time(9)),
            booked_at=datetime.combine(day, time(8)) - timedelta(days=lead),
        )
        for day, days_ahead in leads.items()
        for i, lead in enumerate(days_ahead)
    ]
    rows.append(appointment("NB", datetime(2024, 1, 31, 10), booked_at=None, booked_time_known=None))
    histogram = run(appointment=rows)["access_lead_time"]
    assert [(r["day"], r["lead_days"], r["appointments"]) for r in histogram] == [
        (date(2024, 1, 30), 0, 1),
        (date(2024, 1, 30), 3, 2),
        (date(2024, 1, 30), 12, 1),
        (date(2024, 1, 31), 1, 1),
        (date(2024, 1, 31), 40, 1),
        (date(2024, 2, 1), 2, 2),
        (date(2024, 2, 1), 5, 1),
        (date(2024, 2, 1), 9, 3),
    ]
    # A range across the month's end, from the histogram, against the appointments' own days.
    chosen = [r for r in histogram if date(2024, 1, 31) <= r["day"] <= date(2024, 2, 1)]
    counted = [("p", "", "lead", r["lead_days"]) for r in chosen for _ in range(r["appointments"])]
    raw = [("p", "", "lead", lead) for day in (date(2024, 1, 31), date(2024, 2, 1)) for lead in leads[day]]
    with duckdb.connect() as con:
        # Sorted 1, 2, 2, 5, 9, 9, 9, 40: the median halfway from 5 to 9, the 90th 0.3 of the way from 9 to 40.
        assert from_histogram(con, counted) == direct(con, raw) == {("p", "", "lead"): (8, 7.0, pytest.approx(18.3))}


def test_flow_minutes_are_whole_minutes_and_add_up_over_days() -> None:
    def visit(appointment_id: str, check_in: datetime, wait_seconds: int, length_seconds: int) -> dict[str, Any]:
        start = check_in + timedelta(seconds=wait_seconds)
        end = start + timedelta(seconds=length_seconds)
        return appointment(appointment_id, check_in, checked_in_at=check_in, visit_start_at=start, visit_end_at=end)

    # 10:59 of waiting is 10 whole minutes; 0:59 is 0.
    rows = [
        visit("A1", datetime(2024, 2, 28, 9), 659, 900),
        visit("A2", datetime(2024, 2, 28, 9), 59, 1260),
        visit("A3", datetime(2024, 2, 29, 9), 600, 905),
        visit("A4", datetime(2024, 3, 1, 9), 0, 61),
    ]
    out = run(appointment=rows)
    minutes = {(r["day"], r["measure"], r["minutes"]): r["visits"] for r in out["flow_minutes"]}
    assert minutes == {
        (date(2024, 2, 28), "wait", 10): 1,
        (date(2024, 2, 28), "wait", 0): 1,
        (date(2024, 2, 28), "visit", 15): 1,
        (date(2024, 2, 28), "visit", 21): 1,
        (date(2024, 2, 28), "cycle", 25): 1,
        (date(2024, 2, 28), "cycle", 21): 1,
        (date(2024, 2, 29), "wait", 10): 1,
        (date(2024, 2, 29), "visit", 15): 1,
        (date(2024, 2, 29), "cycle", 25): 1,
        (date(2024, 3, 1), "wait", 0): 1,
        (date(2024, 3, 1), "visit", 1): 1,
        (date(2024, 3, 1), "cycle", 1): 1,
    }
    # The day's own median of whole minutes, as flow_daily has it.
    daily = {r["day"]: r for r in out["flow_daily"]}
    assert daily[date(2024, 2, 28)]["wait_p50_minutes"] == 5.0
    # Across the month's end, from the histogram: wait minutes 10, 0, 10, 0.
    counted = [
        ("p", "", measure, value)
        for (day, measure, value), visits in minutes.items()
        if day >= date(2024, 2, 28)
        for _ in range(visits)
    ]
    raw_wait = [("p", "", "wait", seconds // 60) for seconds in (659, 59, 600, 0)]
    with duckdb.connect() as con:
        assert from_histogram(con, counted)[("p", "", "wait")] == direct(con, raw_wait)[("p", "", "wait")]
        assert direct(con, raw_wait)[("p", "", "wait")] == (4, 5.0, 10.0)


def test_distinct_patients_by_month_quarter_and_year() -> None:
    rows = [
        appointment("A1", datetime(2024, 1, 10, 9), patient_key="K1"),
        appointment("A2", datetime(2024, 1, 11, 9), patient_key="K1", provider_id="D2"),
        appointment("A3", datetime(2024, 2, 5, 9), patient_key="K1", location_id="L2"),
        appointment("A4", datetime(2024, 2, 6, 9), patient_key="K2"),
        appointment("A5", datetime(2024, 4, 2, 9), patient_key="K2", provider_id="D2"),
        # Missed, cancelled: not seen.
        appointment("A6", datetime(2024, 2, 7, 9), patient_key="K3", status="noshow"),
        appointment("A7", datetime(2024, 2, 7, 9), patient_key="K4", status="cancelled"),
    ]
    found = run(appointment=rows)["access_patients_seen"]
    seen = {
        (r["period_grain"], r["period_start"], r["provider_id"], r["location_id"]): r["patients_seen"] for r in found
    }
    jan, feb, apr = date(2024, 1, 1), date(2024, 2, 1), date(2024, 4, 1)
    # fmt: off
    expected = {
        ("month", jan): {("D1", "L1"): 1, ("D2", "L1"): 1, ("D1", "*"): 1, ("D2", "*"): 1, ("*", "L1"): 1,
                         ("*", "*"): 1},
        ("month", feb): {("D1", "L1"): 1, ("D1", "L2"): 1, ("D1", "*"): 2, ("*", "L1"): 1, ("*", "L2"): 1,
                         ("*", "*"): 2},
        ("month", apr): {("D2", "L1"): 1, ("D2", "*"): 1, ("*", "L1"): 1, ("*", "*"): 1},
        ("quarter", jan): {("D1", "L1"): 2, ("D2", "L1"): 1, ("D1", "L2"): 1, ("D1", "*"): 2, ("D2", "*"): 1,
                           ("*", "L1"): 2, ("*", "L2"): 1, ("*", "*"): 2},
        ("quarter", apr): {("D2", "L1"): 1, ("D2", "*"): 1, ("*", "L1"): 1, ("*", "*"): 1},
        ("year", jan): {("D1", "L1"): 2, ("D2", "L1"): 2, ("D1", "L2"): 1, ("D1", "*"): 2, ("D2", "*"): 2,
                        ("*", "L1"): 2, ("*", "L2"): 1, ("*", "*"): 2},
    }
    # fmt: on
    assert seen == {(g, start, p, loc): n for (g, start), cells in expected.items() for (p, loc), n in cells.items()}
    # Not a sum: January and February have one and two patients, the quarter two, not three.
    assert seen[("quarter", date(2024, 1, 1), "*", "*")] < sum(
        seen[("month", month, "*", "*")] for month in (date(2024, 1, 1), date(2024, 2, 1))
    )


def test_appointments_by_hour_keep_day_only_starts_apart() -> None:
    rows = [
        appointment("A1", datetime(2024, 3, 5, 9, 10)),
        appointment("A2", datetime(2024, 3, 5, 9, 50), status="noshow"),
        appointment("A3", datetime(2024, 3, 5, 14, 0), status="cancelled", cancelled_at=datetime(2024, 3, 5, 8)),
        appointment("A4", datetime(2024, 3, 5), start_time_known=False, status="booked"),
        appointment("A5", datetime(2024, 3, 5, 9, 30), checked_in_at=datetime(2024, 3, 5, 9, 20), status="arrived"),
    ]
    hourly = run(appointment=rows)["access_hourly"]
    figures = [
        (
            r["hour"],
            r["scheduled_appointments"],
            r["kept_appointments"],
            r["no_shows"],
            r["cancellations"],
            r["late_cancellations"],
            r["checked_in"],
        )
        for r in hourly
    ]
    assert sorted(figures, key=lambda f: -1 if f[0] is None else f[0]) == [
        (None, 1, 0, 0, 0, 0, 0),
        (9, 3, 2, 1, 0, 0, 1),
        (14, 1, 0, 0, 1, 1, 0),
    ]


def test_check_ins_count_on_their_local_day_and_hour() -> None:
    # 23:20 on 5 March 2024 in New York (EST) is 04:20 UTC on the 6th; 08:05 EST is 13:05 UTC.
    rows = [
        appointment("A1", datetime(2024, 3, 6, 4, 30), checked_in_at=datetime(2024, 3, 6, 4, 20)),
        appointment("A2", datetime(2024, 3, 6, 13, 30), checked_in_at=datetime(2024, 3, 6, 13, 5), provider_id="D2"),
        appointment("A3", datetime(2024, 3, 6, 13, 40), checked_in_at=datetime(2024, 3, 6, 13, 15), provider_id="D2"),
    ]
    check_ins = run(practice=[NEW_YORK], appointment=rows)["flow_check_ins"]
    assert [(r["provider_id"], r["day"], r["hour"], r["check_ins"]) for r in check_ins] == [
        ("D1", date(2024, 3, 5), 23, 1),
        ("D2", date(2024, 3, 6), 8, 2),
    ]


def test_a_provider_at_two_locations_in_a_day() -> None:
    day = date(2024, 3, 5)
    out = run(
        appointment=[
            appointment("A1", datetime(2024, 3, 5, 8), duration_minutes=30),
            appointment("A2", datetime(2024, 3, 5, 14), location_id="L2", status="noshow"),
            # At a location where the provider has no session that day: no slot of it.
            appointment("A3", datetime(2024, 3, 5, 16), location_id="L3"),
        ],
        provider_schedule=[
            schedule("S1", day, time(8), time(12), held_slots=2),
            schedule("S2", day, time(13), time(15), location_id="L2", slot_minutes=10),
        ],
    )
    schedule_days = {r["location_id"]: r for r in out["access_schedule_daily"]}
    figures = {
        loc: (r["sessions"], r["available_minutes"], r["kept_minutes"], r["available_slots"], r["booked_slots"])
        for loc, r in schedule_days.items()
    }
    # The day's slot length is its shortest session's (10 minutes): A1 takes three slots.
    assert figures == {"L1": (1, 240, 30, 14, 3), "L2": (1, 120, 0, 12, 2), "L3": (0, None, 15, None, None)}
    # The provider's third next available counts the open slots of both locations.
    (third,) = out["access_third_next"]
    assert (third["day"], third["third_next_available_days"]) == (day, 0)
    assert {r["location_id"]: r["third_next_available_days"] for r in out["access_schedule_daily"]} == {
        "L1": 0,
        "L2": 0,
        "L3": None,
    }
    daily = {
        r["location_id"]: (r["scheduled_appointments"], r["kept_appointments"], r["no_shows"])
        for r in out["access_daily"]
    }
    assert daily == {"L1": (1, 1, 0), "L2": (1, 0, 1), "L3": (1, 1, 0)}
    (weekly,) = out["access_weekly"]
    assert (weekly["schedule_days"], weekly["available_minutes"], weekly["kept_minutes"]) == (1, 360, 30)
    assert (weekly["available_slots"], weekly["booked_slots"], weekly["third_next_available_days"]) == (26, 5, 0)
