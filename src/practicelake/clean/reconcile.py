"""Nothing lost: for every raw file, rows read = rows cleaned + quarantined + duplicates.

The three right-hand counts are taken from the tables themselves (cleaned rows carry the
hash of their raw file), not from what the transform said it did, so a lost or doubled
row shows up here.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
from pyiceberg.catalog import Catalog

from practicelake.contracts import CONTRACTS
from practicelake.ingest.manifest import read_manifest
from practicelake.lakehouse.schemas import DUPLICATES, FILE_LOADS, QUARANTINE

LINEAGE_COLUMNS = pa.schema([pa.field("practice_id", pa.string()), pa.field("raw_file_sha256", pa.string())])

RECONCILE = """
with cleaned as (
    select raw_file_sha256 as sha256, practice_id, count(*) as n from cleaned_lineage group by all
), quarantined as (
    select raw_file_sha256 as sha256, practice_id, count(*) as n from quarantine group by all
), duplicate as (
    select raw_file_sha256 as sha256, practice_id, count(*) as n from duplicates group by all
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
left join cleaned c using (practice_id, sha256)
left join quarantined q using (practice_id, sha256)
left join duplicate d using (practice_id, sha256)
order by f.practice_id, f.batch, f.dataset, f.received_at
"""


def _scan(catalog: Catalog, identifier: str, schema: pa.Schema) -> pa.Table:
    if not catalog.table_exists(identifier):
        return schema.empty_table()
    return catalog.load_table(identifier).scan(selected_fields=tuple(schema.names)).to_arrow()


def reconcile(catalog: Catalog) -> pa.Table:
    """One row per raw file: its status and the counts that must add up."""
    lineage = pa.concat_tables(
        [_scan(catalog, f"cleaned.{c.entity}", LINEAGE_COLUMNS) for c in CONTRACTS], promote_options="permissive"
    )
    relations = {
        "manifest": read_manifest(catalog),
        "cleaned_lineage": lineage,
        "quarantine": _scan(catalog, "ops.quarantine", QUARANTINE),
        "duplicates": _scan(catalog, "ops.duplicates", DUPLICATES),
        "file_loads": _scan(catalog, "ops.file_loads", FILE_LOADS),
    }
    con = duckdb.connect()
    for name, relation in relations.items():
        con.register(name, relation)
    return con.sql(RECONCILE).to_arrow_table()


def recent_runs(catalog: Catalog, limit: int = 5) -> list[dict[str, object]]:
    if not catalog.table_exists("ops.runs"):
        return []
    runs = catalog.load_table("ops.runs").scan().to_arrow().sort_by([("started_at", "descending")])
    latest: list[dict[str, object]] = runs.slice(0, limit).to_pylist()
    return latest
