"""A model's contract, declared in a TOML file beside its SQL: what one row is, what each
column means and its type, the metrics it holds, and the tests its output must pass."""

from __future__ import annotations

import re
from typing import Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)")
TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int32(),
    "long": pa.int64(),
    "double": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "boolean": pa.bool_(),
}


# What a role is granted: whole datasets (access.permissions). Every model names its own.
DATASETS: dict[str, str] = {
    "access": "Appointments and schedule access: volume, no-shows, late cancellations, lead time, capacity.",
    "flow": "Patient flow: arrivals, waits, visit durations and cycle times.",
    "revenue": "The revenue cycle: charges, payments, adjustments, collection rates, payer mix.",
    "ar": "Accounts receivable: ageing by payer, days in A/R, the share over 90 days.",
    "denials": "Claim denials by reason group, reason and payer.",
    "productivity": "Per provider: visits, work RVUs, charges and collections.",
    "benchmark": "Cross-practice figures under disclosure control; no practice named.",
}
Dataset = Literal["access", "flow", "revenue", "ar", "denials", "productivity", "benchmark"]


def arrow_type(name: str) -> pa.DataType:
    if name in TYPES:
        return TYPES[name]
    if match := DECIMAL.fullmatch(name):
        return pa.decimal128(int(match[1]), int(match[2]))
    raise ValueError(f"unknown column type {name!r}: use one of {sorted(TYPES)} or decimal(p, s)")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(Strict):
    type: str
    description: str
    money: bool | None = None
    """An amount of money, or a ratio of amounts: hidden from roles that never see money.
    A decimal column must say whether it is (`money = true` or `false`), so a new one is
    never shown by omission."""

    @model_validator(mode="after")
    def _money_declared(self) -> ColumnSpec:
        if self.money is None and self.type.startswith("decimal"):
            raise ValueError(f"a {self.type} column must declare money = true or money = false")
        return self

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        arrow_type(value)
        return value


class Metric(Strict):
    """A KPI as the docs state it: one definition, in one place."""

    name: str
    formula: str
    includes: str = ""
    excludes: str = ""
    source: str


class Tests(Strict):
    unique: list[str] = Field(default_factory=list)  # columns that together identify a row
    not_null: list[str] = Field(default_factory=list)
    between: dict[str, tuple[float, float]] = Field(default_factory=dict)  # inclusive bounds, NULL passes


class Measure(Strict):
    """One practice's figure in a cell of a cross-practice model, as its SQL computes it, and
    how it is perturbed before any cell uses it (docs/disclosure.md): by an offset of the
    practice's own, the same in every cell and release, plus a jitter keyed to the cell and the
    figure. Relative: the figure is multiplied by 1 + the perturbation; absolute: it is added."""

    type: Literal["long", "double"]
    description: str
    scale: Literal["relative", "absolute"]
    offset: tuple[float, float]  # the practice's offset is between these in size, of a secret sign
    jitter: float = Field(ge=0)  # at most this either way, less than the offset's least size
    floor: float | None = None  # a published statistic of the figure is never below this
    ceiling: float | None = None  # nor above this

    @model_validator(mode="after")
    def _offset_dominates(self) -> Measure:
        least, most = self.offset
        if not 0 < least <= most or self.jitter >= least:
            raise ValueError("a measure's offset is (least, most) with 0 < least <= most, and its jitter below least")
        return self


class Published(Strict):
    """One published column: a statistic over the perturbed figures of a measure, in each cell."""

    of: str  # the measure
    statistic: Literal["total", "quantile"]
    q: float | None = Field(default=None, gt=0, lt=1)  # the quantile's rank
    rounding: float = Field(gt=0)  # published as a multiple of this

    @model_validator(mode="after")
    def _rank_for_quantiles(self) -> Published:
        if (self.q is None) != (self.statistic == "total"):
            raise ValueError("a quantile names its rank q, and only a quantile does")
        return self


class Disclosure(Strict):
    """The statistical disclosure control of a cross-practice model (curate.disclosure): its SQL
    returns one row per practice and cell, `practice_id`, the `cell` columns and the `measures`;
    the published table holds one row per cell and the `published` statistics."""

    cell: list[str]  # the columns that identify a cell, after practice_id
    min_contributors: int = Field(ge=3)  # threshold rule: fewer practices, no cell (and no statistic)
    blend: int = Field(ge=2)  # a quantile is the mean of at least this many figures next to its rank
    blend_share: float = Field(ge=0, le=0.5)  # ... or of this share of the cell's figures, if more
    p_percent: float = Field(gt=0)  # dominance (p% rule): a total is withheld where the others after
    # the two largest contributions add up to less than p % of the largest
    small_counts: int = Field(ge=0)  # a total from 1 to this is withheld
    measures: dict[str, Measure]
    published: dict[str, Published]

    @model_validator(mode="after")
    def _consistent(self) -> Disclosure:
        if self.blend > self.min_contributors:
            raise ValueError("blend cannot exceed min_contributors")
        for name, column in self.published.items():
            measure = self.measures.get(column.of)
            if measure is None:
                raise ValueError(f"published {name} is of {column.of!r}, which is not a measure")
            if column.statistic == "total" and (measure.type, measure.scale) != ("long", "relative"):
                raise ValueError(f"published {name}: a total is of a count (type long, scale relative)")
        return self

    def columns(self) -> list[str]:
        """The columns of the published table, in order."""
        return ["practice_id", *self.cell, *self.published]


Period = Literal["day", "week", "month", "quarter", "year"]


class Window(Strict):
    """Which of a model's rows a batch of late rows can change, so that an incremental curate
    rebuilds those only (curate.changes). A batch whose rows are dated from day D (with every
    row of each visit, claim and patient it touches) changes only the rows whose `column` is on
    or after the start of the `period` holding D - `lookback_days`; the rows before stay as they
    are. A model without a window is rebuilt whole."""

    column: str  # a date column: the row's day, or the first day of its period
    period: Period = "day"  # the rows of one period are rebuilt together
    lookback_days: int = Field(default=0, ge=0)  # how far before a changed day a row can change
    inputs: dict[str, list[str]] | None = None
    """Where set, the rows in the window need only the cleaned rows (of these tables, the only
    ones the model may read) dated on or after the window's start less a day, by any of the
    columns named; the rows of the models it reads must then have `inputs` too. So the window
    is computed from those rows alone. Unset: from every row of the practice."""


class ModelContract(Strict):
    description: str
    grain: str  # in words: what one row is
    dataset: Dataset  # who may read it is granted by dataset (access.permissions)
    cross_practice: bool = False  # computed over every practice: rows name no practice
    materialized: Literal["table", "ephemeral"] = "table"  # ephemeral: used by other models, never written
    columns: dict[str, ColumnSpec]
    metrics: list[Metric] = Field(default_factory=list)
    tests: Tests = Field(default_factory=Tests)
    disclosure: Disclosure | None = None  # a cross-practice model's, and only its
    window: Window | None = None  # the rows a late batch can change (None: all of them)

    @model_validator(mode="after")
    def _benchmark_is_cross_practice(self) -> ModelContract:
        if self.cross_practice != (self.dataset == "benchmark"):
            raise ValueError("a cross-practice model belongs to the benchmark dataset, and only it")
        if self.cross_practice != (self.disclosure is not None):
            raise ValueError("a cross-practice model declares its [disclosure], and only it does")
        if self.disclosure is not None:
            self._check_published(self.disclosure)
        if self.window is not None:
            column = self.columns.get(self.window.column)
            if column is None or column.type != "date":
                raise ValueError(f"window column {self.window.column!r} must be one of the model's date columns")
            if self.cross_practice:
                raise ValueError("a cross-practice model is rebuilt whole: it has no window")
        return self

    def _check_published(self, rules: Disclosure) -> None:
        if list(self.columns) != rules.columns():
            raise ValueError(
                f"a cross-practice model's columns are practice_id, its cell, its published: {rules.columns()}"
            )
        if self.tests.unique != ["practice_id", *rules.cell]:
            raise ValueError("a cross-practice model's unique grain is practice_id and its cell")
        for name, column in rules.published.items():
            wanted = "long" if column.statistic == "total" else "double"
            if self.columns[name].type != wanted:
                raise ValueError(f"published {name} is a {column.statistic}: its column type is {wanted}")

    def contributions_schema(self) -> pa.Schema:
        """A cross-practice model's SQL output: one row per practice and cell."""
        assert self.disclosure is not None
        cell = [pa.field(name, arrow_type(self.columns[name].type)) for name in self.disclosure.cell]
        measures = [pa.field(name, arrow_type(m.type)) for name, m in self.disclosure.measures.items()]
        return pa.schema([pa.field("practice_id", pa.string()), *cell, *measures])

    @property
    def money_columns(self) -> frozenset[str]:
        return frozenset(name for name, spec in self.columns.items() if spec.money)

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(name, arrow_type(spec.type)) for name, spec in self.columns.items()])
