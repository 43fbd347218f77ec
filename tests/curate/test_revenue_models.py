"""Revenue-cycle models, from hand-written cleaned rows to exact curated rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from curate.inputs import PRACTICE, run

NEW_YORK = PRACTICE | {"time_zone": "America/New_York"}
PAYERS = [
    {"practice_id": "P001", "payer_id": "INS", "name": "Insurer", "payer_type": "insurer"},
    {"practice_id": "P001", "payer_id": "GOV", "name": "Government", "payer_type": "government"},
    {"practice_id": "P001", "payer_id": "SELF", "name": "Self pay", "payer_type": "self_pay"},
]


def money(value: str) -> Decimal:
    return Decimal(value)


def encounter(encounter_id: str, day: date, patient: str = "K1", provider: str = "D1") -> dict[str, Any]:
    return {
        "practice_id": "P001",
        "encounter_id": encounter_id,
        "patient_key": patient,
        "provider_id": provider,
        "encounter_date": day,
    }


def charge(
    charge_id: str, encounter_id: str, amount: str, served: date, posted: date, code: str = "99213"
) -> dict[str, Any]:
    return {
        "practice_id": "P001",
        "charge_id": charge_id,
        "encounter_id": encounter_id,
        "patient_key": "K1",
        "provider_id": "D1",
        "procedure_code": code,
        "units": 1,
        "amount": money(amount),
        "service_date": served,
        "posted_date": posted,
    }


def claim(claim_id: str, encounter_id: str, billed: str, submitted: datetime, **fields: Any) -> dict[str, Any]:
    """Paid on first pass by INS unless told otherwise."""
    return {
        "practice_id": "P001",
        "claim_id": claim_id,
        "encounter_id": encounter_id,
        "patient_key": "K1",
        "payer_id": "INS",
        "provider_id": "D1",
        "submitted_at": submitted,
        "billed_amount": money(billed),
        "claim_status": "paid",
        "first_pass_outcome": "paid",
        "resubmissions": 0,
    } | fields


def payment(payment_id: str, amount: str, paid_at: datetime, **fields: Any) -> dict[str, Any]:
    """A patient payment unless told otherwise."""
    return {
        "practice_id": "P001",
        "payment_id": payment_id,
        "payment_source": "patient",
        "paid_at": paid_at,
        "amount": money(amount),
    } | fields


def adjustment(adjustment_id: str, claim_id: str, group: str, carc: str, amount: str, on: date) -> dict[str, Any]:
    return {
        "practice_id": "P001",
        "adjustment_id": adjustment_id,
        "claim_id": claim_id,
        "payer_id": "INS",
        "group_code": group,
        "carc_code": carc,
        "amount": money(amount),
        "adjusted_on": on,
    }


def row(rows: list[dict[str, Any]], **key: Any) -> dict[str, Any]:
    found = [r for r in rows if all(r[k] == v for k, v in key.items())]
    assert len(found) == 1, found
    return found[0]


def denied_then_paid() -> dict[str, list[dict[str, Any]]]:
    """A January visit: copay at the desk, claim denied (CO-16), corrected, paid in February."""
    return {
        "payer": PAYERS,
        "patient": [{"practice_id": "P001", "patient_key": "K1", "primary_payer_id": "INS"}],
        "encounter": [encounter("E1", date(2026, 1, 10))],
        "charge": [
            charge("C1", "E1", "150.00", date(2026, 1, 10), date(2026, 1, 12)),
            charge("C2", "E1", "20.00", date(2026, 1, 10), date(2026, 1, 10), code="36415"),
        ],
        "claim": [
            claim(
                "CL1",
                "E1",
                "170.00",
                datetime(2026, 1, 13, 10),
                first_adjudicated_at=datetime(2026, 1, 27, 10),
                first_pass_outcome="denied",
                resubmissions=1,
            ),
        ],
        "payment": [
            payment("PM1", "25.00", datetime(2026, 1, 10, 15), encounter_id="E1", at_point_of_service=True),
            payment("PM2", "110.00", datetime(2026, 2, 20, 9), claim_id="CL1", payer_id="INS", payment_source="payer"),
        ],
        "adjustment": [
            adjustment("A1", "CL1", "CO", "16", "170.00", date(2026, 1, 27)),
            adjustment("A2", "CL1", "CO", "16", "-170.00", date(2026, 2, 20)),
            adjustment("A3", "CL1", "CO", "45", "30.00", date(2026, 2, 20)) | {"charge_id": "C1"},
            adjustment("A4", "CL1", "CO", "45", "5.00", date(2026, 2, 20)) | {"charge_id": "C2"},
            adjustment("A5", "CL1", "PR", "3", "25.00", date(2026, 2, 20)),
        ],
    }


def test_denied_claim_paid_after_resubmission_is_an_initial_denial_not_clean() -> None:
    out = run(**denied_then_paid())
    january = row(out["revenue_activity_month"], month=date(2026, 1, 1))
    assert january["payer_id"] == "INS" and january["provider_id"] == "D1"
    assert (january["claims_submitted"], january["claims_decided"], january["clean_claims"]) == (1, 1, 0)
    assert january["clean_claim_rate"] == 0.0
    assert (january["claims_adjudicated"], january["claims_initially_denied"]) == (1, 1)
    assert (january["billed_adjudicated"], january["billed_initially_denied"]) == (money("170.00"), money("170.00"))
    assert january["initial_denial_rate"] == 1.0
    assert january["initial_denial_rate_by_amount"] == 1.0
    assert january["claims_first_paid"] == 0 and january["days_to_payment"] is None
    february = row(out["revenue_activity_month"], month=date(2026, 2, 1))
    # Paid later all the same: 13 January to 20 February, counted from the first submission.
    assert february["claims_first_paid"] == 1
    assert february["days_to_payment"] == 38.0
    assert february["claims_submitted"] == 0 and february["claims_adjudicated"] == 0
    # The denial and its reversal, each in the month posted; nothing is written off.
    assert out["denial_reasons"] == [
        {
            "practice_id": "P001", "month": date(2026, 1, 1), "payer_id": "INS", "group_code": "CO",
            "carc_code": "16", "denials": 1, "denied_claims": 1, "denied_amount": money("170.00"),
            "reversed_amount": money("0.00"),
        },
        {
            "practice_id": "P001", "month": date(2026, 2, 1), "payer_id": "INS", "group_code": "CO",
            "carc_code": "16", "denials": 0, "denied_claims": 0, "denied_amount": money("0.00"),
            "reversed_amount": money("170.00"),
        },
    ]  # fmt: skip
    assert row(out["revenue_service_month"], service_month=date(2026, 1, 1))["denial_write_offs"] == money("0.00")


def test_payment_in_a_later_month_counts_in_its_service_month_and_as_cash_when_received() -> None:
    out = run(**denied_then_paid())
    # Service-period view: everything for the January visit, whenever received, is January's.
    assert out["revenue_service_month"] == [
        {
            "practice_id": "P001", "service_month": date(2026, 1, 1), "payer_id": "INS", "provider_id": "D1",
            "billed_visits": 1, "gross_charges": money("170.00"), "contractual_adjustments": money("35.00"),
            "adjusted_charges": money("135.00"), "payer_payments": money("110.00"),
            "patient_payments": money("25.00"), "payments": money("135.00"), "denial_write_offs": money("0.00"),
            "net_collection_rate": 1.0, "gross_collection_rate": pytest.approx(135 / 170),
            "denial_write_off_rate": 0.0,
        }
    ]  # fmt: skip
    # Cash view: the desk copay is January cash, the payer's payment February cash.
    cash = {r["month"]: r["cash_collected"] for r in out["revenue_activity_month"]}
    assert cash == {date(2026, 1, 1): money("25.00"), date(2026, 2, 1): money("110.00")}
    january = row(out["revenue_activity_month"], month=date(2026, 1, 1))
    # Two lines posted in January, 2 days and 0 days after service.
    assert (january["charge_lines_posted"], january["charges_posted"]) == (2, money("170.00"))
    assert january["charge_lag_days"] == 1.0


def test_written_off_denial_counts_against_net_revenue() -> None:
    rows = denied_then_paid()
    rows["claim"] = [
        claim(
            "CL1", "E1", "170.00", datetime(2026, 1, 13, 10), claim_status="written_off",
            first_adjudicated_at=datetime(2026, 1, 27, 10), first_pass_outcome="denied",
        )
    ]  # fmt: skip
    rows["payment"] = rows["payment"][:1]
    rows["adjustment"] = [adjustment("A1", "CL1", "CO", "29", "170.00", date(2026, 1, 27))]
    month = run(**rows)["revenue_service_month"][0]
    assert month["denial_write_offs"] == money("170.00")
    assert month["contractual_adjustments"] == money("0.00")
    assert month["denial_write_off_rate"] == 1.0
    assert month["net_collection_rate"] == pytest.approx(25 / 170)


def test_clean_claims_rejections_and_pending_claims() -> None:
    submitted = datetime(2026, 3, 2, 9)
    decided = datetime(2026, 3, 20, 9)
    out = run(
        payer=PAYERS,
        claim=[
            claim("CL1", "E1", "100.00", submitted, first_adjudicated_at=decided),
            claim("CL2", "E2", "80.00", submitted, first_adjudicated_at=decided, first_pass_outcome="partially_paid"),
            # Rejected by the clearinghouse and resent: not clean, and not an adjudication.
            claim("CL3", "E3", "60.00", submitted, first_adjudicated_at=decided, first_pass_outcome="rejected",
                  resubmissions=1),
            # No decision yet: submitted, but not counted in the clean claim rate.
            claim("CL4", "E4", "40.00", submitted, claim_status="submitted", first_pass_outcome=None),
            claim("CL5", "E5", "30.00", submitted, claim_status="void"),
        ],
    )  # fmt: skip
    march = row(out["revenue_activity_month"], month=date(2026, 3, 1))
    assert (march["claims_submitted"], march["claims_decided"], march["clean_claims"]) == (4, 3, 2)
    assert march["clean_claim_rate"] == pytest.approx(2 / 3)
    assert (march["claims_adjudicated"], march["claims_initially_denied"]) == (2, 0)
    assert march["billed_adjudicated"] == money("180.00")
    assert march["initial_denial_rate"] == 0.0


def test_point_of_service_collections() -> None:
    visit_day = date(2026, 4, 7)
    out = run(
        payer=PAYERS,
        patient=[{"practice_id": "P001", "patient_key": "K1", "primary_payer_id": "SELF"}],
        encounter=[encounter("E1", visit_day)],
        charge=[charge("C1", "E1", "90.00", visit_day, visit_day)],
        payment=[
            payment("PM1", "30.00", datetime(2026, 4, 7, 11), encounter_id="E1", at_point_of_service=True),
            # Unmarked, on the day of the visit: at the visit.
            payment("PM2", "10.00", datetime(2026, 4, 7, 16), encounter_id="E1"),
            # Marked otherwise, though on the same day: the source's mark wins.
            payment("PM3", "5.00", datetime(2026, 4, 7, 17), encounter_id="E1", at_point_of_service=False),
            # Unmarked, from a statement later in the month.
            payment("PM4", "45.00", datetime(2026, 4, 28, 10), encounter_id="E1"),
        ],
    )
    april = row(out["revenue_activity_month"], month=date(2026, 4, 1))
    assert april["payer_id"] == "SELF"
    assert (april["patient_payments"], april["patient_payments_at_visit"]) == (money("90.00"), money("40.00"))
    assert april["point_of_service_collection_rate"] == pytest.approx(40 / 90)
    assert april["cash_collected"] == money("90.00")


def test_money_is_exact_to_the_cent() -> None:
    day = date(2026, 5, 4)
    out = run(
        charge=[charge(f"C{i}", "E1", "0.10", day, day) for i in range(3)],
        payment=[payment(f"PM{i}", "0.10", datetime(2026, 5, 4, 12), encounter_id="E1") for i in range(2)]
        + [payment("PM9", "0.01", datetime(2026, 5, 4, 12), encounter_id="E1")],
    )
    month = out["revenue_service_month"][0]
    # 0.1 + 0.1 + 0.1 in floating point is 0.30000000000000004.
    assert month["gross_charges"] == money("0.30") and type(month["gross_charges"]) is Decimal
    assert month["payments"] == money("0.21") and type(month["payments"]) is Decimal
    assert month["gross_collection_rate"] == pytest.approx(0.7)
    assert out["revenue_activity_month"][0]["cash_collected"] == money("0.21")


def test_cash_counts_in_the_practice_local_month() -> None:
    out = run(
        practice=[NEW_YORK],
        # 02:00 UTC on 1 February is 21:00 on 31 January in New York.
        payment=[payment("PM1", "12.34", datetime(2026, 2, 1, 2), payer_id="INS", payment_source="payer")],
    )
    assert [(r["month"], r["payer_id"], r["cash_collected"]) for r in out["revenue_activity_month"]] == [
        (date(2026, 1, 1), None, money("12.34"))
    ]


def test_payer_mix_by_visits_and_charges() -> None:
    day = date(2026, 6, 3)
    out = run(
        payer=PAYERS,
        patient=[
            # Billed to INS although the patient record names GOV: the claim decides.
            {"practice_id": "P001", "patient_key": "K1", "primary_payer_id": "GOV"},
            {"practice_id": "P001", "patient_key": "K2", "primary_payer_id": "SELF"},
        ],
        encounter=[encounter("E1", day), encounter("E2", day), encounter("E3", day, patient="K2")],
        charge=[
            charge("C1", "E1", "100.00", day, day),
            charge("C2", "E2", "200.00", day, day),
            charge("C3", "E3", "100.00", day, day) | {"patient_key": "K2"},
        ],
        claim=[
            claim("CL1", "E1", "100.00", datetime(2026, 6, 4, 9)),
            claim("CL2", "E2", "200.00", datetime(2026, 6, 4)),
        ],
    )
    assert out["revenue_payer_mix"] == [
        {
            "practice_id": "P001", "month": date(2026, 6, 1), "payer_id": "INS", "payer_type": "insurer",
            "visits": 2, "charges": money("300.00"), "visit_share": pytest.approx(2 / 3), "charge_share": 0.75,
        },
        {
            "practice_id": "P001", "month": date(2026, 6, 1), "payer_id": "SELF", "payer_type": "self_pay",
            "visits": 1, "charges": money("100.00"), "visit_share": pytest.approx(1 / 3), "charge_share": 0.25,
        },
    ]  # fmt: skip


def test_practices_are_not_mixed() -> None:
    day = date(2026, 6, 3)
    other = PRACTICE | {"practice_id": "P002"}
    out = run(
        practice=[PRACTICE, other],
        charge=[
            charge("C1", "E1", "100.00", day, day),
            charge("C1", "E1", "40.00", day, day) | {"practice_id": "P002"},
        ],
    )
    assert [(r["practice_id"], r["gross_charges"]) for r in out["revenue_service_month"]] == [
        ("P001", money("100.00")),
        ("P002", money("40.00")),
    ]
