"""What an 835 claim payment (loop 2100) says of the payer's decision: its outcome, and whether
its amounts add up.

Balancing (835 TR3, 1.10.2.1): the claim's charge (CLP03) is its payment (CLP04) plus every
adjustment (CAS) of the claim and of its service lines. A claim that does not balance cannot be
told right from wrong: none of its rows is loaded.

Outcome, from CLP02 (X12 code list 1029, Claim Status Code):
- 1, 2, 3 (processed as primary, secondary, tertiary): `paid` when the payment, the patient's
  share (group PR) and the contractual adjustments (any group but PR, a CARC whose category is
  `contractual` in contracts/reference/carc.csv: 23, 42, 45, 253, A2, A7) cover the charge;
  `partially_paid` when some other adjustment (a denial, a CARC not known as contractual) takes
  part of it. A line denied in full on an otherwise paid claim makes it partially paid.
- 4 `denied`; 22 `reversed` (a reversal of a previous payment); 19, 20, 21 (processed, then
  forwarded to another payer) and 23 (not our claim, forwarded) `forwarded` and `not_ours`;
  25 (predetermination pricing only, no payment) and the 4010 codes for claims still in
  process (5 pended, 11 received, 13, 15, 16, 17 suspended) `pending`.
- Any other code (27 reviewed, a typo) has no outcome: the claim is a bad row of its outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from practicelake.contracts import reference_codes
from practicelake.formats.x12.elements import amount, element, money
from practicelake.formats.x12.remittance_loops import ClaimPayment

OUTCOMES = {
    "1": "paid",
    "2": "paid",
    "3": "paid",
    "4": "denied",
    "19": "forwarded",
    "20": "forwarded",
    "21": "forwarded",
    "22": "reversed",
    "23": "not_ours",
    "25": "pending",
    "5": "pending",
    "11": "pending",
    "13": "pending",
    "15": "pending",
    "16": "pending",
    "17": "pending",
}
PROCESSED = frozenset({"1", "2", "3"})
UNREADABLE_AMOUNT = "unreadable_amount"
UNBALANCED_CLAIM = "unbalanced_claim"
UNKNOWN_STATUS = "unknown_claim_status"


@dataclass(frozen=True)
class ClaimFigures:
    charge: Decimal
    paid: Decimal
    claim_adjusted: Decimal
    lines_adjusted: Decimal

    @property
    def adjusted(self) -> Decimal:
        return self.claim_adjusted + self.lines_adjusted


def figures(claim: ClaimPayment) -> ClaimFigures | str:
    """The claim's amounts, or why they cannot be read or do not add up (never a value but
    the amounts themselves)."""
    charge, paid = amount(element(claim.clp, 3)), amount(element(claim.clp, 4))
    if charge is None:
        return f"claim at segment {claim.position}: CLP03 (total charge) is missing or not an amount"
    if paid is None:
        return f"claim at segment {claim.position}: CLP04 (payment) is missing or not an amount"
    totals = []
    for adjustments in (claim.adjustments, [a for line in claim.lines for a in line.adjustments]):
        total = Decimal(0)
        for adjustment in adjustments:
            value = amount(adjustment.amount)
            if value is None:
                return f"CAS at segment {adjustment.position}: an adjustment amount is missing or not an amount"
            total += value
        totals.append(total)
    return ClaimFigures(charge, paid, totals[0], totals[1])


def imbalance(claim: ClaimPayment, found: ClaimFigures) -> str | None:
    if found.charge == found.paid + found.adjusted:
        return None
    return (
        f"claim at segment {claim.position} does not balance: charge {money(found.charge)} is not payment "
        f"{money(found.paid)} plus adjustments {money(found.adjusted)} (claim {money(found.claim_adjusted)}, "
        f"service lines {money(found.lines_adjusted)})"
    )


def outcome(claim: ClaimPayment, found: ClaimFigures) -> str | None:
    status = element(claim.clp, 2) or ""
    decided = OUTCOMES.get(status)
    if status not in PROCESSED:
        return decided
    contractual = {code for code, row in reference_codes("carc").items() if row["category"] == "contractual"}
    covered = found.paid
    for adjustment in claim.every_adjustment():
        if adjustment.group == "PR" or adjustment.reason in contractual:
            covered += amount(adjustment.amount) or Decimal(0)
    return "paid" if covered >= found.charge else "partially_paid"
