"""Cleaned zone -> curated zone, for the practices whose cleaned rows changed since they were
last curated (or all of them when a model changed); then the cross-practice tables, whenever
any practice's curated rows changed or a practice came or went.

Which practices are stale is curate.state's business. Practices are curated in groups sized
by their row counts, so memory follows the group, not the deployment; a group that fails is
curated one practice at a time, and a practice that fails alone keeps its old rows and is
reported (curate.build). Each table gets one commit per run (curate.writer). The cross-practice tables are
then computed from every practice's curated rows as this run leaves them (curate.cross_practice)
and replaced whole. Readers see none of the commits until the run's last commit records every
table's snapshot (curate.snapshots), and a run that dies part-way is rolled back by the next
(lakehouse.journal).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import AlwaysTrue, BooleanExpression
from pyiceberg.table import Table

from practicelake.crypto.keystore import open_keys
from practicelake.curate import cross_practice
from practicelake.curate.build import build_each, check_engine
from practicelake.curate.changes import plan
from practicelake.curate.disclosure import cell_secret
from practicelake.curate.project import Model, ModelError, load_models, reference_tables
from practicelake.curate.snapshots import SNAPSHOTS, pinned, record, snapshots_table, unchanged
from practicelake.curate.state import (
    CROSS_PRACTICE,
    CURATE_STATE,
    STATE,
    Versions,
    cleaned_versions,
    cross_practice_version,
    curated_versions,
    groups,
    models_version,
    practice_versions,
    state_rows,
)
from practicelake.curate.writer import CuratedWriter, Replaced
from practicelake.lakehouse.catalog import current_snapshot_id, ensure_table, iceberg_schema
from practicelake.lakehouse.journal import Journal
from practicelake.lakehouse.lock import writer_lock
from practicelake.lakehouse.schemas import RUNS
from practicelake.settings import Settings
from practicelake.storage import ObjectStore

REQUIRED_VALUE_UNITS = ("procedure_code", "work_rvu")
PRACTICE_SETTINGS = pa.schema(
    [
        pa.field("practice_id", pa.string(), nullable=False),
        pa.field("time_zone", pa.string(), nullable=False),
        pa.field("currency", pa.string(), nullable=False),
    ]
)


@dataclass
class CurateReport:
    run_id: str | None  # None: nothing changed, nothing written
    practices: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # by curated table
    rolled_back: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # practice -> why (model and error), not rebuilt
    left_out: dict[str, str] = field(default_factory=dict)  # practice -> why, not in this run's benchmarks
    # practice -> model -> the first day of its rows rebuilt (models not named: all rows), for
    # each practice rebuilt from what its new cleaned rows change rather than whole
    windows: dict[str, dict[str, date]] = field(default_factory=dict)


def load_references(value_units_file: Path | None = None) -> dict[str, pa.Table]:
    """The reference tables; `value_units_file` replaces the packaged value units."""
    paths = reference_tables()
    if value_units_file is not None:
        paths["value_units"] = value_units_file
    tables = {}
    for name, path in paths.items():
        try:
            tables[name] = pacsv.read_csv(pa.BufferReader(path.read_bytes()))
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


def practice_settings(settings: Settings) -> pa.Table:
    """reference.practice_settings: each configured practice's time zone and currency, as the
    deployment's settings say (not as its export says)."""
    rows = [
        {"practice_id": practice_id, "time_zone": practice.time_zone, "currency": practice.currency}
        for practice_id, practice in sorted(settings.practices.items())
    ]
    return pa.Table.from_pylist(rows, schema=PRACTICE_SETTINGS)


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


def replace(table: Table, rows: pa.Table, where: BooleanExpression, properties: dict[str, str]) -> None:
    """The rows matching `where` become `rows`, in one commit (none if there is nothing to do)."""
    with table.transaction() as transaction:
        if next(iter(table.scan(row_filter=where).plan_files()), None) is not None:
            transaction.delete(where, snapshot_properties=properties)
        if rows.num_rows:
            transaction.append(rows, snapshot_properties=properties)


def curate(
    settings: Settings,
    catalog: Catalog,
    store: ObjectStore,
    *,
    on_step: Callable[[str], None] | None = None,
    engine: str = "duckdb",
) -> CurateReport:
    check_engine(engine)
    with writer_lock(store, kind="curate", catalog=catalog):
        journal = Journal(store)
        report = CurateReport(run_id=None, rolled_back=journal.recover(catalog))
        models = load_models()
        per_practice_models = tuple(m for m in models if not m.contract.cross_practice)
        references = load_references(settings.value_units_file)
        configured = practice_settings(settings)
        version = models_version(per_practice_models, references)
        per_practice = practice_versions(version, configured)
        state = ensure_table(catalog, STATE, CURATE_STATE, partitioned=False)
        wanted = cleaned_versions(catalog)
        done = curated_versions(state)
        benchmarked = done.pop(CROSS_PRACTICE, None)
        target = {p: (v, per_practice.get(p, version)) for p, (v, _) in wanted.items()}
        stale = sorted(p for p in wanted if done.get(p) != target[p])
        if not stale and _cross_practice_current(catalog, models, benchmarked):
            _keep_pins(catalog, models)
            return report
        tables = {m.name: _curated_table(catalog, m) for m in models if m.contract.materialized == "table"}
        runs = ensure_table(catalog, "ops.runs", RUNS, partitioned=False)
        run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        started_at = datetime.now(UTC).replace(tzinfo=None)
        written = {f"curated.{name}": t for name, t in tables.items()}
        written |= {STATE: state, "ops.runs": runs, SNAPSHOTS: snapshots_table(catalog)}
        journal.start(run_id, {name: current_snapshot_id(t) for name, t in written.items()})
        properties = {"practicelake.run_id": run_id}
        sizes = {p: rows for p, (_, rows) in wanted.items()}
        inputs = references | {"practice_settings": configured}
        built: Versions = {}
        writer = CuratedWriter(tables, properties)
        whole = []
        for practice_id in stale:  # a practice with new cleaned rows only: what they change
            current = done.get(practice_id)
            windows = None
            if current is not None and current[1] == target[practice_id][1]:
                windows = plan(catalog, per_practice_models, practice_id, current[0])
            if windows is None:
                whole.append(practice_id)
                continue
            if on_step:
                on_step(f"{practice_id} from {min(windows.starts.values(), default='the start')}")
            by_name = {m.name: m for m in per_practice_models}
            for practices, results in build_each(
                catalog, per_practice_models, [practice_id], inputs, report.failed, engine, windows
            ):
                writer.add(results, {name: windows.replaced(by_name[name]) for name in results})
                built |= {p: target[p] for p in practices}
                report.windows[practice_id] = windows.starts
        for group in groups(whole, sizes):
            if on_step:
                on_step(", ".join(group))
            for practices, results in build_each(catalog, per_practice_models, group, inputs, report.failed, engine):
                writer.add(results, dict.fromkeys(results, Replaced(tuple(practices))))
                built |= {p: target[p] for p in practices}
        writer.commit(on_step, ", ".join(sorted(built)))
        report.rows |= writer.rows
        benchmarked = _cross_practice(settings, tables, models, benchmarked, sizes, report, properties, on_step)
        now = datetime.now(UTC).replace(tzinfo=None)
        rows = state_rows(done, built, set(wanted), run_id, now, benchmarked)
        replace(state, rows, AlwaysTrue(), properties)
        run_row = _run_row(run_id, started_at, stale, sorted(report.failed), tables, sizes)
        runs.append(run_row, snapshot_properties=properties)
        record(catalog, tables, run_id)  # the last commit: from here on readers see this run
        journal.finish(run_id)
        report.run_id, report.practices = run_id, sorted(built)
        return report


def _cross_practice_current(catalog: Catalog, models: tuple[Model, ...], benchmarked: tuple[str, str] | None) -> bool:
    """The cross-practice tables were computed from the curated tables as they are now."""
    names = cross_practice.sources(models)
    if benchmarked is None or not all(catalog.table_exists("curated." + name) for name in names):
        return False
    tables = {name: catalog.load_table("curated." + name) for name in names}
    return cross_practice_version(models, cross_practice.snapshots(tables, models)) == benchmarked


def _cross_practice(
    settings: Settings,
    tables: Mapping[str, Table],
    models: tuple[Model, ...],
    benchmarked: tuple[str, str] | None,
    sizes: Mapping[str, int],
    report: CurateReport,
    properties: dict[str, str],
    on_step: Callable[[str], None] | None,
) -> tuple[str, str] | None:
    """Rebuild the cross-practice tables unless they are current; their new version, or None
    while a practice is left out of them (so the next curate tries again)."""
    current = cross_practice_version(models, cross_practice.snapshots(tables, models))
    if current == benchmarked:
        return benchmarked
    if on_step:
        on_step("every practice")
    secret = cell_secret(open_keys(settings))
    for name, rows in cross_practice.build(tables, models, secret, sizes, report.left_out).items():
        if on_step:
            on_step(f"every practice: {name}")
        replace(tables[name], rows, AlwaysTrue(), properties)
        report.rows[name] = rows.num_rows
    return None if report.left_out else current


def _keep_pins(catalog: Catalog, models: tuple[Model, ...]) -> None:
    """With nothing to rebuild the pins stay, unless the curated tables changed without a curate
    (offboarding deletes rows) or were built before readers read pins: then they are recorded."""
    tables = {}
    for model in models:
        if model.contract.materialized == "table" and catalog.table_exists("curated." + model.name):
            tables[model.name] = catalog.load_table("curated." + model.name)
    if tables and not unchanged(pinned(catalog), tables):
        record(catalog, tables, f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}")


def _run_row(
    run_id: str,
    started_at: datetime,
    practices: list[str],
    failed: list[str],
    tables: Mapping[str, Table],
    sizes: Mapping[str, int],
) -> pa.Table:
    status = "failed_practices: " + ", ".join(failed) if failed else "succeeded"
    row = {
        "run_id": run_id,
        "command": "curate",
        "started_at": started_at,
        "finished_at": datetime.now(UTC).replace(tzinfo=None),
        "status": status,
        "practices": practices,
        "input_files": [],
        "output_tables": sorted(f"curated.{name}" for name in tables),
        "rows_read": sum(sizes[p] for p in practices),
        "rows_cleaned": 0,
        "rows_quarantined": 0,
        "rows_duplicate": 0,
    }
    return pa.Table.from_pylist([row], schema=RUNS)
