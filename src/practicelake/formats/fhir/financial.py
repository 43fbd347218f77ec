"""Claim -> claims, and its items -> charges (FHIR R4 13.9 Claim).

A Claim is a bill only when its `use` is `claim` (a preauthorization or predetermination asks a
payer, it bills nothing) and it is not a draft (not sent): both are bad rows that say so.

claims: claim_id id; encounter_id the first item.encounter; patient_id patient; payer_id
insurer, else the payor of the focal insurance's Coverage; provider_id provider (the billing
provider, R4 Claim.provider); submitted_at created; billed_amount total, else the sum of the
items' net; claim_status from Claim.status (fm-status): active -> submitted, cancelled and
entered-in-error -> void. A payer's decision is a claim_outcomes row (remittance.py), not a
change of this row.

charges: one row per item that claims an amount (item.net, else unitPrice x quantity): an item
without one bills nothing (Synthea writes the visit's own line and its diagnoses that way; the
visit's charge is then only in Claim.total). charge_id `<claim id>-<item sequence>`, so that an
adjudication of that item names the same charge; encounter_id item.encounter, else the claim's;
provider_id the item's careTeam provider (careTeamSequence), else the claim's first careTeam
provider, else Claim.provider; procedure_code the CPT or HCPCS coding of productOrService, else
its first code as written; modifier the first modifier; units quantity (1 when absent: net is
quantity x unitPrice, FHIR R4 13.9.5); service_date servicedDate or servicedPeriod.start, else
billablePeriod.start; posted_date the day the claim was created.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from practicelake.formats.fhir.datatypes import (
    Resource,
    Row,
    Unmappable,
    codes,
    date,
    listed,
    money,
    part,
    text,
    timestamp,
)
from practicelake.formats.fhir.references import Index

CLAIM_STATUS = {"active": "submitted", "cancelled": "void", "entered-in-error": "void"}
PROCEDURE_SYSTEMS = (
    "http://www.ama-assn.org/go/cpt",
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
)


def bill(resource: Resource) -> None:
    """Unmappable unless the Claim bills a payer."""
    use = resource.get("use")
    if use != "claim":
        raise Unmappable(f"a Claim of use {text(use) or '(none)'} bills nothing", "not_a_claim")
    if resource.get("status") == "draft":
        raise Unmappable("a draft Claim has not been submitted", "not_a_claim")


def payer_of(resource: Resource, index: Index) -> str | None:
    """The payer a Claim (or a response to one) names: insurer, else the focal Coverage's payor."""
    insurer = index.key(resource.get("insurer"), resource)
    if insurer:
        return insurer
    insurance = [i for i in listed(resource, "insurance") if isinstance(i, Mapping)]
    for entry in sorted(insurance, key=lambda i: i.get("focal") is not True):
        coverage = index.resolve(entry.get("coverage"), resource).resource
        for payor in listed(coverage or {}, "payor"):
            key = index.key(payor, coverage)
            if key:
                return key
    return None


def encounter_of(resource: Resource, index: Index) -> str | None:
    for item in listed(resource, "item"):
        for reference in listed(item, "encounter") if isinstance(item, Mapping) else []:
            key = index.key(reference, resource)
            if key:
                return key
    return None


def claim(resource: Resource, index: Index) -> list[Row]:
    bill(resource)
    total = money(resource.get("total"), "Claim.total")
    if total is None:
        amounts = [_amount(item, n) for n, item in enumerate(listed(resource, "item")) if isinstance(item, Mapping)]
        total = str(sum((Decimal(a) for a in amounts if a), Decimal("0.00"))) if any(amounts) else None
    return [
        {
            "claim_id": text(resource.get("id")),
            "encounter_id": encounter_of(resource, index),
            "patient_id": index.key(resource.get("patient"), resource),
            "payer_id": payer_of(resource, index),
            "provider_id": index.key(resource.get("provider"), resource),
            "submitted_at": timestamp(resource.get("created")),
            "billed_amount": total,
            "claim_status": CLAIM_STATUS.get(str(resource.get("status")), text(resource.get("status"))),
        }
    ]


def _amount(item: Mapping[str, object], number: int) -> str | None:
    net = money(item.get("net"), f"Claim.item[{number}].net")
    if net is not None:
        return net
    price = item.get("unitPrice")
    if not isinstance(price, Mapping) or price.get("value") is None:
        return None
    quantity = item.get("quantity")
    count = quantity.get("value", 1) if isinstance(quantity, Mapping) else 1
    factor = item.get("factor", 1)
    try:
        amount = Decimal(str(price["value"])) * Decimal(str(count)) * Decimal(str(factor))
    except ArithmeticError:
        raise Unmappable(f"Claim.item[{number}] has no readable unitPrice x quantity", "fhir_money") from None
    return money(amount, f"Claim.item[{number}] unitPrice x quantity")


def _care_team(resource: Resource, index: Index) -> dict[object, str]:
    team: dict[object, str] = {}
    for member in listed(resource, "careTeam"):
        if isinstance(member, Mapping):
            key = index.key(member.get("provider"), resource)
            if key:
                team.setdefault(member.get("sequence"), key)
    return team


def procedure_code(concept: object) -> str | None:
    found = codes(concept)
    preferred = [code for system, code in found if system in PROCEDURE_SYSTEMS]
    chosen = preferred or [code for _, code in found]
    return chosen[0] if chosen else None


def _units(item: Mapping[str, object]) -> str:
    quantity = item.get("quantity")
    value = quantity.get("value") if isinstance(quantity, Mapping) else None
    if value is None:
        return "1"
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return str(value)


def charges(resource: Resource, index: Index) -> list[Row]:
    bill(resource)
    claim_id = text(resource.get("id"))
    team = _care_team(resource, index)
    fallback_provider = next(iter(team.values()), None) or index.key(resource.get("provider"), resource)
    billable = part(resource, "billablePeriod")
    claim_encounter = encounter_of(resource, index)
    rows: list[Row] = []
    for number, item in enumerate(listed(resource, "item")):
        if not isinstance(item, Mapping):
            continue
        amount = _amount(item, number)
        if amount is None:
            continue
        period = part(item, "servicedPeriod")
        served = date(item.get("servicedDate")) or date(period.get("start")) or date(billable.get("start"))
        encounters = [index.key(e, resource) for e in listed(item, "encounter")]
        sequences = listed(item, "careTeamSequence")
        modifiers = [procedure_code(m) for m in listed(item, "modifier")]
        rows.append(
            {
                "charge_id": f"{claim_id}-{item.get('sequence')}",
                "encounter_id": next((e for e in encounters if e), claim_encounter),
                "patient_id": index.key(resource.get("patient"), resource),
                "provider_id": next((team[s] for s in sequences if s in team), fallback_provider),
                "procedure_code": procedure_code(item.get("productOrService")),
                "modifier": modifiers[0] if modifiers else None,
                "units": _units(item),
                "amount": amount,
                "service_date": served,
                "posted_date": date(resource.get("created")),
            }
        )
    return rows
