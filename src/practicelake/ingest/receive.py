"""Exports -> raw zone. The practice comes from the operator, never from the file.

Per file: read, its format named by the operator or detected from its content
(formats.registry), checked by that format, its manifest rows (one per dataset the file feeds)
written to the journal, its object stored once; the rows reach the manifest in batches, and
the journal answers for the rows of a
batch that an ingest did not live to append. A file that cannot be read is skipped and named;
a file that fails its checks is stored and marked failed; neither stops the others.
"""

from __future__ import annotations

import csv
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

from pyiceberg.catalog import Catalog

from practicelake.errors import MalformedFileError
from practicelake.formats import registry
from practicelake.formats.base import Format, Source
from practicelake.formats.compressed import expanded, inner_name
from practicelake.formats.mapping import MappedCsv, load_mapping
from practicelake.ingest.journal import IngestJournal
from practicelake.ingest.manifest import (
    ALREADY_INGESTED,
    FAILED,
    INGESTED,
    ManifestEntry,
    append_entries,
    read_manifest,
)
from practicelake.ingest.raw import RawZone, check_source
from practicelake.ingest.scan import CLAIMED_EXTENSIONS, Skipped, export_files, read_export, shown
from practicelake.settings import Settings

MAPPINGS = "_mappings"
"""The raw zone's folder (dataset=...) of the CSV mappings files were read with."""
BATCH_ROWS = 500
"""Manifest rows appended in one commit."""


@dataclass
class IngestReport:
    ingest_id: str
    entries: list[ManifestEntry] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    recovered: list[ManifestEntry] = field(default_factory=list)
    """Rows of an ingest that died before appending them, appended by this one."""

    def count(self, status: str) -> int:
        """Files with `status` (a file that feeds several datasets has a manifest row for each)."""
        return len({(e.batch, e.source_name, e.sha256) for e in self.entries if e.status == status})

    @property
    def failures(self) -> list[ManifestEntry]:
        return [e for e in self.entries if e.status == FAILED]

    @property
    def unreadable(self) -> list[Skipped]:
        return [s for s in self.skipped if s.unread]

    def problems(self) -> list[tuple[str, str]]:
        """('error' or 'skipped', message): one line per failed file and per path left out."""
        lines = [("error", f"{shown(e.source_name)} ({shown(e.batch)}): {e.reason}") for e in self.failures]
        return lines + [("skipped", f"{shown(s.path)}: {s.reason}") for s in self.skipped]


def ingest(
    settings: Settings,
    catalog: Catalog,
    raw: RawZone,
    practice_id: str,
    paths: Iterable[Path],
    *,
    source: str = "pms",
    batch: str | None = None,
    source_format: str | None = None,
    mapping: Path | None = None,
    on_file: Callable[[ManifestEntry], None] | None = None,
) -> IngestReport:
    """`source_format`: the format every file is read as (formats.registry); None: each file's
    own, from its content. `mapping`: a CSV mapping (formats.mapping) every file is read with,
    kept in raw beside them so that the transform reads them as they were received. `on_file`
    is called once per manifest row."""
    settings.practice(practice_id)  # refuse a practice the deployment does not serve
    named = None if source_format is None else registry.get(source_format)
    mapping_text = None if mapping is None else read_export(mapping)
    if mapping is not None and mapping_text is not None:
        named = MappedCsv(load_mapping(mapping_text.decode("utf-8", errors="replace"), mapping.name))
    check_source(source)
    raw.keys.file_hash_secret(practice_id)  # an offboarded practice (ShreddedError) takes no file, nor a journal
    paths = list(paths)
    named_files = {path for path in paths if not path.is_dir()}  # named: taken whatever their name
    files, skipped = export_files(paths)
    now = datetime.now(UTC).replace(tzinfo=None)
    report = IngestReport(ingest_id=f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}", skipped=skipped)
    manifest = read_manifest(catalog).to_pylist()
    with IngestJournal(settings.state_dir, report.ingest_id) as journal:
        # A practice no longer served (offboarded since) gets none of its dead ingest's rows back.
        left_behind = [e for e in journal.left_behind() if e.practice_id in settings.practices]
        receiver = Receiver(raw, journal, report, practice_id, source, batch, now, named)
        receiver.know(manifest, left_behind)
        if mapping_text is not None:
            receiver.keep_mapping(mapping_text)
        try:
            for path in files:
                for entry in receiver.receive(path, claimed_only=path not in named_files):
                    if len(receiver.pending) >= BATCH_ROWS:
                        receiver.flush(catalog)
                    if on_file:
                        on_file(entry)
        finally:
            receiver.flush(catalog)
        report.recovered = receiver.unrecorded(manifest, left_behind)
        append_entries(catalog, report.recovered)
        journal.finish()
    return report


class Receiver:
    """One ingest's files into the raw zone, and what it knows of the objects already there."""

    def __init__(
        self,
        raw: RawZone,
        journal: IngestJournal,
        report: IngestReport,
        practice_id: str,
        source: str,
        batch: str | None,
        now: datetime,
        named: Format | None = None,
    ) -> None:
        self.raw, self.journal, self.report = raw, journal, report
        self.practice_id, self.source, self.batch, self.now = practice_id, source, batch, now
        self.named = named  # the format the operator named, or None: each file's own
        self.mapping_key: str | None = None  # the raw object of the mapping `named` reads with
        self.seen: dict[tuple[str, str], str] = {}  # (dataset, content address) -> object key, this practice
        self.orphans: dict[tuple[str, str], str] = {}  # stored by a dead ingest, not in the manifest
        self.pending: list[ManifestEntry] = []

    def know(self, manifest: list[dict[str, Any]], left_behind: list[ManifestEntry]) -> None:
        recorded = {row["object_key"] for row in manifest if row["status"] != ALREADY_INGESTED}
        for row in manifest:
            if row["practice_id"] == self.practice_id and row["status"] != ALREADY_INGESTED:
                self.seen[(row["dataset"], row["sha256"])] = row["object_key"]
        for entry in left_behind:
            mine = entry.practice_id == self.practice_id and entry.status != ALREADY_INGESTED
            if mine and entry.object_key not in recorded:
                self.orphans[(entry.dataset, entry.sha256)] = entry.object_key

    def keep_mapping(self, text: bytes) -> None:
        """Store the mapping the files are read with (once: the same text is the same object)."""
        address = self.raw.address(self.practice_id, text)
        self.mapping_key = self.raw.object_key(
            self.practice_id, self.source, MAPPINGS, self.now.date(), address, ".toml"
        )
        self.raw.write(self.mapping_key, text)  # False: these bytes were kept before

    def receive(self, path: Path, *, claimed_only: bool = False) -> list[ManifestEntry]:
        """The file's manifest rows, one per dataset it feeds, its object stored; none if the
        file cannot be read, or if it was found in a folder with an extension (`.txt`) that only
        a format's claim to its content makes an export (`claimed_only`)."""
        try:
            data = read_export(path)
        except OSError as exc:
            self.report.skipped.append(Skipped(path, f"cannot be read: {exc.strerror or exc}", unread=True))
            return []
        sha = self.raw.address(self.practice_id, data)
        name, problem = path.name, None
        try:
            content = expanded(data)
        except MalformedFileError as exc:
            content, problem = b"", str(exc)
        if content is not data:  # compressed: its formats read what it holds
            name = inner_name(path.name)
        source = Source(content, name)
        found = self.named or registry.detect(source)
        suffix = PurePath(name).suffix.lower()
        unclaimed = found.name == registry.PRACTICELAKE_CSV and suffix in CLAIMED_EXTENSIONS
        if claimed_only and self.named is None and unclaimed:
            self.report.skipped.append(Skipped(path, "not an export: no format recognises its content"))
            return []
        status, reason = INGESTED, None
        fallback = PurePath(name).stem.lower() if found.name == registry.PRACTICELAKE_CSV else found.name
        try:
            if problem is not None:
                raise MalformedFileError(problem)
            inspection = found.inspect(source)
            datasets = inspection.datasets or (fallback,)
            if inspection.warnings:
                reason = "read with warnings: " + "; ".join(inspection.warnings)
            if not inspection.datasets:  # kept in raw, as every file; nothing in it is read
                status = FAILED
                reason = f"{found.description}: nothing in it feeds a dataset" + (f" ({reason})" if reason else "")
        except MalformedFileError as exc:
            datasets, status, reason = (fallback,), FAILED, str(exc)
        except (ValueError, csv.Error) as exc:  # a check that could not finish is a failed file
            datasets, status, reason = (fallback,), FAILED, f"cannot be checked: {type(exc).__name__}"
        extension = suffix + path.suffix.lower() if name != path.name else suffix
        folder = datasets[0] if len(datasets) == 1 else found.name
        key = ""
        entries: list[ManifestEntry] = []
        for dataset in datasets:
            known = self.seen.get((dataset, sha))
            if known is not None:
                entries.append(self._entry(path, data, sha, dataset, known, ALREADY_INGESTED, None, found, extension))
                continue
            # An object a dead ingest stored on another day keeps its key: no second copy.
            key = (
                key
                or self.orphans.pop((dataset, sha), "")
                or self.raw.object_key(self.practice_id, self.source, folder, self.now.date(), sha, extension)
            )
            self.seen[(dataset, sha)] = key
            entries.append(self._entry(path, data, sha, dataset, key, status, reason, found, extension))
        for entry in entries:
            self.journal.add(entry)  # before the object: the row is never lost once the object exists
        if key:
            self.raw.write(key, data)  # False: an interrupted ingest stored these bytes already
        self.report.entries += entries
        self.pending += entries
        return entries

    def _entry(
        self,
        path: Path,
        data: bytes,
        sha: str,
        dataset: str,
        key: str,
        status: str,
        reason: str | None,
        found: Format,
        extension: str,
    ) -> ManifestEntry:
        return ManifestEntry(
            practice_id=self.practice_id,
            sha256=sha,
            dataset=dataset,
            source=self.source,
            batch=_text(self.batch or path.parent.name),
            source_name=_text(path.name),
            object_key=key,
            size_bytes=len(data),
            received_at=self.now,
            status=status,
            reason=reason,
            ingest_id=self.report.ingest_id,
            format=found.name,
            extension=_text(extension),
            mapping_key=self.mapping_key if found is self.named else None,
        )

    def flush(self, catalog: Catalog) -> None:
        append_entries(catalog, self.pending)
        self.pending = []

    def unrecorded(self, manifest: list[dict[str, Any]], left_behind: list[ManifestEntry]) -> list[ManifestEntry]:
        """The rows of dead ingests the manifest still lacks, for objects that are stored."""
        rows = {(r["ingest_id"], r["object_key"], r["source_name"], r["batch"], r["status"]) for r in manifest}
        rows |= {(e.ingest_id, e.object_key, e.source_name, e.batch, e.status) for e in self.report.entries}
        recorded = {row[1] for row in rows if row[4] != ALREADY_INGESTED}
        missing = []
        for entry in left_behind:
            identity = (entry.ingest_id, entry.object_key, entry.source_name, entry.batch, entry.status)
            if identity in rows or (entry.status != ALREADY_INGESTED and entry.object_key in recorded):
                continue
            if self.raw.store.exists(entry.object_key):
                missing.append(entry)
                rows.add(identity)
                recorded.add(entry.object_key)
        return missing


def _text(name: str) -> str:
    """A file or folder name as the manifest can hold it: bytes that are not UTF-8 replaced."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
