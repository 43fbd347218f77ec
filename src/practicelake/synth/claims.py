"""Claims and their lifecycle: submitted, accepted, adjudicated, denied, resubmitted, paid.

A claim is exported in the batch of its submission month with its status at the end of that
month, and again in the batch of every later month in which its status changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from practicelake.synth import coding
from practicelake.synth.billing import Lines
from practicelake.synth.encounters import Visits
from practicelake.synth.formatting import ids
from practicelake.synth.frame import DAY, Bools, Floats, Ints, Period, Rows, column, constant, pick, take_strings
from practicelake.synth.organisation import Setup

STATUS = ("submitted", "accepted", "denied", "paid", "partially_paid", "appealed", "written_off")
SUBMITTED, ACCEPTED, DENIED, PAID, PARTIALLY_PAID, APPEALED, WRITTEN_OFF = range(len(STATUS))
OUTCOME = ("paid", "partially_paid", "denied", "rejected")
O_PAID, O_PARTIAL, O_DENIED, O_REJECTED = range(len(OUTCOME))
NONE = -1


def daytime(rng: np.random.Generator, days: Ints) -> Ints:
    """A moment in office hours (07:00 to 19:00) on each day."""
    return days * DAY + rng.integers(7 * 3600, 19 * 3600, days.size)


@dataclass(frozen=True)
class Claims:
    """One entry per claim, in submission order. Times are seconds; NONE when it never happens."""

    visit: Ints
    payer: Ints
    billed: Ints  # hundredths
    submitted: Ints
    accepted: Ints
    adjudicated: Ints  # first decision
    outcome: Ints
    denial: Ints  # into coding.DENIAL_CODES for a first-pass denial
    resubmitted: Ints
    appealed: Bools
    settled: Ints  # when the payer paid (first pass or after resubmission)
    written_off: Ints

    def __len__(self) -> int:
        return len(self.visit)


def _lag(rng: np.random.Generator, mean_days: Floats, size: int) -> Ints:
    """Days to adjudication: gamma-distributed around each payer's mean, at least two."""
    return np.maximum(np.rint(rng.gamma(4.0, mean_days / 4.0, size)), 2).astype(np.int64)


def draw_claims(rng: np.random.Generator, setup: Setup, visits: Visits, payer: Ints, lines: Lines) -> Claims:
    payers = setup.region.payers
    insured = np.array([p.kind != "self_pay" for p in payers])[payer]
    billed_by_visit = np.bincount(lines.visit, weights=lines.amount, minlength=len(visits))
    visit = np.flatnonzero(insured & (billed_by_visit > 0))
    payer = payer[visit]
    count = visit.size
    r = rng.random(count)
    lag = np.select([r < 0.4, r < 0.85], [0, rng.integers(1, 4, count)], rng.integers(4, 21, count))
    submitted = np.maximum(daytime(rng, visits.day[visit] + lag), visits.leave[visit] + 1800)
    order = np.argsort(submitted, kind="stable")
    visit, payer, submitted = visit[order], payer[order], submitted[order]
    day = submitted // DAY

    denial_rate = np.array([p.denial_rate for p in payers])[payer]
    mean_lag = np.array([p.lag_days for p in payers])[payer]
    u = rng.random(count)
    outcome = np.select(
        [u < 0.01, u < 0.01 + denial_rate, u < 0.06 + denial_rate], [O_REJECTED, O_DENIED, O_PARTIAL], O_PAID
    )
    rejected = outcome == O_REJECTED
    accepted = np.where(rejected, NONE, daytime(rng, day + 1))
    adjudicated = np.where(
        rejected, daytime(rng, day + rng.integers(1, 4, count)), daytime(rng, day + _lag(rng, mean_lag, count) + 1)
    )

    denial = np.where(
        outcome == O_DENIED, pick(rng, np.array([w for _, w, _ in coding.DENIAL_CODES], float), count), NONE
    )
    action = np.array([a for _, _, a in coding.DENIAL_CODES])[np.maximum(denial, 0)]
    resubmit_chance = np.select([action == "fix", action == "appeal"], [0.8, 0.5], 0.08)
    denied = outcome == O_DENIED
    retried = rejected | (denied & (rng.random(count) < resubmit_chance))
    appealed = denied & retried & (action == "appeal")
    adjudicated_day = adjudicated // DAY
    resubmitted = np.where(
        retried, daytime(rng, adjudicated_day + np.where(rejected, 1, rng.integers(3, 26, count))), NONE
    )
    second = daytime(rng, resubmitted // DAY + _lag(rng, mean_lag, count))
    second_paid = retried & (rejected | (rng.random(count) < 0.85))
    settled = np.select([outcome <= O_PARTIAL, second_paid], [adjudicated, second], NONE)
    written_off = np.select(
        [denied & ~retried, retried & ~second_paid],
        [daytime(rng, adjudicated_day + rng.integers(45, 121, count)), second],
        NONE,
    )
    return Claims(
        visit=visit,
        payer=payer,
        billed=np.rint(billed_by_visit[visit]).astype(np.int64),
        submitted=submitted,
        accepted=accepted,
        adjudicated=adjudicated,
        outcome=outcome,
        denial=denial,
        resubmitted=resubmitted,
        appealed=appealed,
        settled=settled,
        written_off=written_off,
    )


def claim_rows(
    setup: Setup,
    period: Period,
    claims: Claims,
    claim_id: pa.Array,
    visits: Visits,
    mrn: pa.Array,
    provider_ids: list[str],
    payer_ids: list[str],
) -> Rows:
    """One row per claim and month in which its status changed, with the status at month end."""
    count = len(claims)
    final_status = np.where(
        claims.settled != NONE, np.where(claims.outcome == O_PARTIAL, PARTIALLY_PAID, PAID), WRITTEN_OFF
    )
    first_status = np.select([claims.outcome == O_PAID, claims.outcome == O_PARTIAL], [PAID, PARTIALLY_PAID], DENIED)
    # Events in time order: submitted, accepted, first decision, resubmitted, final.
    when = np.stack(
        [
            claims.submitted,
            claims.accepted,
            claims.adjudicated,
            claims.resubmitted,
            np.where(claims.resubmitted != NONE, np.maximum(claims.settled, claims.written_off), claims.written_off),
        ],
        axis=1,
    )
    status = np.stack(
        [
            np.full(count, SUBMITTED),
            np.full(count, ACCEPTED),
            first_status,
            np.where(claims.appealed, APPEALED, SUBMITTED),
            final_status,
        ],
        axis=1,
    )
    retried = (claims.resubmitted != NONE) & ~claims.appealed
    happened = (when != NONE) & (when <= period.last_second)
    claim, step = np.nonzero(happened)
    month = period.batch_of_seconds(when[claim, step])
    last_in_month = np.r_[(claim[1:] != claim[:-1]) | (month[1:] != month[:-1]), True]
    claim, step, month = claim[last_in_month], step[last_in_month], month[last_in_month]
    order = np.lexsort((claim, when[claim, step]))
    claim, step, month = claim[order], step[order], month[order]
    decided = step >= 2
    visit = claims.visit[claim]
    columns = {
        "practice_id": constant(setup.practice_id, claim.size),
        "claim_id": claim_id.take(pa.array(claim)),
        "encounter_id": visits.encounter_id.take(pa.array(visit)),
        "patient_id": mrn.take(pa.array(visits.patient[visit])),
        "payer_id": take_strings(payer_ids, claims.payer[claim]),
        "provider_id": take_strings(provider_ids, visits.provider[visit]),
        "submitted_at": column(claims.submitted[claim]),
        "billed_amount": column(claims.billed[claim]),
        "claim_status": take_strings(STATUS, status[claim, step]),
        "first_adjudicated_at": column(claims.adjudicated[claim], decided),
        "first_pass_outcome": column(np.array(OUTCOME)[claims.outcome[claim]], decided),
        "resubmissions": column((retried[claim] & (step >= 3)).astype(np.int64)),
    }
    return Rows(columns, month, claim.astype(np.int64))


def claim_ids(claims: Claims) -> pa.Array:
    return ids("CLM", np.arange(len(claims), dtype=np.int64) + 1, 8)
