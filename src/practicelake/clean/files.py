"""Raw files through the contract, a chunk at a time: parse, check, normalise, pseudonymise.

A chunk may hold files of several practices: each file carries the practice it was ingested
for, and every row is checked against that practice, converted with that practice's time
zone and pseudonymised with that practice's secret.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from practicelake.clean.checks import INSTANT_SUFFIX, Violation, compiled, date_only_name, instant_name
from practicelake.clean.pseudonym import Pseudonyms
from practicelake.contracts import Column, Contract, Kind, Pii
from practicelake.formats.base import ParsedFile
from practicelake.lakehouse.schemas import QUARANTINE

# DuckDB scans a registered Arrow table on one thread: a chunk is judged in this many parts.
PARALLEL_PARTS = max(2, min(8, os.cpu_count() or 2))


@dataclass(frozen=True)
class RawFile:
    practice_id: str
    sha256: str
    received_on: date  # ages in a record without a date of its own are judged on this day
    parsed: ParsedFile


@dataclass(frozen=True)
class RunContext:
    run_id: str
    time_zone: Callable[[str], str]  # of a practice, from the settings
    currency: Callable[[str], str]  # of a practice, from the settings
    pseudonyms: Pseudonyms


@dataclass(frozen=True)
class CleanedChunk:
    accepted: pa.Table  # cleaned columns + raw_file_sha256, raw_line, run_id
    quarantined: pa.Table  # ops.quarantine rows
    rows_read: Counter[tuple[str, str]]  # by (practice, raw file)
    rows_accepted: Counter[tuple[str, str]]
    rows_quarantined: Counter[tuple[str, str]]


def _zone_masks(rows: pa.Table, context: RunContext) -> dict[str, pa.ChunkedArray]:
    """The rows of each time zone among the chunk's practices."""
    by_zone: dict[str, list[str]] = {}
    for practice_id in pc.unique(rows["practice_id"]).to_pylist():
        by_zone.setdefault(context.time_zone(practice_id), []).append(practice_id)
    return {zone: pc.is_in(rows["practice_id"], pa.array(ids, pa.string())) for zone, ids in sorted(by_zone.items())}


def _as_utc(local: pa.ChunkedArray, zone: str) -> tuple[pa.ChunkedArray, pa.ChunkedArray | None]:
    """Wall times in `zone` as naive UTC, and where they fall in a daylight-saving gap (None: nowhere).
    A wall time made ambiguous by a change back is read as the earlier instant it can mean."""
    try:
        converted = pc.assume_timezone(local, timezone=zone, ambiguous="earliest", nonexistent="raise")
        skipped = None
    except pa.ArrowInvalid:  # rare: a wall time the clocks skip
        earliest = pc.assume_timezone(local, timezone=zone, ambiguous="earliest", nonexistent="earliest")
        converted = pc.assume_timezone(local, timezone=zone, ambiguous="earliest", nonexistent="latest")
        skipped = pc.fill_null(pc.not_equal(earliest, converted), False)
    return converted.cast(pa.int64()).cast(pa.timestamp("us")), skipped


def _date_only(rows: pa.Table, column: Column) -> pa.ChunkedArray | None:
    """Which values are a date alone (None: none can be, the contract quarantines them)."""
    if column.time_known:
        return pc.invert(pc.fill_null(rows[column.time_known], True))
    if column.needs_time:
        return None
    return pc.fill_null(rows[date_only_name(column)], False)


def drop_unused_instants(rows: pa.Table) -> pa.Table:
    """The instant columns no value of which was given with an offset (the usual case), dropped
    before the rows are filtered and converted."""
    unused = [n for n in rows.column_names if n.endswith(INSTANT_SUFFIX) and rows[n].null_count == rows.num_rows]
    return rows.drop_columns(unused) if unused else rows


def to_utc(rows: pa.Table, contract: Contract, context: RunContext) -> tuple[pa.Table, pa.ChunkedArray | None]:
    """Practice wall times -> naive UTC; a value given with an offset is already its instant.
    Returns the rows and, per row, the index among the contract's timestamp columns of the
    first one whose wall time does not exist in the practice's zone (None: no such row). A date
    alone at a skipped midnight is the first instant of that day."""
    columns = [c for c in contract.columns if c.kind is Kind.TIMESTAMP]
    working = [n for c in columns for n in (instant_name(c), date_only_name(c)) if n in rows.column_names]
    if not columns or rows.num_rows == 0:
        return rows.drop_columns(working), None
    masks = _zone_masks(rows, context)
    gaps: pa.ChunkedArray | None = None
    for position, column in enumerate(columns):
        index = rows.schema.get_field_index(column.name)
        utc = skipped_any = None
        for zone, mask in masks.items():
            converted, skipped = _as_utc(rows.column(index), zone)
            utc = converted if utc is None else pc.if_else(mask, converted, utc)
            if skipped is not None:
                skipped = pc.and_(skipped, mask)
                skipped_any = skipped if skipped_any is None else pc.or_(skipped_any, skipped)
        instant = None
        if instant_name(column) in rows.column_names:  # some values were given with an offset
            instant = rows[instant_name(column)].cast(pa.int64()).cast(pa.timestamp("us"))  # its UTC epoch
            utc = pc.if_else(pc.is_valid(instant), instant, utc)
        rows = rows.set_column(index, column.name, utc)
        if skipped_any is not None:
            given_time = pc.is_null(instant) if instant is not None else pa.repeat(True, rows.num_rows)
            date_only = _date_only(rows, column)
            if date_only is not None:
                given_time = pc.and_(given_time, pc.invert(date_only))
            bad = pc.fill_null(pc.and_(skipped_any, given_time), False)
            here = pc.if_else(bad, pa.scalar(position, pa.int64()), pa.scalar(None, pa.int64()))
            gaps = here if gaps is None else pc.coalesce(gaps, here)
    return rows.drop_columns(working), gaps


def pseudonymise(rows: pa.Table, contract: Contract, context: RunContext) -> pa.Table:
    """Replace every patient id column (already renamed patient_key) by its pseudonym."""
    for column in contract.columns:
        if column.pii is Pii.PATIENT_ID:
            name = column.cleaned_name
            assert name is not None
            index = rows.schema.get_field_index(name)
            rows = rows.set_column(index, name, context.pseudonyms.replace(rows["practice_id"], rows[name]))
    return rows


def counts_by_file(table: pa.Table) -> Counter[tuple[str, str]]:
    grouped = table.group_by(["practice_id", "raw_file_sha256"]).aggregate([([], "count_all")])
    keys = zip(grouped["practice_id"].to_pylist(), grouped["raw_file_sha256"].to_pylist(), strict=True)
    return Counter(dict(zip(keys, grouped["count_all"].to_pylist(), strict=True)))


def quarantine_rows(
    entity: str, run_id: str, practices: list[str], shas: list[str], lines: list[int], found: list[Violation]
) -> pa.Table:
    n = len(lines)
    return pa.table(
        {
            "practice_id": pa.array(practices, pa.string()),
            "entity": pa.repeat(entity, n),
            "raw_file_sha256": pa.array(shas, pa.string()),
            "raw_line": pa.array(lines, pa.int64()),
            "rule": pa.array([v.rule for v in found], pa.string()),
            "column_name": pa.array([v.column for v in found], pa.string()),
            "detail": pa.array([v.detail for v in found], pa.string()),
            "run_id": pa.repeat(run_id, n),
        },
        schema=QUARANTINE,
    )


def _plain_wall_times(text: pa.Array) -> bool:
    """Every value is empty, a date alone, or `YYYY-MM-DD HH:MM[:SS]` to the character (a colon
    before the minutes' end), read straight from the array's buffers."""
    if text.type != pa.string():
        return False
    _, offset_buffer, data_buffer = text.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=np.int32)[text.offset : text.offset + len(text) + 1]
    if data_buffer is None:
        return True
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    lengths, starts = np.diff(offsets), offsets[:-1]
    plain = lengths <= 10
    for length, colon in ((19, 16), (16, 13)):  # with seconds, without
        chosen = lengths == length
        plain[chosen] = data[starts[chosen] + colon] == ord(":")
    return bool(plain.all())


def may_hold_offsets(rows: pa.Table, contract: Contract) -> bool:
    """False when every timestamp text is surely a plain wall time (the rows then skip the
    steps that read offsets)."""
    for column in contract.columns:
        timed = column.kind is Kind.TIMESTAMP and column.name in rows.column_names
        if timed and not all(_plain_wall_times(chunk) for chunk in rows[column.name].chunks):
            return True
    return False


def _with_file_columns(raw: RawFile, context: RunContext) -> pa.Table:
    """The file's text rows with what the checks know of the file (see checks.FILE_COLUMNS)."""
    rows = raw.parsed.rows
    n = rows.num_rows
    constants = {
        "raw_file_sha256": pa.scalar(raw.sha256),
        "expected_practice_id": pa.scalar(raw.practice_id),
        "expected_time_zone": pa.scalar(context.time_zone(raw.practice_id)),
        "expected_currency": pa.scalar(context.currency(raw.practice_id)),
        "received_on": pa.scalar(raw.received_on, pa.date32()),
    }
    zeros = pa.array(np.zeros(n, dtype=np.int32))
    for name, value in constants.items():
        # One value for the whole file: dictionary-encoded, it costs an index a row, not a copy.
        rows = rows.append_column(name, pa.DictionaryArray.from_arrays(zeros, pa.array([value.as_py()], value.type)))
    return rows


def _reject_gaps(
    accepted: pa.Table, rejected: pa.Table, gaps: pa.ChunkedArray, first_violation: int
) -> tuple[pa.Table, pa.Table]:
    """Rows with a wall time the clocks skip move from accepted to rejected (never clamped:
    two distinct source times must not become one)."""
    bad = pc.is_valid(gaps)
    if not pc.any(bad).as_py():
        return accepted, rejected
    violation = pc.add(gaps.filter(bad), pa.scalar(first_violation, pa.int64()))
    moved = pa.table(
        {
            "expected_practice_id": accepted["practice_id"].filter(bad),
            "raw_file_sha256": accepted["raw_file_sha256"].filter(bad),
            "raw_line": accepted["raw_line"].filter(bad),
            "violation": violation.cast(rejected.schema.field("violation").type),
        }
    )
    return accepted.filter(pc.invert(bad)), pa.concat_tables([rejected, moved.cast(rejected.schema)])


def clean_chunk(
    con: duckdb.DuckDBPyConnection, contract: Contract, files: list[RawFile], context: RunContext
) -> CleanedChunk:
    """Check and normalise the rows of several parsed files of one entity at once."""
    query = compiled(contract.entity)
    incoming = pa.concat_tables([_with_file_columns(f, context) for f in files])

    def judge(part: pa.Table) -> tuple[pa.Table, pa.Table]:
        # One cursor per part: DuckDB scans a registered Arrow table on one thread, so the
        # parts run side by side, one per core, and so do their pseudonyms and time zones.
        cursor = con.cursor()
        cursor.register("incoming", part)
        sql = query.sql if may_hold_offsets(part, contract) else query.wall_time_sql
        judged = drop_unused_instants(cursor.execute(sql).to_arrow_table())
        cursor.close()
        rejected_mask = pc.is_valid(judged["violation"])
        rejected = judged.select(["expected_practice_id", "raw_file_sha256", "raw_line", "violation"])
        rejected = rejected.filter(rejected_mask)
        accepted = judged.drop_columns(["violation", "expected_practice_id"])
        if rejected.num_rows:
            accepted = accepted.filter(pc.invert(rejected_mask))
        del judged
        accepted, gaps = to_utc(pseudonymise(accepted, contract, context), contract, context)
        if gaps is not None:
            accepted, rejected = _reject_gaps(accepted, rejected, gaps, query.gap_violation)
        return accepted, rejected

    size = -(-incoming.num_rows // PARALLEL_PARTS)
    parts = [incoming.slice(i * size, size) for i in range(PARALLEL_PARTS)]
    del incoming
    with ThreadPoolExecutor(PARALLEL_PARTS) as pool:
        done = list(pool.map(judge, parts))
    del parts
    accepted = pa.concat_tables([a for a, _ in done])
    rejected = pa.concat_tables([r for _, r in done])
    del done
    accepted = accepted.append_column("run_id", pa.repeat(pa.scalar(context.run_id), accepted.num_rows))

    practices = rejected["expected_practice_id"].to_pylist()
    shas = rejected["raw_file_sha256"].to_pylist()
    lines = rejected["raw_line"].to_pylist()
    found = [query.violations[i] for i in rejected["violation"].to_pylist()]
    for f in files:
        bad = f.parsed.bad_rows
        practices += [f.practice_id] * len(bad)
        shas += [f.sha256] * len(bad)
        lines += [row.line for row in bad]
        found += [Violation(row.rule, None, row.detail) for row in bad]
    return CleanedChunk(
        accepted=accepted,
        quarantined=quarantine_rows(contract.entity, context.run_id, practices, shas, lines, found),
        rows_read=Counter({(f.practice_id, f.sha256): f.parsed.rows_read for f in files}),
        rows_accepted=counts_by_file(accepted),
        rows_quarantined=Counter(zip(practices, shas, strict=True)),
    )
