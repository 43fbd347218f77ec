"""A model's contract, declared in a TOML file beside its SQL: what one row is, what each
column means and its type, the metrics it holds, and the tests its output must pass."""

from __future__ import annotations

import re
from typing import Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    materialized: Literal["table", "ephemeral"] = "table"  # ephemeral: used by other models, never written
    columns: dict[str, ColumnSpec]
    metrics: list[Metric] = Field(default_factory=list)
    tests: Tests = Field(default_factory=Tests)

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(name, arrow_type(spec.type)) for name, spec in self.columns.items()])
