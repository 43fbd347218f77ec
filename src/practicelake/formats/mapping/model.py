"""A mapping: how one practice-management system's CSV export becomes contract rows, declared
in TOML, no code. Its schema is these pydantic models; `load_mapping` reads and checks a file
and names the file, the table and the key of every problem.

A mapping has a `[source]` table (how the system writes times, dates and numbers) and one
`[[files]]` entry per exported file: which file names it matches, the source columns no
dataset reads (`ignore`), and the datasets it feeds, each with an optional row filter
(`where`) and its columns, keyed by contract column: a source column, several joined, or a
constant, with an optional value map.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from practicelake.contracts import BY_DATASET, Kind
from practicelake.errors import PracticelakeError

PRACTICE = "practice"  # wall times of the practice, in the zone its settings name
UTC = "UTC"
TIME_DIRECTIVES = frozenset("HIMSXcpf")  # strftime directives of a time of day
ZONE_DIRECTIVES = frozenset("z")  # a value that names its own offset


class MappingError(PracticelakeError):
    """A mapping file that cannot be read or breaks the mapping schema."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _zone(value: str) -> str:
    if value in (PRACTICE, UTC):
        return value
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            'not a time zone: expected "practice", "UTC" or an IANA zone such as "America/Chicago"'
        ) from None
    return value


def _formats(values: list[str]) -> list[str]:
    for value in values:
        if "%" not in value:
            raise ValueError(f"{value!r} is not a strftime format (no % directive)")
    return values


class SourceOptions(Strict):
    """How the system writes what is not plain text."""

    time_zone: str = PRACTICE
    """The zone of its wall times: "practice" (the default), "UTC", or an IANA zone. Outside
    the practice's zone, a wall time becomes the instant it names, written with its offset."""
    date_zone: str | None = None
    """The zone whose calendar a date column reads from a time that names its instant (an
    offset in the value, or a source zone other than the practice's); default: as written."""
    formats: list[str] = Field(default_factory=list)
    """strftime formats of dates and times, tried in order; none: written as ISO 8601 already."""
    decimal: str = Field(default=".", min_length=1, max_length=1)
    thousands: str = Field(default="", max_length=1)
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone(value)

    @field_validator("date_zone")
    @classmethod
    def _known_date_zone(cls, value: str | None) -> str | None:
        if value == PRACTICE:
            raise ValueError("a date zone is UTC or an IANA zone (dates of the practice are written as they are)")
        return None if value is None else _zone(value)

    @field_validator("formats")
    @classmethod
    def _strftime(cls, values: list[str]) -> list[str]:
        return _formats(values)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            "".encode(value)
        except LookupError:
            raise ValueError("not a text encoding Python knows") from None
        return value

    @model_validator(mode="after")
    def _separators_differ(self) -> SourceOptions:
        if self.decimal == self.thousands:
            raise ValueError("decimal and thousands separators are the same character")
        return self


class ColumnSource(Strict):
    """Where one contract column's value comes from."""

    source: str | None = Field(None, alias="from", min_length=1)
    join: list[Annotated[str, Field(min_length=1)]] | None = Field(None, min_length=2)
    separator: str = "-"
    constant: str | None = None
    values: dict[str, str] | None = None
    """Source value -> contract value, matched trimmed and case-insensitively ("" = empty)."""
    default: str | None = None
    """What a value the map does not list becomes ("" = empty)."""
    unlisted: Literal["keep"] | None = None
    """"keep": a value the map does not list is written as it is, for the contract to judge."""
    formats: list[str] | None = None
    """This column's date/time formats, instead of the source's."""

    @field_validator("formats")
    @classmethod
    def _strftime(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _formats(values)

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnSource:
        given = (("from", self.source), ("join", self.join), ("constant", self.constant))
        origins = [key for key, value in given if value is not None]
        if len(origins) != 1:
            raise ValueError(
                "give exactly one of `from`, `join` or `constant`" + (f" (got {', '.join(origins)})" if origins else "")
            )
        if self.values is None and (self.default is not None or self.unlisted is not None):
            raise ValueError("`default` and `unlisted` belong to a value map: add `values`")
        if self.values is not None:
            if (self.default is None) == (self.unlisted is None):
                raise ValueError(
                    'a value map says what an unlisted value becomes: `default = "..."` or `unlisted = "keep"`'
                )
            folded = [k.strip().lower() for k in self.values]
            if len(set(folded)) != len(folded):
                raise ValueError("the value map lists a source value twice (keys match case-insensitively)")
        return self

    @property
    def columns(self) -> tuple[str, ...]:
        """The source columns it reads."""
        if self.source is not None:
            return (self.source,)
        return tuple(self.join or ())

    def lookup(self) -> dict[str, str]:
        return {k.strip().lower(): v for k, v in (self.values or {}).items()}


def _column_source(value: Any) -> Any:
    return {"from": value} if isinstance(value, str) else value


class Feed(Strict):
    """What one dataset takes from a file."""

    where: dict[str, list[str]] = Field(default_factory=dict)
    """Only rows whose column holds one of the values (trimmed, case-insensitive); all must hold."""
    ignore: list[str] = Field(default_factory=list)
    columns: dict[str, Annotated[ColumnSource, BeforeValidator(_column_source)]]

    @property
    def reads(self) -> tuple[str, ...]:
        """The source columns it needs, in order, each once."""
        names = [*self.where, *(c for spec in self.columns.values() for c in spec.columns)]
        return tuple(dict.fromkeys(names))


class SourceFile(Strict):
    match: str = Field(min_length=1)
    """The file name, case-insensitive; `*` and `?` as in a shell."""
    ignore: list[str] = Field(default_factory=list)
    datasets: dict[str, Feed] = Field(min_length=1)

    @model_validator(mode="after")
    def _contract_columns(self) -> SourceFile:
        for dataset, feed in self.datasets.items():
            contract = BY_DATASET.get(dataset)
            if contract is None:
                raise ValueError(f"unknown dataset {dataset!r} (expected one of: {', '.join(sorted(BY_DATASET))})")
            for name, spec in feed.columns.items():
                if name == "practice_id":
                    raise ValueError(
                        f"datasets.{dataset}.columns.practice_id: the practice is the one ingested for, never read"
                    )
                if name not in contract.column_names:
                    raise ValueError(f"datasets.{dataset}.columns.{name}: {dataset} has no column {name!r}")
                dated = contract.column(name).kind in (Kind.DATE, Kind.TIMESTAMP, Kind.TIME)
                if spec.formats is not None and not dated:
                    raise ValueError(f"datasets.{dataset}.columns.{name}: `formats` is for date and time columns")
        return self

    def reads(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for feed in self.datasets.values() for c in feed.reads))

    def ignored(self) -> frozenset[str]:
        names = [*self.ignore, *(c for feed in self.datasets.values() for c in feed.ignore)]
        return frozenset(n.strip().lower() for n in names)


class Mapping(Strict):
    """One source system's export, mapped to the contracts."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    system: str = Field(min_length=1)
    source: SourceOptions = Field(default_factory=SourceOptions)
    files: list[SourceFile] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_file_per_dataset(self) -> Mapping:
        seen: dict[str, int] = {}
        for index, file in enumerate(self.files):
            for dataset in file.datasets:
                if dataset in seen:
                    raise ValueError(
                        f"dataset {dataset!r} is fed by files[{seen[dataset]}] and files[{index}]: one file per dataset"
                    )
                seen[dataset] = index
        return self

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(d for f in self.files for d in f.datasets)

    def file_of(self, dataset: str) -> SourceFile:
        for file in self.files:
            if dataset in file.datasets:
                return file
        raise KeyError(dataset)


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not re.fullmatch(r"[A-Za-z0-9_-]+", part):
            text += f".{part!r}" if text else repr(part)
        else:
            text += f".{part}" if text else part
    return text or "(top level)"


def _problem(error: ErrorDetails) -> str:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "not a key of the mapping schema"
    return f"{_location(loc)}: {message}"


def load_mapping(path_or_text: Path | str, name: str = "<mapping>") -> Mapping:
    """The mapping in a TOML file (a Path) or TOML text; MappingError naming the file, the
    table and the key of each problem."""
    if isinstance(path_or_text, Path):
        name = path_or_text.name
        try:
            text = path_or_text.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MappingError(f"{name}: cannot be read ({type(exc).__name__})") from None
    else:
        text = path_or_text
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{name}: not TOML ({exc})") from None
    try:
        return Mapping.model_validate(document)
    except ValidationError as exc:
        problems = [_problem(e) for e in exc.errors(include_url=False, include_input=False)]
        raise MappingError(f"{name}: " + "; ".join(problems)) from None
