"""Access and scheduling models, from hand-written cleaned rows to exact curated rows."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from curate.inputs import PRACTICE, run

NEW_YORK = PRACTICE | {"time_zone": "America/New_York"}


def appointment(appointment_id: str, start: datetime, **fields: Any) -> dict[str, Any]:
    """A kept 15-minute follow-up with provider D1, booked a week ahead, unless told otherwise."""
    return {
        "practice_id": "P001",
        "appointment_id": appointment_id,
        "patient_key": "patient-" + appointment_id,
        "provider_id": "D1",
        "booked_at": start - timedelta(days=7),
        "start_at": start,
        "duration_minutes": 15,
        "appointment_type": "follow-up",
        "status": "fulfilled",
    } | fields


def schedule(
    schedule_id: str, day: date, start: time, end: time, slot_minutes: int = 15, held: int = 0, provider: str = "D1"
) -> dict[str, Any]:
    return {
        "practice_id": "P001",
        "schedule_id": schedule_id,
        "provider_id": provider,
        "schedule_date": day,
        "start_time": start,
        "end_time": end,
        "slot_minutes": slot_minutes,
        "held_slots": held,
    }


def row(rows: list[dict[str, Any]], **key: Any) -> dict[str, Any]:
    found = [r for r in rows if all(r[k] == v for k, v in key.items())]
    assert len(found) == 1, found
    return found[0]


def test_no_show_late_and_early_cancellation() -> None:
    start = datetime(2024, 3, 5, 10, 0)
    rows = [
        appointment("A1", start, appointment_type="new"),
        appointment("A2", start, status="arrived"),
        appointment("A3", start, status="noshow"),
        appointment("A4", start, status="cancelled", cancelled_at=start - timedelta(hours=2)),
        appointment("A5", start, status="cancelled", cancelled_at=start + timedelta(minutes=5)),
        # Exactly 24 hours ahead is not late; three days ahead is early.
        appointment("A6", start, status="cancelled", cancelled_at=start - timedelta(hours=24)),
        appointment("A7", start, status="cancelled", cancelled_at=start - timedelta(days=3)),
        appointment("A8", start, status="booked"),
        appointment("A9", start, status="entered-in-error"),
        appointment("A10", start, status="waitlist"),
    ]
    daily = run(appointment=rows)["access_daily"]
    assert daily == [
        {
            "practice_id": "P001",
            "provider_id": "D1",
            "location_id": None,
            "day": date(2024, 3, 5),
            "scheduled_appointments": 8,
            "kept_appointments": 2,
            "no_shows": 1,
            "cancellations": 4,
            "late_cancellations": 2,
            "unresolved_appointments": 1,
            "no_show_rate": pytest.approx(1 / 3),
            "no_show_or_late_cancellation_rate": pytest.approx(3 / 5),
            "late_cancellation_rate": pytest.approx(2 / 8),
            "lead_time_p50_days": 7.0,
            "lead_time_p90_days": 7.0,
            "new_patient_visits": 1,
            "new_patient_ratio": 0.5,
        }
    ]


def test_lead_time_percentiles_interpolate() -> None:
    start = datetime(2024, 3, 5, 10, 0)
    rows = [
        appointment(f"A{lead}", start, booked_at=start - timedelta(days=lead, hours=1), status="noshow")
        for lead in (0, 1, 3, 10)
    ]
    # Same-day booking: zero days, not a fraction.
    rows[0]["booked_at"] = start - timedelta(hours=2)
    (daily,) = run(appointment=rows)["access_daily"]
    assert daily["lead_time_p50_days"] == 2.0
    assert daily["lead_time_p90_days"] == pytest.approx(3 + 0.7 * 7)
    assert daily["no_show_rate"] == 1.0


def test_schedule_without_appointments_and_appointments_without_schedule() -> None:
    day = date(2024, 3, 5)
    out = run(
        appointment=[appointment("A1", datetime(2024, 3, 5, 9), provider_id="D2", duration_minutes=30)],
        provider_schedule=[schedule("S1", day, time(8), time(12), held=2)],
    )
    rows = out["access_schedule_daily"]
    assert rows == [
        {
            "practice_id": "P001",
            "provider_id": "D1",
            "location_id": None,
            "day": day,
            "sessions": 1,
            "available_minutes": 240,
            "kept_minutes": 0,
            "schedule_utilisation": 0.0,
            "available_slots": 14,
            "held_slots": 2,
            "booked_slots": 0,
            "fill_rate": 0.0,
            "third_next_available_days": 0,
        },
        {
            "practice_id": "P001",
            "provider_id": "D2",
            "location_id": None,
            "day": day,
            "sessions": 0,
            "available_minutes": None,
            "kept_minutes": 30,
            "schedule_utilisation": None,
            "available_slots": None,
            "held_slots": None,
            "booked_slots": None,
            "fill_rate": None,
            "third_next_available_days": None,
        },
    ]
    # The week has D2's visit but no time to set it against.
    weekly = row(out["access_weekly"], provider_id="D2")
    assert (weekly["kept_appointments"], weekly["kept_minutes"], weekly["schedule_utilisation"]) == (1, 0, None)


def test_utilisation_and_fill_rate() -> None:
    start = datetime(2024, 3, 5, 8, 0)
    out = run(
        appointment=[
            appointment("A1", start, duration_minutes=40),  # two 20-minute slots
            appointment("A2", start + timedelta(minutes=40), duration_minutes=20, status="noshow"),
            appointment("A3", start + timedelta(minutes=60), duration_minutes=20, status="cancelled"),
        ],
        # Six 20-minute slots, one held: five to book.
        provider_schedule=[schedule("S1", date(2024, 3, 5), time(8), time(10), slot_minutes=20, held=1)],
    )
    (day,) = out["access_schedule_daily"]
    assert (day["available_minutes"], day["kept_minutes"]) == (120, 40)
    assert day["schedule_utilisation"] == pytest.approx(1 / 3)
    assert (day["available_slots"], day["held_slots"], day["booked_slots"]) == (5, 1, 3)
    assert day["fill_rate"] == pytest.approx(0.6)


def test_appointment_late_in_the_evening_stays_on_its_local_day() -> None:
    # 23:30 in New York on 5 March 2024 (EST, UTC-5) is 04:30 UTC on the 6th.
    start_utc = datetime(2024, 3, 6, 4, 30)
    out = run(
        practice=[NEW_YORK],
        appointment=[
            appointment("A1", start_utc, duration_minutes=30, booked_at=datetime(2024, 3, 1, 15, 0)),
        ],
        provider_schedule=[schedule("S1", date(2024, 3, 5), time(9), time(17))],
    )
    (daily,) = out["access_daily"]
    assert daily["day"] == date(2024, 3, 5)
    # Booked on 1 March local: four local days ahead (five by UTC dates).
    assert daily["lead_time_p50_days"] == 4.0
    (scheduled,) = out["access_schedule_daily"]
    assert (scheduled["day"], scheduled["kept_minutes"], scheduled["schedule_utilisation"]) == (
        date(2024, 3, 5),
        30,
        pytest.approx(30 / 480),
    )


def test_third_next_available_skips_held_slots() -> None:
    # One hour of 15-minute slots a day, Monday 4 to Friday 8 March 2024.
    monday = date(2024, 3, 4)
    days = [monday + timedelta(days=i) for i in range(5)]
    held = [3, 4, 0, 0, 0]
    schedules = [
        schedule(f"S{i}", d, time(8), time(9), held=h) for i, (d, h) in enumerate(zip(days, held, strict=True))
    ]
    wednesday, thursday = datetime(2024, 3, 6, 8), datetime(2024, 3, 7, 8)
    appointments = [appointment(f"W{i}", wednesday, booked_at=datetime(2024, 3, 1, 12)) for i in range(3)] + [
        # Takes Wednesday's last slot until it is cancelled during Tuesday.
        appointment(
            "W4",
            wednesday,
            booked_at=datetime(2024, 3, 1, 12),
            status="cancelled",
            cancelled_at=datetime(2024, 3, 5, 9),
        ),
        # Booked during Monday: Thursday's two slots are still open at Monday's start.
        appointment("T1", thursday, booked_at=datetime(2024, 3, 4, 10), duration_minutes=30),
    ]
    out = run(appointment=appointments, provider_schedule=schedules)
    daily = out["access_schedule_daily"]
    # Open at the start of each day (Mon, Tue, Wed, Thu, Fri):
    #   Monday:    1, 0, 0, 4, 4 -> third open slot on Thursday
    #   Tuesday:      0, 0, 2, 4 -> Friday
    #   Wednesday:       1, 2, 4 -> Thursday
    #   Thursday:           2, 4 -> Friday
    #   Friday:                4 -> Friday
    assert [r["third_next_available_days"] for r in daily] == [3, 3, 1, 1, 0]
    assert [r["available_slots"] for r in daily] == [1, 0, 4, 4, 4]
    assert [r["booked_slots"] for r in daily] == [0, 0, 3, 2, 0]
    assert [r["fill_rate"] for r in daily] == [0.0, None, 0.75, 0.5, 0.0]
    (weekly,) = out["access_weekly"]
    assert weekly["week_start"] == monday
    assert weekly["third_next_available_days"] == 3
    assert (weekly["available_slots"], weekly["booked_slots"]) == (13, 5)
    assert weekly["fill_rate"] == pytest.approx(5 / 13)


def test_third_next_available_is_null_beyond_the_schedule() -> None:
    day = date(2024, 3, 4)
    (only,) = run(provider_schedule=[schedule("S1", day, time(8), time(8, 30))])["access_schedule_daily"]
    assert (only["available_slots"], only["third_next_available_days"]) == (2, None)


def test_week_spanning_two_months_recomputes_its_rates() -> None:
    wednesday, thursday = datetime(2024, 1, 31, 9), datetime(2024, 2, 1, 9)
    out = run(
        appointment=[
            appointment("A1", wednesday, status="noshow", booked_at=wednesday - timedelta(days=2)),
            appointment("A2", thursday, booked_at=thursday - timedelta(hours=1)),
            appointment("A3", thursday, booked_at=thursday - timedelta(days=4)),
            appointment("A4", thursday, booked_at=thursday - timedelta(days=6)),
        ],
        provider_schedule=[
            schedule("S1", date(2024, 1, 31), time(8), time(9)),
            schedule("S2", date(2024, 2, 1), time(8), time(9)),
        ],
    )
    assert [r["no_show_rate"] for r in out["access_daily"]] == [1.0, 0.0]
    assert out["access_weekly"] == [
        {
            "practice_id": "P001",
            "provider_id": "D1",
            "week_start": date(2024, 1, 29),
            "scheduled_appointments": 4,
            "kept_appointments": 3,
            "no_shows": 1,
            "cancellations": 0,
            "late_cancellations": 0,
            # One no-show in four, not the mean of the daily rates (0.5).
            "no_show_rate": 0.25,
            "no_show_or_late_cancellation_rate": 0.25,
            "late_cancellation_rate": 0.0,
            # Leads 2, 0, 4, 6: the week's percentiles, not the mean of the days'.
            "lead_time_p50_days": 3.0,
            "lead_time_p90_days": pytest.approx(5.4),
            "new_patient_visits": 0,
            "new_patient_ratio": 0.0,
            "schedule_days": 2,
            "available_minutes": 120,
            "kept_minutes": 45,
            "schedule_utilisation": 0.375,
            "available_slots": 8,
            "booked_slots": 4,
            "fill_rate": 0.5,
            # At the start of Wednesday only its no-show was booked: three of its slots open.
            "third_next_available_days": 0,
        }
    ]
