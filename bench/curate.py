"""The curate's floor: plain DuckDB running the same model SQL over the same cleaned rows,
exported to Parquet, in a process of its own in the same run as the curate it is set beside.

The export (every cleaned table the models read, without its lineage columns, and the
reference tables, as the curate gives them to its models) is made first and not timed. Then,
timed: one DuckDB connection with its default settings reads those files and runs every model
in the curate's order over every practice at once, each into a table, and writes each
materialised model's rows to Parquet (a cross-practice model's SQL is run as written: its
disclosure control is practicelake's own work, not the floor's). No contract checks, no
Iceberg, no journal: what the stack cannot do faster.

Usage: python bench/curate.py floor WORKDIR (after bench/phases.py has transformed a lakehouse
there). Prints one JSON line: {"seconds": ..., "rows": ...}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from phases import settings_for  # bench/phases.py
from practicelake.curate.project import load_models
from practicelake.curate.runner import load_references, practice_settings
from practicelake.lakehouse.schemas import LINEAGE
from practicelake.pipeline import Lakehouse

ROW_GROUP = 122_880  # DuckDB's own row group: its scans run in parallel by row group


def export(work: Path, out: Path) -> list[Path]:
    """The models' inputs as Parquet files named `<zone>.<table>.parquet`."""
    settings = settings_for(work)
    catalog = Lakehouse.open(settings).catalog
    lineage = {f.name for f in LINEAGE}
    models = load_models()
    entities = sorted({t.removeprefix("cleaned.") for m in models for t in m.reads if t.startswith("cleaned.")})
    tables: dict[str, pa.Table] = {}
    for entity in entities:
        table = catalog.load_table("cleaned." + entity)
        columns = tuple(name for name in table.schema().column_names if name not in lineage)
        tables["cleaned." + entity] = table.scan(selected_fields=columns).to_arrow()
    references = load_references(settings.value_units_file) | {"practice_settings": practice_settings(settings)}
    tables |= {"reference." + name: rows for name, rows in references.items()}
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name, rows in tables.items():
        path = out / f"{name}.parquet"
        pq.write_table(rows, path, row_group_size=ROW_GROUP)
        files.append(path)
    return files


def floor(work: Path) -> dict[str, float]:
    folder = work / "curate-floor"
    inputs = export(work, folder / "in")
    results = folder / "out"
    results.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    written = 0
    start = time.perf_counter()
    for zone in ("cleaned", "reference", "curated"):
        con.execute(exp.Create(this=exp.to_identifier(zone, quoted=True), kind="SCHEMA").sql("duckdb"))
    for path in inputs:
        zone, name = path.name.removesuffix(".parquet").split(".")
        files = exp.func("read_parquet", exp.Literal.string(str(path)))
        view = exp.Create(
            this=exp.table_(name, db=zone, quoted=True), kind="VIEW", expression=exp.select("*").from_(files)
        )
        con.execute(view.sql("duckdb"))
    for model in load_models():
        target = str(results / f"{model.name}.parquet")
        if model.contract.cross_practice:
            con.sql(model.sql).write_parquet(target)
            continue
        table = exp.table_(model.name, db="curated", quoted=True).sql("duckdb")
        con.execute(f"create table {table} as\n{model.sql}")  # the model's SQL as written, as the curate runs it
        if model.contract.materialized == "table":
            rows = con.table(f"curated.{model.name}")
            rows.write_parquet(target)
            written += len(rows)
    return {"seconds": time.perf_counter() - start, "rows": written}


def main() -> None:
    phase, work = sys.argv[1], Path(sys.argv[2])
    if phase != "floor":
        raise SystemExit(f"no phase {phase}")
    print(json.dumps(floor(work)))


if __name__ == "__main__":
    main()
