"""The shape of a contract: what an export must look like and what the cleaned table keeps.

A contract is declared once per entity and is used three ways: the transform checks rows
against it, the cleaned Iceberg schema is derived from it, and `practicelake contracts`
renders it as documentation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """How a column's text is parsed."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"  # money: decimal(18, 2), never a float
    NUMBER = "number"  # a measure that is not money (FTE, value units): decimal(9, 4)
    DATE = "date"  # ISO 8601 date
    TIMESTAMP = "timestamp"  # practice-local wall time in the export, UTC in cleaned
    TIME = "time"  # practice-local time of day (HH:MM), kept local
    BOOLEAN = "boolean"  # true/false, yes/no, 1/0, y/n
    CODE_LIST = "code_list"  # codes separated by '|', each checked against `pattern`


class Pii(StrEnum):
    """What a column reveals about a patient, and so what the cleaned zone keeps of it."""

    NONE = "none"  # kept as is
    PATIENT_ID = "patient_id"  # replaced by a keyed pseudonym (HMAC-SHA256, per-practice secret)
    DIRECT = "direct"  # names, phone, email, address, member number: raw zone only
    BIRTH_DATE = "birth_date"  # kept as birth year; ages over 89 collapsed (HIPAA Safe Harbor)
    POSTAL_CODE = "postal_code"  # kept as its first three characters (HIPAA Safe Harbor)
    FREE_TEXT = "free_text"  # notes: raw zone only


DROPPED = frozenset({Pii.DIRECT, Pii.FREE_TEXT})


@dataclass(frozen=True)
class Column:
    """One column of an export, as the practice-management system writes it."""

    name: str
    kind: Kind
    description: str
    required: bool = False
    pii: Pii = Pii.NONE
    # Accepted source values, each mapped to the value the cleaned zone stores.
    allowed: Mapping[str, str] | None = None
    # A regular expression every value (every code, for CODE_LIST) must match in full.
    pattern: str | None = None
    # Values that must be in a reference list (e.g. CARC codes), by list name.
    reference: str | None = None
    minimum: float | None = None

    @property
    def cleaned_name(self) -> str | None:
        """The column's name in the cleaned zone, or None when it stays in raw."""
        if self.pii in DROPPED:
            return None
        return {
            Pii.PATIENT_ID: "patient_key",
            Pii.BIRTH_DATE: "birth_year",
            Pii.POSTAL_CODE: "postal_prefix",
        }.get(self.pii, self.name)


@dataclass(frozen=True)
class Rule:
    """A check across columns of one row. `check` is a SQL boolean over the parsed columns;
    a row breaks the rule when it is false (NULL passes: nullability is checked apart)."""

    name: str
    check: str
    column: str
    description: str


@dataclass(frozen=True)
class Contract:
    """What one entity's export must hold, and what its cleaned table keeps."""

    entity: str  # cleaned table name
    dataset: str  # export file name without .csv
    description: str
    grain: str
    key: str  # the source system's id: unique within a practice
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for candidate in self.columns:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.entity} has no column {name!r}")

    @property
    def key_column(self) -> Column:
        return self.column(self.key)

    @property
    def cleaned_key(self) -> str:
        cleaned = self.key_column.cleaned_name
        assert cleaned is not None, f"{self.entity}: a key cannot be dropped"
        return cleaned


PRACTICE_ID = Column(
    "practice_id",
    Kind.STRING,
    "The practice the row belongs to. Must equal the practice named by the operator at ingest.",
    required=True,
)
