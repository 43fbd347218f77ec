"""The per-practice models on Spark local[2] beside DuckDB, over the same cleaned Iceberg tables,
in the same run: a ratio for the operator's guide (when Spark pays for itself, and when not).

Each engine builds every practice's curated rows in groups, as `practicelake curate` does
(curate.build, curate.state.groups), without writing them: what is timed is the models.
Spark's session start is timed apart; its JVM is started once per worker, not per run.

Usage: python bench/spark.py WORKDIR (after bench/phases.py has transformed a lakehouse there),
e.g. `python bench/run.py --appointments 1000000 --keep` then this on the kept folder.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from phases import settings_for  # bench/phases.py
from practicelake.curate.build import build
from practicelake.curate.project import load_models
from practicelake.curate.runner import load_references, practice_settings
from practicelake.curate.spark_session import local_session
from practicelake.curate.state import groups
from practicelake.pipeline import Lakehouse


def main(work: Path) -> None:
    settings = settings_for(work)
    catalog = Lakehouse.open(settings).catalog
    models = tuple(m for m in load_models() if not m.contract.cross_practice)
    references = load_references(settings.value_units_file) | {"practice_settings": practice_settings(settings)}
    appointments = catalog.load_table("cleaned.appointment").scan(selected_fields=("practice_id",)).to_arrow()
    counts = appointments.group_by("practice_id").aggregate([("practice_id", "count")]).to_pylist()
    rows = {r["practice_id"]: r["practice_id_count"] for r in counts}
    chosen = list(groups(sorted(rows), rows))  # grouped by appointments, a lower bound of their rows
    start = time.perf_counter()
    local_session("local[2]").conf.set("spark.sql.shuffle.partitions", "2")
    started = time.perf_counter() - start
    seconds: dict[str, float] = {}
    written: dict[str, int] = {}
    for engine in ("duckdb", "spark"):
        start = time.perf_counter()
        built = [build(catalog, models, group, references, engine) for group in chosen]
        seconds[engine] = time.perf_counter() - start
        written[engine] = sum(t.num_rows for tables in built for t in tables.values())
    made = len(appointments)
    print(f"\n== the per-practice models, {made:,} appointments, {len(rows)} practices, {len(chosen)} groups ==")
    print(f"{'engine':<14}{'seconds':>10}{'rows out':>12}   note")
    print(f"{'duckdb':<14}{seconds['duckdb']:>10.2f}{written['duckdb']:>12,}   in process, 2 GB memory limit")
    ratio = seconds["spark"] / seconds["duckdb"]
    note = f"{ratio:.2f} x DuckDB; session start {started:.1f} s apart"
    print(f"{'spark local[2]':<14}{seconds['spark']:>10.2f}{written['spark']:>12,}   {note}")
    if written["spark"] != written["duckdb"]:
        raise SystemExit("the engines wrote different row counts: see tests/curate/spark")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python bench/spark.py WORKDIR")
    main(Path(sys.argv[1]))
