"""What the command line prints: rich tables built from the stages' reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from practicelake.clean.reconcile import recent_runs, reconcile
from practicelake.clean.transform import TransformReport
from practicelake.curate.runner import CurateReport
from practicelake.ingest import IngestReport
from practicelake.ingest.manifest import ALREADY_INGESTED, FAILED, INGESTED
from practicelake.synth import GenerationReport

PER_PRACTICE_AND_DATASET = """
select practice_id, dataset, count(*) as files,
       sum(rows_read) as rows_read, sum(rows_cleaned) as rows_cleaned,
       sum(rows_quarantined) as rows_quarantined, sum(rows_duplicate) as rows_duplicate,
       count(*) filter (where status = 'failed') as failed_files, bool_and(balanced) as balanced
from files group by all order by all
"""


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
        table.add_column(name, justify="left" if i < 2 else "right")
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


def practice_summary(catalog: Catalog, practice: str | None = None) -> tuple[Any, Any]:
    """Per-file reconciliation and its roll-up per practice and dataset."""
    files = reconcile(catalog)
    if practice is not None:
        files = files.filter(pc.equal(files["practice_id"], practice))
    con = duckdb.connect()
    con.register("files", files)
    return files, con.sql(PER_PRACTICE_AND_DATASET).to_arrow_table()


def status(console: Console, catalog: Catalog, *, practice: str | None, files: bool) -> bool:
    per_file, per_dataset = practice_summary(catalog, practice)
    if files and per_file.num_rows:
        columns = [
            "practice_id",
            "batch",
            "dataset",
            "status",
            "rows_read",
            "rows_cleaned",
            "rows_quarantined",
            "rows_duplicate",
            "balanced",
            "reason",
        ]
        rows = [[r[c] for c in columns] for r in per_file.to_pylist()]
        console.print(_table("raw files", columns, rows))
    columns = [
        "practice_id",
        "dataset",
        "files",
        "rows_read",
        "rows_cleaned",
        "rows_quarantined",
        "rows_duplicate",
        "failed_files",
        "balanced",
    ]
    console.print(
        _table("per practice and dataset", columns, [[r[c] for c in columns] for r in per_dataset.to_pylist()])
    )
    runs = recent_runs(catalog)
    columns = ["run_id", "started_at", "finished_at", "status", "rows_read", "rows_quarantined", "rows_duplicate"]
    console.print(_table("last runs", columns, [[r[c] for c in columns] for r in runs]))
    unbalanced = [r for r in per_file.to_pylist() if r["status"] == "loaded" and not r["balanced"]]
    for row in unbalanced:
        console.print(f"[red]not reconciled[/red]: {row['practice_id']} {row['dataset']} {row['sha256'][:12]}")
    return not unbalanced
