"""Money: payer remittances, patient payments and the adjustments that balance each claim.

For a paid claim: billed = contractual write-down (CO-45, per line) + allowed, and
allowed = patient responsibility (PR-1/2/3) + bundled denial (CO-97, partial payments) + payer payment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from practicelake.synth import coding
from practicelake.synth.appointments import month_of_year
from practicelake.synth.billing import Lines
from practicelake.synth.claims import NONE, O_DENIED, O_PARTIAL, Claims, daytime
from practicelake.synth.encounters import Visits
from practicelake.synth.formatting import ids
from practicelake.synth.frame import DAY, Bools, Ints, Period, Rows, column, constant, take_strings
from practicelake.synth.organisation import Setup

PAYER, PATIENT = 0, 1
METHODS = ("eft", "card", "cash", "cheque", "check")
EFT, CARD, CASH, CHEQUE, CHECK = range(len(METHODS))


@dataclass
class Ledger:
    """Rows accumulated as parallel lists of arrays, concatenated once."""

    parts: dict[str, list[npt.NDArray[np.generic]]] = field(default_factory=dict)

    def add(self, **values: npt.NDArray[np.generic]) -> None:
        size = max((len(v) for v in values.values() if np.ndim(v)), default=1)
        for name, value in values.items():
            self.parts.setdefault(name, []).append(np.broadcast_to(value, size))

    def get(self, name: str) -> npt.NDArray[np.generic]:
        return np.concatenate(self.parts[name])


def _money(setup: Setup, units: Ints) -> Ints:
    amount: Ints = np.rint(np.asarray(units) * setup.region.fee_factor).astype(np.int64) * 100
    return amount


def settle(
    rng: np.random.Generator, setup: Setup, period: Period, claims: Claims, visits: Visits, lines: Lines, payer: Ints
) -> tuple[Ledger, Ledger]:
    """Payments and adjustments, before the end of the period."""
    payers = setup.region.payers
    pay, adjust = Ledger(), Ledger()
    count = len(claims)
    claim_of_visit = np.full(len(visits), NONE)
    claim_of_visit[claims.visit] = np.arange(count)

    # Contractual write-down per line, at the allowed ratio of the claim's payer.
    ratio = np.array([p.allowed_ratio for p in payers])
    line_claim = claim_of_visit[lines.visit]
    on_claim = np.flatnonzero(line_claim != NONE)
    line_claim = line_claim[on_claim]
    allowed_line = np.rint(lines.amount[on_claim] * ratio[claims.payer[line_claim]]).astype(np.int64)
    allowed = np.bincount(line_claim, weights=allowed_line, minlength=count).astype(np.int64)
    settled = claims.settled[line_claim]
    paid_line = (settled != NONE) & (lines.amount[on_claim] > allowed_line)
    adjust.add(
        claim=line_claim[paid_line], line=on_claim[paid_line], payer=claims.payer[line_claim[paid_line]],
        group=np.array("CO"), carc=np.array(coding.CONTRACTUAL), rarc=np.array(""),
        amount=(lines.amount[on_claim] - allowed_line)[paid_line], at=settled[paid_line],
    )  # fmt: skip

    # Patient responsibility: copay at the desk, then coinsurance and early-year deductibles.
    copay = np.minimum(_money(setup, np.array([p.copay for p in payers]))[claims.payer], allowed)
    coinsurance = np.rint((allowed - copay) * np.array([p.coinsurance for p in payers])[claims.payer]).astype(np.int64)
    early = np.array([p.deductible for p in payers])[claims.payer] & (month_of_year(visits.day[claims.visit]) <= 3)
    deductible = np.where(early & (rng.random(count) < 0.35), _money(setup, rng.integers(40, 200, count)), 0)
    deductible = np.minimum(deductible, allowed - copay - coinsurance)
    bundled = np.where(
        claims.outcome == O_PARTIAL,
        np.rint((allowed - copay - coinsurance - deductible) * rng.uniform(0.1, 0.4, count)),
        0,
    ).astype(np.int64)
    paid = claims.settled != NONE
    for carc, amount in ((coding.COPAY, copay), (coding.COINSURANCE, coinsurance), (coding.DEDUCTIBLE, deductible)):
        rows = np.flatnonzero(paid & (amount > 0))
        adjust.add(
            claim=rows, line=np.array(NONE), payer=claims.payer[rows], group=np.array("PR"), carc=np.array(carc),
            rarc=np.array(""), amount=amount[rows], at=claims.settled[rows],
        )  # fmt: skip
    rows = np.flatnonzero(paid & (bundled > 0))
    adjust.add(
        claim=rows, line=np.array(NONE), payer=claims.payer[rows], group=np.array("CO"), carc=np.array(coding.BUNDLED),
        rarc=np.array("M15"), amount=bundled[rows], at=claims.settled[rows],
    )  # fmt: skip
    # A denial zeroes the claim; a later payment on resubmission reverses it.
    denied = np.flatnonzero(claims.outcome == O_DENIED)
    denial_code = np.array([c for c, _, _ in coding.DENIAL_CODES])[claims.denial[denied]]
    remark = np.where(rng.random(denied.size) < 0.4, np.array(coding.REMARK_CODES)[rng.integers(0, 6, denied.size)], "")
    adjust.add(
        claim=denied, line=np.array(NONE), payer=claims.payer[denied], group=np.array("CO"), carc=denial_code,
        rarc=remark, amount=claims.billed[denied], at=claims.adjudicated[denied],
    )  # fmt: skip
    reversed_ = paid[denied]
    adjust.add(
        claim=denied[reversed_], line=np.array(NONE), payer=claims.payer[denied[reversed_]], group=np.array("CO"),
        carc=denial_code[reversed_], rarc=remark[reversed_], amount=-claims.billed[denied[reversed_]],
        at=claims.settled[denied[reversed_]],
    )  # fmt: skip

    payer_paid = allowed - copay - coinsurance - deductible - bundled
    rows = np.flatnonzero(paid & (payer_paid > 0))
    paper = CHEQUE if setup.region.cheque_word == "cheque" else CHECK
    cheque = np.where(rng.random(rows.size) < 0.04, paper, EFT)
    pay.add(
        claim=rows, visit=claims.visit[rows], payer=claims.payer[rows], source=np.array(PAYER),
        amount=payer_paid[rows], method=cheque, at=claims.settled[rows], desk=np.array(False),
    )  # fmt: skip

    # Patients: a copay at the desk; the rest of their share after the claim settles.
    insured_copay = _money(setup, np.array([p.copay for p in payers]))[payer]
    desk = (insured_copay > 0) & (rng.random(len(visits)) < 0.85)
    desk_paid = np.where(desk, insured_copay, 0)
    self_pay = np.array([p.kind == "self_pay" for p in payers])[payer]
    visit_total = np.bincount(lines.visit, weights=lines.amount, minlength=len(visits)).astype(np.int64)
    full_at_desk = self_pay & (rng.random(len(visits)) < 0.75)
    at_desk = np.flatnonzero((desk | full_at_desk) & (visit_total > 0))
    method = np.where(rng.random(at_desk.size) < 0.7, CARD, CASH)
    pay.add(
        claim=np.array(NONE), visit=at_desk, payer=np.array(NONE), source=np.array(PATIENT),
        amount=np.where(self_pay[at_desk], visit_total[at_desk], np.minimum(desk_paid[at_desk], visit_total[at_desk])),
        method=method, at=visits.leave[at_desk] + rng.integers(60, 900, at_desk.size), desk=np.array(True),
    )  # fmt: skip
    owed = copay + coinsurance + deductible - desk_paid[claims.visit]
    later = np.flatnonzero(paid & (owed > 0) & (rng.random(count) < 0.7))
    pay.add(
        claim=later, visit=claims.visit[later], payer=np.array(NONE), source=np.array(PATIENT), amount=owed[later],
        method=np.where(rng.random(later.size) < 0.6, CARD, EFT),
        at=daytime(rng, claims.settled[later] // DAY + rng.integers(10, 61, later.size)), desk=np.array(False),
    )  # fmt: skip
    statement = np.flatnonzero(self_pay & ~full_at_desk & (visit_total > 0) & (rng.random(len(visits)) < 0.6))
    pay.add(
        claim=np.array(NONE), visit=statement, payer=np.array(NONE), source=np.array(PATIENT),
        amount=visit_total[statement], method=np.where(rng.random(statement.size) < 0.5, CARD, EFT),
        at=daytime(rng, visits.day[statement] + rng.integers(14, 76, statement.size)), desk=np.array(False),
    )  # fmt: skip
    return pay, adjust


def payment_rows(
    setup: Setup, period: Period, pay: Ledger, claim_id: pa.Array, visits: Visits, mrn: pa.Array, payer_ids: list[str]
) -> Rows:
    at = pay.get("at").astype(np.int64)
    keep = np.flatnonzero(at <= period.last_second)
    keep = keep[np.argsort(at[keep], kind="stable")]
    at = at[keep]
    claim, visit, payer = (pay.get(n).astype(np.int64)[keep] for n in ("claim", "visit", "payer"))
    source, method = pay.get("source").astype(np.int64)[keep], pay.get("method").astype(np.int64)[keep]
    count = keep.size
    words = setup.vocabulary
    day = at // DAY
    dates = day.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    yyyymmdd = (months.astype("datetime64[Y]").astype(np.int64) + 1970) * 10_000 + (
        months.astype(np.int64) % 12 + 1
    ) * 100
    yyyymmdd += (dates - months).astype(np.int64) + 1
    trace = yyyymmdd + (np.maximum(payer, 0) + 1) * 10**8  # one remittance per payer and day
    has_claim, has_payer = claim != NONE, payer != NONE
    return Rows(
        {
            "practice_id": constant(setup.practice_id, count),
            "payment_id": ids("PMT", np.arange(count, dtype=np.int64) + 1, 8),
            "claim_id": _optional(claim_id, claim, has_claim),
            "encounter_id": visits.encounter_id.take(pa.array(visit)),
            "patient_id": mrn.take(pa.array(visits.patient[visit])),
            "payer_id": _optional(pa.array(payer_ids), payer, has_payer),
            "payment_source": take_strings([words.payer_source, words.patient_source], source),
            "paid_at": column(at),
            "amount": column(pay.get("amount").astype(np.int64)[keep]),
            "method": take_strings(METHODS, method),
            "at_point_of_service": column(pay.get("desk").astype(np.bool_)[keep]),
            "remittance_ref": _optional(ids("EFT", trace, 10), np.arange(count), has_payer),
        },
        period.batch_of_seconds(at),
        np.arange(count, dtype=np.int64),
    )


def adjustment_rows(
    setup: Setup, period: Period, adjust: Ledger, claim_id: pa.Array, charge_id: pa.Array, payer_ids: list[str]
) -> Rows:
    at = adjust.get("at").astype(np.int64)
    keep = np.flatnonzero(at <= period.last_second)
    keep = keep[np.argsort(at[keep], kind="stable")]
    day = at[keep] // DAY
    claim, line, payer = (adjust.get(n).astype(np.int64)[keep] for n in ("claim", "line", "payer"))
    rarc = adjust.get("rarc").astype(str)[keep]
    count = keep.size
    return Rows(
        {
            "practice_id": constant(setup.practice_id, count),
            "adjustment_id": ids("ADJ", np.arange(count, dtype=np.int64) + 1, 8),
            "claim_id": claim_id.take(pa.array(claim)),
            "charge_id": _optional(charge_id, line, line != NONE),
            "payer_id": take_strings(payer_ids, payer),
            "group_code": pa.array(adjust.get("group").astype(str)[keep]),
            "carc_code": pa.array(adjust.get("carc").astype(str)[keep]),
            "rarc_code": column(rarc, rarc != ""),
            "amount": column(adjust.get("amount").astype(np.int64)[keep]),
            "adjusted_on": column(day),
        },
        period.batch_of_days(day),
        np.arange(count, dtype=np.int64),
    )


def _optional(values: pa.Array, index: Ints, present: Bools) -> pa.Array:
    taken = values.take(pa.array(np.where(present, index, 0)))
    return pc.if_else(pa.array(present), taken, pa.scalar(None, values.type))
