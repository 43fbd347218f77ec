"""One raw file through the contract: parse, check, normalise, pseudonymise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pyarrow as pa

from practicelake.clean.checks import Violation, compiled
from practicelake.clean.parse import parse
from practicelake.clean.pseudonym import pseudonymise
from practicelake.contracts import Contract
from practicelake.lakehouse.schemas import QUARANTINE


@dataclass(frozen=True)
class CleanedFile:
    accepted: pa.Table  # cleaned columns + lineage
    quarantined: pa.Table  # ops.quarantine rows
    rows_read: int


@dataclass(frozen=True)
class FileContext:
    practice_id: str
    time_zone: str
    secret: bytes
    run_id: str
    reference_date: date


def clean_file(
    con: duckdb.DuckDBPyConnection, contract: Contract, data: bytes, sha256: str, context: FileContext
) -> CleanedFile:
    parsed = parse(contract, data)
    queries = compiled(contract.entity)
    con.register("incoming", parsed.rows)
    values: dict[str, object] = {
        "practice_id": context.practice_id,
        "time_zone": context.time_zone,
        "reference_date": context.reference_date,
    }
    con.execute(
        "create or replace temp table judged as " + queries.judge_sql,
        {k: v for k, v in values.items() if k in queries.judge_parameters},
    )
    accepted = con.execute(
        queries.accepted_sql, {k: v for k, v in values.items() if k in queries.accepted_parameters}
    ).to_arrow_table()
    rejected = con.sql("select raw_line, violation from judged where violation is not null").to_arrow_table()
    con.execute("drop table judged")
    con.unregister("incoming")
    accepted = pseudonymise(accepted, contract, context.secret)
    accepted = accepted.append_column("raw_file_sha256", pa.repeat(sha256, accepted.num_rows))
    accepted = accepted.append_column("run_id", pa.repeat(context.run_id, accepted.num_rows))
    lines = rejected.column("raw_line").to_pylist() + [bad.line for bad in parsed.bad_rows]
    found: list[Violation] = [queries.violations[i] for i in rejected.column("violation").to_pylist()]
    found += [Violation("field_count", None, bad.detail) for bad in parsed.bad_rows]
    quarantined = pa.table(
        {
            "practice_id": pa.repeat(context.practice_id, len(lines)),
            "entity": pa.repeat(contract.entity, len(lines)),
            "raw_file_sha256": pa.repeat(sha256, len(lines)),
            "raw_line": pa.array(lines, pa.int64()),
            "rule": pa.array([v.rule for v in found], pa.string()),
            "column_name": pa.array([v.column for v in found], pa.string()),
            "detail": pa.array([v.detail for v in found], pa.string()),
            "run_id": pa.repeat(context.run_id, len(lines)),
        },
        schema=QUARANTINE,
    )
    return CleanedFile(accepted=accepted, quarantined=quarantined, rows_read=parsed.rows_read)
