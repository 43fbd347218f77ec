"""What a practice's new cleaned rows can change, so that an incremental curate rebuilds only that.

The batch is every cleaned row loaded since the practice was last curated (its lineage run_id is
one of the runs ops.file_loads records after the practice's recorded cleaned version), together
with the row of the same key each one replaced, read as its table was before the first of those
runs. The earliest day the batch can change is the earliest date of everything its rows take
part in: an appointment's start and check-in, a schedule day, and every date of each visit and
claim a row belongs to (the visit's charges, claims, payments, adjustments and encounter, old
versions included), so a late remittance for an old claim reaches back to the claim's visit, and
a patient's new primary payer to every visit of the patient. A timestamp's day is taken a day
early: a practice-local day is never more than a day before the UTC one.

Each model's window (contract.Window) then starts at the first day of the period holding that
day less its lookback; its rows from there on are rebuilt, those before are kept.

Whatever this cannot account for rebuilds the practice whole (None): a load that does not follow
the recorded version, a table whose history no longer reaches back to the last curate, a row
removed without a newer version, a changed payer or provider (named on rows of every date), a
cleaned table of the models that this module does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import And, BooleanExpression, In, Reference
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot
from sqlglot import exp

from practicelake.contracts import BY_ENTITY
from practicelake.curate.build import cleaned_inputs
from practicelake.curate.contract import Period, Window
from practicelake.curate.engine import expose
from practicelake.curate.project import Model
from practicelake.curate.windows import Windows
from practicelake.lakehouse.catalog import practice_partition

RUN = "practicelake.run_id"  # the snapshot property naming the run that made a snapshot
# The cleaned tables whose rows the earliest day accounts for (EARLIEST reads each of them).
TRACED = frozenset(
    f"cleaned.{e}"
    for e in ("appointment", "provider_schedule", "encounter", "charge", "claim", "payment", "adjustment", "patient")
)

# Over the practice's cleaned rows (`cleaned.*`, as they are now) and the batch (`batch.*`: its
# rows and the versions they replaced, each table's columns): the earliest day it can change.
EARLIEST = """
with claim_visit as (
    select claim_id, encounter_id from cleaned.claim
    union select claim_id, encounter_id from batch.claim
), charge_visit as (
    select charge_id, encounter_id from cleaned.charge
    union select charge_id, encounter_id from batch.charge
), patients as (
    select patient_key from batch.patient
), claims as (
    select claim_id from batch.claim
    union select claim_id from batch.payment where claim_id is not null
    union select claim_id from batch.adjustment where claim_id is not null
), visits as (
    select encounter_id from batch.encounter
    union select encounter_id from batch.charge
    union select encounter_id from batch.claim
    union select encounter_id from batch.payment
    union select v.encounter_id from batch.payment as p join claim_visit as v on v.claim_id = p.claim_id
    union select v.encounter_id from batch.adjustment as a join claim_visit as v on v.claim_id = a.claim_id
    union select v.encounter_id from batch.adjustment as a join charge_visit as v on v.charge_id = a.charge_id
    union select v.encounter_id from claims as c join claim_visit as v on v.claim_id = c.claim_id
    union select encounter_id from cleaned.encounter where patient_key in (select patient_key from patients)
    union select encounter_id from cleaned.charge where patient_key in (select patient_key from patients)
    union select encounter_id from cleaned.claim where patient_key in (select patient_key from patients)
), visit_claims as (
    select claim_id from claims
    union select claim_id from cleaned.claim where encounter_id in (select encounter_id from visits)
), appointments as (
    select appointment_id from batch.appointment
    union select appointment_id from batch.encounter where appointment_id is not null
), days as (
    select cast(start_at as date) - 1 as day from cleaned.appointment
    where appointment_id in (select appointment_id from appointments)
    union all select cast(checked_in_at as date) - 1 from cleaned.appointment
    where appointment_id in (select appointment_id from appointments)
    union all select cast(start_at as date) - 1 from batch.appointment
    union all select cast(checked_in_at as date) - 1 from batch.appointment
    union all select schedule_date from batch.provider_schedule
    union all select encounter_date from batch.encounter
    union all select encounter_date from cleaned.encounter where encounter_id in (select encounter_id from visits)
    union all select service_date from batch.charge
    union all select posted_date from batch.charge
    union all select service_date from cleaned.charge where encounter_id in (select encounter_id from visits)
    union all select posted_date from cleaned.charge where encounter_id in (select encounter_id from visits)
    union all select cast(submitted_at as date) - 1 from batch.claim
    union all select cast(first_adjudicated_at as date) - 1 from batch.claim
    union all select cast(c.submitted_at as date) - 1 from cleaned.claim as c, visit_claims as v
    where c.claim_id = v.claim_id
    union all select cast(c.first_adjudicated_at as date) - 1 from cleaned.claim as c, visit_claims as v
    where c.claim_id = v.claim_id
    union all select cast(paid_at as date) - 1 from batch.payment
    union all select cast(p.paid_at as date) - 1 from cleaned.payment as p
    left join claim_visit as v on v.claim_id = p.claim_id
    where p.encounter_id in (select encounter_id from visits) or v.encounter_id in (select encounter_id from visits)
        or p.claim_id in (select claim_id from claims)
    union all select adjusted_on from batch.adjustment
    union all select a.adjusted_on from cleaned.adjustment as a
    left join claim_visit as c on c.claim_id = a.claim_id
    left join charge_visit as h on h.charge_id = a.charge_id
    where c.encounter_id in (select encounter_id from visits) or h.encounter_id in (select encounter_id from visits)
        or a.claim_id in (select claim_id from claims)
), earliest as (
    select min(day) as day, count(day) as dated from days
), ledger_days as (
    -- A/R is measured to the end of the last ledger month: rows made where the batch's entries
    -- carry the ledger on past it start after the last entry before the batch.
    select posted_date as day from cleaned.charge
    union all select adjusted_on from cleaned.adjustment
    union all select cast(paid_at as date) - 1 from cleaned.payment
)
select least(e.day, (select max(l.day) from ledger_days as l where l.day < e.day)) as day, e.dated
from earliest as e
"""


def new_runs(catalog: Catalog, practice_id: str, recorded: str) -> frozenset[str] | None:
    """The runs that loaded the practice's files after the recorded cleaned version ("count:last
    run", curate.state), or None when the loads up to that run are not the ones it counted."""
    count, _, last = recorded.partition(":")
    try:
        loads = catalog.load_table("ops.file_loads").scan(
            row_filter=practice_partition(practice_id), selected_fields=("run_id",)
        )
    except NoSuchTableError:
        return None
    runs = loads.to_arrow()["run_id"]
    earlier = pc.less_equal(runs, pa.scalar(last))
    if not count.isdigit() or pc.sum(earlier).as_py() != int(count):
        return None
    return frozenset(pc.unique(runs.filter(pc.invert(earlier))).to_pylist())


def _count(table: Table, partition: BooleanExpression, snapshot_id: int | None = None) -> int | None:
    """The rows of a practice's partition, from its data files' counts (None: some of them are
    deleted by delete files, which the counts do not show)."""
    tasks = list(table.scan(row_filter=partition, snapshot_id=snapshot_id).plan_files())
    if any(task.delete_files for task in tasks):
        return None
    return sum(task.file.record_count for task in tasks)


def _run_of(snapshot: Snapshot) -> str | None:
    run = snapshot.summary.additional_properties.get(RUN) if snapshot.summary is not None else None
    return str(run) if run is not None else None


def _before(table: Table, runs: frozenset[str]) -> tuple[bool, int | None] | None:
    """(whether any of `runs` changed the table, the snapshot before the first that did); None
    when the table's history no longer shows it."""
    snapshots = sorted(table.metadata.snapshots, key=lambda s: s.sequence_number or 0)
    first = next((s for s in snapshots if _run_of(s) in runs), None)
    if first is None:
        return False, None
    if first.parent_snapshot_id is None:
        return (True, None) if first is snapshots[0] else None
    parent = table.metadata.snapshot_by_id(first.parent_snapshot_id)
    if parent is None or _run_of(parent) in runs:
        return None
    return True, parent.snapshot_id


def batch(catalog: Catalog, entity: str, practice_id: str, runs: frozenset[str]) -> pa.Table | None:
    """The practice's rows of `entity` loaded by `runs` and the versions they replaced, without
    lineage columns; None when they cannot all be found."""
    table = catalog.load_table(entity)
    before = _before(table, runs)
    if before is None:
        return None
    changed, old_snapshot = before
    names = [f.name for f in table.schema().fields if f.name not in ("raw_file_sha256", "raw_line", "recorded_at")]
    partition = practice_partition(practice_id)
    rows = table.scan(row_filter=And(partition, In(Reference("run_id"), runs))).to_arrow()  # type: ignore[call-arg,arg-type]
    if not changed:
        return rows.select(names).drop_columns(["run_id"]) if rows.num_rows == 0 else None
    key = BY_ENTITY[entity.removeprefix("cleaned.")].cleaned_key
    replaced, old_count = rows.slice(0, 0), 0
    if old_snapshot is not None:
        keys = pc.unique(rows[key]).to_pylist()
        if keys:
            where = And(partition, In(Reference(key), keys))  # type: ignore[call-arg]
            replaced = table.scan(row_filter=where, snapshot_id=old_snapshot).to_arrow()
        counted = _count(table, partition, old_snapshot)
        if counted is None:
            return None
        old_count = counted
    if _count(table, partition) != old_count - replaced.num_rows + rows.num_rows:
        return None  # a row went without a newer version, or the new ones are not all there
    columns = [n for n in names if n != "run_id"]
    return pa.concat_tables([rows.select(columns), replaced.select(columns)], promote_options="permissive")


def earliest_day(cleaned: Mapping[str, pa.Table], changed: Mapping[str, pa.Table]) -> date | None:
    """The earliest day the changed rows can change (None: no dated row, or a row of a table
    whose rows are named on every date)."""
    if any(changed[name].num_rows for name in changed if name not in TRACED):
        return None
    with duckdb.connect() as con:
        expose(con, {name: cleaned[name] for name in TRACED})
        con.execute(exp.Create(this=exp.to_identifier("batch", quoted=True), kind="SCHEMA").sql("duckdb"))
        for name in TRACED:
            entity = name.removeprefix("cleaned.")
            con.register("__batch_" + entity, changed.get(name, cleaned[name].slice(0, 0)))
            select = exp.select("*").from_(exp.to_identifier("__batch_" + entity, quoted=True))
            view = exp.table_(entity, db="batch", quoted=True)
            con.execute(exp.Create(this=view, kind="VIEW", expression=select).sql("duckdb"))
        row = con.execute(EARLIEST).fetchone()
    assert row is not None
    day, dated = row
    return day if dated else None


def window_start(window: Window, day: date) -> date:
    """The first day of the model's rows that a change on `day` can reach."""
    return period_start(window.period, day - timedelta(days=window.lookback_days))


def period_start(period: Period, day: date) -> date:
    if period == "day":
        return day
    if period == "week":  # ISO weeks, from Monday
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def plan(catalog: Catalog, models: tuple[Model, ...], practice_id: str, recorded: str) -> Windows | None:
    """The windows that rebuild what the practice's cleaned rows gained since the recorded
    version (its cleaned rows read once, for this and for the build); None: rebuild it whole."""
    runs = new_runs(catalog, practice_id, recorded)
    if not runs:
        return None
    changed = {}
    for entity in sorted({t for m in models for t in m.reads if t.startswith("cleaned.")}):
        rows = batch(catalog, entity, practice_id, runs)
        if rows is None:
            return None
        changed[entity] = rows
    cleaned = cleaned_inputs(catalog, models, [practice_id])
    day = earliest_day(cleaned, changed)
    if day is None:
        return None
    starts = {m.name: window_start(m.contract.window, day) for m in models if m.contract.window is not None}
    return Windows(practice_id, cleaned, starts)
