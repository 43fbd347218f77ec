"""A small harness: write hand-made exports, ingest and transform them, read tables back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from practicelake.pipeline import Lakehouse


def export(root: Path, practice: str, batch: str, dataset: str, header: str, *rows: str) -> Path:
    folder = root / "exports" / practice / batch
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dataset}.csv"
    path.write_text("\n".join((header, *rows)) + "\n", encoding="utf-8")
    return path


def rows(lakehouse: Lakehouse, identifier: str) -> list[dict[str, Any]]:
    if not lakehouse.catalog.table_exists(identifier):
        return []
    return lakehouse.catalog.load_table(identifier).scan().to_arrow().to_pylist()


def quarantine_rules(lakehouse: Lakehouse) -> dict[int, tuple[str, str | None]]:
    return {q["raw_line"]: (q["rule"], q["column_name"]) for q in rows(lakehouse, "ops.quarantine")}
