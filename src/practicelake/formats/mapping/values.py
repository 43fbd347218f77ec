"""A source column's text -> the contract's text form (formats.base): value maps, dates and
times by the mapping's strftime formats and time zones, numbers by its separators.

Each conversion runs once per distinct value of a column (codes, dates and amounts repeat),
and is taken back to the rows by index. A value that none of the date formats reads, or a
wall time that the source zone's clocks skip, is not the contract's to judge (the mapping
says how the system writes it): the row is a bad row naming the column, never the value.
Everything else (an unlisted code kept, an amount with three decimals) goes to the contract.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC as UTC_ZONE
from datetime import datetime, tzinfo
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from practicelake.contracts import Kind
from practicelake.formats.mapping.model import PRACTICE, TIME_DIRECTIVES, UTC, ColumnSource, SourceOptions

DATE_FORMAT = "date_format"
NONEXISTENT_LOCAL_TIME = "nonexistent_local_time"
NUMERIC = (Kind.DECIMAL, Kind.NUMBER, Kind.INTEGER)
DATED = (Kind.DATE, Kind.TIMESTAMP, Kind.TIME)


@dataclass(frozen=True)
class Unread:
    """Why a value could not be read: the rule and a detail that never quotes the value."""

    rule: str
    detail: str


Converted = str | None | Unread


@cache
def zone_of(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo

    return UTC_ZONE if name == UTC else ZoneInfo(name)


def has_time(strftime: str) -> bool:
    return any(d in TIME_DIRECTIVES for d in re.findall(r"%(.)", strftime))


def localised(wall: datetime, zone: str) -> datetime | None:
    """The instant a wall time names in `zone` (the earlier of two after a change back), or
    None for a wall time the clocks skip."""
    place = zone_of(zone)
    instant = wall.replace(tzinfo=place, fold=0)
    if instant.astimezone(UTC_ZONE).astimezone(place).replace(tzinfo=None) != wall:
        return None
    return instant


def wall_text(moment: datetime) -> str:
    return moment.date().isoformat() + " " + moment.time().isoformat()


def instant_text(moment: datetime) -> str:
    offset = moment.utcoffset()
    minutes = 0 if offset is None else int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return wall_text(moment.replace(tzinfo=None)) + f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def time_reader(kind: Kind, formats: list[str], options: SourceOptions, label: str) -> Callable[[str], Converted]:
    """Reads one date, timestamp or time of day by the first format that fits."""
    timed = [(f, has_time(f)) for f in formats]
    no_format = Unread(DATE_FORMAT, f"{label}: matches none of the mapping's date and time formats")
    skipped = Unread(
        NONEXISTENT_LOCAL_TIME, f"{label}: a wall time that a daylight-saving change of the source zone skips"
    )
    zone, date_zone = options.time_zone, options.date_zone

    def read(text: str) -> Converted:
        for strftime, with_time in timed:
            try:
                moment = datetime.strptime(text, strftime)
            except ValueError:
                continue
            if kind is Kind.TIME:
                if not with_time:
                    continue
                return moment.time().isoformat("minutes" if moment.second == 0 and not moment.microsecond else "auto")
            if not with_time:
                return moment.date().isoformat()
            if moment.tzinfo is None and zone != PRACTICE:
                localised_moment = localised(moment, zone)
                if localised_moment is None:
                    return skipped
                moment = localised_moment
            if kind is Kind.DATE:
                if moment.tzinfo is not None and date_zone is not None:
                    moment = moment.astimezone(zone_of(date_zone))
                return moment.date().isoformat()
            return wall_text(moment) if moment.tzinfo is None else instant_text(moment)
        return no_format

    return read


def value_map(spec: ColumnSource) -> Callable[[str | None], str | None]:
    lookup = spec.lookup()

    def mapped(text: str | None) -> str | None:
        key = "" if text is None else text.lower()
        if key in lookup:
            return lookup[key] or None
        if text is None:
            return None
        return text if spec.default is None else (spec.default or None)

    return mapped


def by_distinct_value(
    text: pa.ChunkedArray | pa.Array, convert: Callable[[str | None], Converted]
) -> tuple[pa.Array, list[Unread | None]]:
    """`convert` over each distinct value, taken back to the rows; and per row, why it could
    not be read (None: it could)."""
    distinct = pc.unique(text)
    results = [convert(v) for v in distinct.to_pylist()]
    failures = [r if isinstance(r, Unread) else None for r in results]
    converted = pa.array([None if isinstance(r, Unread) else r for r in results], pa.string())
    index = pc.index_in(text, value_set=distinct, skip_nulls=False)
    rows = converted.take(index)
    if not any(failures):
        return rows, []
    positions = np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.int64)
    return rows, [failures[p] for p in positions]


def trimmed(text: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Surrounding spaces dropped; an empty value is NULL."""
    stripped = pc.utf8_trim_whitespace(text)
    return pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.string()), stripped)


def column_text(
    spec: ColumnSource,
    kind: Kind,
    options: SourceOptions,
    read: Callable[[str], pa.ChunkedArray],
    rows: int,
    label: str,
) -> tuple[pa.Array | pa.ChunkedArray, list[Unread | None]]:
    """One contract column for `rows` rows, from the source columns `read` gives (as text)."""
    if spec.constant is not None:
        return pa.repeat(pa.scalar(spec.constant or None, pa.string()), rows), []
    if spec.join is not None:
        parts = [trimmed(read(name)) for name in spec.join]
        text: pa.Array | pa.ChunkedArray = pc.binary_join_element_wise(*parts, spec.separator)
    else:
        assert spec.source is not None
        text = trimmed(read(spec.source))
    if spec.values is not None:
        return by_distinct_value(text, value_map(spec))
    if kind in NUMERIC:
        if options.thousands:
            text = pc.replace_substring(text, options.thousands, "")
        if options.decimal != ".":
            text = pc.replace_substring(text, options.decimal, ".")
        return text, []
    formats = options.formats if spec.formats is None else spec.formats
    if kind in DATED and formats:
        reader = time_reader(kind, formats, options, label)
        return by_distinct_value(text, lambda v: None if v is None else reader(v))
    return text, []


def mapped_values(text: pa.ChunkedArray | pa.Array, spec: ColumnSource) -> pa.Array:
    """A column's value map over text already in contract column names (no other conversion)."""
    rows, _ = by_distinct_value(trimmed(text), value_map(spec))
    return rows
