"""ops.runs as though a practice had never been served.

A run's row names the practices it covered and the files it loaded, and counts their rows
together; with the other practices' counts (ops.file_loads) a practice's own share could be
worked out again. So a row that names the practice loses it, its files and its share of the
counts: a transform's share is what ops.file_loads says the run loaded for the practice; a
curate's is the practice's cleaned rows when it started (every load committed before it). A
row of the practice alone goes. Done before the practice's file loads are deleted, and once:
a row rewritten no longer names the practice.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from pyiceberg.catalog import Catalog

from practicelake.clean.ledger import FAILED
from practicelake.lakehouse.schemas import RUNS

TABLE = "ops.runs"
FAILED_PRACTICES = "failed_practices: "  # a curate's status, followed by the practices it could not build
COUNTS = ("rows_read", "rows_cleaned", "rows_quarantined", "rows_duplicate")


def runs_without(catalog: Catalog, practice_id: str) -> int:
    """Rewrite ops.runs without the practice; how many rows went (runs of the practice alone)."""
    if not catalog.table_exists(TABLE):
        return 0
    runs = catalog.load_table(TABLE)
    rows = runs.scan().to_arrow().to_pylist()
    if not any(practice_id in (row["practices"] or ()) for row in rows):
        return 0
    loads = _loads(catalog)
    own = [load for load in loads if load["practice_id"] == practice_id]
    kept = []
    for row in rows:
        if practice_id not in (row["practices"] or ()):
            kept.append(row)
        elif row["practices"] != [practice_id]:
            others = [load for load in loads if load["run_id"] == row["run_id"] and load["practice_id"] != practice_id]
            kept.append(_without(row, practice_id, own, others))
    runs.overwrite(pa.Table.from_pylist(kept, schema=RUNS))
    return len(rows) - len(kept)


def _loads(catalog: Catalog) -> list[dict[str, Any]]:
    if not catalog.table_exists("ops.file_loads"):
        return []
    loads: list[dict[str, Any]] = catalog.load_table("ops.file_loads").scan().to_arrow().to_pylist()
    return loads


def _without(
    row: dict[str, Any], practice_id: str, own: list[dict[str, Any]], others: list[dict[str, Any]]
) -> dict[str, Any]:
    share = dict.fromkeys(COUNTS, 0)
    if row["command"] == "curate":
        share["rows_read"] = sum(load["rows_accepted"] for load in own if load["loaded_at"] < row["started_at"])
    else:
        loaded = [load for load in own if load["run_id"] == row["run_id"]]
        share["rows_read"] = sum(load["rows_read"] for load in loaded)
        share["rows_cleaned"] = sum(load["rows_accepted"] - load["rows_duplicate"] for load in loaded)
        share["rows_quarantined"] = sum(load["rows_quarantined"] for load in loaded)
        share["rows_duplicate"] = sum(load["rows_duplicate"] for load in loaded)
        files = {load["sha256"] for load in loaded}
        row = row | {"input_files": [f for f in row["input_files"] or () if f not in files]}
    return row | {
        "practices": [p for p in row["practices"] if p != practice_id],
        "status": _status(row["status"], practice_id, others),
        **{column: row[column] - share[column] for column in COUNTS},
    }


def _status(status: str, practice_id: str, others: list[dict[str, Any]]) -> str:
    if status.startswith(FAILED_PRACTICES):
        failed = [p for p in status.removeprefix(FAILED_PRACTICES).split(", ") if p != practice_id]
        return FAILED_PRACTICES + ", ".join(failed) if failed else "succeeded"
    if status == "failed_files" and not any(load["status"] == FAILED for load in others):
        return "succeeded"
    return status
