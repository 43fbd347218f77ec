"""Provider schedules: one bookable session per provider and working day."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from practicelake.synth.formatting import ids
from practicelake.synth.frame import Bools, Ints, Period, Rows, column, constant, pick, take_strings
from practicelake.synth.organisation import Organisation, Setup

FULL_DAY = 510  # minutes in a weekday session
SATURDAY = (480, 720)


@dataclass(frozen=True)
class Sessions:
    """One entry per schedule row, in (day, provider) order."""

    provider: Ints
    location: Ints
    day: Ints
    start: Ints  # minutes of the day
    end: Ints
    slot_minutes: Ints
    held: Ints

    @property
    def bookable(self) -> Ints:
        slots: Ints = np.maximum((self.end - self.start) // self.slot_minutes - self.held, 1)
        return slots


def calendar(period: Period) -> tuple[Ints, Ints, Ints]:
    """Every day of the period with its weekday (Monday 0) and month of the year (1 to 12)."""
    days = np.arange(period.first_day, period.last_day + 1, dtype=np.int64)
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return days, (days + 3) % 7, months % 12 + 1


def _leave(rng: np.random.Generator, providers: int, month: Ints, southern: bool) -> Bools:
    """About three blocks of one to two weeks' leave a year per provider, mostly in the holidays."""
    days = month.size
    summer = (12, 1) if southern else (7, 8)
    weight = 1.0 + 2.0 * np.isin(month, (12, 1)) + 1.0 * np.isin(month, summer)
    blocks = max(1, round(3 * days / 365))
    provider = np.repeat(np.arange(providers), blocks)
    start = pick(rng, weight, provider.size)
    stop = np.minimum(start + rng.integers(5, 15, provider.size), days)
    edges = np.zeros((providers, days + 1), dtype=np.int64)
    np.add.at(edges, (provider, start), 1)
    np.add.at(edges, (provider, stop), -1)
    return np.cumsum(edges, axis=1)[:, :days] > 0


def build_sessions(rng: np.random.Generator, setup: Setup, period: Period, org: Organisation) -> tuple[Sessions, Rows]:
    staff = org.staff
    days, weekday, month = calendar(period)
    dates = days.astype("datetime64[D]")
    day_of_month = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    holiday = np.isin(month * 100 + day_of_month, [m * 100 + d for m, d in setup.region.holidays])
    present = (days[None, :] < staff.leave_day[:, None]) & ~holiday[None, :]
    present &= ~_leave(rng, setup.providers, month, setup.region.southern)
    changed = days[None, :] >= staff.change_day[:, None]
    works = np.where(changed, staff.workdays_after[:, weekday], staff.workdays[:, weekday]) & present
    saturdays = np.flatnonzero(weekday == 5)
    if setup.region.saturday_clinic and saturdays.size:
        # One provider a Saturday morning, on a rota.
        rota = ((days[saturdays] - days[0]) // 7 + int(rng.integers(setup.providers))) % setup.providers
        works[rota, saturdays] = present[rota, saturdays]

    day_index, provider = np.nonzero(works.T)  # (day, provider) order
    provider = provider.astype(np.int64)
    day = days[day_index]
    saturday = weekday[day_index] == 5
    start = np.where(saturday, SATURDAY[0], staff.session_start[provider])
    end = np.where(saturday, SATURDAY[1], start + FULL_DAY)
    home = staff.home_location[provider]
    away = staff.away_weekday[provider] == weekday[day_index]
    location = np.where(away, (home + 1) % len(org.location_ids), home)
    held = np.where(saturday, 0, np.minimum(rng.poisson(0.8, day.size), 4))
    sessions = Sessions(provider, location, day, start, end, staff.slot_minutes[provider], held)
    n = day.size
    rows = Rows(
        {
            "practice_id": constant(setup.practice_id, n),
            "schedule_id": ids("SCH", np.arange(n, dtype=np.int64) + 1, 7),
            "provider_id": take_strings(staff.ids, provider),
            "location_id": take_strings(org.location_ids, location),
            "schedule_date": column(day),
            "start_time": column(start),
            "end_time": column(end),
            "slot_minutes": column(sessions.slot_minutes),
            "held_slots": column(held.astype(np.int64)),
        },
        period.batch_of_days(day),
        np.arange(n, dtype=np.int64),
    )
    return sessions, rows
