"""What the command line prints: rich tables built from the stages' reports."""

from __future__ import annotations

from numbers import Number
from pathlib import Path
from typing import Any

from pyiceberg.catalog import Catalog
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from practicelake.clean.reconcile import Unfinished, lake_status
from practicelake.clean.transform import TransformReport
from practicelake.curate.runner import CurateReport
from practicelake.ingest import IngestReport
from practicelake.ingest.manifest import ALREADY_INGESTED, FAILED, INGESTED
from practicelake.storage import ObjectStore
from practicelake.synth import GenerationReport


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        numbers = all(row[i] is None or isinstance(row[i], Number) for row in rows)
        table.add_column(name, justify="right" if numbers and i >= 1 else "left")
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    return table


def generation(report: GenerationReport, out_dir: Path) -> RenderableType:
    return Text(
        f"wrote {report.files_written:,} files for {len(report.practice_ids)} practices "
        f"({report.appointments:,} appointments) to {out_dir} in {report.seconds:.1f} s; "
        f"practice settings in {out_dir / 'practices.toml'}"
    )


def ingest(report: IngestReport) -> RenderableType:
    return Text(
        f"ingest {report.ingest_id}: {report.count(INGESTED)} stored, "
        f"{report.count(ALREADY_INGESTED)} already ingested (no-op), {report.count(FAILED)} failed"
    )


def transform(report: TransformReport) -> RenderableType:
    lines: list[RenderableType] = []
    if report.rolled_back:
        lines.append(Text(f"rolled back interrupted runs: {', '.join(report.rolled_back)}"))
    ledger = report.ledger
    if ledger is None:
        lines.append(Text("nothing new to transform: no table was written"))
        return Group(*lines)
    failed = ledger.failed
    for load in failed:
        lines.append(Text(f"error: {load['dataset']} file {str(load['sha256'])[:12]}: {load['reason']}"))
    lines.append(
        Text(
            f"run {report.run_id}: {len(ledger.loads)} files, {ledger.total('rows_read'):,} rows read, "
            f"{ledger.total('rows_quarantined'):,} quarantined, {ledger.total('rows_duplicate'):,} duplicates, "
            f"{len(failed)} files failed"
        )
    )
    return Group(*lines)


def curate(report: CurateReport) -> RenderableType:
    lines: list[RenderableType] = []
    if report.rolled_back:
        lines.append(Text(f"rolled back interrupted runs: {', '.join(report.rolled_back)}"))
    if report.run_id is None:
        lines.append(Text("curated zone up to date: no table was written"))
        return Group(*lines)
    if report.failed:
        failed = ", ".join(sorted(report.failed))
        lines.append(Text(f"{len(report.failed)} failed, their curated rows left as they were: {failed}"))
    table = Table(title=f"curate run {report.run_id}: {len(report.practices)} practices rebuilt")
    table.add_column("curated table")
    table.add_column("rows written", justify="right")
    for name, rows in sorted(report.rows.items()):
        table.add_row(name, f"{rows:,}")
    lines.append(table)
    return Group(*lines)


FILE_COLUMNS = ["practice_id", "batch", "dataset", "status", "rows_read", "rows_cleaned", "rows_quarantined",
                "rows_duplicate", "balanced", "reason"]  # fmt: skip
DATASET_COLUMNS = ["practice_id", "dataset", "files", "rows_read", "rows_cleaned", "rows_quarantined",
                   "rows_duplicate", "failed_files", "balanced"]  # fmt: skip
QUARANTINE_COLUMNS = ["practice_id", "entity", "rule", "rows"]
RUN_COLUMNS = ["run_id", "started_at", "finished_at", "status", "rows_read", "rows_quarantined", "rows_duplicate"]


def _rows(columns: list[str], rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [[row[c] for c in columns] for row in rows]


def unfinished(run: Unfinished) -> str:
    """One line about a run that did not finish, and what becomes of what it wrote."""
    happened = f"run {run.run_id} ({run.command}) started at {run.started_at:%Y-%m-%d %H:%M:%S} UTC and "
    happened += "is still running (the writer lock is held)" if run.running else "was interrupted"
    return (
        f"{happened}: its partial writes are not visible to readers, not counted here, "
        "and will be rolled back by the next transform or curate"
    )


def status(
    console: Console, catalog: Catalog, *, practice: str | None, files: bool, store: ObjectStore | None = None
) -> bool:
    """Draw `lake_status`; False if a loaded file does not reconcile."""
    found = lake_status(catalog, store, practice)
    if files and found.files:
        console.print(_table("raw files", FILE_COLUMNS, _rows(FILE_COLUMNS, found.files)))
    console.print(_table("per practice and dataset", DATASET_COLUMNS, _rows(DATASET_COLUMNS, found.datasets)))
    if found.quarantine:
        quarantined = _rows(QUARANTINE_COLUMNS, found.quarantine)
        console.print(_table("quarantined rows by practice, entity and rule", QUARANTINE_COLUMNS, quarantined))
    console.print(_table("last runs", RUN_COLUMNS, _rows(RUN_COLUMNS, found.runs)))
    for run in found.unfinished:
        console.print(Text(unfinished(run), style="yellow"))
    for row in found.unbalanced:
        console.print(f"[red]not reconciled[/red]: {row['practice_id']} {row['dataset']} {row['sha256'][:12]}")
    return not found.unbalanced
