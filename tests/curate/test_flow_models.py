"""Patient flow models, from hand-written cleaned rows to exact curated rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from curate.inputs import PRACTICE, run

NEW_YORK = PRACTICE | {"time_zone": "America/New_York"}


def visit(appointment_id: str, check_in: datetime | None, wait: int, length: int, **fields: Any) -> dict[str, Any]:
    """A fulfilled appointment of provider D1: checked in at `check_in`, seen `wait` minutes
    later for `length` minutes. Without a check-in the visit starts at the booked time."""
    start = check_in or datetime(2024, 3, 5, 9)
    visit_start = start + timedelta(minutes=wait)
    return {
        "practice_id": "P001",
        "appointment_id": appointment_id,
        "patient_key": "patient-" + appointment_id,
        "provider_id": "D1",
        "booked_at": start - timedelta(days=3),
        "start_at": start,
        "duration_minutes": 15,
        "appointment_type": "follow-up",
        "status": "fulfilled",
        "checked_in_at": check_in,
        "visit_start_at": visit_start,
        "visit_end_at": visit_start + timedelta(minutes=length),
    } | fields


def test_wait_visit_and_cycle_percentiles() -> None:
    morning = datetime(2024, 3, 5, 9)
    rows = [
        visit("A1", morning, wait=10, length=15),
        visit("A2", morning, wait=20, length=25),
        visit("A3", morning, wait=40, length=30),
        visit("A4", None, wait=0, length=20),  # no check-in: a visit length only
        visit("A5", morning, wait=300, length=300, status="entered-in-error"),
    ]
    assert run(appointment=rows)["flow_daily"] == [
        {
            "practice_id": "P001",
            "provider_id": "D1",
            "location_id": None,
            "day": date(2024, 3, 5),
            "timed_check_ins": 3,
            "wait_p50_minutes": 20.0,
            "wait_p90_minutes": pytest.approx(20 + 0.8 * 20),
            "timed_visits": 4,
            "visit_duration_p50_minutes": 22.5,
            "visit_duration_p90_minutes": pytest.approx(25 + 0.7 * 5),
            "timed_cycles": 3,
            "cycle_time_p50_minutes": 45.0,
            "cycle_time_p90_minutes": pytest.approx(45 + 0.8 * 25),
        }
    ]


def test_late_evening_check_in_counts_on_its_local_day_and_hour() -> None:
    # 23:20 on Tuesday 5 March 2024 in New York (EST) is 04:20 UTC on Wednesday the 6th.
    out = run(practice=[NEW_YORK], appointment=[visit("A1", datetime(2024, 3, 6, 4, 20), wait=5, length=10)])
    (daily,) = out["flow_daily"]
    assert (daily["day"], daily["cycle_time_p50_minutes"]) == (date(2024, 3, 5), 15.0)
    assert out["flow_arrivals"] == [
        {
            "practice_id": "P001",
            "month": date(2024, 3, 1),
            "weekday": 2,
            "hour": 23,
            "check_ins": 1,
            "days": 1,
            "check_ins_per_day": 1.0,
        }
    ]


def test_durations_across_a_clock_change() -> None:
    # New York springs forward at 02:00 on 10 March 2024: checked in 01:50 EST (06:50 UTC),
    # out 03:10 EDT (07:10 UTC) is twenty minutes, though the wall clocks are 80 apart.
    out = run(practice=[NEW_YORK], appointment=[visit("A1", datetime(2024, 3, 10, 6, 50), wait=5, length=15)])
    (daily,) = out["flow_daily"]
    assert (daily["wait_p50_minutes"], daily["visit_duration_p50_minutes"], daily["cycle_time_p50_minutes"]) == (
        5.0,
        15.0,
        20.0,
    )


def test_arrivals_average_over_the_weekdays_with_check_ins() -> None:
    rows = [
        visit("A1", datetime(2024, 3, 5, 9, 5), wait=5, length=10),
        visit("A2", datetime(2024, 3, 5, 9, 40), wait=5, length=10),
        visit("A3", datetime(2024, 3, 12, 9, 15), wait=5, length=10),
        visit("A4", datetime(2024, 3, 12, 10, 0), wait=5, length=10),
        visit("A5", datetime(2024, 3, 6, 8, 0), wait=5, length=10),
        # No check-in, no arrival.
        visit("A6", None, wait=0, length=10),
        visit("A7", datetime(2024, 3, 6, 8, 0), wait=5, length=10, status="entered-in-error"),
    ]
    arrivals = run(appointment=rows)["flow_arrivals"]
    assert [(r["weekday"], r["hour"], r["check_ins"], r["days"], r["check_ins_per_day"]) for r in arrivals] == [
        (2, 9, 3, 2, 1.5),
        (2, 10, 1, 2, 0.5),
        (3, 8, 1, 1, 1.0),
    ]
