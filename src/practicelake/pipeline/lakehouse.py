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
from practicelake.errors import PracticelakeError
from practicelake.formats import registry
from practicelake.formats.mapping import load_mapping
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
        source_format: str | None = None,
        mapping: Path | None = None,
        on_file: Callable[[ManifestEntry], None] | None = None,
    ) -> IngestReport:
        """Store the exports in the raw zone, once the ingest is on record. `source_format`:
        the format every file is read as (formats.registry); None: each file's, from its content.
        `mapping`: the CSV mapping (TOML) every file is read with."""
        self.settings.practice(practice_id)  # refused before the record: no action was taken
        check_source(source)
        if source_format is not None and mapping is not None:
            raise PracticelakeError("--format and --mapping name the format twice: give one of them")
        if source_format is not None:
            registry.get(source_format)  # an unknown format is refused before the record too
        if mapping is not None:
            load_mapping(mapping)  # so is a mapping that cannot be read
        paths = list(paths)
        shown_format = source_format or (f"mapping {mapping.name}" if mapping else "detected")
        asked = {"source": source, "batch": batch or "", "paths": len(paths), "format": shown_format}
        with self.admin.acting("ingest", practice_id, practices=[practice_id], details=asked) as outcome:
            report = ingest(
                self.settings,
                self.catalog,
                self.raw,
                practice_id,
                paths,
                source=source,
                batch=batch,
                source_format=source_format,
                mapping=mapping,
                on_file=on_file,
            )
            counts = {status: report.count(status) for status in (INGESTED, ALREADY_INGESTED, FAILED)}
            outcome.done(ingest_id=report.ingest_id, **counts)
        return report

    def transform(self, on_step: Callable[[str], None] | None = None) -> TransformReport:
        return transform(self.settings, self.catalog, self.raw, on_step=on_step)

    def curate(self, on_step: Callable[[str], None] | None = None, engine: str = "duckdb") -> CurateReport:
        return curate(self.settings, self.catalog, self.store, on_step=on_step, engine=engine)
