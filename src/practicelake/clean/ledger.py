"""What a transform run did, file by file: written to the ops tables when the run ends."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog

from practicelake.clean.files import CleanedFile
from practicelake.contracts import Contract
from practicelake.ingest.manifest import INGESTED, read_manifest
from practicelake.lakehouse.schemas import DUPLICATES, FILE_LOADS, QUARANTINE, RUNS

LOADED = "loaded"
FAILED = "failed"


def ingested_files(catalog: Catalog) -> pa.Table:
    """One manifest row per ingested (practice, dataset, file), earliest receipt first."""
    manifest = read_manifest(catalog)
    manifest = manifest.filter(pc.equal(manifest["status"], INGESTED)).sort_by(
        [("batch", "ascending"), ("received_at", "ascending"), ("sha256", "ascending")]
    )
    seen: set[tuple[str, str, str]] = set()
    keep = []
    for row in manifest.select(["practice_id", "dataset", "sha256"]).to_pylist():
        identity = (row["practice_id"], row["dataset"], row["sha256"])
        keep.append(identity not in seen)
        seen.add(identity)
    return manifest.filter(pa.array(keep, pa.bool_()))


def pending_files(catalog: Catalog, ingested: pa.Table) -> pa.Table:
    """Ingested files that no finished run has loaded (or failed to load) yet."""
    loads = catalog.load_table("ops.file_loads") if catalog.table_exists("ops.file_loads") else None
    done: set[tuple[str, str, str]] = set()
    if loads is not None:
        rows = loads.scan(selected_fields=("practice_id", "dataset", "sha256")).to_arrow().to_pylist()
        done = {(r["practice_id"], r["dataset"], r["sha256"]) for r in rows}
    keep = [
        (r["practice_id"], r["dataset"], r["sha256"]) not in done
        for r in ingested.select(["practice_id", "dataset", "sha256"]).to_pylist()
    ]
    return ingested.filter(pa.array(keep, pa.bool_()))


@dataclass
class Ledger:
    run_id: str
    started_at: datetime
    loads: list[dict[str, object]] = field(default_factory=list)
    quarantine: list[pa.Table] = field(default_factory=list)
    duplicates: list[pa.Table] = field(default_factory=list)
    practices: set[str] = field(default_factory=set)
    tables: set[str] = field(default_factory=set)

    def _load(
        self,
        practice_id: str,
        dataset: str,
        sha: str,
        status: str,
        reason: str | None,
        counts: tuple[int, int, int, int],
    ) -> None:
        read, accepted, quarantined, duplicate = counts
        self.practices.add(practice_id)
        self.loads.append(
            {
                "practice_id": practice_id,
                "sha256": sha,
                "dataset": dataset,
                "run_id": self.run_id,
                "status": status,
                "reason": reason,
                "rows_read": read,
                "rows_accepted": accepted,
                "rows_quarantined": quarantined,
                "rows_duplicate": duplicate,
                "loaded_at": datetime.now(UTC).replace(tzinfo=None),
            }
        )

    def file_failed(self, practice_id: str, dataset: str, sha: str, reason: str) -> None:
        self._load(practice_id, dataset, sha, FAILED, reason, (0, 0, 0, 0))

    def entity_loaded(
        self, practice_id: str, contract: Contract, cleaned: list[tuple[str, CleanedFile]], superseded: pa.Table
    ) -> None:
        self.tables.add(f"cleaned.{contract.entity}")
        lost = Counter(superseded.column("raw_file_sha256").to_pylist())
        for sha, result in cleaned:
            counts = (result.rows_read, result.accepted.num_rows, result.quarantined.num_rows, lost[sha])
            self._load(practice_id, contract.dataset, sha, LOADED, None, counts)
            if result.quarantined.num_rows:
                self.quarantine.append(result.quarantined)
        if superseded.num_rows:
            n = superseded.num_rows
            self.duplicates.append(
                superseded.append_column("practice_id", pa.repeat(pa.scalar(practice_id), n))
                .append_column("entity", pa.repeat(pa.scalar(contract.entity), n))
                .append_column("run_id", pa.repeat(pa.scalar(self.run_id), n))
                .select(DUPLICATES.names)
                .cast(DUPLICATES)
            )

    def total(self, column: str) -> int:
        return sum(int(load[column]) for load in self.loads)  # type: ignore[call-overload]

    def commit(self, catalog: Catalog) -> None:
        properties = {"practicelake.run_id": self.run_id}
        if self.quarantine:
            catalog.load_table("ops.quarantine").append(
                pa.concat_tables(self.quarantine).cast(QUARANTINE), snapshot_properties=properties
            )
        if self.duplicates:
            catalog.load_table("ops.duplicates").append(
                pa.concat_tables(self.duplicates), snapshot_properties=properties
            )
        catalog.load_table("ops.file_loads").append(
            pa.Table.from_pylist(self.loads, schema=FILE_LOADS), snapshot_properties=properties
        )
        run = {
            "run_id": self.run_id,
            "command": "transform",
            "started_at": self.started_at,
            "finished_at": datetime.now(UTC).replace(tzinfo=None),
            "status": "failed_files" if any(load["status"] == FAILED for load in self.loads) else "succeeded",
            "practices": sorted(self.practices),
            "input_files": sorted({str(load["sha256"]) for load in self.loads}),
            "output_tables": sorted(self.tables),
            "rows_read": self.total("rows_read"),
            "rows_cleaned": self.total("rows_accepted") - self.total("rows_duplicate"),
            "rows_quarantined": self.total("rows_quarantined"),
            "rows_duplicate": self.total("rows_duplicate"),
        }
        catalog.load_table("ops.runs").append(pa.Table.from_pylist([run], schema=RUNS), snapshot_properties=properties)
