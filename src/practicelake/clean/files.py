"""Raw files through the contract, a chunk at a time: parse, check, normalise, pseudonymise."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from practicelake.clean.checks import Violation, compiled
from practicelake.clean.parse import ParsedFile
from practicelake.clean.pseudonym import Pseudonyms
from practicelake.contracts import Contract, Kind
from practicelake.lakehouse.schemas import QUARANTINE


@dataclass(frozen=True)
class FileContext:
    practice_id: str
    time_zone: str
    pseudonyms: Pseudonyms
    run_id: str
    reference_date: date


@dataclass(frozen=True)
class CleanedChunk:
    accepted: pa.Table  # cleaned columns + raw_file_sha256, raw_line, run_id
    quarantined: pa.Table  # ops.quarantine rows
    rows_read: Counter[str]  # by raw file
    rows_accepted: Counter[str]
    rows_quarantined: Counter[str]


def to_utc(rows: pa.Table, contract: Contract, time_zone: str) -> pa.Table:
    """Practice-local wall times -> naive UTC. A wall time that a daylight-saving change makes
    ambiguous or skips is read as the earliest instant it can mean."""
    for column in contract.columns:
        if column.kind is Kind.TIMESTAMP:
            index = rows.schema.get_field_index(column.name)
            local = pc.assume_timezone(
                rows.column(index), timezone=time_zone, ambiguous="earliest", nonexistent="earliest"
            )
            rows = rows.set_column(index, column.name, local.cast(pa.int64()).cast(pa.timestamp("us")))
    return rows


def _quarantine_rows(
    context: FileContext, entity: str, shas: list[str], lines: list[int], found: list[Violation]
) -> pa.Table:
    n = len(lines)
    return pa.table(
        {
            "practice_id": pa.repeat(context.practice_id, n),
            "entity": pa.repeat(entity, n),
            "raw_file_sha256": pa.array(shas, pa.string()),
            "raw_line": pa.array(lines, pa.int64()),
            "rule": pa.array([v.rule for v in found], pa.string()),
            "column_name": pa.array([v.column for v in found], pa.string()),
            "detail": pa.array([v.detail for v in found], pa.string()),
            "run_id": pa.repeat(context.run_id, n),
        },
        schema=QUARANTINE,
    )


def clean_chunk(
    con: duckdb.DuckDBPyConnection, contract: Contract, parsed: list[tuple[str, ParsedFile]], context: FileContext
) -> CleanedChunk:
    """Check and normalise the rows of several parsed files of one practice and entity at once."""
    query = compiled(contract.entity)
    incoming = pa.concat_tables(
        [p.rows.append_column("raw_file_sha256", pa.repeat(pa.scalar(sha), p.rows.num_rows)) for sha, p in parsed]
    )
    values = {
        "practice_id": context.practice_id,
        "time_zone": context.time_zone,
        "reference_date": context.reference_date,
    }
    con.register("incoming", incoming)
    judged = con.execute(query.sql, {k: v for k, v in values.items() if k in query.parameters}).to_arrow_table()
    con.unregister("incoming")
    del incoming
    rejected_mask = pc.is_valid(judged["violation"])
    rejected = judged.filter(rejected_mask).select(["raw_file_sha256", "raw_line", "violation"])
    accepted = judged.filter(pc.invert(rejected_mask)).drop_columns(["violation"])
    accepted = context.pseudonyms.apply(accepted, contract)
    accepted = to_utc(accepted, contract, context.time_zone)
    accepted = accepted.append_column("run_id", pa.repeat(pa.scalar(context.run_id), accepted.num_rows))

    shas = rejected["raw_file_sha256"].to_pylist()
    lines = rejected["raw_line"].to_pylist()
    found = [query.violations[i] for i in rejected["violation"].to_pylist()]
    for sha, p in parsed:
        shas += [sha] * len(p.bad_rows)
        lines += [bad.line for bad in p.bad_rows]
        found += [Violation("field_count", None, bad.detail) for bad in p.bad_rows]
    quarantined = _quarantine_rows(context, contract.entity, shas, lines, found)
    return CleanedChunk(
        accepted=accepted,
        quarantined=quarantined,
        rows_read=Counter({sha: p.rows_read for sha, p in parsed}),
        rows_accepted=Counter(accepted["raw_file_sha256"].to_pylist()),
        rows_quarantined=Counter(shas),
    )
