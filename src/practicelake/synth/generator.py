"""The public entry point: generate the exports of a few synthetic practices."""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pyarrow as pa

from practicelake.contracts import CONTRACTS
from practicelake.synth.appointments import appointment_ids, appointment_rows, draw_bookings
from practicelake.synth.billing import charge_rows, draw_lines, fee_schedule
from practicelake.synth.catalog import REGIONS
from practicelake.synth.claims import claim_ids, claim_rows, draw_claims
from practicelake.synth.coding import VOCABULARIES
from practicelake.synth.encounters import draw_visits, encounter_rows
from practicelake.synth.export import FileTruth, write_dataset
from practicelake.synth.formatting import ids
from practicelake.synth.frame import Period, Rows, stream
from practicelake.synth.organisation import Setup, build_organisation
from practicelake.synth.patients import build_roster, patient_rows
from practicelake.synth.remittance import adjustment_rows, payment_rows, settle
from practicelake.synth.schedule import build_sessions

EXPORTED = tuple(c for c in CONTRACTS if c.dataset != "claim_outcomes")
"""The datasets of a practice-management export; payers' decisions come in remittances."""
VISITS_PER_PROVIDER_YEAR = 4_000  # appointments a full-time provider books in a year


@dataclass(frozen=True)
class GenerationReport:
    practice_ids: tuple[str, ...]
    files_written: int  # CSV files (practices.toml not counted)
    rows_written: Mapping[str, int]  # by dataset, duplicate lines included
    appointments: int  # distinct appointments
    seconds: float
    injected: Mapping[str, FileTruth]  # ground truth by CSV path relative to out_dir, for every file
    corrections: Mapping[str, int]  # by dataset: rows whose key already appeared in an earlier batch


def export_period(end_date: datetime.date, years: int) -> Period:
    last_month = (end_date.year - 1970) * 12 + end_date.month - 1
    last_day = (end_date - datetime.date(1970, 1, 1)).days
    return Period(last_month - 12 * years + 1, 12 * years, last_day)


def plan(practices: int, years: int, seed: int, appointments: int | None) -> list[Setup]:
    rng = stream(seed, 0, "plan")
    if appointments is None:
        providers = rng.integers(2, 9, practices)
        volume = providers * years * rng.uniform(0.8, 1.1, practices) * VISITS_PER_PROVIDER_YEAR
    else:
        share = rng.lognormal(0.0, 0.4, practices)
        volume = appointments * share / share.sum()
        providers = np.clip(np.rint(volume / years / VISITS_PER_PROVIDER_YEAR), 1, 50)
    setups = []
    for i in range(practices):
        region = REGIONS[i % len(REGIONS)]
        generation = i // (len(REGIONS) * len(region.practice_names))
        name = region.practice_names[(i // len(REGIONS)) % len(region.practice_names)]
        setups.append(
            Setup(
                index=i,
                practice_id=f"P{i + 1:03d}",
                name=f"{name} {generation + 1}" if generation else name,
                region=region,
                vocabulary=VOCABULARIES[i % len(VOCABULARIES)],
                providers=int(providers[i]),
                appointments=round(float(volume[i])),
            )
        )
    return setups


def practice_datasets(seed: int, setup: Setup, period: Period) -> tuple[dict[str, Rows], int]:
    """Every dataset of one practice, typed, and its number of appointments."""
    i = setup.index + 1
    org = build_organisation(stream(seed, i, "organisation"), setup, period)
    sessions, schedules = build_sessions(stream(seed, i, "schedule"), setup, period, org)
    roster_size = max(20, round(setup.appointments / (1.3 * period.months / 12 + 0.8)))
    roster = build_roster(stream(seed, i, "roster"), setup, period, roster_size)
    new_share = float(stream(seed, i, "mix").uniform(0.15, 0.22))
    bookings, registered = draw_bookings(stream(seed, i, "bookings"), setup, period, sessions, roster, new_share)
    patients, mrn = patient_rows(stream(seed, i, "patients"), setup, period, roster, registered, org.payer_ids)
    staff = org.staff.ids
    appointment_id = appointment_ids(bookings)
    appointments = appointment_rows(
        stream(seed, i, "appointments"), setup, period, bookings, appointment_id, mrn, roster.first_name,
        staff, org.location_ids,
    )  # fmt: skip
    visits, seen = draw_visits(stream(seed, i, "visits"), setup, period, bookings, roster)
    location = appointments.columns["location_id"].take(pa.array(seen))
    fulfilled = appointment_id.take(pa.array(seen))
    encounters = encounter_rows(
        stream(seed, i, "encounters"), setup, period, visits, fulfilled, mrn, roster.first_name, staff, location
    )
    fees = fee_schedule(stream(seed, i, "fees"), setup)
    lines = draw_lines(stream(seed, i, "lines"), setup, period, visits, fees)
    charge_id = ids("CHG", np.arange(len(lines), dtype=np.int64) + 1, 8)
    charges = charge_rows(stream(seed, i, "charges"), setup, period, lines, visits, mrn, staff, fees, charge_id)
    payer = roster.payer[visits.patient]
    claims = draw_claims(stream(seed, i, "claims"), setup, visits, payer, lines)
    claim_id = claim_ids(claims)
    pay, adjust = settle(stream(seed, i, "settle"), setup, period, claims, visits, lines, payer)
    datasets = dict(org.rows)
    datasets.update(
        provider_schedules=schedules,
        patients=patients,
        appointments=appointments,
        encounters=encounters,
        charges=charges,
        claims=claim_rows(setup, period, claims, claim_id, visits, mrn, staff, org.payer_ids),
        payments=payment_rows(setup, period, pay, claim_id, visits, mrn, org.payer_ids),
        adjustments=adjustment_rows(setup, period, adjust, claim_id, charge_id, org.payer_ids),
    )
    return datasets, len(bookings)


def _toml(setups: list[Setup]) -> str:
    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    blocks = [
        f"[practices.{s.practice_id}]\nname = {quoted(s.name)}\n"
        f"time_zone = {quoted(s.region.time_zone)}\ncurrency = {quoted(s.region.currency)}\n"
        f"locale = {quoted('en-' + s.region.country)}\n"
        for s in setups
    ]
    return "\n".join(blocks)


def generate(
    out_dir: Path,
    *,
    practices: int = 3,
    years: int = 2,
    seed: int = 42,
    dirty_rate: float = 0.0,
    appointments: int | None = None,
    end_date: datetime.date = datetime.date(2026, 6, 30),
) -> GenerationReport:
    """Write `practices` practices' monthly exports for the `years` years ending at `end_date`."""
    if practices < 1 or years < 1:
        raise ValueError("practices and years must be at least 1")
    if not 0.0 <= dirty_rate <= 0.5:
        raise ValueError("dirty_rate must be between 0 and 0.5")
    if appointments is not None and appointments < 1:
        raise ValueError("appointments must be positive")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    period = export_period(end_date, years)
    setups = plan(practices, years, seed, appointments)
    files: dict[str, FileTruth] = {}
    rows_written = dict.fromkeys((c.dataset for c in EXPORTED), 0)
    corrections = dict.fromkeys((c.dataset for c in EXPORTED), 0)
    total = 0
    for setup in setups:
        for batch in range(period.months):
            (out_dir / setup.practice_id / period.label(batch)).mkdir(parents=True, exist_ok=True)
        datasets, booked = practice_datasets(seed, setup, period)
        total += booked
        other = setups[(setup.index + 1) % practices].practice_id if practices > 1 else "P002"
        for contract in EXPORTED:
            written = write_dataset(
                out_dir, setup.practice_id, period, contract, datasets.pop(contract.dataset),
                rng=stream(seed, setup.index + 1, f"dirty:{contract.dataset}"), dirty_rate=dirty_rate,
                other_practice=other,
            )  # fmt: skip
            files.update(written.files)
            rows_written[contract.dataset] += written.rows
            corrections[contract.dataset] += written.corrections
    (out_dir / "practices.toml").write_text(_toml(setups), encoding="utf-8")
    return GenerationReport(
        practice_ids=tuple(s.practice_id for s in setups),
        files_written=len(files),
        rows_written=MappingProxyType(rows_written),
        appointments=total,
        seconds=time.perf_counter() - started,
        injected=MappingProxyType(dict(sorted(files.items()))),
        corrections=MappingProxyType(corrections),
    )
