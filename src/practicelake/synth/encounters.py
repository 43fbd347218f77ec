"""Encounters: the visits that took place, with their diagnoses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from practicelake.synth import coding
from practicelake.synth.appointments import FULFILLED, Bookings, month_of_year
from practicelake.synth.catalog import ENCOUNTER_NOTES, FEMALE_NAMES, MALE_NAMES
from practicelake.synth.formatting import ids
from practicelake.synth.frame import DAY, Bools, Floats, Ints, Period, Rows, column, constant, take_strings
from practicelake.synth.organisation import Setup
from practicelake.synth.patients import Roster, free_text

RESPIRATORY, ACUTE, CHRONIC, PREVENTIVE = 0, 1, 2, 3
# Respiratory presentations by month of the year, northern hemisphere.
RESPIRATORY_SEASON = np.array([1.8, 1.6, 1.1, 0.8, 0.6, 0.5, 0.5, 0.5, 0.7, 1.0, 1.3, 1.6])
FLU_MONTHS_NORTH = (10, 11, 12, 1)
FLU_MONTHS_SOUTH = (4, 5, 6, 7)


@dataclass(frozen=True)
class Visits:
    """One entry per encounter, in date order."""

    encounter_id: pa.Array
    patient: Ints
    provider: Ints
    day: Ints
    leave: Ints  # when the patient left: seconds
    age: Floats
    new: Bools
    category: Ints
    primary: Ints  # into coding.ACUTE etc., per category
    vaccine: Bools

    def __len__(self) -> int:
        return len(self.day)


def draw_visits(
    rng: np.random.Generator, setup: Setup, period: Period, bookings: Bookings, roster: Roster
) -> tuple[Visits, Ints]:
    """The encounters, and the index of the appointment each one fulfilled."""
    seen = np.flatnonzero(bookings.status == FULFILLED)
    count = seen.size
    patient = bookings.patient[seen]
    day = bookings.start[seen] // DAY
    month = month_of_year(day)
    season_month = (month + 5) % 12 if setup.region.southern else month - 1
    age = roster.age[patient] + (day - period.first_day) / 365.25
    weights = np.stack(
        [
            0.2 * RESPIRATORY_SEASON[season_month],
            np.full(count, 0.3),
            np.where(age < 40, 0.12, 0.42),
            np.full(count, 0.12),
        ],
        axis=1,
    )
    cumulative = np.cumsum(weights, axis=1)
    category = (rng.random(count)[:, None] * cumulative[:, -1:] > cumulative).sum(axis=1).astype(np.int64)
    pools = (coding.RESPIRATORY, coding.ACUTE, coding.CHRONIC, ("",))
    size = np.array([len(p) for p in pools])[category]
    primary = (rng.random(count) * size).astype(np.int64)
    flu_months = FLU_MONTHS_SOUTH if setup.region.southern else FLU_MONTHS_NORTH
    vaccine = rng.random(count) < np.where(np.isin(month, flu_months), 0.22, 0.02)
    visits = Visits(
        encounter_id=ids("ENC", np.arange(count, dtype=np.int64) + 1, 8),
        patient=patient,
        provider=bookings.provider[seen],
        day=day,
        leave=bookings.visit_end[seen],
        age=age,
        new=bookings.new[seen],
        category=category,
        primary=primary,
        vaccine=vaccine,
    )
    return visits, seen


def _diagnoses(rng: np.random.Generator, visits: Visits, dots: bool) -> pa.Array:
    count = len(visits)
    table = [*coding.RESPIRATORY, *coding.ACUTE, *coding.CHRONIC, coding.PREVENTIVE_ADULT, coding.PREVENTIVE_CHILD]
    offsets = np.array([0, len(coding.RESPIRATORY), len(coding.RESPIRATORY) + len(coding.ACUTE), len(table) - 2])
    preventive = offsets[PREVENTIVE] + (visits.age < 18)
    primary = np.where(visits.category == PREVENTIVE, preventive, offsets[visits.category] + visits.primary)
    chronic = len(coding.CHRONIC)
    second = offsets[CHRONIC] + rng.integers(0, chronic, count)
    third = offsets[CHRONIC] + (second - offsets[CHRONIC] + rng.integers(1, chronic, count)) % chronic
    has_second = (rng.random(count) < np.where(visits.age >= 50, 0.5, 0.15)) & (second != primary)
    has_third = has_second & (rng.random(count) < 0.12) & (third != primary)
    codes = pa.array([*table, coding.VACCINATION])
    null = pa.scalar(None, pa.string())
    parts = [
        codes.take(pa.array(primary)),
        pc.if_else(pa.array(has_second), codes.take(pa.array(second)), null),
        pc.if_else(pa.array(has_third), codes.take(pa.array(third)), null),
        pc.if_else(pa.array(visits.vaccine), coding.VACCINATION, null),
    ]
    joined = pc.binary_join_element_wise(*parts, "|", null_handling="skip")
    return joined if dots else pc.replace_substring(joined, ".", "")


def encounter_rows(
    rng: np.random.Generator,
    setup: Setup,
    period: Period,
    visits: Visits,
    appointment_id: pa.Array,
    mrn: pa.Array,
    first_name: Ints,
    provider_ids: list[str],
    location: pa.Array,
) -> Rows:
    count = len(visits)
    place = np.where(rng.random(count) < 0.06, 1 + (rng.random(count) < 0.5), 0)
    first = take_strings(FEMALE_NAMES + MALE_NAMES, first_name[visits.patient])
    columns = {
        "practice_id": constant(setup.practice_id, count),
        "encounter_id": visits.encounter_id,
        "appointment_id": appointment_id,
        "patient_id": mrn.take(pa.array(visits.patient)),
        "provider_id": take_strings(provider_ids, visits.provider),
        "location_id": location,
        "encounter_date": column(visits.day),
        "place_of_service": take_strings(coding.PLACES_OF_SERVICE, place),
        "diagnosis_codes": _diagnoses(rng, visits, setup.vocabulary.icd_dots),
        "notes": free_text(rng, ENCOUNTER_NOTES, first, 0.15),
    }
    return Rows(columns, period.batch_of_days(visits.day), np.arange(count, dtype=np.int64))
