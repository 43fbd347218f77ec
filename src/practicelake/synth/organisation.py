"""The practice, its locations, providers and payers, as the first batch exports them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from practicelake.synth.catalog import LOCATION_NAMES, PROVIDER_SURNAMES, Region
from practicelake.synth.coding import Vocabulary
from practicelake.synth.frame import Bools, Floats, Ints, Period, Rows, column

NEVER = 10**9  # a day number no period reaches


@dataclass(frozen=True)
class Setup:
    """What is decided about a practice before its data is drawn."""

    index: int
    practice_id: str
    name: str
    region: Region
    vocabulary: Vocabulary
    providers: int
    appointments: int  # over the whole period


@dataclass(frozen=True)
class Staff:
    """Providers, one entry per provider, in provider-id order."""

    ids: list[str]
    fte: Floats  # at the start of the period
    fte_after: Floats  # from change_day on
    change_day: Ints
    leave_day: Ints  # first day no longer at the practice
    workdays: Bools  # (providers, 7): weekdays worked at the start, Monday first
    workdays_after: Bools
    slot_minutes: Ints
    session_start: Ints  # minutes of the day
    home_location: Ints
    away_weekday: Ints  # weekday spent at the other location, -1 when there is one location


@dataclass(frozen=True)
class Organisation:
    staff: Staff
    location_ids: list[str]
    payer_ids: list[str]
    rows: dict[str, Rows]


# How likely a part-time provider is to work each weekday, Monday first: Mondays are busiest.
WEEKDAY_PREFERENCE = (1.6, 1.2, 1.0, 1.1, 0.8)


def _workdays(rng: np.random.Generator, fte: Floats) -> Bools:
    days = np.zeros((len(fte), 7), dtype=np.bool_)
    preference = np.array(WEEKDAY_PREFERENCE) / sum(WEEKDAY_PREFERENCE)
    for p, value in enumerate(fte):
        count = int(np.clip(round(value * 5), 1, 5))
        days[p, rng.choice(5, count, replace=False, p=preference)] = True
    return days


def build_staff(rng: np.random.Generator, setup: Setup, period: Period, locations: int) -> Staff:
    n = setup.providers
    fte = rng.choice(np.array([1.0, 1.0, 1.0, 0.8, 0.8, 0.6, 0.5]), n)
    fte_after = fte.copy()
    change_day = np.full(n, NEVER, dtype=np.int64)
    leave_day = np.full(n, NEVER, dtype=np.int64)
    if period.months >= 6:
        changer = int(rng.integers(n))
        month = int(rng.integers(3, period.months - 2))
        change_day[changer] = period.month_start(month)
        fte_after[changer] = 0.8 if fte[changer] >= 0.9 else 1.0
        if n >= 4 and rng.random() < 0.5:
            leaver = (changer + 1 + int(rng.integers(n - 1))) % n
            leaving = int(rng.integers(period.months // 2, period.months - 1))
            leave_day[leaver] = period.month_start(leaving) + int(rng.integers(0, 27))
    workdays = _workdays(rng, fte)
    workdays_after = workdays.copy()
    for p in np.flatnonzero(fte_after != fte):
        workdays_after[p] = _workdays(rng, fte_after[p : p + 1])[0]
    away = np.where(rng.random(n) < 0.5, rng.integers(1, 5, n), -1) if locations > 1 else np.full(n, -1)
    return Staff(
        ids=[f"PRV{p + 1:04d}" for p in range(n)],
        fte=fte,
        fte_after=fte_after,
        change_day=change_day,
        leave_day=leave_day,
        workdays=workdays,
        workdays_after=workdays_after,
        slot_minutes=rng.choice(np.array([10, 15, 15, 15, 20]), n).astype(np.int64),
        session_start=rng.choice(np.array([450, 480, 480, 510]), n).astype(np.int64),
        home_location=np.arange(n, dtype=np.int64) % locations,
        away_weekday=away.astype(np.int64),
    )


def build_organisation(rng: np.random.Generator, setup: Setup, period: Period) -> Organisation:
    region = setup.region
    pid = setup.practice_id
    locations = 1 if setup.providers < 4 else 2
    staff = build_staff(rng, setup, period, locations)
    location_ids = [f"LOC{i + 1:02d}" for i in range(locations)]
    payer_ids = [f"PYR{i + 1:03d}" for i in range(len(region.payers))]

    def rows(data: dict[str, pa.Array], batch: Ints | None = None, key: Ints | None = None) -> Rows:
        n = len(next(iter(data.values())))
        batch = np.zeros(n, dtype=np.int64) if batch is None else batch
        key = np.arange(n, dtype=np.int64) if key is None else key
        return Rows({"practice_id": pa.array([pid] * n), **data}, batch, key)

    first = period.first_day
    opened = first - rng.integers(400, 9000, locations)
    # A provider row is re-exported in the batch its FTE changes or the provider leaves.
    changed = np.flatnonzero(staff.change_day < NEVER)
    left = np.flatnonzero(staff.leave_day < NEVER)
    provider = np.concatenate([np.arange(setup.providers), changed, left])
    fte = np.concatenate([staff.fte, staff.fte_after[changed], staff.fte_after[left]])
    active = np.concatenate([np.ones(setup.providers + len(changed), dtype=np.bool_), np.zeros(len(left), np.bool_)])
    when = np.concatenate([np.full(setup.providers, first), staff.change_day[changed], staff.leave_day[left]])
    order = np.lexsort((provider, when))
    initials = [chr(65 + int(i)) for i in rng.integers(0, 26, setup.providers)]
    surnames = np.resize(rng.permutation(len(PROVIDER_SURNAMES)), setup.providers)
    names = [f"Dr {initials[p]}. {PROVIDER_SURNAMES[int(surnames[p])]}" for p in range(setup.providers)]
    specialty = [
        region.specialties[0 if p % 3 else int(rng.integers(len(region.specialties)))] for p in range(setup.providers)
    ]
    provider, fte, active, when = provider[order], fte[order], active[order], when[order]
    return Organisation(
        staff=staff,
        location_ids=location_ids,
        payer_ids=payer_ids,
        rows={
            "practices": rows(
                {
                    "name": pa.array([setup.name]),
                    "time_zone": pa.array([region.time_zone]),
                    "currency": pa.array([region.currency]),
                    "country": pa.array([region.country]),
                }
            ),
            "locations": rows(
                {
                    "location_id": pa.array(location_ids),
                    "name": pa.array(list(LOCATION_NAMES[:locations])),
                    "postal_code": pa.array(list(region.location_postal_codes[:locations])),
                    "opened_on": column(opened.astype(np.int64)),
                }
            ),
            "providers": rows(
                {
                    "provider_id": pa.array([staff.ids[int(p)] for p in provider]),
                    "display_name": pa.array([names[int(p)] for p in provider]),
                    "specialty": pa.array([specialty[int(p)] for p in provider]),
                    "fte": column(np.rint(fte * 100).astype(np.int64)),
                    "active": column(active),
                },
                period.batch_of_days(when.astype(np.int64)),
                provider.astype(np.int64),
            ),
            "payers": rows(
                {
                    "payer_id": pa.array(payer_ids),
                    "name": pa.array([p.name for p in region.payers]),
                    "payer_type": pa.array([p.payer_type for p in region.payers]),
                }
            ),
        },
    )
