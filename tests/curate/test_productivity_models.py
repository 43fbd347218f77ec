"""Provider productivity: kept visits, scheduled days, work RVUs, charges and collections."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from curate.inputs import PRACTICE, run

NEW_YORK = PRACTICE | {"time_zone": "America/New_York"}
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


def encounter(encounter_id: str, day: date, provider: str, appointment_id: str | None = None) -> dict[str, Any]:
    return {
        "practice_id": "P001",
        "encounter_id": encounter_id,
        "appointment_id": appointment_id,
        "patient_key": "K1",
        "provider_id": provider,
        "encounter_date": day,
    }


def appointment(appointment_id: str, start: datetime, provider: str, status: str = "fulfilled") -> dict[str, Any]:
    return {
        "practice_id": "P001",
        "appointment_id": appointment_id,
        "patient_key": "K1",
        "provider_id": provider,
        "booked_at": datetime(2026, 2, 1),
        "start_at": start,
        "duration_minutes": 15,
        "appointment_type": "follow-up",
        "status": status,
    }


def schedule(schedule_id: str, day: date, start: time, end: time) -> dict[str, Any]:
    return {
        "practice_id": "P001",
        "schedule_id": schedule_id,
        "provider_id": "D1",
        "schedule_date": day,
        "start_time": start,
        "end_time": end,
        "slot_minutes": 15,
    }


def charge(charge_id: str, encounter_id: str, code: str, amount: str, day: date, units: int = 1) -> dict[str, Any]:
    return {
        "practice_id": "P001",
        "charge_id": charge_id,
        "encounter_id": encounter_id,
        "patient_key": "K1",
        "provider_id": "D1",
        "procedure_code": code,
        "units": units,
        "amount": Decimal(amount),
        "service_date": day,
        "posted_date": day,
    }


def payment(payment_id: str, encounter_id: str, amount: str, paid_at: datetime, source: str) -> dict[str, Any]:
    return {
        "practice_id": "P001",
        "payment_id": payment_id,
        "encounter_id": encounter_id,
        "payment_source": source,
        "paid_at": paid_at,
        "amount": Decimal(amount),
    }


def clinic() -> dict[str, list[dict[str, Any]]]:
    """D1 (0.8 FTE) works 2 and 3 March; D2 (1.0 FTE) sees patients but has no schedule."""
    d2, d3 = date(2026, 3, 2), date(2026, 3, 3)
    return {
        "practice": [NEW_YORK],
        "provider": [
            {
                "practice_id": "P001",
                "provider_id": "D1",
                "display_name": "Dr One",
                "specialty": "GP",
                "fte": Decimal("0.8"),
            },
            {
                "practice_id": "P001",
                "provider_id": "D2",
                "display_name": "Dr Two",
                "specialty": "GP",
                "fte": Decimal("1"),
            },
        ],
        "provider_schedule": [
            schedule("S1", d2, time(8), time(12)),
            schedule("S2", d3, time(8), time(12)),
            schedule("S3", d3, time(13), time(17)),
        ],
        "appointment": [
            appointment("A1", datetime(2026, 3, 2, 14), "D1"),
            appointment("A2", datetime(2026, 3, 3, 14), "D1"),
            # Kept, but no encounter was exported for it.
            appointment("A3", datetime(2026, 3, 3, 15), "D1"),
            appointment("A4", datetime(2026, 3, 3, 16), "D1", status="noshow"),
            # 02:00 UTC on 1 April is 22:00 on 31 March in New York.
            appointment("A5", datetime(2026, 4, 1, 2), "D2", status="checked-in"),
        ],
        "encounter": [
            encounter("E1", d2, "D1", "A1"),
            encounter("E2", d3, "D1", "A2"),
            encounter("E3", d3, "D1"),  # a walk-in
            encounter("E4", date(2026, 3, 4), "D2"),
        ],
        "charge": [
            charge("C1", "E1", "99213", "130.00", d2),  # 1.30 work RVUs
            charge("C2", "E1", "36415", "15.00", d2),  # 0.00
            charge("C3", "E2", "96372", "80.00", d3, units=2),  # 0.17 x 2
            charge("C4", "E3", "99999", "50.00", d3),  # not in the reference
            charge("C5", "E4", "99214", "190.00", date(2026, 3, 4)) | {"provider_id": "D2"},  # 1.92
        ],
        "payment": [
            payment("PM1", "E1", "20.00", datetime(2026, 3, 2, 15), "patient"),
            payment("PM2", "E2", "33.33", datetime(2026, 3, 20, 15), "payer"),
            payment("PM3", "E1", "90.00", datetime(2026, 4, 10, 15), "payer"),
        ],
    }


def test_provider_month() -> None:
    rows = run(**clinic())["productivity_provider_month"]
    by_key = {(r["provider_id"], r["month"]): r for r in rows}
    assert sorted(by_key) == [("D1", MARCH), ("D1", APRIL), ("D2", MARCH)]
    d1 = by_key["D1", MARCH]
    # Three encounters (one a walk-in) and one kept appointment without an encounter; the no-show is not a visit.
    assert (d1["kept_visits"], d1["scheduled_days"], d1["visits_per_scheduled_day"]) == (4, 2, 2.0)
    assert d1["work_rvus"] == 1.64  # summed as decimals: exact
    assert d1["lines_without_value_units"] == 1
    assert d1["fte"] == Decimal("0.8000")
    assert d1["work_rvus_per_fte"] == pytest.approx(2.05)
    assert (d1["charges"], d1["collections"]) == (Decimal("275.00"), Decimal("53.33"))
    # 53.33 / 4 visits, to the cent.
    assert d1["revenue_per_visit"] == Decimal("13.33")


def test_collections_count_in_the_month_received() -> None:
    april = {(r["provider_id"], r["month"]): r for r in run(**clinic())["productivity_provider_month"]}["D1", APRIL]
    assert (april["kept_visits"], april["charges"], april["collections"]) == (0, Decimal("0.00"), Decimal("90.00"))
    assert april["revenue_per_visit"] is None and april["work_rvus"] == 0.0


def test_provider_without_a_schedule_keeps_visits_without_a_rate() -> None:
    d2 = {(r["provider_id"], r["month"]): r for r in run(**clinic())["productivity_provider_month"]}["D2", MARCH]
    # An encounter and an appointment checked in on 31 March local time.
    assert (d2["kept_visits"], d2["scheduled_days"], d2["visits_per_scheduled_day"]) == (2, 0, None)
    assert d2["work_rvus"] == 1.92 and d2["work_rvus_per_fte"] == pytest.approx(1.92)
    assert (d2["charges"], d2["collections"], d2["revenue_per_visit"]) == (
        Decimal("190.00"), Decimal("0.00"), Decimal("0.00"),
    )  # fmt: skip
