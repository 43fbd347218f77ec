"""Realistic export errors, injected into a share of the transactional rows.

Each injected row breaks exactly one thing: it is written twice (an exact duplicate line) or one
of its values breaks its contract (an impossible date, an unknown code, a missing key, a value
of the wrong type, or another practice's id). Rows whose key is exported more than once (claims
followed through their lifecycle, corrections) are never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from practicelake.synth.formatting import dates, ids, times, timestamps
from practicelake.synth.frame import DAY, Bools, Ints, Rows

CENTURIES = 82_000  # days: moves a date back to around 1800
IMPOSSIBLE_DATES = ("2024-02-30", "2025-02-30", "2025-04-31", "2024-06-31")

Replace = Callable[[Rows, Ints, np.random.Generator, str], pa.Array]


@dataclass(frozen=True)
class Breaker:
    column: str
    replace: Replace
    applies: str | None = None  # only rows where this column is not null


def _typed(rows: Rows, name: str, index: Ints) -> Ints:
    values: Ints = pc.fill_null(rows.columns[name], 0).to_numpy()[index]
    return values


def constant(value: str | None) -> Replace:
    return lambda rows, index, rng, other: pa.array([value] * index.size, pa.string())


def other_practice(rows: Rows, index: Ints, rng: np.random.Generator, other: str) -> pa.Array:
    return pa.array([other] * index.size, pa.string())


def impossible_date(rows: Rows, index: Ints, rng: np.random.Generator, other: str) -> pa.Array:
    return pa.array(np.array(IMPOSSIBLE_DATES)[rng.integers(0, len(IMPOSSIBLE_DATES), index.size)])


def impossible_timestamp(rows: Rows, index: Ints, rng: np.random.Generator, other: str) -> pa.Array:
    return pc.binary_join_element_wise(impossible_date(rows, index, rng, other), " 09:30:00", "")


def wrong_amount(rows: Rows, index: Ints, rng: np.random.Generator, other: str) -> pa.Array:
    # A decimal comma, as a spreadsheet in a comma locale writes it, or plain text.
    comma = pc.binary_join_element_wise(
        pa.array(rng.integers(1, 500, index.size)).cast(pa.string()), ids("", rng.integers(0, 100, index.size), 2), ","
    )
    return pc.if_else(pa.array(rng.random(index.size) < 0.5), comma, "abc")


def shifted(source: str, days: int, seconds: bool) -> Replace:
    """`source` moved by whole days (or centuries back), as this column's value."""

    def replace(rows: Rows, index: Ints, rng: np.random.Generator, other: str) -> pa.Array:
        step = rng.integers(30, 4000, index.size) if days == 0 else np.full(index.size, days)
        values = _typed(rows, source, index)
        if seconds:
            return timestamps(pa.array(values + step * DAY))
        return dates(pa.array(values + step))

    return replace


def before(source: str, minutes: int, seconds: bool) -> Replace:
    def replace(rows: Rows, index: Ints, rng: np.random.Generator, other: str) -> pa.Array:
        values = _typed(rows, source, index)
        return timestamps(pa.array(values - minutes * 60)) if seconds else times(pa.array(values - minutes))

    return replace


def _common(key: str) -> list[Breaker]:
    return [Breaker(key, constant(None)), Breaker("practice_id", other_practice)]


BREAKERS: dict[str, list[Breaker]] = {
    "patients": [
        *_common("patient_id"),
        Breaker("sex", constant("Unspecified")),
        Breaker("date_of_birth", shifted("registered_on", 0, seconds=False), applies="registered_on"),
        Breaker("date_of_birth", impossible_date),
    ],
    "appointments": [
        *_common("appointment_id"),
        Breaker("status", constant("Walked Out")),
        Breaker("duration_minutes", constant("thirty")),
        Breaker("start_at", shifted("start_at", -CENTURIES, seconds=True)),
        Breaker("visit_end_at", before("visit_start_at", 7, seconds=True), applies="visit_start_at"),
        Breaker("start_at", impossible_timestamp),
    ],
    "encounters": [
        *_common("encounter_id"),
        Breaker("diagnosis_codes", constant("123.4")),
        Breaker("place_of_service", constant("Office")),
        Breaker("encounter_date", impossible_date),
    ],
    "charges": [
        *_common("charge_id"),
        Breaker("procedure_code", constant("XYZ12")),
        Breaker("amount", wrong_amount),
        Breaker("units", constant("thirty")),
        Breaker("posted_date", shifted("service_date", -CENTURIES, seconds=False)),
        Breaker("service_date", impossible_date),
    ],
    "claims": [
        *_common("claim_id"),
        Breaker("claim_status", constant("Pending Review")),
        Breaker("billed_amount", wrong_amount),
        Breaker("first_adjudicated_at", shifted("submitted_at", -CENTURIES, seconds=True)),
        Breaker("submitted_at", impossible_timestamp),
    ],
    "payments": [
        *_common("payment_id"),
        Breaker("amount", wrong_amount),
        Breaker("payment_source", constant("Insurer Portal")),
        Breaker("method", constant("bitcoin")),
        Breaker("paid_at", impossible_timestamp),
    ],
    "adjustments": [
        *_common("adjustment_id"),
        Breaker("carc_code", constant("Z99")),
        Breaker("group_code", constant("XX")),
        Breaker("amount", wrong_amount),
        Breaker("adjusted_on", impossible_date),
    ],
    "provider_schedules": [
        *_common("schedule_id"),
        Breaker("end_time", before("start_time", 60, seconds=False)),
        Breaker("slot_minutes", constant("thirty")),
        Breaker("schedule_date", impossible_date),
    ],
}


def inject(
    rng: np.random.Generator, dataset: str, rows: Rows, text: dict[str, pa.Array], rate: float, other: str
) -> tuple[Bools, Bools]:
    """Break a share of the rows in place in `text`; returns (duplicated, broken) row masks."""
    count = len(rows)
    duplicated = np.zeros(count, dtype=np.bool_)
    broken = np.zeros(count, dtype=np.bool_)
    breakers = BREAKERS.get(dataset)
    if rate <= 0 or count == 0 or breakers is None:
        return duplicated, broken
    _, inverse, occurrences = np.unique(rows.key, return_inverse=True, return_counts=True)
    once = occurrences[inverse] == 1
    chosen = once & (rng.random(count) < min(1.0, rate * count / max(int(once.sum()), 1)))
    kind = np.where(chosen, rng.integers(0, len(breakers) + 1, count), -1)
    for number, breaker in enumerate(breakers, start=1):
        if breaker.applies is not None:
            # A breaker that needs a value the row lacks falls back to a missing key.
            lacking = (kind == number) & ~rows.columns[breaker.applies].is_valid().to_numpy(zero_copy_only=False)
            kind[lacking] = 1
    duplicated = kind == 0
    for number, breaker in enumerate(breakers, start=1):
        index = np.flatnonzero(kind == number)
        if index.size:
            values = breaker.replace(rows, index, rng, other)
            mask = np.zeros(count, dtype=np.bool_)
            mask[index] = True
            text[breaker.column] = pc.replace_with_mask(text[breaker.column], pa.array(mask), values)
    return duplicated, kind > 0
