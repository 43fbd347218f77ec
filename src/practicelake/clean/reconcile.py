"""Nothing lost: for every raw file and dataset it feeds, rows read = rows cleaned +
quarantined + duplicates.

The three right-hand counts are taken from the tables themselves (cleaned rows carry the
hash of their raw file), not from what the transform said it did, so a lost or doubled
row shows up here. A run that has not finished is left out: the tables are read as it
found them, which is what the next run's recovery puts back (lakehouse.journal).

`lake_status` gathers what `practicelake status` shows, as plain rows and sentences
(`LakeStatus.sections`, `notes`, `problems`): the command line draws them, and the web's
data-health page can show the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysTrue

from practicelake.contracts import CONTRACTS
from practicelake.ingest.manifest import read_manifest
from practicelake.lakehouse import lock
from practicelake.lakehouse.catalog import practice_partition
from practicelake.lakehouse.journal import Journal, command_of
from practicelake.lakehouse.schemas import DUPLICATES, FILE_LOADS, QUARANTINE
from practicelake.storage import ObjectStore

QUARANTINE_RULES = pa.schema([QUARANTINE.field(name) for name in ("practice_id", "entity", "rule")])
Snapshots = Mapping[str, int | None]  # table -> the snapshot to read it at (None: empty)

LINEAGE_COLUMNS = pa.schema([pa.field("practice_id", pa.string()), pa.field("raw_file_sha256", pa.string())])

RECONCILE = """
with cleaned as (
    select raw_file_sha256 as sha256, practice_id, dataset, count(*) as n from cleaned_lineage group by all
), quarantined as (
    select raw_file_sha256 as sha256, practice_id, dataset, count(*) as n
    from quarantine join datasets using (entity) group by all
), duplicate as (
    select raw_file_sha256 as sha256, practice_id, dataset, count(*) as n
    from duplicates join datasets using (entity) group by all
), latest_load as (
    select * from file_loads qualify row_number() over (partition by practice_id, dataset, sha256
                                                        order by loaded_at desc) = 1
), files as (
    select practice_id, dataset, sha256, min(batch) as batch, min(source_name) as source_name,
           min(received_at) as received_at, bool_or(status = 'failed') as failed, max(reason) as reason
    from manifest where status <> 'already_ingested' group by all
)
select
    f.practice_id, f.dataset, f.batch, f.source_name, f.sha256, f.received_at,
    case when f.failed then 'failed' when l.status is null then 'pending' else l.status end as status,
    coalesce(f.reason, l.reason) as reason,
    l.rows_read,
    coalesce(c.n, 0) as rows_cleaned,
    coalesce(q.n, 0) as rows_quarantined,
    coalesce(d.n, 0) as rows_duplicate,
    l.rows_read is not distinct from coalesce(c.n, 0) + coalesce(q.n, 0) + coalesce(d.n, 0) as balanced
from files f
left join latest_load l using (practice_id, dataset, sha256)
left join cleaned c using (practice_id, dataset, sha256)
left join quarantined q using (practice_id, dataset, sha256)
left join duplicate d using (practice_id, dataset, sha256)
order by f.practice_id, f.batch, f.dataset, f.received_at
"""

PER_PRACTICE_AND_DATASET = """
select practice_id, dataset, count(*) as files,
       sum(rows_read) as rows_read, sum(rows_cleaned) as rows_cleaned,
       sum(rows_quarantined) as rows_quarantined, sum(rows_duplicate) as rows_duplicate,
       count(*) filter (where status = 'failed') as failed_files, bool_and(balanced) as balanced
from files group by all order by all
"""

QUARANTINE_BY_RULE = """
select practice_id, entity, rule, count(*) as rows from quarantine group by all order by all
"""


FILE_COLUMNS = ("practice_id", "batch", "dataset", "status", "rows_read", "rows_cleaned", "rows_quarantined",
                "rows_duplicate", "balanced", "reason")  # fmt: skip
DATASET_COLUMNS = ("practice_id", "dataset", "files", "rows_read", "rows_cleaned", "rows_quarantined",
                   "rows_duplicate", "failed_files", "balanced")  # fmt: skip
QUARANTINE_COLUMNS = ("practice_id", "entity", "rule", "rows")
RUN_COLUMNS = ("run_id", "started_at", "finished_at", "status", "rows_read", "rows_quarantined", "rows_duplicate")


@dataclass(frozen=True)
class Unfinished:
    """A transform or curate that started and has not finished."""

    run_id: str
    command: str  # transform or curate
    started_at: datetime
    running: bool  # the writer lock is held: it may still be at work, else it was interrupted

    def describe(self) -> str:
        """One sentence: what the run is, and what becomes of what it wrote."""
        happened = f"run {self.run_id} ({self.command}) started at {self.started_at:%Y-%m-%d %H:%M:%S} UTC and "
        happened += "is still running (the writer lock is held)" if self.running else "was interrupted"
        return (
            f"{happened}: its partial writes are not visible to readers, not counted here, "
            "and will be rolled back by the next transform or curate"
        )


@dataclass(frozen=True)
class Section:
    """One table of the status: its title, its columns and its rows, values as found."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass
class LakeStatus:
    files: list[dict[str, Any]]  # per raw file: status and the counts that must add up
    datasets: list[dict[str, Any]]  # the same, per practice and dataset
    quarantine: list[dict[str, Any]]  # rows quarantined per practice, entity and rule
    runs: list[dict[str, Any]]  # the last runs, newest first
    unfinished: list[Unfinished] = field(default_factory=list)

    @property
    def unbalanced(self) -> list[dict[str, Any]]:
        """Loaded files whose rows do not add up: something was lost or doubled."""
        return [r for r in self.files if r["status"] == "loaded" and not r["balanced"]]

    @property
    def balanced(self) -> bool:
        return not self.unbalanced

    def sections(self, *, files: bool = True) -> list[Section]:
        """The tables shown, in order: every raw file (with `files`), per practice and dataset,
        quarantined rows by rule (when there are any), the last runs."""
        shown = []
        if files and self.files:
            shown.append(_section("raw files", FILE_COLUMNS, self.files))
        shown.append(_section("per practice and dataset", DATASET_COLUMNS, self.datasets))
        if self.quarantine:
            shown.append(_section("quarantined rows by practice, entity and rule", QUARANTINE_COLUMNS, self.quarantine))
        shown.append(_section("last runs", RUN_COLUMNS, self.runs))
        return shown

    @property
    def notes(self) -> list[str]:
        """Runs that did not finish: not a fault of the data, said so it is not taken for one."""
        return [run.describe() for run in self.unfinished]

    @property
    def problems(self) -> list[str]:
        """One line per loaded file whose rows do not add up."""
        return [f"not reconciled: {r['practice_id']} {r['dataset']} {r['sha256'][:12]}" for r in self.unbalanced]


def _section(title: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> Section:
    return Section(title, columns, [tuple(row[c] for c in columns) for row in rows])


def _scan(
    catalog: Catalog, identifier: str, schema: pa.Schema, as_of: Snapshots, practice: str | None = None
) -> pa.Table:
    """The table's `schema` columns, at its snapshot in `as_of` if it has one there; with
    `practice`, that practice's rows only (its partitions, where the table is partitioned)."""
    if not catalog.table_exists(identifier) or (identifier in as_of and as_of[identifier] is None):
        return schema.empty_table()
    rows = practice_partition(practice) if practice is not None else AlwaysTrue()
    scan = catalog.load_table(identifier).scan(
        row_filter=rows, selected_fields=tuple(schema.names), snapshot_id=as_of.get(identifier)
    )
    return scan.to_arrow()


def _lineage(rows: pa.Table, dataset: str) -> pa.Table:
    """A cleaned table's lineage with its dataset: one file may feed several."""
    return rows.append_column("dataset", pa.repeat(pa.scalar(dataset, pa.string()), rows.num_rows))


def reconcile(catalog: Catalog, as_of: Snapshots | None = None, practice: str | None = None) -> pa.Table:
    """One row per raw file: its status and the counts that must add up; each table in `as_of`
    read at its snapshot there (`Journal.before_unfinished`: without the unfinished runs).
    With `practice`, that practice's files only, read from its partitions alone."""
    as_of = as_of or {}
    lineage = pa.concat_tables(
        [
            _lineage(_scan(catalog, f"cleaned.{c.entity}", LINEAGE_COLUMNS, as_of, practice), c.dataset)
            for c in CONTRACTS
        ],
        promote_options="permissive",
    )
    manifest = read_manifest(catalog)
    if practice is not None:
        manifest = manifest.filter(pc.equal(manifest["practice_id"], practice))
    relations = {
        "manifest": manifest,
        "cleaned_lineage": lineage,
        "datasets": pa.table({"entity": [c.entity for c in CONTRACTS], "dataset": [c.dataset for c in CONTRACTS]}),
        "quarantine": _scan(catalog, "ops.quarantine", QUARANTINE, as_of, practice),
        "duplicates": _scan(catalog, "ops.duplicates", DUPLICATES, as_of, practice),
        "file_loads": _scan(catalog, "ops.file_loads", FILE_LOADS, as_of, practice),
    }
    con = duckdb.connect()
    for name, relation in relations.items():
        con.register(name, relation)
    return con.sql(RECONCILE).to_arrow_table()


def recent_runs(catalog: Catalog, limit: int = 5, as_of: Snapshots | None = None) -> list[dict[str, object]]:
    as_of = as_of or {}
    if not catalog.table_exists("ops.runs") or ("ops.runs" in as_of and as_of["ops.runs"] is None):
        return []
    runs = catalog.load_table("ops.runs").scan(snapshot_id=as_of.get("ops.runs")).to_arrow()
    latest: list[dict[str, object]] = runs.sort_by([("started_at", "descending")]).slice(0, limit).to_pylist()
    return latest


def unfinished_runs(store: ObjectStore) -> list[Unfinished]:
    """The runs that started and did not finish, oldest first. While the writer lock is held,
    the newest of them may be at work; the others were interrupted."""
    held = lock.current(store)
    running = held is not None and not held[0].free(datetime.now(UTC))
    runs = Journal(store).unfinished()
    found = []
    for i, run in enumerate(runs):
        started_at = datetime.fromisoformat(str(run["started_at"]))
        found.append(Unfinished(str(run["run_id"]), command_of(run), started_at, running and i == len(runs) - 1))
    return found


def lake_status(catalog: Catalog, store: ObjectStore | None = None, practice: str | None = None) -> LakeStatus:
    """What `practicelake status` shows, as of the last finished runs (with `store`, an
    unfinished run's partial writes are left out and the run is listed)."""
    as_of = Journal(store).before_unfinished() if store is not None else {}
    files = reconcile(catalog, as_of, practice)
    quarantine = _scan(catalog, "ops.quarantine", QUARANTINE_RULES, as_of, practice)
    if practice is not None:
        files = files.filter(pc.equal(files["practice_id"], practice))
        quarantine = quarantine.filter(pc.equal(quarantine["practice_id"], practice))
    con = duckdb.connect()
    con.register("files", files)
    con.register("quarantine", quarantine)
    return LakeStatus(
        files=files.to_pylist(),
        datasets=con.sql(PER_PRACTICE_AND_DATASET).to_arrow_table().to_pylist(),
        quarantine=con.sql(QUARANTINE_BY_RULE).to_arrow_table().to_pylist(),
        runs=recent_runs(catalog, as_of=as_of),
        unfinished=unfinished_runs(store) if store is not None else [],
    )
