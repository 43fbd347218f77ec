"""The billing figures of a run of days, from billing_truth's attributed cleaned rows, in plain
Python: what each tile and chart of the billing pages must show. None where the page has no
row for the period (no event at all), as the page shows it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from billing_truth import ZERO, Chosen, Entry, Truth, ratio, total, within

from practicelake.curate.runner import load_references

KEPT = ("fulfilled", "arrived", "checked-in")


def service(t: Truth, first: date, last: date, chosen: Chosen) -> dict[str, Any] | None:
    """The visits served in the period and their money to date."""
    visits = [v for v in t.visits.values() if within(v.service_date, first, last) and chosen.visit(v)]
    if not visits:
        return None
    ids = {v.encounter_id for v in visits}
    entries = [e for e in t.entries if e.encounter_id in ids]
    gross = total(e.amount for e in entries if e.kind == "charge")
    contractual = total(e.amount for e in entries if e.kind == "adjustment" and e.detail == "contractual")
    payments = total(e.amount for e in entries if e.kind == "payment" and e.detail in ("payer", "patient"))
    denied = total(e.amount for e in entries if e.kind == "adjustment" and e.detail == "denial")
    return {
        "visits": len(visits),
        "encounters_without_charges": sum(1 for v in visits if v.charge_lines == 0),
        "gross_charges": gross,
        "contractual_adjustments": contractual,
        "payments": payments,
        "net_collection_rate": ratio(payments, gross - contractual),
        "gross_collection_rate": ratio(payments, gross),
        "denial_write_off_rate": ratio(denied, gross - contractual),
    }


def payer_mix(
    t: Truth, first: date, last: date, chosen: Chosen, by_type: bool = False
) -> dict[str, tuple[float, float | None]]:
    """Each payer's (or payer type's) share of the visits served and of their charges."""
    types = {p["payer_id"]: p["payer_type"] for p in t.raw["payer"]}
    visits: dict[str, int] = defaultdict(int)
    charges: dict[str, Decimal] = defaultdict(Decimal)
    lines: dict[str, Decimal] = defaultdict(Decimal)
    for line in t.charges:
        lines[line["encounter_id"]] += line["amount"]
    for v in t.visits.values():
        if within(v.service_date, first, last) and Chosen(provider=chosen.provider).visit(v):
            key = (types.get(v.payer_id) if by_type else v.payer_id) or "(unknown)"
            visits[key] += 1
            charges[key] += lines.get(v.encounter_id, ZERO)
    all_visits, all_charges = sum(visits.values()), total(charges.values())
    return {k: (visits[k] / all_visits, ratio(charges[k], all_charges)) for k in visits}


def _in(entry: Entry, kind: str, first: date, last: date) -> bool:
    return entry.kind == kind and within(entry.on, first, last)


def activity(t: Truth, first: date, last: date, chosen: Chosen) -> dict[str, Any] | None:
    """What was posted, received, submitted and decided in the period."""
    posted = [
        e
        for e in t.entries
        if e.kind == "charge" and within(e.on, first, last) and chosen.visit(t.visit(e.encounter_id))
    ]
    lags = [
        (line["posted_date"] - line["service_date"]).days
        for line in t.charges
        if within(line["posted_date"], first, last) and chosen.visit(t.visit(line["encounter_id"]))
    ]
    money = [
        e
        for e in t.entries
        if e.kind in ("payment", "adjustment") and within(e.on, first, last) and chosen.visit(t.visit(e.encounter_id))
    ]
    claims = [c for c in t.claims if chosen.of(c.payer_id, c.provider_id)]
    submitted = [c for c in claims if within(c.submitted_on, first, last)]
    adjudicated = [
        c
        for c in claims
        if c.outcome in ("paid", "partially_paid", "denied") and within(c.adjudicated_on or c.submitted_on, first, last)
    ]
    first_paid = [c for c in claims if within(c.first_paid_on, first, last)]
    if not (posted or money or submitted or adjudicated or first_paid):
        return None
    cash = total(e.amount for e in money if e.kind == "payment")
    patient = [e for e in money if e.kind == "payment" and e.detail == "patient"]
    at_visit = total(e.amount for e in patient if _at_visit(t, e))
    charges = total(e.amount for e in posted)
    contractual = total(e.amount for e in money if e.kind == "adjustment" and e.detail == "contractual")
    denied = total(e.amount for e in money if e.kind == "adjustment" and e.detail == "denial")
    decided = [c for c in submitted if c.outcome is not None]
    clean = [c for c in decided if c.outcome in ("paid", "partially_paid") and c.resubmissions == 0]
    denials = [c for c in adjudicated if c.outcome == "denied"]
    return {
        "charges_posted": charges,
        "cash_collected": cash,
        "contractual_adjustments_posted": contractual,
        "net_collection_rate": ratio(cash, charges - contractual),
        "gross_collection_rate": ratio(cash, charges),
        "denial_write_off_rate": ratio(denied, charges - contractual),
        "charge_lag": ratio(sum(lags), len(lags)),
        "days_to_payment": ratio(
            sum((c.first_paid_on - c.submitted_on).days for c in first_paid if c.first_paid_on), len(first_paid)
        ),
        "point_of_service_rate": ratio(at_visit, total(e.amount for e in patient)),
        "clean_claim_rate": ratio(len(clean), len(decided)),
        "initial_denial_rate": ratio(len(denials), len(adjudicated)),
        "initial_denial_rate_by_amount": ratio(total(c.billed for c in denials), total(c.billed for c in adjudicated)),
        "claims_adjudicated": len(adjudicated),
        "claims_initially_denied": len(denials),
        "charge_lines_posted": len(lags),
    }


def _at_visit(t: Truth, entry: Entry) -> bool:
    if entry.at_point_of_service is not None:
        return entry.at_point_of_service
    visit = t.visit(entry.encounter_id)
    return visit is not None and visit.service_date == entry.on


@dataclass(frozen=True)
class Ageing:
    buckets: tuple[Decimal, ...]
    credit: Decimal
    trailing: Decimal
    window: int

    @property
    def total(self) -> Decimal:
        return total(self.buckets)

    @property
    def over_90(self) -> Decimal:
        return self.buckets[3] + self.buckets[4]

    @property
    def days_in_ar(self) -> float | None:
        return None if self.trailing == 0 else float(self.total * self.window / self.trailing)


def receivable(t: Truth, on: date, payer: str | None = None, by_payer: bool = False) -> dict[str | None, Ageing]:
    """A/R on the day: each visit's balance from its entries on or before it (PR moves it to the
    patient; a denial reversed in full, same claim and CARC, is left out on both dates), aged
    from the service date; keyed by payer when asked, else under None."""
    denial_sums: dict[tuple[str, str | None], Decimal] = defaultdict(Decimal)
    for e in t.entries:
        if e.kind == "adjustment" and e.detail == "denial" and e.claim_id is not None:
            denial_sums[(e.claim_id, e.carc)] += e.amount
    overturned = {key for key, amount in denial_sums.items() if amount == 0}
    kept = [
        e
        for e in t.entries
        if e.encounter_id is not None
        and not (e.kind == "adjustment" and e.detail == "denial" and (e.claim_id, e.carc) in overturned)
    ]
    balance: dict[str, Decimal] = defaultdict(Decimal)
    first_entry: dict[str, date] = {}
    for e in kept:
        assert e.encounter_id is not None
        first_entry[e.encounter_id] = min(first_entry.get(e.encounter_id, e.on), e.on)
        if e.on <= on:
            balance[e.encounter_id] += e.balance_change
    buckets: dict[str | None, list[Decimal]] = defaultdict(lambda: [ZERO] * 5)
    credit: dict[str | None, Decimal] = defaultdict(Decimal)
    for encounter_id, owed in balance.items():
        visit = t.visits[encounter_id]
        if payer is not None and visit.payer_id != payer:
            continue
        key = visit.payer_id if by_payer else None
        age = (on - (visit.service_date or first_entry[encounter_id])).days
        if owed > 0:
            buckets[key][0 if age <= 30 else 1 if age <= 60 else 2 if age <= 90 else 3 if age <= 120 else 4] += owed
        elif owed < 0:
            credit[key] -= owed
    trailing: dict[str | None, Decimal] = defaultdict(Decimal)
    for line in t.charges:
        visit = t.visits[line["encounter_id"]]
        if on - timedelta(days=90) < line["service_date"] <= on and (payer is None or visit.payer_id == payer):
            trailing[visit.payer_id if by_payer else None] += line["amount"]
    first_service = min(line["service_date"] for line in t.charges)
    window = min(90, max(1, (on - first_service).days + 1))
    keys = set(buckets) | set(credit) | set(trailing) | ({None} if not by_payer else set())
    return {k: Ageing(tuple(buckets[k]), credit[k], trailing[k], window) for k in keys}


def ar_calendar_end(t: Truth) -> date:
    """The last day A/R is measured at: the end of the month of the last ledger entry."""
    last = max(e.on for e in t.entries)
    following = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def denials(t: Truth, first: date, last: date, chosen: Chosen, by: str = "") -> dict[str, tuple[int, Decimal, Decimal]]:
    """Denial adjustments posted in the period: (count, denied amount, reversed amount) by group."""
    found: dict[str, list[Any]] = defaultdict(lambda: [0, ZERO, ZERO])
    for e in t.entries:
        if not (_in(e, "adjustment", first, last) and e.detail == "denial"):
            continue
        visit = t.visit(e.encounter_id)
        provider = visit.provider_id if visit else None
        if not chosen.of(e.payer_id, provider):
            continue
        key = {"group": e.group, "reason": f"{e.group}-{e.carc}", "payer": e.payer_id or "(unknown)", "": ""}[by]
        figures = found[key or ""]
        if e.amount > 0:
            figures[0] += 1
            figures[1] += e.amount
        elif e.amount < 0:
            figures[2] -= e.amount
    return {k: (v[0], v[1], v[2]) for k, v in found.items()}


def production(t: Truth, first: date, last: date, provider: str | None = None) -> dict[str, dict[str, Any]]:
    """Each provider's kept visits, scheduled days, work RVUs, charges and collections."""
    units = load_references()["value_units"].to_pylist()
    rvu: dict[str, Decimal] = {}
    for u in units:
        value = Decimal(repr(u["work_rvu"])).quantize(Decimal("0.0001"))
        rvu[u["procedure_code"]] = max(rvu.get(u["procedure_code"], value), value)
    found: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "kept_visits": 0,
            "days": set(),
            "work_rvus": ZERO,
            "lines_without_value_units": 0,
            "charges": ZERO,
            "collections": ZERO,
        }
    )
    named = {e["appointment_id"] for e in t.raw["encounter"] if e["appointment_id"]}
    for encounter in t.raw["encounter"]:
        if within(encounter["encounter_date"], first, last) and encounter["provider_id"]:
            found[encounter["provider_id"]]["kept_visits"] += 1
    for a in t.raw["appointment"]:
        if a["status"] in KEPT and a["appointment_id"] not in named and within(t.local(a["start_at"]), first, last):
            found[a["provider_id"]]["kept_visits"] += 1
    for s in t.raw["provider_schedule"]:
        if within(s["schedule_date"], first, last):
            found[s["provider_id"]]["days"].add(s["schedule_date"])
    for line in t.charges:
        served = t.visits[line["encounter_id"]]
        if within(served.service_date, first, last) and served.provider_id:
            figures = found[served.provider_id]
            figures["work_rvus"] += rvu.get(line["procedure_code"], ZERO) * line["units"]
            figures["lines_without_value_units"] += line["procedure_code"] not in rvu
            figures["charges"] += line["amount"]
    for e in t.entries:
        visit = t.visit(e.encounter_id)
        if _in(e, "payment", first, last) and visit is not None and visit.provider_id:
            found[visit.provider_id]["collections"] += e.amount
    fte = {p["provider_id"]: p["fte"] for p in t.raw["provider"]}
    out = {}
    for key, figures in found.items():
        if provider is not None and key != provider:
            continue
        scheduled = len(figures.pop("days"))
        out[key] = figures | {"scheduled_days": scheduled, "fte": fte.get(key)}
    return out


def access_month(t: Truth, first: date, last: date) -> dict[str, int] | None:
    """The practice's appointments of the month as its benchmark contribution counts them."""
    counts = {"scheduled": 0, "kept": 0, "no_shows": 0, "late": 0}
    for a in t.raw["appointment"]:
        if a["status"] in ("entered-in-error", "waitlist") or not within(t.local(a["start_at"]), first, last):
            continue
        counts["scheduled"] += 1
        counts["kept"] += a["status"] in KEPT
        counts["no_shows"] += a["status"] == "noshow"
        if a["status"] == "cancelled" and a["cancelled_at"] is not None:
            if a["start_time_known"]:
                counts["late"] += a["cancelled_at"] > a["start_at"] - timedelta(hours=24)
            else:
                counts["late"] += t.local(a["cancelled_at"]) >= t.local(a["start_at"])
    return counts if counts["scheduled"] else None
