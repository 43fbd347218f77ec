"""Cleaned zone -> curated zone, for the practices whose cleaned rows changed since they were
last curated (or all of them when a model changed).

A practice's cleaned version is what ops.file_loads says was loaded for it; its curated
version is recorded in ops.curate_state. Practices are curated in groups sized by their row
counts, so memory follows the group, not the deployment; each table gets one commit per
group, and a run that dies part-way is rolled back by the next (lakehouse.journal).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import AlwaysTrue, BooleanExpression, In, Reference
from pyiceberg.table import Table

from practicelake.curate.engine import run_models
from practicelake.curate.project import Model, ModelError, load_models, reference_tables
from practicelake.lakehouse.catalog import current_snapshot_id, ensure_table, iceberg_schema
from practicelake.lakehouse.journal import Journal
from practicelake.lakehouse.lock import writer_lock
from practicelake.lakehouse.schemas import LINEAGE, RUNS
from practicelake.settings import Settings
from practicelake.storage import ObjectStore

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
REQUIRED_VALUE_UNITS = ("procedure_code", "work_rvu")


@dataclass
class CurateReport:
    run_id: str | None  # None: nothing changed, nothing written
    practices: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # by curated table
    rolled_back: list[str] = field(default_factory=list)


def load_references(value_units_file: Path | None = None) -> dict[str, pa.Table]:
    """The reference tables; `value_units_file` replaces the packaged value units."""
    paths = reference_tables()
    if value_units_file is not None:
        paths["value_units"] = value_units_file
    tables = {}
    for name, path in paths.items():
        try:
            tables[name] = pacsv.read_csv(path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise ModelError(f"reference table {name} ({path}): {exc}") from None
    missing = [c for c in REQUIRED_VALUE_UNITS if c not in tables["value_units"].column_names]
    if missing:
        raise ModelError(f"value units file {paths['value_units']}: missing column(s) {', '.join(missing)}")
    units = tables["value_units"]
    tables["value_units"] = pa.table(
        {
            "procedure_code": pc.cast(units["procedure_code"], pa.string()),
            "work_rvu": pc.cast(units["work_rvu"], pa.float64()),
        }
    )
    return tables


def models_version(models: tuple[Model, ...], references: Mapping[str, pa.Table]) -> str:
    digest = hashlib.sha256()
    for model in models:
        digest.update(model.fingerprint.encode())
    for name in sorted(references):
        digest.update(name.encode())
        for batch in references[name].to_batches():
            digest.update(batch.serialize())
    return digest.hexdigest()


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


def curated_versions(table: Table) -> dict[str, tuple[str, str]]:
    rows = table.scan().to_arrow().to_pylist()
    return {r["practice_id"]: (r["cleaned_version"], r["models_version"]) for r in rows}


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


def _curated_table(catalog: Catalog, model: Model) -> Table:
    """The model's table; replaced (and so rebuilt for every practice) when its columns change."""
    identifier = "curated." + model.name
    schema = model.contract.arrow_schema()
    try:
        table = catalog.load_table(identifier)
        wanted = [(f.name, f.field_type) for f in iceberg_schema(schema).fields]
        if [(f.name, f.field_type) for f in table.schema().fields] == wanted:
            return table
        catalog.drop_table(identifier)
    except NoSuchTableError:
        pass
    return ensure_table(catalog, identifier, schema)


def _cleaned_inputs(catalog: Catalog, models: tuple[Model, ...], practices: list[str]) -> dict[str, pa.Table]:
    lineage = {f.name for f in LINEAGE}
    entities = sorted({t.removeprefix("cleaned.") for m in models for t in m.reads if t.startswith("cleaned.")})
    chosen = In(Reference("practice_id"), practices)  # type: ignore[call-arg,arg-type]
    inputs = {}
    for entity in entities:
        table = catalog.load_table("cleaned." + entity)
        columns = tuple(name for name in table.schema().column_names if name not in lineage)
        inputs["cleaned." + entity] = table.scan(row_filter=chosen, selected_fields=columns).to_arrow()
    return inputs


def replace(table: Table, rows: pa.Table, where: BooleanExpression, properties: dict[str, str]) -> None:
    """The rows matching `where` become `rows`, in one commit (none if there is nothing to do)."""
    with table.transaction() as transaction:
        if next(iter(table.scan(row_filter=where).plan_files()), None) is not None:
            transaction.delete(where, snapshot_properties=properties)
        if rows.num_rows:
            transaction.append(rows, snapshot_properties=properties)


def curate(
    settings: Settings, catalog: Catalog, store: ObjectStore, *, on_step: Callable[[str], None] | None = None
) -> CurateReport:
    with writer_lock(settings.state_dir):
        journal = Journal(store)
        report = CurateReport(run_id=None, rolled_back=journal.recover(catalog))
        models = load_models()
        references = load_references(settings.value_units_file)
        version = models_version(models, references)
        state = ensure_table(catalog, STATE, CURATE_STATE, partitioned=False)
        wanted = cleaned_versions(catalog)
        done = curated_versions(state)
        stale = sorted(p for p, (v, _) in wanted.items() if done.get(p) != (v, version))
        if not stale:
            return report
        tables = {m.name: _curated_table(catalog, m) for m in models if m.contract.materialized == "table"}
        runs = ensure_table(catalog, "ops.runs", RUNS, partitioned=False)
        run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        started_at = datetime.now(UTC).replace(tzinfo=None)
        written = {f"curated.{name}": t for name, t in tables.items()} | {STATE: state, "ops.runs": runs}
        journal.start(run_id, {name: current_snapshot_id(t) for name, t in written.items()})
        properties = {"practicelake.run_id": run_id}
        sizes = {p: rows for p, (_, rows) in wanted.items()}
        for group in groups(stale, sizes):
            if on_step:
                on_step(", ".join(group))
            inputs = _cleaned_inputs(catalog, models, group) | {"reference." + n: t for n, t in references.items()}
            with duckdb.connect(config={"memory_limit": "2GB"}) as con:
                results = run_models(con, models, inputs)
            del inputs
            chosen = In(Reference("practice_id"), group)  # type: ignore[call-arg,arg-type]
            for name, rows in results.items():
                replace(tables[name], rows, chosen, properties)
                report.rows[name] = report.rows.get(name, 0) + rows.num_rows
        now = datetime.now(UTC).replace(tzinfo=None)
        kept = {p: v for p, v in done.items() if p in wanted and p not in stale}
        state_rows = [
            {"practice_id": p, "cleaned_version": v[0], "models_version": v[1], "run_id": run_id, "curated_at": now}
            for p, v in sorted(kept.items())
        ] + [
            {
                "practice_id": p,
                "cleaned_version": wanted[p][0],
                "models_version": version,
                "run_id": run_id,
                "curated_at": now,
            }
            for p in stale
        ]
        replace(state, pa.Table.from_pylist(state_rows, schema=CURATE_STATE), AlwaysTrue(), properties)
        runs.append(
            pa.Table.from_pylist(
                [
                    {
                        "run_id": run_id,
                        "command": "curate",
                        "started_at": started_at,
                        "finished_at": datetime.now(UTC).replace(tzinfo=None),
                        "status": "succeeded",
                        "practices": stale,
                        "input_files": [],
                        "output_tables": sorted(f"curated.{name}" for name in tables),
                        "rows_read": sum(sizes[p] for p in stale),
                        "rows_cleaned": 0,
                        "rows_quarantined": 0,
                        "rows_duplicate": 0,
                    }
                ],
                schema=RUNS,
            ),
            snapshot_properties=properties,
        )
        journal.finish(run_id)
        report.run_id, report.practices = run_id, stale
        return report
