"""The patient roster: who is registered, how often they come, and their identifiers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from practicelake.synth.catalog import EMAIL_DOMAINS, FEMALE_NAMES, MALE_NAMES, PATIENT_NOTES, PATIENT_SURNAMES
from practicelake.synth.formatting import ids
from practicelake.synth.frame import Bools, Floats, Ints, Period, Rows, column, constant, pick, take_strings
from practicelake.synth.organisation import Setup

FIRST_NAMES = FEMALE_NAMES + MALE_NAMES
YEAR = 365.25
# (youngest, oldest, share) of registered patients by age at the start of the period.
AGE_BANDS = ((0.1, 5, 0.06), (5, 18, 0.12), (18, 35, 0.19), (35, 50, 0.2), (50, 65, 0.2), (65, 80, 0.15),
             (80, 90, 0.055), (90, 104, 0.015))  # fmt: skip


@dataclass(frozen=True)
class Roster:
    """One entry per patient, in no particular order."""

    age: Floats  # years, at the start of the period
    birth_day: Ints
    sex: Ints  # female, male, other, unknown
    first_name: Ints  # into FIRST_NAMES
    payer: Ints  # into the region's payers
    visit_weight: Floats  # relative propensity to book
    no_show: Floats  # log-odds shift of not showing up; a few patients repeatedly miss

    def __len__(self) -> int:
        return len(self.age)


def build_roster(rng: np.random.Generator, setup: Setup, period: Period, count: int) -> Roster:
    band = pick(rng, np.array([b[2] for b in AGE_BANDS]), count)
    low, high = np.array([b[0] for b in AGE_BANDS])[band], np.array([b[1] for b in AGE_BANDS])[band]
    age = low + rng.random(count) * (high - low)
    birth_day = period.first_day - np.rint(age * YEAR).astype(np.int64)
    sex = pick(rng, np.array([0.51, 0.47, 0.01, 0.01]), count)
    male = (sex == 1) | ((sex > 1) & (rng.random(count) < 0.5))
    first_name = rng.integers(0, len(FEMALE_NAMES), count) + np.where(male, len(FEMALE_NAMES), 0)
    payers = setup.region.payers
    older = age >= 65
    payer = np.where(
        older,
        pick(rng, np.array([p.share_over_65 for p in payers]), count),
        pick(rng, np.array([p.share_under_65 for p in payers]), count),
    )
    weight = rng.gamma(0.9, 1.0, count) * (1 + 0.6 * older + 0.3 * (age < 5))
    no_show = rng.normal(0, 0.6, count) + 2.2 * (rng.random(count) < 0.04) - 0.3 * older
    return Roster(age, birth_day, sex, first_name.astype(np.int64), payer, weight, no_show)


def _digits(rng: np.random.Generator, count: int, width: int) -> pa.Array:
    return ids("", rng.integers(0, 10**width, count), width)


def _phones(rng: np.random.Generator, setup: Setup, count: int) -> pa.Array:
    region = setup.region
    prefix = take_strings(region.phone_prefixes, rng.integers(0, len(region.phone_prefixes), count))
    if region.phone_style == "us":
        exchange = ids("", rng.integers(200, 1000, count), 3)
        return pc.binary_join_element_wise("(", prefix, ") ", exchange, "-", _digits(rng, count, 4), "")
    if region.phone_style == "uk":
        return pc.binary_join_element_wise("+44 ", prefix, " ", _digits(rng, count, 6), "")
    return pc.binary_join_element_wise("+27 ", prefix, " ", _digits(rng, count, 3), " ", _digits(rng, count, 4), "")


def free_text(rng: np.random.Generator, templates: tuple[str, ...], first: pa.Array, share: float) -> pa.Array:
    """Free text from templates, with the patient's first name where the template names them."""
    count = len(first)
    chosen = rng.integers(0, len(templates), count)
    parts = [[*t.split("{first}"), ""] for t in templates]
    before = take_strings([p[0] for p in parts], chosen)
    after = take_strings([p[1] for p in parts], chosen)
    named = pa.array(np.array(["{first}" in t for t in templates])[chosen])
    text = pc.binary_join_element_wise(before, pc.if_else(named, first, ""), after, "")
    return pc.if_else(pa.array(rng.random(count) < share), text, pa.scalar(None, pa.string()))


def patient_rows(
    rng: np.random.Generator, setup: Setup, period: Period, roster: Roster, registered: Ints, payer_ids: list[str]
) -> tuple[Rows, pa.Array]:
    """The patients export in registration order, and each patient's MRN by roster index."""
    count = len(roster)
    order = np.lexsort((np.arange(count), registered))
    rank = np.empty(count, dtype=np.int64)
    rank[order] = np.arange(count)
    mrn = ids("MRN", 10_000_000 + 1_000_000 * int(rng.integers(0, 40)) + rank * 3 + rng.integers(0, 3, count), 8)

    region = setup.region
    first = take_strings(FIRST_NAMES, roster.first_name)
    last = take_strings(PATIENT_SURNAMES, rng.integers(0, len(PATIENT_SURNAMES), count))
    handle = pc.replace_substring_regex(pc.utf8_lower(pc.binary_join_element_wise(first, last, ".")), "[ ']", "")
    domain = take_strings(EMAIL_DOMAINS, rng.integers(0, len(EMAIL_DOMAINS), count))
    email = pc.binary_join_element_wise(handle, _digits(rng, count, 2), "@", domain, "")
    has_email = rng.random(count) < np.where(roster.age >= 80, 0.3, 0.7)
    street = take_strings(region.streets, rng.integers(0, len(region.streets), count))
    house = pa.array(rng.integers(1, 250, count)).cast(pa.string())
    unit = pc.binary_join_element_wise("Unit ", pa.array(rng.integers(1, 40, count)).cast(pa.string()), ", ", "")
    address = pc.binary_join_element_wise(
        pc.if_else(pa.array(rng.random(count) < 0.1), unit, ""), house, " ", street, ""
    )
    home = rng.integers(0, len(region.homes), count)
    self_pay = np.array([p.kind == "self_pay" for p in region.payers])[roster.payer]
    member = ids("MBR", rng.integers(0, 10**9, count), 9)
    sexes = list(setup.vocabulary.sexes)

    def null_unless(values: pa.Array, keep: Bools) -> pa.Array:
        return pc.if_else(pa.array(keep), values, pa.scalar(None, pa.string()))

    columns = {
        "practice_id": constant(setup.practice_id, count),
        "patient_id": mrn,
        "first_name": first,
        "last_name": last,
        "date_of_birth": column(roster.birth_day),
        "sex": take_strings(sexes, roster.sex),
        "phone": null_unless(_phones(rng, setup, count), rng.random(count) < 0.93),
        "email": null_unless(email, has_email),
        "address_line": address,
        "city": take_strings([h[0] for h in region.homes], home),
        "postal_code": take_strings([h[1] for h in region.homes], home),
        "member_number": null_unless(member, ~self_pay),
        "primary_payer_id": take_strings(payer_ids, roster.payer),
        "registered_on": column(registered),
        "notes": free_text(rng, PATIENT_NOTES, first, 0.12),
    }
    taken = pa.array(order)
    rows = Rows({k: v.take(taken) for k, v in columns.items()}, period.batch_of_days(registered[order]), order)
    return rows, mrn
