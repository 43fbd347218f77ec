"""X12 835 health care claim payment/advice (005010X221A1, and 004010X091A1) -> claim_outcomes,
payments and adjustments.

Read with practicelake's own tokenizer (segments.py), not pyx12: pyx12 4.0.0's
X12ContextReader walks about 1,300 claims a second (an 835 of 4,000 managed-care claims in
3.1 s, errors discarded), where a year of remittances of a 50-provider practice (about 250,000
claims) must be read in under a minute, 5,000+ claims a second. The tests use pyx12 as an
independent reading of the sample files.

claim_outcomes, one row per CLP (loop 2100), positioned at it:
  outcome_id  payer, TRN02, CLP01, CLP07 and CLP02 (`#2`... for a repeat in the same file)
  claim_id CLP01 | payer_id N1*PR N104, else REF*2U, else `name:` and the payer's name
  patient_id NM1*QC NM109 | status_code CLP02 | outcome from CLP02 (adjudication.py)
  billed_amount CLP03 | paid_amount CLP04 | patient_responsibility CLP05
  adjusted_amount the sum of the claim's and its lines' CAS amounts
  adjudicated_on DTM*405 (production date), else BPR16 | payer_received_on DTM*050
  service_from/to DTM*232/233, else the first and last service-line dates (DTM*472/150/151)
  payer_claim_ref CLP07 | remittance_ref TRN02
payments, one row per claim the payer paid (CLP04 not zero; a reversal pays a negative
amount), and one per PLB reason/amount pair, with the opposite sign (a PLB amount reduces the
payment), so that the payments of a transaction set add up to BPR02:
  payment_id the outcome's id (a PLB: payer, TRN02, `PLB` and which PLB and pair)
  claim_id, encounter_id CLP01 (the patient control number: the practice's account for the
  visit, as CLM01 in the 837) | payment_source `payer` | paid_at BPR16 (a date)
  method BPR04: ACH, FWT -> eft; CHK -> cheque; BOP, NON and others -> other
  remittance_ref TRN02
adjustments, one row per CAS reason/amount (claim level and service-line level), at its CAS:
  adjustment_id the outcome's id, the service line (0: the claim) and the amount's rank
  group_code CAS01 | carc_code the reason | amount as written (positive reduces the balance)
  rarc_code the line's first LQ*HE, else the claim's first MOA/MIA remark
  charge_id the line's REF*6R | adjusted_on as adjudicated_on

A claim that does not balance, or whose amounts cannot be read, is a bad row in each dataset
it would feed (its outcome, its payment, each of its adjustments): no half claim is loaded.
A transaction set whose payments do not add up to BPR02 is read with a warning.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from decimal import Decimal

from practicelake.contracts.model import ID_PATTERN
from practicelake.formats.base import ParsedFile
from practicelake.formats.x12 import adjudication
from practicelake.formats.x12.datasets import DatasetRows
from practicelake.formats.x12.elements import amount, date_text, element, last_date_text, money, money_text
from practicelake.formats.x12.remittance_loops import Adjustment, ClaimPayment, Remittance, remittances
from practicelake.formats.x12.segments import Document, Transaction
from practicelake.formats.x12.transaction_format import TransactionSetFormat
from practicelake.settings import cited

METHODS = {"ACH": "eft", "FWT": "eft", "CHK": "cheque"}
CLAIM_OUTCOMES, PAYMENTS, ADJUSTMENTS = "claim_outcomes", "payments", "adjustments"
IMPLEMENTATIONS = ("005010X221", "004010X091")
COMPOSITE_LENGTH = 48  # an adjustment adds `:<line>:<rank>` to its claim's id


def payer_of(remittance: Remittance) -> str | None:
    if remittance.payer_id:
        return remittance.payer_id
    if remittance.payer_name:
        return "name:" + re.sub(r"[^0-9A-Z]+", "-", remittance.payer_name.upper()).strip("-")
    return None


def compact_id(composite: str) -> str:
    """The id as built from the remittance's own ids where it is short and plain enough to stay
    an id with a suffix (contracts: 64 characters, ID_PATTERN), else a digest of it: as stable,
    and as unique."""
    if len(composite) <= COMPOSITE_LENGTH and re.fullmatch(ID_PATTERN, composite):
        return composite
    return "x12:" + hashlib.blake2b(composite.encode(), digest_size=16).hexdigest()


class Claims:
    """The claims of a document with the ids, figures and problems every dataset shares."""

    def __init__(self, document: Document) -> None:
        self.remittances = remittances(document)
        self.ids: dict[int, str] = {}
        self.figures: dict[int, adjudication.ClaimFigures] = {}
        self.problems: dict[int, tuple[str, str]] = {}
        self.warnings = list(document.warnings)
        seen: dict[str, int] = {}
        for remittance in self.remittances:
            payer = payer_of(remittance) or ""
            for claim in remittance.claims:
                parts = (payer, remittance.trace, element(claim.clp, 1), element(claim.clp, 7), element(claim.clp, 2))
                base = compact_id(":".join(part or "" for part in parts))
                seen[base] = seen.get(base, 0) + 1
                self.ids[claim.position] = base if seen[base] == 1 else f"{base}#{seen[base]}"
                found = adjudication.figures(claim)
                if isinstance(found, str):
                    self.problems[claim.position] = (found, adjudication.UNREADABLE_AMOUNT)
                    continue
                unbalanced = adjudication.imbalance(claim, found)
                if unbalanced is not None:
                    self.problems[claim.position] = (unbalanced, adjudication.UNBALANCED_CLAIM)
                self.figures[claim.position] = found
            self._check_total(remittance)
            if remittance.short_bpr:
                self.warnings.append(
                    f"the BPR of the transaction set at segment {remittance.position} has its payment date in "
                    "BPR15, one element early: read as BPR16"
                )

    def _check_total(self, remittance: Remittance) -> None:
        total = amount(remittance.total)
        paid = [amount(element(c.clp, 4)) for c in remittance.claims]
        taken = [amount(p.amount) for p in remittance.provider_adjustments]
        if total is None or any(v is None for v in paid + taken):
            return
        net = sum((v for v in paid if v is not None), Decimal(0)) - sum((v for v in taken if v is not None), Decimal(0))
        if net != total:
            self.warnings.append(
                f"the transaction set at segment {remittance.position}: its claim payments less its provider "
                f"adjustments (PLB) come to {money(net)}, BPR02 says {money(total)}"
            )

    def pays(self, claim: ClaimPayment) -> bool:
        paid = amount(element(claim.clp, 4))
        return paid is None or paid != 0

    def dates(self, remittance: Remittance) -> tuple[str | None, str | None]:
        """The day the payer decided (production date, else payment date), and paid."""
        return date_text(remittance.produced_on or remittance.paid_on), date_text(remittance.paid_on)


def outcome_rows(claims: Claims, columns: Collection[str] | None) -> DatasetRows:
    rows = DatasetRows(CLAIM_OUTCOMES, columns)
    for remittance in claims.remittances:
        payer = payer_of(remittance)
        decided_on, _ = claims.dates(remittance)
        for claim in remittance.claims:
            problem = claims.problems.get(claim.position)
            if problem is not None:
                rows.bad(claim.position, *problem)
                continue
            found = claims.figures[claim.position]
            outcome = adjudication.outcome(claim, found)
            if outcome is None:
                status = cited(element(claim.clp, 2) or "", 6)
                detail = f"claim at segment {claim.position}: CLP02 {status} is not a claim status code"
                rows.bad(claim.position, detail, adjudication.UNKNOWN_STATUS)
                continue
            days = [line.first_day for line in claim.lines if line.first_day]
            last_days = [line.last_day or line.first_day for line in claim.lines if line.last_day or line.first_day]
            first = claim.service_from or (min(days) if days else None)
            last = claim.service_to or claim.service_from or (max(d for d in last_days if d) if last_days else None)
            rows.add(
                claim.position,
                {
                    "outcome_id": claims.ids[claim.position],
                    "claim_id": element(claim.clp, 1),
                    "payer_id": payer,
                    "patient_id": claim.patient_id,
                    "status_code": element(claim.clp, 2),
                    "outcome": outcome,
                    "billed_amount": money_text(element(claim.clp, 3)),
                    "paid_amount": money_text(element(claim.clp, 4)),
                    "patient_responsibility": money_text(element(claim.clp, 5)),
                    "adjusted_amount": money(found.adjusted),
                    "adjudicated_on": decided_on,
                    "payer_received_on": date_text(claim.received),
                    "service_from": date_text(first),
                    "service_to": last_date_text(last),
                    "payer_claim_ref": element(claim.clp, 7),
                    "remittance_ref": remittance.trace,
                },
            )
    return rows


def payment_rows(claims: Claims, columns: Collection[str] | None) -> DatasetRows:
    rows = DatasetRows(PAYMENTS, columns)
    for remittance in claims.remittances:
        payer = payer_of(remittance)
        _, paid_on = claims.dates(remittance)
        common = {
            "payer_id": payer,
            "payment_source": "payer",
            "paid_at": paid_on,
            "method": METHODS.get(remittance.method or "", "other") if remittance.method else None,
            "remittance_ref": remittance.trace,
        }
        for claim in remittance.claims:
            if not claims.pays(claim):
                continue
            problem = claims.problems.get(claim.position)
            if problem is not None:
                rows.bad(claim.position, *problem)
                continue
            rows.add(
                claim.position,
                common
                | {
                    "payment_id": claims.ids[claim.position],
                    "claim_id": element(claim.clp, 1),
                    "encounter_id": element(claim.clp, 1),
                    "patient_id": claim.patient_id,
                    "amount": money_text(element(claim.clp, 4)),
                },
            )
        for taken in remittance.provider_adjustments:
            value = amount(taken.amount)
            if value is None:
                detail = f"PLB at segment {taken.position}: adjustment amount {taken.pair} is missing or not an amount"
                rows.bad(taken.position, detail, adjudication.UNREADABLE_AMOUNT)
                continue
            payment_id = compact_id(f"{payer or ''}:{remittance.trace or ''}:PLB{taken.ordinal}.{taken.pair}")
            rows.add(taken.position, common | {"payment_id": payment_id, "amount": money(-value)})
    return rows


def adjustment_rows(claims: Claims, columns: Collection[str] | None) -> DatasetRows:
    rows = DatasetRows(ADJUSTMENTS, columns)
    for remittance in claims.remittances:
        payer = payer_of(remittance)
        decided_on, _ = claims.dates(remittance)
        for claim in remittance.claims:
            problem = claims.problems.get(claim.position)
            levels: list[tuple[int, list[Adjustment], str | None, str | None]] = [
                (0, claim.adjustments, None, claim.remark)
            ]
            levels += [
                (n, line.adjustments, line.control, line.remark or claim.remark)
                for n, line in enumerate(claim.lines, 1)
            ]
            for level, adjustments, charge_id, remark in levels:
                for rank, adjustment in enumerate(adjustments, start=1):
                    if problem is not None:
                        rows.bad(adjustment.position, *problem)
                        continue
                    rows.add(
                        adjustment.position,
                        {
                            "adjustment_id": f"{claims.ids[claim.position]}:{level}:{rank}",
                            "claim_id": element(claim.clp, 1),
                            "charge_id": charge_id,
                            "payer_id": payer,
                            "group_code": adjustment.group,
                            "carc_code": adjustment.reason,
                            "rarc_code": remark,
                            "amount": money_text(adjustment.amount),
                            "adjusted_on": decided_on,
                        },
                    )
    return rows


BUILDERS = {CLAIM_OUTCOMES: outcome_rows, PAYMENTS: payment_rows, ADJUSTMENTS: adjustment_rows}


class Remittances(TransactionSetFormat):
    name = "x12-835"
    description = "X12 835 claim payment/advice (remittance), 5010 and 4010"
    datasets = (CLAIM_OUTCOMES, PAYMENTS, ADJUSTMENTS)

    def problem(self, transaction: Transaction) -> str | None:
        if transaction.code != "835":
            return f"is a {cited(transaction.code, 6)} transaction set, not an 835 remittance"
        if transaction.implementation and not transaction.implementation.startswith(IMPLEMENTATIONS):
            return f"is the 835 implementation {cited(transaction.implementation, 20)}, not 005010X221 or 004010X091"
        return None

    def fed(self, document: Document) -> tuple[tuple[str, ...], list[str]]:
        claims = Claims(document)
        every = [c for r in claims.remittances for c in r.claims]
        fed = [CLAIM_OUTCOMES]
        if any(r.provider_adjustments for r in claims.remittances) or any(claims.pays(c) for c in every):
            fed.append(PAYMENTS)
        if any(c.every_adjustment() for c in every):
            fed.append(ADJUSTMENTS)
        return tuple(fed), claims.warnings

    def rows(self, document: Document, dataset: str, columns: Collection[str] | None) -> ParsedFile:
        return self.rows_of(document, {dataset: columns})[dataset]

    def rows_of(self, document: Document, wanted: Mapping[str, Collection[str] | None]) -> dict[str, ParsedFile]:
        claims = Claims(document)  # most of the reading: once for every dataset asked
        return {
            dataset: BUILDERS[dataset](claims, columns).parsed(claims.warnings) for dataset, columns in wanted.items()
        }


FORMAT = Remittances()
