"""Charges: the procedure lines billed for each visit, at the practice's fee schedule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from practicelake.synth import coding
from practicelake.synth.encounters import CHRONIC, PREVENTIVE, RESPIRATORY, Visits
from practicelake.synth.frame import Bools, Ints, Period, Rows, column, constant, pick, take_strings
from practicelake.synth.organisation import Setup

CODE = {code: i for i, code in enumerate(coding.PROCEDURES)}
FAMILY = {code: family for family in (coding.NEW_VISIT_LEVELS, coding.FOLLOW_UP_LEVELS) for code, _ in family}


@dataclass(frozen=True)
class Lines:
    """One entry per charge line, in encounter then line order."""

    visit: Ints
    code: Ints  # into coding.PROCEDURES
    units: Ints
    amount: Ints  # hundredths, all units
    posted: Ints  # day
    wrong_code: Ints  # the code first exported when later corrected, else -1

    def __len__(self) -> int:
        return len(self.visit)


def fee_schedule(rng: np.random.Generator, setup: Setup) -> Ints:
    """The practice's fee per procedure, in hundredths, rounded to whole currency units."""
    markup = rng.uniform(0.9, 1.25)
    fees = np.array([coding.FEES[c] for c in coding.PROCEDURES], dtype=np.float64)
    return np.rint(fees * setup.region.fee_factor * markup).astype(np.int64) * 100


def _levels(rng: np.random.Generator, levels: tuple[tuple[str, float], ...], count: int) -> Ints:
    chosen = pick(rng, np.array([share for _, share in levels]), count)
    return np.array([CODE[code] for code, _ in levels])[chosen]


def _visit_code(rng: np.random.Generator, visits: Visits) -> Ints:
    count = len(visits)
    preventive = np.select(
        [visits.age < 18, visits.age < 40, visits.age < 65],
        [CODE["99393"], CODE["99395"], CODE["99396"]],
        CODE["99397"],
    )
    visit = np.where(
        visits.new, _levels(rng, coding.NEW_VISIT_LEVELS, count), _levels(rng, coding.FOLLOW_UP_LEVELS, count)
    )
    return np.where(visits.category == PREVENTIVE, preventive, visit)


def draw_lines(rng: np.random.Generator, setup: Setup, period: Period, visits: Visits, fees: Ints) -> Lines:
    count = len(visits)
    u = rng.random

    def chance(p: npt.NDArray[np.floating[Any]] | float) -> Bools:
        return np.asarray(u(count) < p)

    blood = chance(0.1 + 0.1 * (visits.category == CHRONIC) + 0.15 * (visits.category == PREVENTIVE))
    respiratory = visits.category == RESPIRATORY
    injection = chance(0.02)
    joint = chance(0.01 * (1 + (visits.category == CHRONIC)))
    add_ons: list[tuple[str, Bools]] = [
        ("36415", blood),
        ("85025", blood & chance(0.6)),
        ("80053", blood & chance(0.5)),
        ("83036", blood & chance(0.3)),
        ("93000", chance(0.03 + 0.04 * (visits.age >= 50))),
        ("90686", visits.vaccine),
        ("90471", visits.vaccine),
        ("87880", respiratory & chance(0.12)),
        ("71046", respiratory & chance(0.03)),
        ("81002", chance(0.05)),
        ("96372", injection),
        ("20610", joint),
    ]
    visit_code = _visit_code(rng, visits)
    visit_idx = [np.arange(count, dtype=np.int64)] + [np.flatnonzero(mask) for _, mask in add_ons]
    codes = [visit_code] + [np.full(int(mask.sum()), CODE[c]) for c, mask in add_ons]
    line_no = [np.full(v.size, i) for i, v in enumerate(visit_idx)]
    visit, code, line = np.concatenate(visit_idx), np.concatenate(codes), np.concatenate(line_no)
    order = np.lexsort((line, visit))
    visit, code = visit[order], code[order].astype(np.int64)
    units = np.where((code == CODE["96372"]) & (u(visit.size) < 0.3), 2, 1)
    r = u(visit.size)
    lag = np.select([r < 0.7, r < 0.95], [0, rng.integers(1, 4, visit.size)], rng.integers(4, 15, visit.size))
    # A few visit codes are first keyed at the wrong level and corrected a month or two later.
    is_visit_code = line[order] == 0
    fixable = is_visit_code & np.isin(code, [CODE[c] for c in FAMILY])
    fixable &= period.batch_of_days(visits.day[visit]) < period.months - 1
    wrong = np.full(visit.size, -1, dtype=np.int64)
    for index in np.flatnonzero(fixable & (u(visit.size) < 0.005)):
        family = [CODE[c] for c, _ in FAMILY[coding.PROCEDURES[code[index]]]]
        at = family.index(int(code[index]))
        wrong[index] = family[at + 1] if at + 1 < len(family) else family[at - 1]
    posted = np.minimum(visits.day[visit] + lag, period.last_day)  # nothing is exported before it is posted
    return Lines(visit, code, units, fees[code] * units, posted, wrong)


def charge_rows(
    rng: np.random.Generator,
    setup: Setup,
    period: Period,
    lines: Lines,
    visits: Visits,
    mrn: pa.Array,
    provider_ids: list[str],
    fees: Ints,
    charge_id: pa.Array,
) -> Rows:
    count = len(lines)
    visit = pa.array(lines.visit)
    with_procedure = np.zeros(len(visits), dtype=np.bool_)
    with_procedure[lines.visit[np.isin(lines.code, [CODE["96372"], CODE["20610"]])]] = True
    # Modifier 25: a separately billable visit on the day of a procedure.
    modifier = with_procedure[lines.visit] & np.isin(lines.code, [CODE[c] for c in FAMILY])
    first_code = np.where(lines.wrong_code >= 0, lines.wrong_code, lines.code)
    columns = {
        "practice_id": constant(setup.practice_id, count),
        "charge_id": charge_id,
        "encounter_id": visits.encounter_id.take(visit),
        "patient_id": mrn.take(pa.array(visits.patient[lines.visit])),
        "provider_id": take_strings(provider_ids, visits.provider[lines.visit]),
        "procedure_code": take_strings(coding.PROCEDURES, first_code),
        "modifier": pc.if_else(pa.array(modifier), "25", pa.scalar(None, pa.string())),
        "units": column(lines.units),
        "amount": column(fees[first_code] * lines.units),
        "service_date": column(visits.day[lines.visit]),
        "posted_date": column(lines.posted),
    }
    batch = period.batch_of_days(visits.day[lines.visit])
    key = np.arange(count, dtype=np.int64)
    fixed = np.flatnonzero(lines.wrong_code >= 0)
    corrected = {k: v.take(pa.array(fixed)) for k, v in columns.items()}
    corrected["procedure_code"] = take_strings(coding.PROCEDURES, lines.code[fixed])
    corrected["amount"] = column(lines.amount[fixed])
    later = np.minimum(batch[fixed] + rng.integers(1, 3, fixed.size), period.months - 1)
    return Rows(
        {k: pa.concat_arrays([v, corrected[k]]) for k, v in columns.items()},
        np.concatenate([batch, later]),
        np.concatenate([key, key[fixed]]),
    )
