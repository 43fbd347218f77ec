"""Data health of one practice: the last runs, the files ingested and failed (with their
reasons), rows quarantined by rule, the reconciliation of every file (read = cleaned +
quarantined + duplicates), and how fresh each dataset is. Operations data from the pipeline's
own tables (App.status), for the principals with the operations duty of the practice; no KPI."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from practicelake.access.permissions import curated_tables
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.pages import page_view
from practicelake.dashboard.view import Attention, Cell, Column, Definition, PageView, Table, Tile, Unit

FILES_SHOWN = 40
STALE_AFTER = timedelta(days=35)  # monthly exports: a month and a few days without one is late
RECONCILIATION = Definition(
    name="reconciliation",
    formula="rows read = rows cleaned + rows quarantined + duplicates, per raw file",
    includes="every file of the practice's latest load of it",
    source="practicelake: nothing is lost",
)


def _cell(value: Any) -> Cell:
    if value is None or isinstance(value, str | float):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return float(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC).isoformat(timespec="seconds") if value.tzinfo is None else value.isoformat()
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _table(key: str, title: str, columns: list[tuple[str, str, Unit]], rows: list[dict[str, Any]]) -> Table:
    return Table(
        key=key,
        title=title,
        columns=[Column(key=k, label=label, unit=unit) for k, label, unit in columns],
        rows=[[_cell(row.get(k)) for k, _, _ in columns] for row in rows],
    )


def _freshness(ctx: PageContext, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_dataset: dict[str, list[datetime]] = defaultdict(list)
    for name, model in curated_tables().items():
        stamp = ctx.stamp(name)
        if stamp is not None and not model.contract.cross_practice:
            by_dataset[model.contract.dataset].append(stamp)
    received: dict[str, datetime] = {}
    for row in files:
        if row["received_at"] is not None:
            received[row["dataset"]] = max(received.get(row["dataset"], row["received_at"]), row["received_at"])
    shown = [{"dataset": f"export: {name}", "at": at} for name, at in sorted(received.items())]
    shown += [{"dataset": f"curated: {name}", "at": max(at)} for name, at in sorted(by_dataset.items())]
    return shown


def build(ctx: PageContext) -> PageView:
    if ctx.operations is None:
        raise LookupError("the data-health page needs the practice's pipeline status")
    status = ctx.operations()
    # Failed files first, then files that do not reconcile, then the newest batches.
    newest = sorted(status.files, key=lambda r: str(r["batch"]), reverse=True)
    files = sorted(newest, key=lambda r: (r["status"] != "failed", bool(r["balanced"])))
    failed = [r for r in files if r["status"] == "failed"]
    unbalanced = status.unbalanced
    runs = [r for r in status.runs if ctx.practice_id in (r.get("practices") or [ctx.practice_id])]
    quarantined = sum(int(r["rows"]) for r in status.quarantine)
    fresh = _freshness(ctx, status.files)
    attention: list[Attention] = []
    link = ctx.link("health")
    if failed:
        detail = "Each is kept in the raw zone; the files table says why."
        attention.append(Attention(severity="critical", title=f"{len(failed)} export file(s) failed", detail=detail,
                                   link=link))  # fmt: skip
    if unbalanced:
        detail = "Rows read differ from rows cleaned, quarantined and duplicated."
        attention.append(Attention(severity="critical", title=f"{len(unbalanced)} file(s) do not reconcile",
                                   detail=detail, link=link))  # fmt: skip
    for row in fresh:
        if row["dataset"].startswith("export:") and row["at"].date() < ctx.today - STALE_AFTER:
            title = f"No new {row['dataset'].removeprefix('export: ')} export since {row['at']:%Y-%m-%d}"
            attention.append(Attention(severity="warning", title=title, detail="Monthly exports are expected.",
                                       link=link))  # fmt: skip
    tiles = [
        Tile(key="files_loaded", label="Files loaded", unit="count", definition=RECONCILIATION,
             value=float(sum(1 for r in files if r["status"] == "loaded"))),
        Tile(key="files_failed", label="Files failed", unit="count", better="lower", definition=RECONCILIATION,
             value=float(len(failed))),
        Tile(key="rows_quarantined", label="Rows quarantined", unit="count", better="lower",
             definition=RECONCILIATION, value=float(quarantined)),
        Tile(key="files_unbalanced", label="Files not reconciling", unit="count", better="lower",
             definition=RECONCILIATION, value=float(len(unbalanced))),
    ]  # fmt: skip
    tables = [
        _table("runs", "Last runs", [("run_id", "Run", "text"), ("command", "Command", "text"),
               ("started_at", "Started (UTC)", "text"), ("finished_at", "Finished (UTC)", "text"),
               ("status", "Status", "text"), ("rows_read", "Rows read", "count"),
               ("rows_quarantined", "Quarantined", "count")], runs[:20]),
        _table("files", "Files ingested and failed", [("batch", "Batch", "text"), ("dataset", "Dataset", "text"),
               ("source_name", "File", "text"), ("status", "Status", "text"), ("reason", "Reason", "text"),
               ("rows_read", "Read", "count"), ("rows_cleaned", "Cleaned", "count"),
               ("rows_quarantined", "Quarantined", "count"), ("rows_duplicate", "Duplicates", "count"),
               ("balanced", "Reconciles", "text")], files[:FILES_SHOWN]),
        _table("quarantine", "Quarantined rows by rule", [("entity", "Entity", "text"), ("rule", "Rule", "text"),
               ("rows", "Rows", "count")], status.quarantine),
        _table("datasets", "Reconciliation per dataset", [("dataset", "Dataset", "text"), ("files", "Files", "count"),
               ("failed_files", "Failed", "count"), ("rows_read", "Read", "count"),
               ("rows_cleaned", "Cleaned", "count"), ("rows_quarantined", "Quarantined", "count"),
               ("rows_duplicate", "Duplicates", "count"), ("balanced", "Reconciles", "text")], status.datasets),
        _table("freshness", "Freshness per dataset", [("dataset", "Dataset", "text"),
               ("at", "Last received or curated (UTC)", "text")], fresh),
    ]  # fmt: skip
    notes = [*status.notes]
    if len(files) > FILES_SHOWN:
        notes.append(
            f"The files table shows {FILES_SHOWN} of {len(files)} files: failed, then not reconciling, then the newest."
        )
    notes.append("The period and filters do not apply here: data health is of every file the practice sent.")
    return page_view(ctx, "health", tiles=tiles, attention=attention, tables=tables, notes=notes)
