"""ClaimResponse and ExplanationOfBenefit -> claim_outcomes, payments, adjustments
(FHIR R4 13.10 ClaimResponse, 13.12 ExplanationOfBenefit; contract: contracts/remittance.py).

Only a decision on a bill is read: `use` other than `claim` (a preauthorization) and
`entered-in-error` are bad rows that say so. A `cancelled` decision was withdrawn: `reversed`.

claim_outcomes: outcome_id id; claim_id ClaimResponse.request / EOB.claim (the Claim's id, or
the identifier it names); payer_id insurer; status_code `outcome` as written (queued, complete,
error, partial); outcome: queued -> pending, error -> denied (the payer could not process it and
paid nothing), partial -> partially_paid, complete -> paid, or denied when it paid nothing;
billed_amount total `submitted`, else the items' submitted amounts; paid_amount payment.amount,
else total `benefit`, else 0.00 for an error; patient_responsibility the copay, deductible and
coinsurance totals (adjudication codes, and the CMS Blue Button line codes Synthea writes), else
those of the items; adjusted_amount the sum of the decision's adjustments; adjudicated_on the day
it was created; service_from/service_to the items' service dates (else EOB billablePeriod);
payer_claim_ref identifier[0]; remittance_ref payment.identifier.

payments: the decision's payment (payment.amount), by the payer; paid_at payment.date, else
when the decision was created (Synthea gives no date); payment_id `<id>-payment`.

adjustments: each adjudication, of the claim and of each item, that is CARC-coded
(`reason` in the X12 CARC code system) or whose category names what the patient owes: copay ->
PR-3, deductible -> PR-1, coinsurance -> PR-2; a category that is itself an X12 group code gives
its group. A CARC-coded adjudication with no such category has no group: written without one (the
contract refuses it). An amount of zero adjusts nothing and is not written. adjustment_id
`<id>-<item sequence or "claim">-<n>`; charge_id `<claim id>-<item sequence>` (the charge of
financial.py). Other categories (eligible, benefit, submitted, eligpercent, tax) are amounts,
not adjustments.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

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
from practicelake.formats.fhir.financial import payer_of
from practicelake.formats.fhir.references import Index

BLUE_BUTTON = "https://bluebutton.cms.gov/resources/variables/"
# Adjudication categories (http://terminology.hl7.org/CodeSystem/adjudication and Blue Button)
# that are the patient's share, as the X12 group and CARC that say the same.
PATIENT_SHARE = {
    "copay": ("PR", "3"),
    "deductible": ("PR", "1"),
    BLUE_BUTTON + "line_coinsrnc_amt": ("PR", "2"),
    BLUE_BUTTON + "line_bene_ptb_ddctbl_amt": ("PR", "1"),
}
SUBMITTED = ("submitted", BLUE_BUTTON + "line_sbmtd_chrg_amt")
GROUP_CODES = frozenset({"CO", "PR", "OA", "PI", "CR"})
CARC_SYSTEMS = (
    "https://x12.org/codes/claim-adjustment-reason-codes",
    "http://x12.org/codes/claim-adjustment-reason-codes",
    "http://terminology.hl7.org/CodeSystem/claimadjustmentreasoncodes",
)
OUTCOME = {"queued": "pending", "error": "denied", "partial": "partially_paid"}


def decision(resource: Resource) -> None:
    """Unmappable unless the resource is a payer's decision on a bill."""
    kind = resource.get("resourceType")
    if resource.get("use") != "claim":
        raise Unmappable(f"a {kind} of use {text(resource.get('use')) or '(none)'} decides no bill", "not_a_claim")
    if resource.get("status") == "entered-in-error":
        raise Unmappable(f"the {kind} was entered in error", "not_a_claim")


def claim_of(resource: Resource, index: Index) -> str | None:
    element = "claim" if resource.get("resourceType") == "ExplanationOfBenefit" else "request"
    return index.key(resource.get(element), resource)


def _items(resource: Resource) -> list[Mapping[str, Any]]:
    return [i for i in listed(resource, "item") if isinstance(i, Mapping)]


def _sequence(resource: Resource, item: Mapping[str, Any]) -> object:
    return item.get("sequence") if resource.get("resourceType") == "ExplanationOfBenefit" else item.get("itemSequence")


def _categorised(adjudications: list[Any], wanted: tuple[str, ...], where: str) -> Decimal | None:
    found: Decimal | None = None
    for number, adjudication in enumerate(adjudications):
        if not isinstance(adjudication, Mapping):
            continue
        if any(code in wanted for _, code in codes(adjudication.get("category"))):
            amount = money(adjudication.get("amount"), f"{where}[{number}].amount")
            if amount is not None:
                found = (found or Decimal("0.00")) + Decimal(amount)
    return found


def _total(resource: Resource, wanted: tuple[str, ...]) -> str | None:
    kind = resource.get("resourceType")
    found = _categorised(listed(resource, "total"), wanted, f"{kind}.total")
    if found is None:
        for number, item in enumerate(_items(resource)):
            line = _categorised(listed(item, "adjudication"), wanted, f"{kind}.item[{number}].adjudication")
            if line is not None:
                found = (found or Decimal("0.00")) + line
    return None if found is None else str(found)


def adjustments(resource: Resource, index: Index) -> list[Row]:
    decision(resource)
    kind, outcome_id = resource.get("resourceType"), text(resource.get("id"))
    claim_id, payer = claim_of(resource, index), payer_of(resource, index)
    places: list[tuple[str, str | None, list[Any], str]] = [
        ("claim", None, listed(resource, "adjudication"), f"{kind}.adjudication")
    ]
    for number, item in enumerate(_items(resource)):
        sequence = _sequence(resource, item)
        charge = f"{claim_id}-{sequence}" if claim_id and sequence is not None else None
        places.append((str(sequence), charge, listed(item, "adjudication"), f"{kind}.item[{number}].adjudication"))
    rows: list[Row] = []
    for place, charge, adjudications, where in places:
        count = 0
        for number, adjudication in enumerate(adjudications):
            coded = _coded(adjudication)
            if coded is None:
                continue
            amount = money(adjudication.get("amount"), f"{where}[{number}].amount")
            if amount is None or Decimal(amount) == 0:
                continue
            count += 1
            rows.append(
                {
                    "adjustment_id": f"{outcome_id}-{place}-{count}",
                    "claim_id": claim_id,
                    "charge_id": charge,
                    "payer_id": payer,
                    "group_code": coded[0],
                    "carc_code": coded[1],
                    "amount": amount,
                    "adjusted_on": date(resource.get("created")),
                }
            )
    return rows


def _coded(adjudication: object) -> tuple[str | None, str | None] | None:
    """The X12 group and CARC an adjudication states, or None when it is no adjustment."""
    if not isinstance(adjudication, Mapping):
        return None
    categories = [code for _, code in codes(adjudication.get("category"))]
    carc = next((code for system, code in codes(adjudication.get("reason")) if system in CARC_SYSTEMS), None)
    group = next((c.upper() for c in categories if c.upper() in GROUP_CODES), None)
    share = next((PATIENT_SHARE[c] for c in categories if c in PATIENT_SHARE), None)
    if share is not None:
        return group or share[0], carc or share[1]
    return (group, carc) if carc is not None or group is not None else None


def _service_dates(resource: Resource) -> tuple[str | None, str | None]:
    days: list[str] = []
    for item in _items(resource):
        period = part(item, "servicedPeriod")
        days += [d for d in (date(item.get("servicedDate")), date(period.get("start")), date(period.get("end"))) if d]
    if days:
        return min(days), max(days)
    billable = part(resource, "billablePeriod")
    return date(billable.get("start")), date(billable.get("end"))


def _payment(resource: Resource) -> Mapping[str, Any]:
    payment = resource.get("payment")
    return payment if isinstance(payment, Mapping) else {}


def claim_outcome(resource: Resource, index: Index) -> list[Row]:
    decision(resource)
    kind = resource.get("resourceType")
    status_code = text(resource.get("outcome"))
    paid = money(_payment(resource).get("amount"), f"{kind}.payment.amount") or _total(resource, ("benefit",))
    if paid is None and status_code == "error":
        paid = "0.00"
    if resource.get("status") == "cancelled":
        outcome: str | None = "reversed"
    elif status_code == "complete":
        outcome = "paid" if paid is not None and Decimal(paid) > 0 else "denied"
    else:
        outcome = OUTCOME.get(str(status_code), status_code)
    adjusted = [Decimal(str(row["amount"])) for row in adjustments(resource, index)]
    identifiers = [i for i in listed(resource, "identifier") if isinstance(i, Mapping) and i.get("value")]
    reference = _payment(resource).get("identifier")
    service_from, service_to = _service_dates(resource)
    return [
        {
            "outcome_id": text(resource.get("id")),
            "claim_id": claim_of(resource, index),
            "payer_id": payer_of(resource, index),
            "patient_id": index.key(resource.get("patient"), resource),
            "status_code": status_code,
            "outcome": outcome,
            "billed_amount": _total(resource, SUBMITTED),
            "paid_amount": paid,
            "patient_responsibility": _total(resource, tuple(PATIENT_SHARE)),
            "adjusted_amount": str(sum(adjusted, Decimal("0.00"))) if adjusted else None,
            "adjudicated_on": date(resource.get("created")),
            "service_from": service_from,
            "service_to": service_to,
            "payer_claim_ref": text(identifiers[0]["value"]) if identifiers else None,
            "remittance_ref": text(reference.get("value")) if isinstance(reference, Mapping) else None,
        }
    ]


def payment(resource: Resource, index: Index) -> list[Row]:
    decision(resource)
    kind = resource.get("resourceType")
    paid = _payment(resource)
    amount = money(paid.get("amount"), f"{kind}.payment.amount")
    if amount is None:
        return []
    reference = paid.get("identifier")
    encounters = [index.key(e, resource) for item in _items(resource) for e in listed(item, "encounter")]
    return [
        {
            "payment_id": f"{resource.get('id')}-payment",
            "claim_id": claim_of(resource, index),
            "encounter_id": next((e for e in encounters if e), None),
            "patient_id": index.key(resource.get("patient"), resource),
            "payer_id": payer_of(resource, index),
            "payment_source": "payer",
            "paid_at": timestamp(paid.get("date")) or timestamp(resource.get("created")),
            "amount": amount,
            "remittance_ref": text(reference.get("value")) if isinstance(reference, Mapping) else None,
        }
    ]
