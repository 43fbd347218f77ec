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


class ModelContract(Strict):
    description: str
    grain: str  # in words: what one row is
    dataset: Dataset  # who may read it is granted by dataset (access.permissions)
    cross_practice: bool = False  # computed over every practice: rows name no practice
    materialized: Literal["table", "ephemeral"] = "table"  # ephemeral: used by other models, never written
    columns: dict[str, ColumnSpec]
    metrics: list[Metric] = Field(default_factory=list)
    tests: Tests = Field(default_factory=Tests)

    @model_validator(mode="after")
    def _benchmark_is_cross_practice(self) -> ModelContract:
        if self.cross_practice != (self.dataset == "benchmark"):
            raise ValueError("a cross-practice model belongs to the benchmark dataset, and only it")
        return self

    @property
    def money_columns(self) -> frozenset[str]:
        return frozenset(name for name, spec in self.columns.items() if spec.money)

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(name, arrow_type(spec.type)) for name, spec in self.columns.items()])
