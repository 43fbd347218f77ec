"""A/R models: balances at each month end, their ageing, days in A/R."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from curate.inputs import run

PAYERS = [
    {"practice_id": "P001", "payer_id": "INS", "name": "Insurer", "payer_type": "insurer"},
    {"practice_id": "P001", "payer_id": "SELF", "name": "Self pay", "payer_type": "self_pay"},
]
PATIENTS = [
    {"practice_id": "P001", "patient_key": "K1", "primary_payer_id": "INS"},
    {"practice_id": "P001", "patient_key": "K2", "primary_payer_id": "SELF"},
]
ZERO = Decimal("0.00")


def charge(charge_id: str, encounter_id: str, amount: str, served: date, posted: date, patient: str) -> dict[str, Any]:
    return {
        "practice_id": "P001",
        "charge_id": charge_id,
        "encounter_id": encounter_id,
        "patient_key": patient,
        "provider_id": "D1",
        "procedure_code": "99214",
        "units": 1,
        "amount": Decimal(amount),
        "service_date": served,
        "posted_date": posted,
    }


def payment(payment_id: str, encounter_id: str | None, amount: str, paid_at: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "practice_id": "P001",
        "payment_id": payment_id,
        "encounter_id": encounter_id,
        "payment_source": "patient",
        "paid_at": paid_at,
        "amount": Decimal(amount),
    } | fields


def adjustment(adjustment_id: str, group: str, carc: str, amount: str, on: date, claim: str = "CL1") -> dict[str, Any]:
    return {
        "practice_id": "P001",
        "adjustment_id": adjustment_id,
        "claim_id": claim,
        "payer_id": "INS",
        "group_code": group,
        "carc_code": carc,
        "amount": Decimal(amount),
        "adjusted_on": on,
    }


def claim(claim_id: str, encounter_id: str, billed: str, submitted: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "practice_id": "P001",
        "claim_id": claim_id,
        "encounter_id": encounter_id,
        "patient_key": "K1",
        "payer_id": "INS",
        "provider_id": "D1",
        "submitted_at": submitted,
        "billed_amount": Decimal(billed),
        "claim_status": "partially_paid",
        "first_pass_outcome": "partially_paid",
    } | fields


def partially_paid() -> dict[str, list[dict[str, Any]]]:
    """E1 (INS), served 1 January for 200.00: in February the payer pays 100.00, writes 40.00
    down (CO-45), denies 15.00 as bundled (CO-97) and moves 20.00 to the patient (PR-2); the
    patient pays 20.00 on 20 April; 25.00 stays open. E2 (self pay), served 5 May for 80.00,
    is overpaid at the desk by 20.00. Nothing is posted in March."""
    feb = date(2026, 2, 10)
    return {
        "payer": PAYERS,
        "patient": PATIENTS,
        "charge": [
            charge("C1", "E1", "200.00", date(2026, 1, 1), date(2026, 1, 2), "K1"),
            charge("C2", "E2", "80.00", date(2026, 5, 5), date(2026, 5, 6), "K2"),
        ],
        "claim": [claim("CL1", "E1", "200.00", datetime(2026, 1, 3, 9), first_adjudicated_at=datetime(2026, 2, 10))],
        "payment": [
            payment("PM1", "E1", "100.00", datetime(2026, 2, 10, 9), claim_id="CL1", payment_source="payer"),
            payment("PM2", "E1", "20.00", datetime(2026, 4, 20, 9), claim_id="CL1"),
            payment("PM3", "E2", "100.00", datetime(2026, 5, 5, 9), at_point_of_service=True),
        ],
        "adjustment": [
            adjustment("A1", "CO", "45", "40.00", feb) | {"charge_id": "C1"},
            adjustment("A2", "CO", "97", "15.00", feb),
            adjustment("A3", "PR", "2", "20.00", feb),
        ],
    }


def buckets(row: dict[str, Any]) -> tuple[Decimal, ...]:
    return tuple(row[c] for c in ("ar_0_30", "ar_31_60", "ar_61_90", "ar_91_120", "ar_over_120", "total_ar"))


def test_partially_paid_claim_ages_across_month_ends() -> None:
    ageing = run(**partially_paid())["ar_ageing"]
    insurer = {r["as_of_date"]: buckets(r) for r in ageing if r["payer_id"] == "INS"}
    d = Decimal
    assert insurer == {
        # 30 days after service: still 0-30.
        date(2026, 1, 31): (d("200.00"), ZERO, ZERO, ZERO, ZERO, d("200.00")),
        # 58 days: 200 - 100 paid - 40 contractual - 15 bundled; PR-2 only moves 20 to the patient.
        date(2026, 2, 28): (ZERO, d("45.00"), ZERO, ZERO, ZERO, d("45.00")),
        # 89 days, and a month with no entries at all.
        date(2026, 3, 31): (ZERO, ZERO, d("45.00"), ZERO, ZERO, d("45.00")),
        # 119 days, after the patient's 20.00.
        date(2026, 4, 30): (ZERO, ZERO, ZERO, d("25.00"), ZERO, d("25.00")),
        date(2026, 5, 31): (ZERO, ZERO, ZERO, ZERO, d("25.00"), d("25.00")),
    }
    assert all(r["payer_type"] == "insurer" and r["visits_with_balance"] == 1 for r in ageing if r["payer_id"] == "INS")
    # The overpaid self-pay visit is a credit, kept out of A/R.
    self_pay = [r for r in ageing if r["payer_id"] == "SELF"]
    assert [(r["as_of_date"], r["visits_with_balance"], r["total_ar"], r["credit_balances"]) for r in self_pay] == [
        (date(2026, 5, 31), 0, ZERO, Decimal("20.00"))
    ]


def test_days_in_ar_and_share_over_90_days() -> None:
    summary = {r["as_of_date"]: r for r in run(**partially_paid())["ar_summary"]}
    assert sorted(summary) == [date(2026, m, d) for m, d in ((1, 31), (2, 28), (3, 31), (4, 30), (5, 31))]
    # The practice's first 31 days: the window is as long as its data.
    january = summary[date(2026, 1, 31)]
    assert (january["total_ar"], january["trailing_charges"], january["window_days"]) == (
        Decimal("200.00"), Decimal("200.00"), 31,
    )  # fmt: skip
    assert january["days_in_ar"] == pytest.approx(31.0)
    assert january["ar_over_90_share"] == 0.0
    # 45.00 of A/R over 200.00 of charges in the 90 days to 31 March (1 January is the first).
    march = summary[date(2026, 3, 31)]
    assert (march["window_days"], march["trailing_charges"]) == (90, Decimal("200.00"))
    assert march["days_in_ar"] == pytest.approx(45 / (200 / 90))
    # No charges served from 31 January to 30 April: no days in A/R.
    april = summary[date(2026, 4, 30)]
    assert (april["trailing_charges"], april["days_in_ar"]) == (ZERO, None)
    assert (april["ar_over_90"], april["ar_over_90_share"]) == (Decimal("25.00"), 1.0)
    may = summary[date(2026, 5, 31)]
    assert (may["total_ar"], may["credit_balances"], may["trailing_charges"]) == (
        Decimal("25.00"), Decimal("20.00"), Decimal("80.00"),
    )  # fmt: skip
    assert may["days_in_ar"] == pytest.approx(25 / (80 / 90))


def test_denial_reversed_later_keeps_the_claim_receivable() -> None:
    """Denied in January, paid in February after a correction; a second claim's denial is
    never reversed and is written off."""
    served = date(2026, 1, 5)
    out = run(
        payer=PAYERS,
        patient=PATIENTS,
        charge=[
            charge("C1", "E1", "100.00", served, served, "K1"),
            charge("C2", "E2", "60.00", served, served, "K1"),
        ],
        claim=[
            claim("CL1", "E1", "100.00", datetime(2026, 1, 6), claim_status="paid", first_pass_outcome="denied"),
            claim("CL2", "E2", "60.00", datetime(2026, 1, 6), claim_status="written_off", first_pass_outcome="denied"),
        ],
        adjustment=[
            adjustment("A1", "CO", "16", "100.00", date(2026, 1, 20)),
            adjustment("A2", "CO", "16", "-100.00", date(2026, 2, 15)),
            adjustment("A3", "CO", "29", "60.00", date(2026, 1, 20), claim="CL2"),
        ],
        payment=[payment("PM1", "E1", "100.00", datetime(2026, 2, 15, 9), claim_id="CL1", payment_source="payer")],
    )
    assert [(r["as_of_date"], r["total_ar"], r["credit_balances"]) for r in out["ar_ageing"]] == [
        (date(2026, 1, 31), Decimal("100.00"), ZERO)
    ]


def test_payments_tied_to_no_visit_stay_out_of_ar() -> None:
    day = date(2026, 7, 1)
    out = run(
        charge=[charge("C1", "E1", "50.00", day, day, "K1")],
        payment=[payment("PM1", None, "50.00", datetime(2026, 7, 1, 12))],
    )
    assert [(r["total_ar"], r["credit_balances"]) for r in out["ar_summary"]] == [(Decimal("50.00"), ZERO)]
