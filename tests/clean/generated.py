"""Generated exports for the pipeline tests, and ways to compare lakehouses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from practicelake.contracts import CONTRACTS
from practicelake.pipeline import Lakehouse
from practicelake.synth import GenerationReport, generate

VOLATILE = {"run_id", "loaded_at", "received_at", "ingest_id", "object_key"}
COMPARED = [f"cleaned.{c.entity}" for c in CONTRACTS] + ["ops.quarantine", "ops.duplicates", "ops.file_loads"]


def small_export(root: Path, *, practices: int = 2, appointments: int = 3000, seed: int = 5) -> GenerationReport:
    return generate(root, practices=practices, years=1, seed=seed, dirty_rate=0.05, appointments=appointments)


def batches(root: Path, practice: str) -> list[Path]:
    return sorted(p for p in (root / practice).iterdir() if p.is_dir())


def ingest_all(lakehouse: Lakehouse, root: Path, report: GenerationReport) -> None:
    for practice in report.practice_ids:
        lakehouse.ingest(practice, [root / practice])


def contents(lakehouse: Lakehouse, identifier: str) -> list[dict[str, Any]]:
    """A table's rows without run-specific columns, in a canonical order."""
    if not lakehouse.catalog.table_exists(identifier):
        return []
    table: pa.Table = lakehouse.catalog.load_table(identifier).scan().to_arrow()
    table = table.drop_columns([c for c in table.column_names if c in VOLATILE])
    rows = table.to_pylist()
    return sorted(rows, key=lambda row: [str(row[c]) for c in table.column_names])


def snapshot_ids(lakehouse: Lakehouse) -> dict[str, tuple[int | None, str]]:
    result = {}
    for identifier in [*COMPARED, "ops.runs", "ops.raw_files"]:
        table = lakehouse.catalog.load_table(identifier)
        snapshot = table.current_snapshot()
        result[identifier] = (snapshot.snapshot_id if snapshot else None, table.metadata_location)
    return result
