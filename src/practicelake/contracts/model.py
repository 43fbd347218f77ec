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
    TIMESTAMP = "timestamp"  # wall time in the practice's zone, or with an offset; UTC in cleaned
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

# What a value of each kind may hold at most, so that no value can overflow what the engine
# computes from it: money within +-10^10 keeps the sums of a practice's millions of lines
# inside decimal(18, 2); integers within 32 bits.
MONEY_LIMIT = 10_000_000_000
INTEGER_LIMIT = 2**31 - 1
ID_LENGTH = 64  # ids of the source system, in characters
# What an id of the source system may look like: it starts with a letter or a digit (never
# `=`, `+`, `-`, `@`, a tab or a carriage return, which a spreadsheet would run as a formula:
# OWASP, CSV injection) and holds no quotes, pipes, brackets or control characters.
ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9 ._:/#-]*"
TEXT_LENGTH = 255  # any other text value, in characters


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
    # Stored for a source value not in `allowed`, instead of quarantining the row.
    unlisted: str | None = None
    # A regular expression every value (every code, for CODE_LIST) must match in full.
    pattern: str | None = None
    # Values that must be in a reference list (e.g. CARC codes), by list name.
    reference: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    # Longest text accepted, in characters (default: ID_LENGTH for ids, TEXT_LENGTH otherwise).
    max_length: int | None = None
    # TIMESTAMP only. `time_known`: a date without a time is accepted, and the cleaned column of
    # this name says whether the export gave a time. `needs_time`: a date alone is quarantined
    # (the time of day is the point, as for a check-in). Neither: a date alone is read as the
    # start of that day (for values used as dates only).
    time_known: str | None = None
    needs_time: bool = False

    @property
    def length_limit(self) -> int | None:
        """The longest text the column accepts (text kinds only)."""
        if self.kind not in (Kind.STRING, Kind.CODE_LIST):
            return None
        if self.max_length is not None:
            return self.max_length
        return ID_LENGTH if self.name.endswith("_id") else TEXT_LENGTH

    @property
    def id_pattern(self) -> str | None:
        """The pattern an id column's values must match (its case is kept), unless the contract
        gives the column its own pattern, reference list or allowed values."""
        plain = self.pattern is None and self.reference is None and self.allowed is None
        return ID_PATTERN if self.kind is Kind.STRING and self.name.endswith("_id") and plain else None

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """The smallest and largest value accepted (numeric kinds), the kind's own limit included."""
        limit = {Kind.DECIMAL: MONEY_LIMIT, Kind.INTEGER: INTEGER_LIMIT}.get(self.kind)
        low, high = self.minimum, self.maximum
        if limit is not None:
            low = -limit if low is None else max(low, -limit)
            high = limit if high is None else min(high, limit)
        return low, high

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
    # The date column that says when the record was true (ages are judged on it); without one,
    # or when it is empty, the day the file was received.
    as_of: str | None = None

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
