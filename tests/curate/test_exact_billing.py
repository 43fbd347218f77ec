"""The day-grain billing models, from hand-written cleaned rows to exact rows: every column a sum
(or, for A/R, the balance on the day), so that any run of days adds up to that run's exact
figures; and A/R on days between month ends (the day a balance changes, the day a visit crosses
into an older bucket) checked against a direct computation over random ledgers."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from curate.inputs import run
from curate.test_ar_models import charge as ar_charge
from curate.test_ar_models import partially_paid
from curate.test_ar_models import payment as ar_payment
from curate.test_productivity_models import charge as rvu_charge
from curate.test_productivity_models import clinic
from curate.test_revenue_models import denied_then_paid, encounter

D = Decimal
ZERO = D("0.00")
BUCKETS = ("ar_0_30", "ar_31_60", "ar_61_90", "ar_91_120", "ar_over_120")


def day_row(rows: list[dict[str, Any]], on: date, payer: str | None) -> dict[str, Any]:
    (found,) = [r for r in rows if r["as_of_date"] == on and r["payer_id"] == payer]
    return found


def buckets(row: dict[str, Any]) -> tuple[Decimal, ...]:
    return tuple(row[c] for c in BUCKETS)


def test_ar_on_any_day_moves_on_the_day_of_each_entry_and_of_each_birthday_of_a_bucket() -> None:
    daily = run(**partially_paid())["ar_daily"]
    ins = [r for r in daily if r["payer_id"] == "INS"]
    # Every day from the first service date (1 January) to the end of the last ledger month.
    assert [r["as_of_date"] for r in ins] == [date(2026, 1, 1) + timedelta(days=i) for i in range(151)]
    served = day_row(daily, date(2026, 1, 1), "INS")  # served, not yet posted
    assert (served["total_ar"], served["trailing_charges"], served["window_days"]) == (ZERO, D("200.00"), 1)
    assert buckets(day_row(daily, date(2026, 1, 2), "INS")) == (D("200.00"), ZERO, ZERO, ZERO, ZERO)
    # 30 days after service on 31 January, 31 on 1 February: the balance changes bucket that day.
    assert buckets(day_row(daily, date(2026, 1, 31), "INS"))[:2] == (D("200.00"), ZERO)
    assert buckets(day_row(daily, date(2026, 2, 1), "INS"))[:2] == (ZERO, D("200.00"))
    # The payer's payment, CO-45 and CO-97 on 10 February; PR-2 only moves 20.00 to the patient.
    assert day_row(daily, date(2026, 2, 9), "INS")["total_ar"] == D("200.00")
    assert day_row(daily, date(2026, 2, 10), "INS")["ar_31_60"] == D("45.00")
    march = day_row(daily, date(2026, 3, 15), "INS")
    # 45.00 owed over 200.00 served in the 74 days since the first service date.
    assert (march["ar_61_90"], march["trailing_charges"], march["window_days"]) == (D("45.00"), D("200.00"), 74)
    # The patient's 20.00 on 20 April, 109 days after service.
    assert day_row(daily, date(2026, 4, 20), "INS")["ar_91_120"] == D("25.00")
    assert day_row(daily, date(2026, 5, 1), "INS")["ar_91_120"] == D("25.00")  # 120 days
    may = day_row(daily, date(2026, 5, 2), "INS")  # 121 days
    assert (may["ar_91_120"], may["ar_over_120"], may["ar_over_90"], may["visits_with_balance"]) == (
        ZERO, D("25.00"), D("25.00"), 1,
    )  # fmt: skip
    # The self-pay visit is overpaid at the desk on its service day, before its charge is posted.
    desk = day_row(daily, date(2026, 5, 5), "SELF")
    assert (desk["total_ar"], desk["credit_balances"], desk["visits_with_credit"]) == (ZERO, D("100.00"), 1)
    assert day_row(daily, date(2026, 5, 6), "SELF")["credit_balances"] == D("20.00")


def test_month_end_tables_are_the_month_end_days() -> None:
    out = run(**partially_paid())
    by_day = {(r["as_of_date"], r["payer_id"]): r for r in out["ar_daily"]}
    for row in out["ar_ageing"]:
        day = by_day[(row["as_of_date"], row["payer_id"])]
        assert buckets(row) == buckets(day) and row["credit_balances"] == day["credit_balances"]
    for row in out["ar_summary"]:
        days = [r for r in out["ar_daily"] if r["as_of_date"] == row["as_of_date"]]
        assert row["total_ar"] == sum((r["total_ar"] for r in days), start=ZERO)
        assert row["trailing_charges"] == sum((r["trailing_charges"] for r in days), start=ZERO)


def month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def random_ledger(
    seed: int,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, tuple[date, list[tuple[date, Decimal]]]]]:
    """Random visits, each a charge and some payments (refunds and overpayments among them), and
    each visit's service date and dated balance changes, to compute A/R from directly."""
    rng = random.Random(seed)
    charges, payments, visits = [], [], {}
    for n in range(12):
        served = date(2026, 1, 1) + timedelta(days=rng.randrange(150))
        amount = D(rng.randrange(1000, 30000)) / 100
        posted = served + timedelta(days=rng.randrange(4))
        changes = [(posted, amount)]
        charges.append(ar_charge(f"C{n}", f"E{n}", str(amount), served, posted, "K1"))
        for m in range(rng.randrange(4)):
            paid = served + timedelta(days=rng.randrange(200))
            part = D(rng.randrange(-2000, 15000)) / 100
            payments.append(ar_payment(f"P{n}-{m}", f"E{n}", str(part), datetime(paid.year, paid.month, paid.day, 12)))
            changes.append((paid, -part))
        visits[f"E{n}"] = (served, changes)
    rows = {"payer": [{"practice_id": "P001", "payer_id": "SELF", "name": "Self pay", "payer_type": "self_pay"}],
            "patient": [{"practice_id": "P001", "patient_key": "K1", "primary_payer_id": "SELF"}],
            "charge": charges, "payment": payments}  # fmt: skip
    return rows, visits


def test_ar_on_every_day_equals_the_balances_computed_directly() -> None:
    for seed in range(3):
        rows, visits = random_ledger(seed)
        daily = {r["as_of_date"]: r for r in run(**rows)["ar_daily"]}
        first = min(min(c["service_date"] for c in rows["charge"]), min(p["paid_at"].date() for p in rows["payment"]))
        last = max(max(c["posted_date"] for c in rows["charge"]), max(p["paid_at"].date() for p in rows["payment"]))
        assert min(daily) == first and max(daily) == month_end(last) and len(daily) == (max(daily) - first).days + 1
        for on, row in daily.items():
            owed = [ZERO] * 5
            credit = ZERO
            for served, changes in visits.values():
                balance = sum((amount for day, amount in changes if day <= on), start=ZERO)
                age = (on - served).days
                if balance > 0:
                    owed[0 if age <= 30 else 1 if age <= 60 else 2 if age <= 90 else 3 if age <= 120 else 4] += balance
                elif balance < 0:
                    credit -= balance
            assert buckets(row) == tuple(owed), (seed, on)
            assert row["credit_balances"] == credit, (seed, on)
            trailing = sum(
                (c["amount"] for c in rows["charge"] if on - timedelta(days=90) < c["service_date"] <= on), start=ZERO
            )
            assert row["trailing_charges"] == trailing, (seed, on)


def test_revenue_by_service_day_and_by_the_day_of_each_event() -> None:
    out = run(**denied_then_paid())
    assert out["revenue_service_day"] == [
        {"practice_id": "P001", "service_date": date(2026, 1, 10), "payer_id": "INS", "payer_type": "insurer",
         "provider_id": "D1", "visits": 1, "encounters_without_charges": 0, "billed_visits": 1,
         "gross_charges": D("170.00"), "contractual_adjustments": D("35.00"), "adjusted_charges": D("135.00"),
         "payer_payments": D("110.00"), "patient_payments": D("25.00"), "payments": D("135.00"),
         "denial_write_offs": ZERO},
    ]  # fmt: skip
    activity = {r["day"]: r for r in out["revenue_activity_day"]}
    assert sorted(activity) == [date(2026, 1, d) for d in (10, 12, 13, 27)] + [date(2026, 2, 20)]
    desk, posted = activity[date(2026, 1, 10)], activity[date(2026, 1, 12)]
    assert (desk["charge_lines_posted"], desk["charge_lag_days_total"], desk["patient_payments_at_visit"]) == (
        1, 0, D("25.00"),
    )  # fmt: skip
    assert (posted["charge_lines_posted"], posted["charge_lag_days_total"]) == (1, 2)
    assert (activity[date(2026, 1, 13)]["claims_submitted"], activity[date(2026, 1, 13)]["clean_claims"]) == (1, 0)
    denied = activity[date(2026, 1, 27)]
    assert (denied["claims_adjudicated"], denied["claims_initially_denied"], denied["denial_adjustments_posted"]) == (
        1, 1, D("170.00"),
    )  # fmt: skip
    paid = activity[date(2026, 2, 20)]
    # The payer pays, writes 35.00 down, reverses the denial; PR-3 moves 25.00 to the patient.
    assert (paid["cash_collected"], paid["contractual_adjustments_posted"], paid["denial_adjustments_posted"]) == (
        D("110.00"), D("35.00"), D("-170.00"),
    )  # fmt: skip
    assert (paid["claims_first_paid"], paid["days_to_payment_total"]) == (1, 38)
    # A run of days across both postings: the month's average charge lag from the sums.
    lag = sum(r["charge_lag_days_total"] for r in activity.values()) / sum(
        r["charge_lines_posted"] for r in activity.values()
    )
    assert lag == out["revenue_activity_month"][0]["charge_lag_days"] == 1.0


def test_encounters_without_charges_count_on_their_encounter_date() -> None:
    rows = denied_then_paid()
    rows["encounter"] = [*rows["encounter"], encounter("E2", date(2026, 1, 11)), encounter("E3", date(2026, 1, 11))]
    served = {r["service_date"]: r for r in run(**rows)["revenue_service_day"]}
    assert (served[date(2026, 1, 11)]["visits"], served[date(2026, 1, 11)]["encounters_without_charges"]) == (2, 2)
    assert served[date(2026, 1, 11)]["gross_charges"] == ZERO
    assert served[date(2026, 1, 10)]["encounters_without_charges"] == 0
    # Uncharged visits alone make no revenue month; the charged one's month is as it was.
    assert [r["billed_visits"] for r in run(**rows)["revenue_service_month"]] == [1]


def test_denials_by_day_carry_the_rendering_provider() -> None:
    assert run(**denied_then_paid())["denial_daily"] == [
        {"practice_id": "P001", "day": date(2026, 1, 27), "payer_id": "INS", "provider_id": "D1", "group_code": "CO",
         "carc_code": "16", "denials": 1, "denied_amount": D("170.00"), "reversed_amount": ZERO},
        {"practice_id": "P001", "day": date(2026, 2, 20), "payer_id": "INS", "provider_id": "D1", "group_code": "CO",
         "carc_code": "16", "denials": 0, "denied_amount": ZERO, "reversed_amount": D("170.00")},
    ]  # fmt: skip


def test_productivity_by_day() -> None:
    days = {(r["provider_id"], r["day"]): r for r in run(**clinic())["productivity_provider_day"]}
    first, second = days["D1", date(2026, 3, 2)], days["D1", date(2026, 3, 3)]
    assert (first["kept_visits"], first["scheduled_days"], first["work_rvus"], first["charges"]) == (
        1, 1, 1.3, D("145.00"),
    )  # fmt: skip
    # Two sessions are one scheduled day; the walk-in and the appointment without an encounter are visits.
    assert (second["kept_visits"], second["scheduled_days"], second["lines_without_value_units"]) == (3, 1, 1)
    assert days["D1", date(2026, 3, 20)]["collections"] == D("33.33")
    # 22:00 on 31 March in New York: checked in on the 31st.
    assert days["D2", date(2026, 3, 31)]["kept_visits"] == 1


def test_work_rvus_of_many_days_add_up_exactly() -> None:
    rows = clinic()
    day = date(2026, 3, 1)
    rows["encounter"] = [{**rows["encounter"][0], "encounter_id": f"E{i}", "encounter_date": day + timedelta(days=i)}
                         for i in range(30)]  # fmt: skip
    rows["charge"] = [rvu_charge(f"C{i}", f"E{i}", "96372", "10.00", day + timedelta(days=i)) for i in range(30)]
    out = run(**rows)
    # 30 x 0.17 as floats is 5.099999999999999; the month is the decimal sum.
    month = [r for r in out["productivity_provider_month"] if r["provider_id"] == "D1" and r["month"] == day]
    assert month[0]["work_rvus"] == 5.1
    assert round(sum(r["work_rvus"] for r in out["productivity_provider_day"] if r["provider_id"] == "D1"), 4) == 5.1
