"""What each practice's curated rows were built from, and so which practices a curate rebuilds.

A practice's cleaned version is what ops.file_loads says was loaded for it; its models'
version covers the SQL, the contracts, the reference tables and its own configured settings
(time zone, currency). Both are recorded per practice in ops.curate_state by the run that
built its rows; a practice whose recorded pair differs from today's is stale.

The row of practice `*` is the cross-practice models': the snapshots of the curated tables
they were computed from, and their own version. They are stale when either changed: a
practice's rows rebuilt, a practice offboarded, a model changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from datetime import datetime

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table import Table

from practicelake.curate.project import Model

CROSS_PRACTICE = "*"  # the ops.curate_state row of the cross-practice models
GROUP_ROWS = 3_000_000  # cleaned rows curated at once
STATE = "ops.curate_state"
CURATE_STATE = pa.schema(
    [
        pa.field("practice_id", pa.string(), nullable=False),
        pa.field("cleaned_version", pa.string(), nullable=False),
        pa.field("models_version", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("curated_at", pa.timestamp("us"), nullable=False),
    ]
)
Versions = dict[str, tuple[str, str]]  # practice -> (cleaned version, models version)


def models_version(models: tuple[Model, ...], references: Mapping[str, pa.Table]) -> str:
    digest = hashlib.sha256()
    for model in models:
        digest.update(model.fingerprint.encode())
    for name in sorted(references):
        digest.update(name.encode())
        for batch in references[name].to_batches():
            digest.update(batch.serialize())
    return digest.hexdigest()


def practice_versions(version: str, settings_rows: pa.Table) -> dict[str, str]:
    """Per configured practice: the models' version with its own settings row folded in, so
    that changing one practice's time zone rebuilds that practice only."""
    versions = {}
    for row in settings_rows.to_pylist():
        own = "\0".join(f"{key}={row[key]}" for key in sorted(row))
        versions[row["practice_id"]] = hashlib.sha256(f"{version}\0{own}".encode()).hexdigest()
    return versions


def cleaned_versions(catalog: Catalog) -> dict[str, tuple[str, int]]:
    """Per practice: a version of its cleaned rows (changes with every load) and their count."""
    try:
        loads = catalog.load_table("ops.file_loads").scan(selected_fields=("practice_id", "run_id", "rows_accepted"))
    except NoSuchTableError:
        return {}
    grouped = (
        loads.to_arrow()
        .group_by("practice_id")
        .aggregate([("run_id", "max"), ("run_id", "count"), ("rows_accepted", "sum")])
    )
    versions = {}
    for row in grouped.to_pylist():
        versions[row["practice_id"]] = (
            f"{row['run_id_count']}:{row['run_id_max']}",
            int(row["rows_accepted_sum"] or 0),
        )
    return versions


def curated_versions(table: Table) -> Versions:
    rows = table.scan().to_arrow().to_pylist()
    return {r["practice_id"]: (r["cleaned_version"], r["models_version"]) for r in rows}


def cross_practice_version(models: tuple[Model, ...], sources: Mapping[str, int | None]) -> tuple[str, str]:
    """(the snapshots of the curated tables read, the cross-practice models' own version)."""
    read = hashlib.sha256("\0".join(f"{name}={sources[name]}" for name in sorted(sources)).encode())
    own = hashlib.sha256("\0".join(m.fingerprint for m in models if m.contract.cross_practice).encode())
    return read.hexdigest(), own.hexdigest()


def state_rows(
    done: Versions,
    built: Versions,
    keep: set[str],
    run_id: str,
    now: datetime,
    cross_practice: tuple[str, str] | None = None,
) -> pa.Table:
    """The new ops.curate_state: `built` practices at their new versions, the others of `keep`
    as they were (a practice that failed keeps its old versions, so the next run tries it again),
    and the cross-practice models' row when they are current."""
    versions = {p: v for p, v in done.items() if p in keep} | built
    if cross_practice is not None:
        versions[CROSS_PRACTICE] = cross_practice
    rows = [
        {"practice_id": p, "cleaned_version": v[0], "models_version": v[1], "run_id": run_id, "curated_at": now}
        for p, v in sorted(versions.items())
    ]
    return pa.Table.from_pylist(rows, schema=CURATE_STATE)


def groups(practices: list[str], sizes: Mapping[str, int], limit: int = GROUP_ROWS) -> Iterator[list[str]]:
    group: list[str] = []
    rows = 0
    for practice_id in sorted(practices):
        if group and rows + sizes.get(practice_id, 0) > limit:
            yield group
            group, rows = [], 0
        group.append(practice_id)
        rows += sizes.get(practice_id, 0)
    if group:
        yield group
