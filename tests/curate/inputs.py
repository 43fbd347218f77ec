"""Hand-written cleaned rows -> the models -> curated rows, in memory: for data unit tests.

`run(appointment=[{...}, ...], charge=[...])` fills every column a row leaves out with NULL
(and the lineage columns with placeholders), gives every entity not mentioned an empty
table, runs all the models in a real DuckDB and returns each curated table as a list of
dicts sorted by its grain.

`benchmarks(access_daily=[{...}], ...)` does the same for the cross-practice models, from
hand-written rows of the curated tables they read (every practice's), with a fixed test key.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from practicelake.contracts import BY_ENTITY
from practicelake.curate.engine import contributions, run_cross_practice, run_models
from practicelake.curate.project import load_models
from practicelake.curate.runner import PRACTICE_SETTINGS, load_references
from practicelake.lakehouse.schemas import cleaned_schema

TEST_SECRET = b"practicelake-test-cell-key-000000"  # a fixed key for the tests: not a deployment's
PRACTICE = {"practice_id": "P001", "name": "Test Practice", "time_zone": "UTC", "currency": "USD", "country": "US"}


def cleaned(entity: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = cleaned_schema(BY_ENTITY[entity])
    lineage = {"raw_file_sha256": "0" * 64, "raw_line": 2, "run_id": "test"}
    full = [{name: row.get(name, lineage.get(name)) for name in schema.names} for row in rows]
    unknown = {key for row in rows for key in row} - set(schema.names)
    if unknown:
        raise KeyError(f"{entity} has no column(s) {sorted(unknown)}")
    return pa.Table.from_pylist(full, schema=schema)


def run(**rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Cleaned rows by entity (practice defaults to one practice in UTC) -> curated rows by table."""
    rows.setdefault("practice", [PRACTICE])
    inputs = {"cleaned." + entity: cleaned(entity, rows.get(entity, [])) for entity in BY_ENTITY}
    references = load_references()
    inputs |= {"reference." + name: table for name, table in references.items()}
    # The settings' zone and currency of each practice: those of its practice row, unless given.
    configured = rows.pop("practice_settings", None) or [
        {"practice_id": p["practice_id"], "time_zone": p["time_zone"], "currency": p["currency"]}
        for p in rows["practice"]
    ]
    inputs["reference.practice_settings"] = pa.Table.from_pylist(configured, schema=PRACTICE_SETTINGS)
    with duckdb.connect() as con:
        results = run_models(con, load_models(), inputs)
    out = {}
    for model in load_models():
        if model.name in results:
            table = results[model.name]
            keys = [(c, "ascending") for c in model.contract.tests.unique or table.column_names[:1]]
            out[model.name] = table.sort_by(keys).to_pylist()
    return out


def curated(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows of a curated table in its contract's columns, NULL where a row leaves one out."""
    schema = {m.name: m for m in load_models()}[name].contract.arrow_schema()
    unknown = {key for row in rows for key in row} - set(schema.names)
    if unknown:
        raise KeyError(f"{name} has no column(s) {sorted(unknown)}")
    return pa.Table.from_pylist([{c: row.get(c) for c in schema.names} for row in rows], schema=schema)


def _curated_inputs(rows: dict[str, list[dict[str, Any]]]) -> dict[str, pa.Table]:
    read = {t for m in load_models() if m.contract.cross_practice for t in m.reads}
    return {
        table: curated(table.removeprefix("curated."), rows.get(table.removeprefix("curated."), [])) for table in read
    }


def benchmark_contributions(model: str, **rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A cross-practice model's SQL over curated rows: its contributions, by practice and cell."""
    (found,) = [m for m in load_models() if m.name == model]
    with duckdb.connect() as con:
        table = contributions(con, found, _curated_inputs(rows))
    assert found.contract.disclosure is not None
    ordered: list[dict[str, Any]] = table.sort_by(
        [(c, "ascending") for c in ["practice_id", *found.contract.disclosure.cell]]
    ).to_pylist()
    return ordered


def benchmarks(secret: bytes = TEST_SECRET, /, **rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Curated rows of every practice by table -> the cross-practice tables' rows, by table."""
    with duckdb.connect() as con:
        results = run_cross_practice(con, load_models(), _curated_inputs(rows), secret)
    out = {}
    for model in load_models():
        if model.name in results:
            out[model.name] = (
                results[model.name].sort_by([(c, "ascending") for c in model.contract.tests.unique]).to_pylist()
            )
    return out
