"""Exports -> raw zone. The practice comes from the operator, never from the file."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pyiceberg.catalog import Catalog

from practicelake.errors import MalformedFileError, PracticelakeError
from practicelake.ingest.manifest import (
    ALREADY_INGESTED,
    FAILED,
    INGESTED,
    ManifestEntry,
    append_entries,
    read_manifest,
)
from practicelake.ingest.raw import RawZone, sha256_hex
from practicelake.ingest.validate import validate
from practicelake.settings import Settings


@dataclass
class IngestReport:
    ingest_id: str
    entries: list[ManifestEntry] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for e in self.entries if e.status == status)

    @property
    def failures(self) -> list[ManifestEntry]:
        return [e for e in self.entries if e.status == FAILED]


def export_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The files named, and the CSV files under the folders named, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.csv") if p.is_file() and not p.name.startswith("."))
        elif path.is_file():
            yield path
        else:
            raise PracticelakeError(f"{path}: no such file or folder")


def ingest(
    settings: Settings,
    catalog: Catalog,
    raw: RawZone,
    practice_id: str,
    paths: Iterable[Path],
    *,
    source: str = "pms",
    batch: str | None = None,
    on_file: Callable[[ManifestEntry], None] | None = None,
) -> IngestReport:
    settings.practice(practice_id)  # refuse a practice the deployment does not serve
    files = list(export_files(paths))
    now = datetime.now(UTC).replace(tzinfo=None)
    report = IngestReport(ingest_id=f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}")
    manifest = read_manifest(catalog)
    seen = {
        (row["dataset"], row["sha256"]): row["object_key"]
        for row in manifest.to_pylist()
        if row["practice_id"] == practice_id and row["status"] != ALREADY_INGESTED
    }
    for path in files:
        data = path.read_bytes()
        sha = sha256_hex(data)
        dataset = path.stem.lower()
        key = raw.object_key(practice_id, source, dataset, now.date(), sha)
        status, reason = INGESTED, None
        if (dataset, sha) in seen:
            status, key = ALREADY_INGESTED, seen[(dataset, sha)]
        else:
            raw.write(key, data)  # an object left by an interrupted ingest holds the same bytes
            seen[(dataset, sha)] = key
            try:
                validate(dataset, data)
            except MalformedFileError as exc:
                status, reason = FAILED, str(exc)
        entry = ManifestEntry(
            practice_id=practice_id,
            sha256=sha,
            dataset=dataset,
            source=source,
            batch=batch or path.parent.name,
            source_name=path.name,
            object_key=key,
            size_bytes=len(data),
            received_at=now,
            status=status,
            reason=reason,
            ingest_id=report.ingest_id,
        )
        report.entries.append(entry)
        if on_file:
            on_file(entry)
    append_entries(catalog, report.entries)
    return report
