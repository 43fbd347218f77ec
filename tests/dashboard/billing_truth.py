"""The billing figures computed again, in plain Python, straight from one practice's cleaned
rows: the independent check of every billing page. Written from the KPI definitions (the
contracts' [[metrics]] and the billing attribution rules they state), not from the curated SQL:
a visit's payer is its first claim's, else its patient's primary payer; its provider the
encounter's, else its charge lines', else its claim's; an adjustment is patient responsibility
(group PR), contractual, patient-responsibility-coded or a denial by its CARC's category in the
shipped CARC list; dates of payments and claims are practice-local."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pyiceberg.catalog import Catalog

from practicelake.contracts import reference_codes

ZERO = Decimal("0")
ENTITIES = ("charge", "claim", "payment", "adjustment", "encounter", "appointment", "patient", "payer", "provider",
            "provider_schedule")  # fmt: skip
CATEGORY = {code: row["category"] for code, row in reference_codes("carc").items()}


def rows(catalog: Catalog, entity: str, practice_id: str) -> list[dict[str, Any]]:
    every: list[dict[str, Any]] = catalog.load_table("cleaned." + entity).scan().to_arrow().to_pylist()
    return [row for row in every if row["practice_id"] == practice_id]


@dataclass
class Visit:
    encounter_id: str
    service_date: date | None = None
    provider_id: str | None = None
    payer_id: str | None = None
    charge_lines: int = 0
    is_encounter: bool = False


@dataclass(frozen=True)
class Entry:
    """One money entry of a visit (or of none): a charge line, a payment or an adjustment."""

    kind: str  # charge, payment, adjustment
    detail: str | None  # payment source, or the adjustment's category
    on: date
    amount: Decimal
    encounter_id: str | None
    claim_id: str | None = None
    carc: str | None = None
    group: str | None = None
    payer_id: str | None = None  # an adjustment's own payer, else its claim's
    at_point_of_service: bool | None = None

    @property
    def balance_change(self) -> Decimal:
        if self.kind == "charge":
            return self.amount
        if self.kind == "adjustment" and self.detail == "patient_responsibility":
            return ZERO
        return -self.amount


@dataclass
class Claim:
    claim_id: str
    payer_id: str
    provider_id: str | None
    billed: Decimal
    outcome: str | None
    resubmissions: int
    submitted_on: date
    adjudicated_on: date | None
    first_paid_on: date | None = None


@dataclass
class Truth:
    """One practice's cleaned billing rows, attributed."""

    tz: ZoneInfo
    visits: dict[str, Visit] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    charges: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def local(self, moment: datetime) -> date:
        return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(self.tz).date()

    def visit(self, encounter_id: str | None) -> Visit | None:
        return None if encounter_id is None else self.visits.get(encounter_id)


def load(catalog: Catalog, practice_id: str, time_zone: str) -> Truth:
    raw = {entity: rows(catalog, entity, practice_id) for entity in ENTITIES}
    truth = Truth(ZoneInfo(time_zone), raw=raw)
    _attribute(truth, raw)
    _ledger(truth, raw)
    _claims(truth, raw)
    return truth


def _attribute(truth: Truth, raw: dict[str, list[dict[str, Any]]]) -> None:
    encounters = {e["encounter_id"]: e for e in raw["encounter"]}
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in raw["charge"]:
        lines[line["encounter_id"]].append(line)
    first_claim: dict[str, dict[str, Any]] = {}
    for c in sorted(raw["claim"], key=lambda c: (c["submitted_at"], c["claim_id"])):
        if c["claim_status"] != "void":
            first_claim.setdefault(c["encounter_id"], c)
    primary = {p["patient_key"]: p["primary_payer_id"] for p in raw["patient"]}
    ids = set(encounters) | set(lines) | {c["encounter_id"] for c in raw["claim"]}
    ids |= {p["encounter_id"] for p in raw["payment"] if p["encounter_id"] is not None}
    for encounter_id in ids:
        encounter, charged, claim = (
            encounters.get(encounter_id),
            lines.get(encounter_id, []),
            first_claim.get(encounter_id),
        )
        visit = Visit(encounter_id, charge_lines=len(charged), is_encounter=encounter is not None)
        visit.service_date = min((c["service_date"] for c in charged), default=None) or (
            encounter["encounter_date"] if encounter else None
        )
        visit.provider_id = (
            (encounter or {}).get("provider_id")
            or min((c["provider_id"] for c in charged if c["provider_id"]), default=None)
            or (claim or {}).get("provider_id")
        )
        patient = (encounter or {}).get("patient_key")
        patient = patient or min((c["patient_key"] for c in charged if c["patient_key"]), default=None)
        patient = patient or (claim or {}).get("patient_key")
        visit.payer_id = claim["payer_id"] if claim else primary.get(patient)
        truth.visits[encounter_id] = visit


def _ledger(truth: Truth, raw: dict[str, list[dict[str, Any]]]) -> None:
    claims = {c["claim_id"]: c for c in raw["claim"]}
    charges = {c["charge_id"]: c for c in raw["charge"]}
    truth.charges = raw["charge"]
    for c in raw["charge"]:
        truth.entries.append(Entry("charge", None, c["posted_date"], c["amount"], c["encounter_id"]))
    for p in raw["payment"]:
        claim = claims.get(p["claim_id"]) if p["claim_id"] else None
        encounter = p["encounter_id"] or (claim or {}).get("encounter_id")
        truth.entries.append(Entry("payment", p["payment_source"], truth.local(p["paid_at"]), p["amount"], encounter,
                                   p["claim_id"], at_point_of_service=p["at_point_of_service"]))  # fmt: skip
    for a in raw["adjustment"]:
        claim = claims.get(a["claim_id"]) if a["claim_id"] else None
        line = charges.get(a["charge_id"]) if a["charge_id"] else None
        encounter = (claim or {}).get("encounter_id") or (line or {}).get("encounter_id")
        category = CATEGORY.get(a["carc_code"], "denial")
        if a["group_code"] == "PR":
            detail = "patient_responsibility"
        elif category == "contractual":
            detail = "contractual"
        elif category == "patient_responsibility":
            detail = "other"
        else:
            detail = "denial"
        payer = a["payer_id"] or (claim or {}).get("payer_id")
        truth.entries.append(Entry("adjustment", detail, a["adjusted_on"], a["amount"], encounter, a["claim_id"],
                                   a["carc_code"], a["group_code"], payer))  # fmt: skip


def _claims(truth: Truth, raw: dict[str, list[dict[str, Any]]]) -> None:
    paid: dict[str, date] = {}
    for e in truth.entries:
        if e.kind == "payment" and e.detail == "payer" and e.claim_id and e.amount > 0:
            paid[e.claim_id] = min(paid.get(e.claim_id, e.on), e.on)
    for c in raw["claim"]:
        if c["claim_status"] == "void":
            continue
        visit = truth.visits.get(c["encounter_id"])
        truth.claims.append(Claim(
            c["claim_id"], c["payer_id"], (visit.provider_id if visit else None) or c["provider_id"],
            c["billed_amount"], c["first_pass_outcome"], c["resubmissions"] or 0, truth.local(c["submitted_at"]),
            truth.local(c["first_adjudicated_at"]) if c["first_adjudicated_at"] else None, paid.get(c["claim_id"]),
        ))  # fmt: skip


# -- filters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chosen:
    """The filters a figure applies: a payer and a provider (None: any)."""

    payer: str | None = None
    provider: str | None = None

    def visit(self, visit: Visit | None) -> bool:
        payer = visit.payer_id if visit else None
        provider = visit.provider_id if visit else None
        return (self.payer is None or payer == self.payer) and (self.provider is None or provider == self.provider)

    def of(self, payer: str | None, provider: str | None) -> bool:
        return (self.payer is None or payer == self.payer) and (self.provider is None or provider == self.provider)


def within(day: date | None, first: date, last: date) -> bool:
    return day is not None and first <= day <= last


def total(values: Iterable[Decimal]) -> Decimal:
    return sum(values, start=ZERO)


def ratio(part: Decimal | int, whole: Decimal | int) -> float | None:
    return None if whole == 0 else float(Decimal(part) / Decimal(whole))


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
