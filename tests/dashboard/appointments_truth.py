"""The access and flow figures computed straight from the cleaned rows, in plain Python (and
DuckDB's percentile_cont over the values themselves), as the metric definitions read: the
check on the pages, independent of the curated models and of the pages' SQL."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from practicelake.access.principals import Principal
from practicelake.app import App
from practicelake.curate.snapshots import recorded_at
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.filters import Filters, Period, resolve
from site_lake import SiteLake

KEPT = {"arrived", "checked-in", "fulfilled"}
NOT_SCHEDULED = {"entered-in-error", "waitlist"}
PERCENTILES = """
select percentile_cont(0.5) within group (order by v) as p50, percentile_cont(0.9) within group (order by v) as p90
from (select unnest($values) as v)
"""


def owner(practice_id: str, role: str = "practice_owner") -> Principal:
    return Principal("olive", "user", MappingProxyType({practice_id: role}))


def context(app: App, site: SiteLake, principal: Principal, practice_id: str, filters: Filters) -> PageContext:
    stamps = recorded_at(app.catalog)
    return PageContext(
        reader=app.reader,
        principal=principal,
        practice_id=practice_id,
        practice=site.settings.practices[practice_id],
        filters=filters,
        period=resolve(filters, site.today),
        today=site.today,
        stamp=stamps.get,
    )


def percentiles(values: list[int]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    with duckdb.connect() as con:
        row = con.execute(PERCENTILES, {"values": values}).fetchone()
    assert row is not None
    return row[0], row[1]


def ratio(part: float | None, whole: float | None) -> float | None:
    return None if part is None or not whole else part / whole


@dataclass(frozen=True)
class Appointment:
    provider: str
    location: str | None
    patient: str
    status: str
    day: date
    hour: int | None
    lead_days: int | None
    duration: int
    late: bool
    booked_day: date | None
    cancelled_day: date | None
    check_in: datetime | None
    wait: int | None
    visit: int | None
    cycle: int | None

    @property
    def kept(self) -> bool:
        return self.status in KEPT

    @property
    def no_show(self) -> bool:
        return self.status == "noshow"

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"


@dataclass(frozen=True)
class Session:
    provider: str
    location: str | None
    day: date
    minutes: int
    slot_minutes: int
    slots: int
    held: int


def _minutes(first: datetime | None, last: datetime | None) -> int | None:
    """Whole minutes from one instant to the other, the seconds of the last minute dropped."""
    if first is None or last is None:
        return None
    return int((last - first).total_seconds()) // 60


class Truth:
    """One practice's appointments and schedule sessions, read from the cleaned zone."""

    def __init__(self, app: App, practice_id: str) -> None:
        zone = ZoneInfo(app.settings.practices[practice_id].time_zone)

        def local(instant: datetime | None) -> datetime | None:
            return None if instant is None else instant.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)

        rows = app.catalog.load_table("cleaned.appointment").scan().to_arrow().to_pylist()
        self.appointments: list[Appointment] = []
        for r in rows:
            if r["practice_id"] != practice_id or r["status"] in NOT_SCHEDULED:
                continue
            start, booked, cancelled = local(r["start_at"]), local(r["booked_at"]), local(r["cancelled_at"])
            assert start is not None
            late = False
            if r["status"] == "cancelled" and r["cancelled_at"] is not None:
                # Late: less than 24 hours before the start, as UTC instants; by the day alone
                # when the start's time is not known.
                if r["start_time_known"]:
                    late = r["cancelled_at"] > r["start_at"] - timedelta(hours=24)
                else:
                    assert cancelled is not None
                    late = cancelled.date() >= start.date()
            self.appointments.append(
                Appointment(
                    provider=r["provider_id"],
                    location=r["location_id"],
                    patient=r["patient_key"],
                    status=r["status"],
                    day=start.date(),
                    hour=start.hour if r["start_time_known"] else None,
                    lead_days=None if booked is None else (start.date() - booked.date()).days,
                    duration=r["duration_minutes"],
                    late=late,
                    booked_day=None if booked is None else booked.date(),
                    cancelled_day=None if cancelled is None else cancelled.date(),
                    check_in=local(r["checked_in_at"]),
                    wait=_minutes(r["checked_in_at"], r["visit_start_at"]),
                    visit=_minutes(r["visit_start_at"], r["visit_end_at"]),
                    cycle=_minutes(r["checked_in_at"], r["visit_end_at"]),
                )
            )
        sessions = app.catalog.load_table("cleaned.provider_schedule").scan().to_arrow().to_pylist()
        self.sessions = [
            Session(
                s["provider_id"],
                s["location_id"],
                s["schedule_date"],
                _clock_minutes(s),
                s["slot_minutes"],
                _clock_minutes(s) // s["slot_minutes"],
                min(s["held_slots"] or 0, _clock_minutes(s) // s["slot_minutes"]),
            )
            for s in sessions
            if s["practice_id"] == practice_id
        ]
        self.slot_length: dict[tuple[str, date], int] = {}
        for s in self.sessions:
            key = (s.provider, s.day)
            self.slot_length[key] = min(self.slot_length.get(key, s.slot_minutes), s.slot_minutes)

    def slots(self, a: Appointment) -> int | None:
        length = self.slot_length.get((a.provider, a.day))
        return None if length is None else math.ceil(a.duration / length)

    def chosen(self, period: Period, filters: Filters) -> list[Appointment]:
        return [
            a
            for a in self.appointments
            if period.start <= a.day <= period.end
            and filters.provider in (None, a.provider)
            and filters.location in (None, a.location)
        ]

    def counts(self, period: Period, filters: Filters) -> dict[str, float | None]:
        """Scheduled, kept, no-shows, late cancellations and the rates; all None without appointments."""
        rows = self.chosen(period, filters)
        names = ("scheduled", "kept", "no_shows", "late", "unresolved", "no_show_rate", "late_cancellation_rate")
        if not rows:
            return dict.fromkeys(names)
        kept = sum(a.kept for a in rows)
        no_shows = sum(a.no_show for a in rows)
        late = sum(a.late for a in rows)
        unresolved = sum(not (a.kept or a.no_show or a.cancelled) for a in rows)
        return {
            "scheduled": float(len(rows)),
            "kept": float(kept),
            "no_shows": float(no_shows),
            "late": float(late),
            "unresolved": float(unresolved),
            "no_show_rate": ratio(no_shows, kept + no_shows),
            "late_cancellation_rate": ratio(late, len(rows)),
        }

    def lead_time(self, period: Period, filters: Filters) -> tuple[float | None, float | None]:
        return percentiles([a.lead_days for a in self.chosen(period, filters) if a.lead_days is not None])

    def flow(self, measure: str, period: Period, filters: Filters) -> tuple[float | None, float | None, int]:
        values = [getattr(a, measure) for a in self.chosen(period, filters) if getattr(a, measure) is not None]
        p50, p90 = percentiles(values)
        return p50, p90, len(values)

    def schedule_use(self, period: Period, filters: Filters) -> tuple[float | None, float | None]:
        """Utilisation and fill rate: kept minutes and booked slots at the provider's locations and
        days with a session, over those sessions' minutes and bookable slots."""
        capacity: dict[tuple[str, str | None, date], list[int]] = defaultdict(lambda: [0, 0])
        for s in self.sessions:
            chosen = filters.provider in (None, s.provider) and filters.location in (None, s.location)
            if chosen and period.start <= s.day <= period.end:
                capacity[(s.provider, s.location, s.day)][0] += s.minutes
                capacity[(s.provider, s.location, s.day)][1] += s.slots - s.held
        if not capacity:
            return None, None
        kept_minutes = booked = 0
        for a in self.chosen(period, filters):
            if (a.provider, a.location, a.day) in capacity:
                kept_minutes += a.duration if a.kept else 0
                booked += 0 if a.cancelled else (self.slots(a) or 0)
        minutes = sum(c[0] for c in capacity.values())
        slots = sum(c[1] for c in capacity.values())
        return ratio(kept_minutes, minutes), ratio(booked, slots)

    def third_next(self, period: Period, filters: Filters) -> float | None:
        """IHI third next available, measured at the start of each of the providers' schedule
        days in the period, and averaged over the days that found one within 90 days."""
        bookable: dict[tuple[str, date], int] = defaultdict(int)
        for s in self.sessions:
            bookable[(s.provider, s.day)] += s.slots - s.held
        found = []
        for provider, day in sorted(bookable):
            if not (period.start <= day <= period.end) or filters.provider not in (None, provider):
                continue
            open_by_then = 0
            for ahead in range(91):
                later = day + timedelta(days=ahead)
                if (provider, later) not in bookable:
                    continue
                taken = sum(
                    self.slots(a) or 0
                    for a in self.appointments
                    if a.provider == provider and a.day == later and _holding(a, day)
                )
                open_by_then += max(bookable[(provider, later)] - taken, 0)
                if open_by_then >= 3:
                    found.append(ahead)
                    break
        return ratio(sum(found), len(found))

    def patients_seen(self, period: Period, filters: Filters) -> int:
        return len({a.patient for a in self.chosen(period, filters) if a.kept})

    def check_ins(self, period: Period, filters: Filters) -> list[datetime]:
        return [
            a.check_in
            for a in self.appointments
            if a.check_in is not None
            and period.start <= a.check_in.date() <= period.end
            and filters.provider in (None, a.provider)
            and filters.location in (None, a.location)
        ]


def _holding(a: Appointment, measured: date) -> bool:
    """The appointment holds its slots at the start of `measured`: booked before that day and
    not cancelled before it (a cancellation without a time, never)."""
    if a.booked_day is None or a.booked_day >= measured:
        return False
    if not a.cancelled:
        return True
    return (a.cancelled_day or a.booked_day) >= measured


def _clock_minutes(session: dict[str, Any]) -> int:
    start, end = session["start_time"], session["end_time"]
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
