"""`MappedCsv`: a Format built from a mapping (formats.mapping.model), for a system whose CSV
export has its own column names, codes, date formats and time zone.

The file is matched to one of the mapping's `[[files]]` by its name (case-insensitive, `*`
and `?` as in a shell), or by the datasets the operator named. Its header must hold every
column the mapping reads (matched trimmed and case-insensitively); columns the mapping
neither reads nor ignores are reported by `unmapped`, not refused. Each dataset the file
feeds takes the records its `where` admits; a line that is no record (wrong field count, an
unclosed quote) is a bad row of every dataset its text may belong to, so that none is lost.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cache
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from practicelake.contracts import BY_DATASET
from practicelake.errors import MalformedFileError
from practicelake.formats.base import POSITION, BadRow, Inspection, ParsedFile, Source
from practicelake.formats.mapping.model import Feed, Mapping, MappingError, SourceFile, load_mapping
from practicelake.formats.mapping.records import Records, Unreadable, header_of, position_name, read_records, utf8
from practicelake.formats.mapping.values import Unread, column_text, mapped_values
from practicelake.settings import cited


def matches(file: SourceFile, name: str) -> bool:
    return fnmatchcase(name.rsplit("/", 1)[-1].lower(), file.match.lower())


@dataclass(frozen=True)
class Layout:
    """Where the columns a file's datasets read sit in its header."""

    positions: dict[str, int]  # source column (lower case) -> position
    unmapped: tuple[str, ...]


def layout(file: SourceFile, header: tuple[str, ...]) -> Layout:
    folded = [name.lower() for name in header]
    reads = [name.lower() for name in file.reads()]
    missing = [name for name in file.reads() if name.lower() not in folded]
    if missing:
        raise MalformedFileError(
            f"line 1: the header lacks columns the mapping reads: {', '.join(map(cited, missing))}"
        )
    repeated = sorted(name for name, count in Counter(folded).items() if count > 1 and name in reads)
    if repeated:
        raise MalformedFileError(f"line 1: columns named twice in the header: {', '.join(map(cited, repeated))}")
    ignored = file.ignored()
    unmapped = tuple(h for h, f in zip(header, folded, strict=True) if f not in reads and f not in ignored and h)
    return Layout({name: folded.index(name) for name in reads}, unmapped)


def _admitted(feed: Feed, table: pa.Table, positions: dict[str, int]) -> pa.ChunkedArray | None:
    """Which records the dataset takes (None: all)."""
    mask = None
    for column, values in feed.where.items():
        text = pc.utf8_lower(pc.utf8_trim_whitespace(table[position_name(positions[column.lower()])]))
        found = pc.is_in(text, value_set=pa.array([v.strip().lower() for v in values], pa.string()))
        mask = found if mask is None else pc.and_(mask, found)
    return mask


def _may_belong(feed: Feed, line: Unreadable, positions: dict[str, int], delimiter: str) -> bool:
    """Whether a line that is no record may be one of the dataset's: unless the fields its
    filter reads are there and say otherwise."""
    if not feed.where:
        return True
    try:
        fields = next(csv.reader([line.text], delimiter=delimiter), [])
    except csv.Error:
        return True
    for column, values in feed.where.items():
        position = positions[column.lower()]
        if position < len(fields) and fields[position].strip().lower() not in {v.strip().lower() for v in values}:
            return False
    return True


@dataclass(frozen=True)
class MappedCsv:
    mapping: Mapping
    unit: str = "line"
    name: str = field(init=False)
    description: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", f"csv:{self.mapping.name}")
        object.__setattr__(
            self, "description", f"CSV export of {self.mapping.system}, by the mapping {self.mapping.name!r}"
        )

    def sniff(self, source: Source) -> bool:
        return False  # a mapping is named by the operator, never guessed

    def file_for(self, source: Source) -> SourceFile:
        if source.datasets:
            unknown = [d for d in source.datasets if d not in self.mapping.datasets]
            if unknown:
                raise MalformedFileError(
                    f"the mapping {self.mapping.name} feeds no dataset {', '.join(map(cited, unknown))}"
                )
            files = {id(self.mapping.file_of(d)): self.mapping.file_of(d) for d in source.datasets}
            if len(files) > 1:
                raise MalformedFileError("the datasets named come from different files of the mapping")
            return next(iter(files.values()))
        for file in self.mapping.files:
            if matches(file, source.name):
                return file
        patterns = ", ".join(f.match for f in self.mapping.files)
        raise MalformedFileError(
            f"no file of the mapping {self.mapping.name} is named like {cited(source.name)} ({patterns})"
        )

    def inspect(self, source: Source) -> Inspection:
        file = self.file_for(source)
        records = self.records(source.data, file)
        found = layout(file, records.header)
        warnings = (f"columns neither mapped nor ignored: {', '.join(found.unmapped)}",) if found.unmapped else ()
        datasets = tuple(d for d in file.datasets if not source.datasets or d in source.datasets)
        return Inspection(datasets=datasets, warnings=warnings)

    def records(self, data: bytes, file: SourceFile, reads: Collection[str] | None = None) -> Records:
        """The file's records, in the source columns `reads` (None: all the mapping reads)."""
        header = header_of(utf8(data, self.mapping.source.encoding), self.mapping.source.delimiter)
        positions = layout(file, header).positions
        wanted = positions.values() if reads is None else (positions[name.lower()] for name in reads)
        return read_records(data, self.mapping.source, sorted(set(wanted)) or [0])

    def read(self, data: bytes, dataset: str, columns: Collection[str] | None = None) -> ParsedFile:
        file = self.mapping.file_of(dataset)
        feed = file.datasets[dataset]
        chosen = [name for name in feed.columns if columns is None or name in columns]
        reads = [*feed.where, *(c for name in chosen for c in feed.columns[name].columns)]
        records = self.records(data, file, reads)
        return dataset_rows(self.mapping, dataset, records, layout(file, records.header).positions, chosen)


def dataset_rows(
    mapping: Mapping, dataset: str, records: Records, positions: dict[str, int], chosen: Collection[str]
) -> ParsedFile:
    """The rows of one dataset from the records of its file, in the contract columns `chosen`."""
    feed, contract = mapping.file_of(dataset).datasets[dataset], BY_DATASET[dataset]
    table, lines = records.table, records.lines
    admitted = _admitted(feed, table, positions)
    if admitted is not None:
        admitted = pc.fill_null(admitted, False)
        table, lines = table.filter(admitted), lines[np.asarray(admitted.to_numpy(zero_copy_only=False), dtype=bool)]
    bad_rows = [
        BadRow(u.line, u.detail, u.rule)
        for u in records.unreadable
        if _may_belong(feed, u, positions, mapping.source.delimiter)
    ]

    def source_text(name: str) -> pa.ChunkedArray:
        return table[position_name(positions[name.lower()])]

    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    unread: list[Unread | None] = [None] * table.num_rows
    for name in contract.column_names:
        spec = feed.columns.get(name)
        if spec is None or name not in chosen:
            continue
        label = spec.source or "+".join(spec.join or ()) or name
        text, failures = column_text(
            spec, contract.column(name).kind, mapping.source, source_text, table.num_rows, label
        )
        columns[name] = text
        for index, failure in enumerate(failures):
            if failure is not None and unread[index] is None:
                unread[index] = failure
    rows = pa.table({**columns, POSITION: pa.array(lines, pa.int64())}) if columns else _positions_only(lines)
    failed = np.array([u is not None for u in unread], dtype=bool)
    if failed.any():
        bad_rows += [BadRow(int(lines[i]), u.detail, u.rule) for i, u in enumerate(unread) if u is not None]
        rows = rows.filter(pa.array(~failed))
    bad_rows.sort(key=lambda b: b.line)
    return ParsedFile(rows=rows, bad_rows=bad_rows)


def _positions_only(lines: np.ndarray) -> pa.Table:
    return pa.table({POSITION: pa.array(lines, pa.int64())})


def apply_values(mapping: Mapping, dataset: str, table: pa.Table) -> pa.Table:
    """The value maps of `dataset`'s columns over an all-text table in contract column names
    (as practicelake's own CSV is read): synonyms to canonical values, nothing re-read."""
    if dataset not in mapping.datasets:
        return table
    feed = mapping.file_of(dataset).datasets[dataset]
    for name, spec in feed.columns.items():
        if spec.values is not None and name in table.column_names:
            index = table.schema.get_field_index(name)
            table = table.set_column(index, name, mapped_values(table[name], spec))
    return table


@cache
def shipped(name: str) -> Mapping:
    """A mapping shipped with practicelake (formats/mappings/<name>.toml)."""
    folder = resources.files("practicelake").joinpath("formats", "mappings")
    known = sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))
    if name not in known:
        raise MappingError(f"no mapping shipped named {cited(name)} (expected one of: {', '.join(known)})")
    return load_mapping(folder.joinpath(f"{name}.toml").read_text(encoding="utf-8"), f"{name}.toml")
