"""What every source format gives the transform, whatever it reads: for one file and one
dataset, the rows as text in the contract's column names, each with its position in the file,
and the records it could not read, each with its position and the reason.

A format reads its file as its source meant it and writes each value in the text the
contract checks read (clean.checks): dates `YYYY-MM-DD`; timestamps `YYYY-MM-DD HH:MM[:SS]`
as the practice's wall time, or with the offset the source gave (`+02:00`, `Z`), never with
one it did not; money with `.` and at most two decimals; codes as the source wrote them. It
never judges a value the contract judges (required, type, allowed values, ranges): those
rules hold for every format because the transform applies them to every format's rows.
A record that cannot even be told apart from its neighbours, or breaks a rule only the
format knows (an 835 claim whose amounts do not add up), is a bad row, with its position.

`practice_id` is never read from a file: the transform fills it with the practice the file
was ingested for (a column a format leaves out is empty).

Where the source says when it recorded each record (an HL7 v2 message's time, a FHIR resource's
`meta.lastUpdated`), a format also gives that when the caller names RECORDED among the columns
it reads, in the same timestamp text. It is lineage, not a contract column: nothing checks it,
and where a key has rows in several files the one recorded last wins (clean.merge).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import pyarrow as pa

POSITION = "raw_line"
"""The column of a row's position: a line, a segment, an entry or a message (Format.unit)."""

RECORDED = "recorded_at"
"""The column of when the source recorded the row's record, for the formats whose source says
(text as a timestamp column's: an offset where the source gave one, else the practice's wall
time; a date alone or text that is no timestamp counts as not said). Given only when asked for
by name (`columns=None`, every contract column, leaves it out); a format that does not know
leaves it out."""


@dataclass(frozen=True)
class BadRow:
    line: int  # the position, in the format's unit
    detail: str  # what is wrong, never the value itself
    rule: str = "field_count"


@dataclass(frozen=True)
class ParsedFile:
    rows: pa.Table  # one string column per contract column read, plus POSITION (int64) and RECORDED if asked
    bad_rows: list[BadRow]
    warnings: tuple[str, ...] = ()
    """Defects read past (a wrong segment count, blank lines): the file's rows are all here."""

    @property
    def rows_read(self) -> int:
        """Every record of the dataset the file holds: accepted here or bad."""
        return int(self.rows.num_rows) + len(self.bad_rows)


@dataclass(frozen=True)
class Inspection:
    """What the ingest learns of a file that its format can read."""

    datasets: tuple[str, ...]  # the contract datasets the file feeds, each loaded on its own
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """A file as the ingest received it: its bytes and the name it came with."""

    data: bytes
    name: str  # the file's name, e.g. "appointments.csv", "remit_0412.835"
    datasets: tuple[str, ...] = field(default=())
    """The datasets the operator named for it (a CSV named by its stem), if any."""


class Format(Protocol):
    """One source format. `name` is what the manifest records and `ingest --format` takes."""

    @property
    def name(self) -> str: ...

    @property
    def unit(self) -> str:
        """What a position counts: "line", "segment", "entry" or "message"."""
        ...

    @property
    def description(self) -> str: ...

    def sniff(self, source: Source) -> bool:
        """Whether the content is surely this format (no other format would also claim it)."""
        ...

    def inspect(self, source: Source) -> Inspection:
        """The datasets the file feeds; MalformedFileError (naming the problem and where it is)
        if its structure cannot be read. Run at ingest: a failed file is kept and marked failed."""
        ...

    def read(self, data: bytes, dataset: str, columns: Collection[str] | None = None) -> ParsedFile:
        """The rows of `dataset` in the file (one of those inspect named). `columns`: the
        contract columns the caller reads (None: all); a format leaves the others out where it
        can, so that what the cleaned zone does not keep stays in raw."""
        ...


@runtime_checkable
class MultiDatasetFormat(Format, Protocol):
    """A format whose files feed several datasets and that reads them at once for less than
    reading each alone (an 835: the claims are read once for outcomes, payments, adjustments)."""

    def read_datasets(self, data: bytes, wanted: Mapping[str, Collection[str] | None]) -> dict[str, ParsedFile]:
        """`read` of each dataset in `wanted`, with its columns."""
        ...
