"""The manifest of the raw zone: one row per file received (ops.raw_files)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from practicelake.lakehouse.catalog import ensure_table
from practicelake.lakehouse.schemas import RAW_FILES

TABLE = "ops.raw_files"
INGESTED = "ingested"
FAILED = "failed"
ALREADY_INGESTED = "already_ingested"


@dataclass(frozen=True)
class ManifestEntry:
    practice_id: str
    sha256: str  # the content address: keyed (HMAC-SHA-256 under the practice's secret), never the plain SHA-256
    dataset: str
    source: str
    batch: str
    source_name: str
    object_key: str
    size_bytes: int
    received_at: datetime
    status: str
    reason: str | None
    ingest_id: str
    format: str | None = None  # formats.registry name; None in rows from before formats: practicelake-csv
    extension: str | None = None  # of the file as received, e.g. ".835"
    mapping_key: str | None = None  # the raw object of the CSV mapping a `csv:` format reads the file with


def manifest_table(catalog: Catalog) -> Table:
    return ensure_table(catalog, TABLE, RAW_FILES)


def read_manifest(catalog: Catalog) -> pa.Table:
    return manifest_table(catalog).scan().to_arrow()


def append_entries(catalog: Catalog, entries: Sequence[ManifestEntry]) -> None:
    if entries:
        rows = pa.Table.from_pylist([asdict(e) for e in entries], schema=RAW_FILES)
        manifest_table(catalog).append(rows)


def entry_json(entry: ManifestEntry) -> str:
    """The entry as one line of JSON."""
    return json.dumps(asdict(entry) | {"received_at": entry.received_at.isoformat()})


def entry_from_json(line: str) -> ManifestEntry:
    """The entry of `entry_json`; ValueError, KeyError or TypeError if the line is not one
    (a line written before the format columns existed reads with them empty)."""
    entry = ManifestEntry(**json.loads(line))
    return replace(entry, received_at=datetime.fromisoformat(str(entry.received_at)))
