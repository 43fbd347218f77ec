"""The shapes passed between the generator's stages: the export period, random streams, rows."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

DAY = 86_400


@dataclass(frozen=True)
class Period:
    """The months exported: batch i is month first_month + i. Days and months count from 1970."""

    first_month: int
    months: int
    last_day: int  # inclusive

    @property
    def first_day(self) -> int:
        return self.month_start(0)

    def month_start(self, batch: int) -> int:
        """The first day of batch `batch`'s month."""
        return int(np.datetime64(self.first_month + batch, "M").astype("datetime64[D]").astype(np.int64))

    @property
    def last_second(self) -> int:
        return (self.last_day + 1) * DAY - 1

    def batch_of_days(self, days: Ints) -> Ints:
        months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        return np.clip(months - self.first_month, 0, self.months - 1)

    def batch_of_seconds(self, seconds: Ints) -> Ints:
        return self.batch_of_days(seconds // DAY)

    def label(self, batch: int) -> str:
        return str(np.datetime64(self.first_month + batch, "M"))


def stream(seed: int, practice: int, part: str) -> np.random.Generator:
    """An independent random stream per practice and stage, so stages do not shift each other."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(practice, zlib.crc32(part.encode()))))


@dataclass
class Rows:
    """One dataset's rows for one practice, typed and in file order within each batch.

    Columns are Arrow arrays keyed by contract column name. By contract kind: ids and text are
    strings; dates are int64 days; timestamps int64 seconds (local wall time); times int64
    minutes of the day; money and measures int64 hundredths; integers int64; booleans bool.
    """

    columns: dict[str, pa.Array]
    batch: Ints  # batch index of each row
    key: Ints  # the entity each row describes: equal keys are the same entity re-exported

    def __len__(self) -> int:
        return len(self.batch)


def column(values: npt.NDArray[np.generic], valid: Bools | None = None) -> pa.Array:
    """An Arrow array from numpy values, null where not valid."""
    if valid is None:
        return pa.array(values)
    return pa.array(values, mask=~valid)


def pick(rng: np.random.Generator, weights: Floats, size: int) -> Ints:
    """Indices drawn with the given (unnormalised) weights."""
    cumulative = np.cumsum(weights)
    drawn = np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")
    index: Ints = np.minimum(drawn, len(weights) - 1).astype(np.int64)
    return index


def take_strings(pool: tuple[str, ...] | list[str], index: Ints) -> pa.Array:
    return pa.array(pool, pa.string()).take(pa.array(index))


def constant(value: str, size: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), size)
