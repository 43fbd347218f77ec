"""What the command line prints: rich tables built from the stages' reports. Only drawing:
what is shown is decided where the reports are made (clean.reconcile for `status`). Every
cell is `Text`, never read as markup."""

from __future__ import annotations

from numbers import Number
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from practicelake.clean.reconcile import LakeStatus
from practicelake.clean.transform import TransformReport
from practicelake.curate.runner import CurateReport
from practicelake.ingest import IngestReport
from practicelake.ingest.manifest import ALREADY_INGESTED, FAILED, INGESTED
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
    table = Table(title=Text(title, style="table.title"), title_justify="left")
    for i, name in enumerate(columns):
        numbers = all(row[i] is None or isinstance(row[i], Number) for row in rows)
        table.add_column(Text(name), justify="right" if numbers and i >= 1 else "left")
    for row in rows:
        table.add_row(*(Text(_cell(v)) for v in row))
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
    table = Table(
        title=Text(f"curate run {report.run_id}: {len(report.practices)} practices rebuilt", style="table.title")
    )
    table.add_column(Text("curated table"))
    table.add_column(Text("rows written"), justify="right")
    for name, rows in sorted(report.rows.items()):
        table.add_row(Text(name), Text(f"{rows:,}"))
    lines.append(table)
    return Group(*lines)


def status(found: LakeStatus, *, files: bool) -> RenderableType:
    """Draw `LakeStatus`: its tables, then its notes (yellow) and problems (red)."""
    lines: list[RenderableType] = [
        _table(s.title, list(s.columns), [list(r) for r in s.rows]) for s in found.sections(files=files)
    ]
    lines += [Text(note, style="yellow") for note in found.notes]
    lines += [Text(problem, style="red") for problem in found.problems]
    return Group(*lines)
