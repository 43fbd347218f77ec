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
import pyarrow as pa
import pyarrow.compute as pc

from practicelake.clean.checks import Violation, compiled
from practicelake.clean.parse import ParsedFile
from practicelake.clean.pseudonym import Pseudonyms
from practicelake.contracts import Contract, Kind, Pii
from practicelake.lakehouse.schemas import QUARANTINE

# DuckDB scans a registered Arrow table on one thread: a chunk is judged in this many parts.
PARALLEL_PARTS = max(2, min(8, os.cpu_count() or 2))


@dataclass(frozen=True)
class RawFile:
    practice_id: str
    sha256: str
    parsed: ParsedFile


@dataclass(frozen=True)
class RunContext:
    run_id: str
    reference_date: date  # ages are computed on this date
    time_zone: Callable[[str], str]  # of a practice
    pseudonyms: Pseudonyms


@dataclass(frozen=True)
class CleanedChunk:
    accepted: pa.Table  # cleaned columns + raw_file_sha256, raw_line, run_id
    quarantined: pa.Table  # ops.quarantine rows
    rows_read: Counter[tuple[str, str]]  # by (practice, raw file)
    rows_accepted: Counter[tuple[str, str]]
    rows_quarantined: Counter[tuple[str, str]]


def to_utc(rows: pa.Table, contract: Contract, context: RunContext) -> pa.Table:
    """Practice-local wall times -> naive UTC. A wall time that a daylight-saving change makes
    ambiguous or skips is read as the earliest instant it can mean."""
    columns = [c.name for c in contract.columns if c.kind is Kind.TIMESTAMP]
    if not columns or rows.num_rows == 0:
        return rows
    by_zone: dict[str, list[str]] = {}
    for practice_id in pc.unique(rows["practice_id"]).to_pylist():
        by_zone.setdefault(context.time_zone(practice_id), []).append(practice_id)
    zones = sorted(by_zone)
    # Rows of the first zone need no mask: every other zone overwrites its own rows.
    masks = {zone: pc.is_in(rows["practice_id"], pa.array(by_zone[zone], pa.string())) for zone in zones[1:]}
    for name in columns:
        index = rows.schema.get_field_index(name)
        local = rows.column(index)
        utc = None
        for zone in zones:
            converted = pc.assume_timezone(local, timezone=zone, ambiguous="earliest", nonexistent="earliest")
            converted = converted.cast(pa.int64()).cast(pa.timestamp("us"))
            utc = converted if utc is None else pc.if_else(masks[zone], converted, utc)
        rows = rows.set_column(index, name, utc)
    return rows


def pseudonymise(rows: pa.Table, contract: Contract, context: RunContext) -> pa.Table:
    """Replace every patient id column (already renamed patient_key) by its pseudonym."""
    for column in contract.columns:
        if column.pii is Pii.PATIENT_ID:
            name = column.cleaned_name
            assert name is not None
            index = rows.schema.get_field_index(name)
            rows = rows.set_column(index, name, context.pseudonyms.replace(rows["practice_id"], rows[name]))
    return rows


def _counts(table: pa.Table) -> Counter[tuple[str, str]]:
    grouped = table.group_by(["practice_id", "raw_file_sha256"]).aggregate([([], "count_all")])
    keys = zip(grouped["practice_id"].to_pylist(), grouped["raw_file_sha256"].to_pylist(), strict=True)
    return Counter(dict(zip(keys, grouped["count_all"].to_pylist(), strict=True)))


def _quarantine_rows(
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


def clean_chunk(
    con: duckdb.DuckDBPyConnection, contract: Contract, files: list[RawFile], context: RunContext
) -> CleanedChunk:
    """Check and normalise the rows of several parsed files of one entity at once."""
    query = compiled(contract.entity)
    incoming = pa.concat_tables(
        [
            f.parsed.rows.append_column(
                "raw_file_sha256", pa.repeat(pa.scalar(f.sha256), f.parsed.rows.num_rows)
            ).append_column("expected_practice_id", pa.repeat(pa.scalar(f.practice_id), f.parsed.rows.num_rows))
            for f in files
        ]
    )
    values = {"reference_date": context.reference_date}
    parameters = {k: v for k, v in values.items() if k in query.parameters}

    def judge(part: pa.Table) -> tuple[pa.Table, pa.Table]:
        # One cursor per part: DuckDB scans a registered Arrow table on one thread, so the
        # parts run side by side, one per core, and so do their pseudonyms and time zones.
        cursor = con.cursor()
        cursor.register("incoming", part)
        judged = cursor.execute(query.sql, parameters).to_arrow_table()
        cursor.close()
        rejected_mask = pc.is_valid(judged["violation"])
        rejected = judged.select(["expected_practice_id", "raw_file_sha256", "raw_line", "violation"])
        rejected = rejected.filter(rejected_mask)
        accepted = judged.drop_columns(["violation", "expected_practice_id"])
        if rejected.num_rows:
            accepted = accepted.filter(pc.invert(rejected_mask))
        del judged
        accepted = to_utc(pseudonymise(accepted, contract, context), contract, context)
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
        found += [Violation("field_count", None, row.detail) for row in bad]
    return CleanedChunk(
        accepted=accepted,
        quarantined=_quarantine_rows(contract.entity, context.run_id, practices, shas, lines, found),
        rows_read=Counter({(f.practice_id, f.sha256): f.parsed.rows_read for f in files}),
        rows_accepted=_counts(accepted),
        rows_quarantined=Counter(zip(practices, shas, strict=True)),
    )
