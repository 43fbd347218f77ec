"""The cross-practice stage of a curate: after the per-practice builds, each cross-practice model
is computed from every practice's curated rows, read at the snapshots the same curate then
records for readers (curate.snapshots), and published under disclosure control
(curate.disclosure).

Each practice's contributions (the model's SQL: one row per practice and cell) are computed
over groups of practices, as the per-practice builds are, so memory follows the group; the
published cells need every practice's contributions at once, and they are small. A group the
SQL fails on is read again one practice at a time; a practice that fails alone is left out of
this run's cross-practice tables, with its reason, and the next curate tries again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import duckdb
import pyarrow as pa
from pyiceberg.expressions import In, Reference
from pyiceberg.table import Table

from practicelake.curate.build import MEMORY_LIMIT, reason
from practicelake.curate.engine import contributions, published
from practicelake.curate.project import Model
from practicelake.curate.state import groups
from practicelake.lakehouse.catalog import current_snapshot_id


def cross_practice_models(models: tuple[Model, ...]) -> tuple[Model, ...]:
    return tuple(m for m in models if m.contract.cross_practice)


def sources(models: tuple[Model, ...]) -> list[str]:
    """The curated tables the cross-practice models read, by plain name."""
    read = {t.removeprefix("curated.") for m in cross_practice_models(models) for t in m.reads}
    return sorted(read)


def snapshots(tables: Mapping[str, Table], models: tuple[Model, ...]) -> dict[str, int | None]:
    """The current snapshot of each table the cross-practice models read."""
    return {name: current_snapshot_id(tables[name]) for name in sources(models)}


def practices_in(tables: Mapping[str, Table], names: list[str]) -> list[str]:
    """The practices with rows in any of the tables, from their partitions (no data is read)."""
    found: set[str] = set()
    for name in names:
        snapshot = current_snapshot_id(tables[name])
        if snapshot is not None:
            found |= {str(task.file.partition[0]) for task in tables[name].scan(snapshot_id=snapshot).plan_files()}
    return sorted(found)


def _rows(table: Table, practices: list[str]) -> pa.Table:
    snapshot = current_snapshot_id(table)
    if snapshot is None:
        return table.schema().as_arrow().empty_table()
    chosen = In(Reference("practice_id"), practices)  # type: ignore[call-arg,arg-type]
    return table.scan(row_filter=chosen, snapshot_id=snapshot).to_arrow()


def _contributions(tables: Mapping[str, Table], models: tuple[Model, ...], practices: list[str]) -> list[pa.Table]:
    inputs = {"curated." + name: _rows(tables[name], practices) for name in sources(models)}
    with duckdb.connect(config={"memory_limit": MEMORY_LIMIT}) as con:
        return [contributions(con, model, inputs) for model in models]


def _each(
    tables: Mapping[str, Table], models: tuple[Model, ...], group: list[str], left_out: dict[str, str]
) -> Iterator[list[pa.Table]]:
    """The group's contributions at once or, if its rows fail, each practice's alone."""
    try:
        yield _contributions(tables, models, group)
        return
    except Exception as exc:  # what the SQL chokes on is these practices', not the run's
        if len(group) == 1:
            left_out[group[0]] = reason(exc)
            return
    for practice_id in group:
        try:
            yield _contributions(tables, models, [practice_id])
        except Exception as exc:
            left_out[practice_id] = reason(exc)


def build(
    tables: Mapping[str, Table],
    models: tuple[Model, ...],
    secret: bytes,
    sizes: Mapping[str, int],
    left_out: dict[str, str],
) -> dict[str, pa.Table]:
    """The published rows of every cross-practice model, from every practice's curated rows;
    a practice whose rows the SQL fails on is put in `left_out` with its reason."""
    cross = cross_practice_models(models)
    found: list[list[pa.Table]] = [[] for _ in cross]
    for group in groups(practices_in(tables, sources(models)), sizes):
        for parts in _each(tables, cross, group, left_out):
            for model_parts, part in zip(found, parts, strict=True):
                model_parts.append(part)
    results = {}
    with duckdb.connect(config={"memory_limit": MEMORY_LIMIT}) as con:
        for model, parts in zip(cross, found, strict=True):
            every = pa.concat_tables(parts) if parts else model.contract.contributions_schema().empty_table()
            results[model.name] = published(con, model, every, secret)
    return results
