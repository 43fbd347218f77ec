"""Wires the stages together over one set of settings: storage, catalog, raw zone."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pyiceberg.catalog import Catalog

from practicelake.audit.admin import record
from practicelake.clean.transform import TransformReport, transform
from practicelake.crypto.keystore import open_keys
from practicelake.curate.runner import CurateReport, curate
from practicelake.ingest import IngestReport, RawZone, ingest
from practicelake.ingest.manifest import ALREADY_INGESTED, FAILED, INGESTED, ManifestEntry
from practicelake.lakehouse.catalog import open_catalog
from practicelake.settings import Settings
from practicelake.storage import ObjectStore, open_store


@dataclass
class Lakehouse:
    settings: Settings
    store: ObjectStore
    catalog: Catalog

    @classmethod
    def open(cls, settings: Settings) -> Lakehouse:
        return cls(settings=settings, store=open_store(settings), catalog=open_catalog(settings))

    @property
    def raw(self) -> RawZone:
        return RawZone(self.store, open_keys(self.settings))

    def ingest(
        self,
        practice_id: str,
        paths: Iterable[Path],
        *,
        source: str = "pms",
        batch: str | None = None,
        on_file: Callable[[ManifestEntry], None] | None = None,
    ) -> IngestReport:
        report = ingest(
            self.settings, self.catalog, self.raw, practice_id, paths, source=source, batch=batch, on_file=on_file
        )
        counts = {status: report.count(status) for status in (INGESTED, ALREADY_INGESTED, FAILED)}
        record(
            self.settings,
            "ingest",
            practice_id,
            practices=[practice_id],
            details={"ingest_id": report.ingest_id, **counts},
        )
        return report

    def transform(self, on_step: Callable[[str], None] | None = None) -> TransformReport:
        return transform(self.settings, self.catalog, self.raw, on_step=on_step)

    def curate(self, on_step: Callable[[str], None] | None = None) -> CurateReport:
        return curate(self.settings, self.catalog, self.store, on_step=on_step)
