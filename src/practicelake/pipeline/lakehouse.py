"""Wires the stages together over one set of settings: storage, catalog, raw zone."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pyiceberg.catalog import Catalog

from practicelake.audit.admin import AdminLog
from practicelake.clean.transform import TransformReport, transform
from practicelake.crypto.keystore import KeyStore, open_keys
from practicelake.curate.runner import CurateReport, curate
from practicelake.ingest import IngestReport, RawZone, ingest
from practicelake.ingest.manifest import ALREADY_INGESTED, FAILED, INGESTED, ManifestEntry
from practicelake.ingest.raw import check_source
from practicelake.lakehouse.catalog import open_catalog
from practicelake.settings import Settings
from practicelake.storage import ObjectStore, open_store


@dataclass
class Lakehouse:
    settings: Settings
    store: ObjectStore
    catalog: Catalog
    keys: KeyStore
    admin: AdminLog  # where an ingest is put on record, before it stores anything

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        store: ObjectStore | None = None,
        catalog: Catalog | None = None,
        keys: KeyStore | None = None,
        admin: AdminLog | None = None,
    ) -> Lakehouse:
        """The pipeline over `settings`; what is not given is opened from them."""
        keys = keys or open_keys(settings)
        return cls(
            settings=settings,
            store=store or open_store(settings),
            catalog=catalog or open_catalog(settings),
            keys=keys,
            admin=admin or AdminLog.open(settings, keys.audit_key),
        )

    @property
    def raw(self) -> RawZone:
        return RawZone(self.store, self.keys)

    def ingest(
        self,
        practice_id: str,
        paths: Iterable[Path],
        *,
        source: str = "pms",
        batch: str | None = None,
        on_file: Callable[[ManifestEntry], None] | None = None,
    ) -> IngestReport:
        """Store the exports in the raw zone, once the ingest is on record."""
        self.settings.practice(practice_id)  # refused before the record: no action was taken
        check_source(source)
        paths = list(paths)
        asked = {"source": source, "batch": batch or "", "paths": len(paths)}
        with self.admin.acting("ingest", practice_id, practices=[practice_id], details=asked) as outcome:
            report = ingest(
                self.settings, self.catalog, self.raw, practice_id, paths, source=source, batch=batch, on_file=on_file
            )
            counts = {status: report.count(status) for status in (INGESTED, ALREADY_INGESTED, FAILED)}
            outcome.done(ingest_id=report.ingest_id, **counts)
        return report

    def transform(self, on_step: Callable[[str], None] | None = None) -> TransformReport:
        return transform(self.settings, self.catalog, self.raw, on_step=on_step)

    def curate(self, on_step: Callable[[str], None] | None = None) -> CurateReport:
        return curate(self.settings, self.catalog, self.store, on_step=on_step)
