"""What a transform run did, file by file: written to the ops tables when the run ends."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog

from practicelake.clean.files import CleanedChunk
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
    loads: dict[tuple[str, str, str], dict[str, object]] = field(default_factory=dict)
    quarantine: list[pa.Table] = field(default_factory=list)
    duplicates: list[pa.Table] = field(default_factory=list)
    practices: set[str] = field(default_factory=set)
    tables: set[str] = field(default_factory=set)

    def _load(self, practice_id: str, dataset: str, sha: str, status: str, reason: str | None = None) -> None:
        self.practices.add(practice_id)
        self.loads[(practice_id, dataset, sha)] = {
            "practice_id": practice_id,
            "sha256": sha,
            "dataset": dataset,
            "run_id": self.run_id,
            "status": status,
            "reason": reason,
            "rows_read": 0,
            "rows_accepted": 0,
            "rows_quarantined": 0,
            "rows_duplicate": 0,
            "loaded_at": datetime.now(UTC).replace(tzinfo=None),
        }

    def file_failed(self, practice_id: str, dataset: str, sha: str, reason: str) -> None:
        self._load(practice_id, dataset, sha, FAILED, reason)

    def chunk_loaded(self, contract: Contract, chunk: CleanedChunk, superseded: pa.Table) -> None:
        self.tables.add(f"cleaned.{contract.entity}")
        for (practice_id, sha), read in chunk.rows_read.items():
            self._load(practice_id, contract.dataset, sha, LOADED)
            load = self.loads[(practice_id, contract.dataset, sha)]
            load["rows_read"] = read
            load["rows_accepted"] = chunk.rows_accepted[(practice_id, sha)]
            load["rows_quarantined"] = chunk.rows_quarantined[(practice_id, sha)]
        lost_rows = zip(superseded["practice_id"].to_pylist(), superseded["raw_file_sha256"].to_pylist(), strict=True)
        for (practice_id, sha), lost in Counter(lost_rows).items():
            earlier = self.loads.get((practice_id, contract.dataset, sha))
            if earlier is not None:  # a file of this run; files of earlier runs were counted then
                earlier["rows_duplicate"] = int(earlier["rows_duplicate"]) + lost  # type: ignore[call-overload]
        if chunk.quarantined.num_rows:
            self.quarantine.append(chunk.quarantined)
        if superseded.num_rows:
            n = superseded.num_rows
            self.duplicates.append(
                superseded.append_column("entity", pa.repeat(pa.scalar(contract.entity), n))
                .append_column("run_id", pa.repeat(pa.scalar(self.run_id), n))
                .select(DUPLICATES.names)
                .cast(DUPLICATES)
            )

    @property
    def failed(self) -> list[dict[str, object]]:
        return [load for load in self.loads.values() if load["status"] == FAILED]

    def total(self, column: str) -> int:
        return sum(int(load[column]) for load in self.loads.values())  # type: ignore[call-overload]

    def flush(self, catalog: Catalog, *, at_least: int = 0) -> None:
        """Write the quarantined and superseded rows held so far, once there are `at_least`
        of them: what a run holds in memory stays bounded however much it loads."""
        properties = {"practicelake.run_id": self.run_id}
        for identifier, held, schema in (
            ("ops.quarantine", self.quarantine, QUARANTINE),
            ("ops.duplicates", self.duplicates, DUPLICATES),
        ):
            if held and sum(t.num_rows for t in held) >= max(at_least, 1):
                catalog.load_table(identifier).append(
                    pa.concat_tables(held).cast(schema), snapshot_properties=properties
                )
                held.clear()

    def commit(self, catalog: Catalog) -> None:
        properties = {"practicelake.run_id": self.run_id}
        self.flush(catalog)
        loads = pa.Table.from_pylist(list(self.loads.values()), schema=FILE_LOADS)
        catalog.load_table("ops.file_loads").append(loads, snapshot_properties=properties)
        run = {
            "run_id": self.run_id,
            "command": "transform",
            "started_at": self.started_at,
            "finished_at": datetime.now(UTC).replace(tzinfo=None),
            "status": "failed_files" if self.failed else "succeeded",
            "practices": sorted(self.practices),
            "input_files": sorted({str(k[2]) for k in self.loads}),
            "output_tables": sorted(self.tables),
            "rows_read": self.total("rows_read"),
            "rows_cleaned": self.total("rows_accepted") - self.total("rows_duplicate"),
            "rows_quarantined": self.total("rows_quarantined"),
            "rows_duplicate": self.total("rows_duplicate"),
        }
        catalog.load_table("ops.runs").append(pa.Table.from_pylist([run], schema=RUNS), snapshot_properties=properties)
