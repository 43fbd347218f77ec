"""Appointments: when they are booked, for whom, and what becomes of them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from practicelake.synth.catalog import APPOINTMENT_NOTES, FEMALE_NAMES, MALE_NAMES
from practicelake.synth.formatting import ids
from practicelake.synth.frame import DAY, Bools, Floats, Ints, Period, Rows, column, constant, take_strings
from practicelake.synth.organisation import Setup
from practicelake.synth.patients import Roster, free_text
from practicelake.synth.schedule import Sessions

FULFILLED, NO_SHOW, CANCELLED = 0, 1, 2
HOUR = 3600
WEEKDAY_DEMAND = np.array([1.25, 1.05, 1.0, 0.98, 0.9, 0.75, 0.3])
# Demand by month of the year: a winter respiratory peak and a December holiday dip.
NORTH_SEASON = np.array([1.2, 1.15, 1.05, 0.95, 0.95, 0.9, 0.85, 0.85, 1.0, 1.05, 1.1, 0.75])
SOUTH_SEASON = np.array([0.85, 0.95, 1.0, 1.0, 1.1, 1.2, 1.2, 1.1, 1.0, 0.95, 0.95, 0.75])


@dataclass(frozen=True)
class Bookings:
    """One entry per appointment, in start order. Times are seconds of local wall time."""

    patient: Ints
    provider: Ints
    location: Ints
    booked: Ints
    start: Ints
    duration: Ints  # minutes
    new: Bools
    status: Ints
    cancelled_at: Ints
    check_in: Ints
    visit_start: Ints
    visit_end: Ints
    stale: Bools  # first exported still 'booked', corrected in a later batch

    def __len__(self) -> int:
        return len(self.start)


def month_of_year(days: Ints) -> Ints:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1


def _expit(x: Floats) -> Floats:
    return 1.0 / (1.0 + np.exp(-x))


def _slots(rng: np.random.Generator, setup: Setup, period: Period, sessions: Sessions) -> tuple[Ints, Ints]:
    """Spread the practice's appointments over its sessions by capacity, weekday and season."""
    season = SOUTH_SEASON if setup.region.southern else NORTH_SEASON
    day_noise = rng.gamma(20.0, 1 / 20.0, period.last_day - period.first_day + 1)
    weight = (
        sessions.bookable
        * WEEKDAY_DEMAND[(sessions.day + 3) % 7]
        * season[month_of_year(sessions.day) - 1]
        * day_noise[sessions.day - period.first_day]
    )
    counts = rng.multinomial(setup.appointments, weight / weight.sum())
    cell = np.repeat(np.arange(len(counts)), counts)
    rank = np.arange(cell.size) - (np.cumsum(counts) - counts)[cell]
    slots = (sessions.end - sessions.start)[cell] // sessions.slot_minutes[cell]
    # Stratified over the session: no two appointments share a slot until the session is full.
    slot = ((rank + rng.random(cell.size)) * slots / counts[cell]).astype(np.int64)
    minute = sessions.start[cell] + slot * sessions.slot_minutes[cell]
    return cell, sessions.day[cell] * DAY + minute * 60


def draw_bookings(
    rng: np.random.Generator, setup: Setup, period: Period, sessions: Sessions, roster: Roster, new_share: float
) -> tuple[Bookings, Ints]:
    """The appointments, and each patient's registration day."""
    cell, start = _slots(rng, setup, period, sessions)
    order = np.argsort(start, kind="stable")
    cell, start = cell[order], start[order]
    count = start.size
    patient = np.searchsorted(np.cumsum(roster.visit_weight), rng.random(count) * roster.visit_weight.sum())
    patient = np.minimum(patient, len(roster) - 1).astype(np.int64)

    by_patient = np.lexsort((start, patient))
    first = by_patient[np.r_[True, patient[by_patient][1:] != patient[by_patient][:-1]]] if count else by_patient
    seen = patient[first]
    joins = rng.random(len(roster)) < 0.1  # registered during the period but not (yet) seen
    joins[seen] = rng.random(seen.size) < np.clip(new_share * count / max(seen.size, 1), 0.02, 0.9)
    new = np.zeros(count, dtype=np.bool_)
    new[first] = joins[seen]

    slot_minutes = sessions.slot_minutes[cell]
    duration = slot_minutes * np.where(new | (rng.random(count) < 0.12), 2, 1)
    same_day = rng.random(count) < 0.18
    lead = np.minimum(np.exp(rng.normal(2.2, 1.1, count)) * np.where(new, 1.4, 1.0), 180)
    lead_days = np.where(same_day, 0, np.maximum(np.ceil(lead), 1)).astype(np.int64)
    start_day = start // DAY
    booked = np.where(
        same_day,
        np.maximum(start - rng.integers(900, 5 * HOUR, count), start_day * DAY + 7 * HOUR),
        (start_day - lead_days) * DAY + rng.integers(27_000, 63_000, count),
    )

    # No-shows rise with lead time and differ by patient; cancellations rise with lead time.
    ahead = np.log1p((start - booked) / DAY)
    propensity = roster.no_show[patient]
    p_cancel = _expit(-2.6 + 0.3 * ahead + 0.25 * propensity)
    p_no_show = _expit(-3.6 + 0.5 * ahead + propensity + 0.3 * new)
    u = rng.random(count)
    status = np.where(u < p_cancel, CANCELLED, np.where(u < p_cancel + (1 - p_cancel) * p_no_show, NO_SHOW, FULFILLED))

    lead_seconds = start - booked
    late = (lead_seconds < DAY) | (rng.random(count) < 0.3)
    cancelled_at = np.where(
        late,
        start - rng.integers(HOUR, DAY, count),
        booked + (rng.random(count) * np.maximum(lead_seconds - DAY, 0)).astype(np.int64),
    )
    # Nobody cancels between midnight and six: such calls land the evening before.
    night = cancelled_at % DAY < 6 * HOUR
    cancelled_at = np.where(
        night, cancelled_at - cancelled_at % DAY - rng.integers(2 * HOUR, 4 * HOUR, count), cancelled_at
    )
    cancelled_at = np.maximum(cancelled_at, booked)

    check_in = start + np.clip(rng.normal(-360, 300, count), -1800, 1200).astype(np.int64)
    wait = np.minimum(rng.lognormal(np.log(12 * 60), 0.7, count), 3 * HOUR).astype(np.int64)
    visit_start = check_in + wait
    visit_end = visit_start + np.maximum(duration * 60 * rng.lognormal(0, 0.3, count), 180).astype(np.int64)

    fulfilled = status == FULFILLED
    stale = fulfilled & (period.batch_of_seconds(start) < period.months - 1) & (rng.random(count) < 0.005)
    bookings = Bookings(
        patient=patient,
        provider=sessions.provider[cell],
        location=sessions.location[cell],
        booked=booked,
        start=start,
        duration=duration,
        new=new,
        status=status,
        cancelled_at=np.where(status == CANCELLED, cancelled_at, -1),
        check_in=np.where(fulfilled, check_in, -1),
        visit_start=np.where(fulfilled, visit_start, -1),
        visit_end=np.where(fulfilled, visit_end, -1),
        stale=stale,
    )
    # A joining patient registers when booking their first appointment.
    first_booked = np.full(len(roster), period.last_day, dtype=np.int64)
    np.minimum.at(first_booked, patient, booked // DAY)
    return bookings, _registration(rng, period, roster, joins, seen, first_booked[seen])


def _registration(
    rng: np.random.Generator, period: Period, roster: Roster, joins: Bools, seen: Ints, first_booked: Ints
) -> Ints:
    count = len(roster)
    age_days = period.first_day - roster.birth_day
    before = period.first_day - rng.integers(1, np.maximum(np.minimum(15 * 365, age_days), 2))
    during = rng.integers(period.first_day, period.last_day + 1, count)
    during[seen] = first_booked
    return np.maximum(np.where(joins, during, before), roster.birth_day)


def appointment_ids(bookings: Bookings) -> pa.Array:
    """Ids in booking order, as a practice system hands them out."""
    rank = np.empty(len(bookings), dtype=np.int64)
    rank[np.lexsort((bookings.start, bookings.booked))] = np.arange(len(bookings))
    return ids("APT", rank + 1, 8)


def appointment_rows(
    rng: np.random.Generator,
    setup: Setup,
    period: Period,
    bookings: Bookings,
    appointment_id: pa.Array,
    mrn: pa.Array,
    first_name: Ints,
    provider_ids: list[str],
    location_ids: list[str],
) -> Rows:
    words = setup.vocabulary
    count = len(bookings)
    # Statuses as this system spells them; some systems name late cancellations apart.
    statuses = [words.fulfilled, words.noshow, words.cancelled, words.late_cancel, words.booked]
    late = (bookings.status == CANCELLED) & (bookings.start - bookings.cancelled_at < DAY)
    status_word = np.select([late, bookings.stale], [3, 4], bookings.status)
    fulfilled = (bookings.status == FULFILLED) & ~bookings.stale
    first = take_strings(FEMALE_NAMES + MALE_NAMES, first_name[bookings.patient])
    columns = {
        "practice_id": constant(setup.practice_id, count),
        "appointment_id": appointment_id,
        "patient_id": mrn.take(pa.array(bookings.patient)),
        "provider_id": take_strings(provider_ids, bookings.provider),
        "location_id": take_strings(location_ids, bookings.location),
        "booked_at": column(bookings.booked),
        "start_at": column(bookings.start),
        "duration_minutes": column(bookings.duration),
        "appointment_type": take_strings([words.follow_up, words.new], bookings.new.astype(np.int64)),
        "status": take_strings(statuses, status_word),
        "cancelled_at": column(bookings.cancelled_at, bookings.status == CANCELLED),
        "checked_in_at": column(bookings.check_in, fulfilled),
        "visit_start_at": column(bookings.visit_start, fulfilled),
        "visit_end_at": column(bookings.visit_end, fulfilled),
        "notes": free_text(rng, APPOINTMENT_NOTES, first, 0.08),
    }
    batch = period.batch_of_seconds(bookings.start)
    key = np.arange(count, dtype=np.int64)
    # The corrected rows follow in a later batch, now checked out, with the visit times.
    stale = np.flatnonzero(bookings.stale)
    corrected = {k: v.take(pa.array(stale)) for k, v in columns.items()}
    corrected["status"] = constant(words.fulfilled, stale.size)
    corrected["checked_in_at"] = column(bookings.check_in[stale])
    corrected["visit_start_at"] = column(bookings.visit_start[stale])
    corrected["visit_end_at"] = column(bookings.visit_end[stale])
    later = np.minimum(batch[stale] + rng.integers(1, 3, stale.size), period.months - 1)
    return Rows(
        {k: pa.concat_arrays([v, corrected[k]]) for k, v in columns.items()},
        np.concatenate([batch, later]),
        np.concatenate([key, key[stale]]),
    )
