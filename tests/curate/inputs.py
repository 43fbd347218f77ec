"""Hand-written cleaned rows -> the models -> curated rows, in memory: for data unit tests.

`run(appointment=[{...}, ...], charge=[...])` fills every column a row leaves out with NULL
(and the lineage columns with placeholders), gives every entity not mentioned an empty
table, runs all the models in a real DuckDB and returns each curated table as a list of
dicts sorted by its grain.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from practicelake.contracts import BY_ENTITY
from practicelake.curate.engine import run_models
from practicelake.curate.project import load_models
from practicelake.curate.runner import PRACTICE_SETTINGS, load_references
from practicelake.lakehouse.schemas import cleaned_schema

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
