"""The loops of an 835 transaction set (005010X221A1; 004010X091A1 has the same ones), read
into what the remittance datasets are made of.

- Header: BPR (payment: BPR02 total, BPR04 method, BPR16 date), TRN (TRN02 trace number),
  DTM*405 (production date), loop 1000A N1*PR (payer: N104, or REF*2U in the loop).
- Loop 2100 (claim payment), from CLP to the next CLP, LX, PLB or SE: its CAS (claim-level
  adjustments), NM1*QC (patient, NM109), MOA/MIA (claim remark codes: MOA03-07, MIA05 and
  MIA20-24), DTM*232/233 (service period), DTM*050 (received).
- Loop 2110 (service payment), from SVC to the next SVC or the claim's end: its CAS, REF*6R
  (the line item control number the 837 sent as REF*6R), LQ*HE (remark codes), DTM*472,
  150 and 151 (service dates).
- PLB (provider adjustments), after the claims: pairs of a reason (PLB03, 05, ... 13) and an
  amount (PLB04, 06, ... 14).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from practicelake.formats.x12.elements import element
from practicelake.formats.x12.segments import Document, Transaction

CAS_TRIPLETS = range(2, 20, 3)  # CAS02-04, 05-07, ... 17-19: reason, amount, quantity
PLB_PAIRS = range(3, 15, 2)  # PLB03-04 ... PLB13-14: reason, amount
MOA_REMARKS = range(3, 8)
MIA_REMARKS = (5, 20, 21, 22, 23, 24)
_DATE = re.compile(r"(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])")


@dataclass(frozen=True)
class Adjustment:
    position: int  # the CAS segment
    group: str | None
    reason: str | None
    amount: str | None


@dataclass
class ServiceLine:
    position: int  # the SVC segment
    control: str | None = None  # REF*6R
    remark: str | None = None  # first LQ*HE
    adjustments: list[Adjustment] = field(default_factory=list)
    first_day: str | None = None
    last_day: str | None = None


@dataclass
class ClaimPayment:
    position: int  # the CLP segment
    clp: list[str]
    patient_id: str | None = None
    remark: str | None = None
    received: str | None = None
    service_from: str | None = None
    service_to: str | None = None
    adjustments: list[Adjustment] = field(default_factory=list)
    lines: list[ServiceLine] = field(default_factory=list)

    def every_adjustment(self) -> list[Adjustment]:
        return self.adjustments + [a for line in self.lines for a in line.adjustments]


@dataclass(frozen=True)
class ProviderAdjustment:
    position: int  # the PLB segment
    ordinal: int  # which PLB of the transaction, from 1
    pair: int  # which reason/amount pair of the segment, from 1
    reason: str | None
    amount: str | None


@dataclass
class Remittance:
    position: int  # the ST segment
    total: str | None = None  # BPR02
    method: str | None = None  # BPR04
    paid_on: str | None = None  # BPR16
    trace: str | None = None  # TRN02
    produced_on: str | None = None  # DTM*405
    payer_id: str | None = None
    payer_name: str | None = None
    short_bpr: bool = False  # the payment date was read from BPR15
    claims: list[ClaimPayment] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)


def _adjustments(elements: list[str], position: int) -> list[Adjustment]:
    group = element(elements, 1)
    found = []
    size = len(elements)
    for index in range(CAS_TRIPLETS.start, min(size, CAS_TRIPLETS.stop), CAS_TRIPLETS.step):
        reason = elements[index] or None
        amount = (elements[index + 1] or None) if index + 1 < size else None
        if reason is not None or amount is not None:
            found.append(Adjustment(position, group, reason, amount))
    if not found:  # a CAS with a group and nothing else is still a record, unreadable
        found.append(Adjustment(position, group, None, None))
    return found


def _remark(elements: list[str], indexes: range | tuple[int, ...]) -> str | None:
    return next((elements[i] for i in indexes if i < len(elements) and elements[i]), None)


def remittances(document: Document) -> list[Remittance]:
    return [_remittance(document.segments, t) for t in document.transactions]


def _remittance(segments: list[list[str]], transaction: Transaction) -> Remittance:
    found = Remittance(position=transaction.start + 1)
    claim: ClaimPayment | None = None
    line: ServiceLine | None = None
    in_payer = False
    plb = 0
    for index in range(transaction.start + 1, transaction.end):
        elements = segments[index]
        tag, position = elements[0], index + 1
        if tag == "CAS":
            if line is not None:
                line.adjustments.extend(_adjustments(elements, position))
            elif claim is not None:
                claim.adjustments.extend(_adjustments(elements, position))
        elif tag == "SVC" and claim is not None:
            line = ServiceLine(position)
            claim.lines.append(line)
        elif tag == "CLP":
            claim, line = ClaimPayment(position, elements), None
            found.claims.append(claim)
        elif tag == "DTM":
            _date(found, claim, line, elements)
        elif tag == "REF":
            qualifier, value = element(elements, 1), element(elements, 2)
            if line is not None and qualifier == "6R":
                line.control = line.control or value
            elif in_payer and qualifier == "2U" and claim is None:
                found.payer_id = found.payer_id or value
        elif tag == "LQ" and line is not None and element(elements, 1) == "HE":
            line.remark = line.remark or element(elements, 2)
        elif tag == "NM1" and claim is not None and element(elements, 1) == "QC":
            claim.patient_id = element(elements, 9)
        elif tag == "MOA" and claim is not None:
            claim.remark = claim.remark or _remark(elements, MOA_REMARKS)
        elif tag == "MIA" and claim is not None:
            claim.remark = claim.remark or _remark(elements, MIA_REMARKS)
        elif tag in ("LX", "PLB"):
            claim, line = None, None
            if tag == "PLB":
                plb += 1
                for pair, at in enumerate(PLB_PAIRS, start=1):
                    reason, amount = element(elements, at), element(elements, at + 1)
                    if reason is not None or amount is not None:
                        found.provider_adjustments.append(ProviderAdjustment(position, plb, pair, reason, amount))
        elif tag == "N1":
            in_payer = element(elements, 1) == "PR"
            if in_payer:
                found.payer_name, found.payer_id = element(elements, 2), element(elements, 4)
        elif tag == "BPR":
            found.total, found.method, found.paid_on = element(elements, 2), element(elements, 4), element(elements, 16)
            if found.paid_on is None and len(elements) == 16 and _DATE.fullmatch(elements[15]):
                # A known defect (the TR3 examples as re-keyed): one separator short, the date in BPR15.
                found.paid_on, found.short_bpr = elements[15], True
        elif tag == "TRN":
            found.trace = element(elements, 2)
    return found


def _date(found: Remittance, claim: ClaimPayment | None, line: ServiceLine | None, elements: list[str]) -> None:
    qualifier, value = element(elements, 1), element(elements, 2)
    if line is not None:
        if qualifier in ("472", "150"):
            line.first_day = line.first_day or value
        if qualifier in ("472", "151"):
            line.last_day = value
    elif claim is not None:
        if qualifier == "232":
            claim.service_from = value
        elif qualifier == "233":
            claim.service_to = value
        elif qualifier == "050":
            claim.received = value
    elif qualifier == "405":
        found.produced_on = value
