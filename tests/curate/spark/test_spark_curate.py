"""`practicelake curate --engine spark`: the same models on pyspark local[2], over the same Iceberg
tables, write the same curated tables as DuckDB, cell by cell.

One lake is curated on Spark through the command line, its curated tables read back, then every
practice is made stale (the curate state dropped) and the same lake curated on DuckDB. Every
curated table must hold the same rows: strings, integers, decimals, dates and timestamps equal;
doubles equal within a relative 1e-9 (the engines may sum in another order, nothing more).
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from clean.generated import batches, small_export
from lakes import config_file, local_settings
from practicelake.cli.main import Engine, app
from practicelake.curate.build import ENGINES
from practicelake.curate.project import load_models
from practicelake.curate.spark_session import local_session
from practicelake.curate.state import STATE
from practicelake.pipeline import Lakehouse

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group("spark")]

MODELS = [m for m in load_models() if m.contract.materialized == "table"]
PER_PRACTICE = [m for m in MODELS if not m.contract.cross_practice]
RELATIVE = 1e-9  # the stated tolerance for doubles


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, pa.Table], dict[str, pa.Table]]]:
    root = tmp_path_factory.mktemp("spark")
    truth = small_export(root / "exports", practices=2, appointments=900, seed=41)
    settings = local_settings(root)
    lakehouse = Lakehouse.open(settings)
    for practice in truth.practice_ids:
        lakehouse.ingest(practice, batches(root / "exports", practice))
    lakehouse.transform()
    spark = local_session("local[2]")  # the session the curate then finds running
    spark.conf.set("spark.sql.shuffle.partitions", "2")
    config = config_file(root / "practicelake.toml", settings)
    result = CliRunner().invoke(app, ["curate", "--engine", "spark", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    on_spark = tables(lakehouse)
    lakehouse.catalog.drop_table(STATE)  # every practice stale: the same lake, curated again
    report = lakehouse.curate(engine="duckdb")
    assert report.practices == sorted(truth.practice_ids) and not report.failed
    yield on_spark, tables(lakehouse)
    spark.stop()


def tables(lakehouse: Lakehouse) -> dict[str, pa.Table]:
    return {m.name: lakehouse.catalog.load_table(f"curated.{m.name}").scan().to_arrow() for m in MODELS}


def rows(table: pa.Table) -> list[dict[str, Any]]:
    exact = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
    return sorted(table.to_pylist(), key=lambda row: [(row[c] is None, str(row[c])) for c in exact])


def same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return (math.isnan(left) and math.isnan(right)) or math.isclose(left, right, rel_tol=RELATIVE, abs_tol=1e-12)
    return bool(left == right) and type(left) is type(right)


def test_the_command_line_offers_the_engines_the_curate_runs() -> None:
    assert tuple(Engine) == ENGINES


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_spark_writes_every_curated_table_as_duckdb_does(
    both: tuple[dict[str, pa.Table], dict[str, pa.Table]], model: Any
) -> None:
    on_spark, on_duckdb = (side[model.name] for side in both)
    assert on_spark.schema == on_duckdb.schema
    assert on_spark.num_rows == on_duckdb.num_rows
    if model in PER_PRACTICE:
        assert on_duckdb.num_rows > 0, f"{model.name}: no rows to compare"
    for index, (left, right) in enumerate(zip(rows(on_spark), rows(on_duckdb), strict=True)):
        differ = [c for c in left if not same(left[c], right[c])]
        assert not differ, f"{model.name} row {index}: {[(c, left[c], right[c]) for c in differ]}"


def test_comparison_catches_a_changed_cell() -> None:
    assert not same(1.0, 1.0 + 1e-6) and same(1.0, 1.0 + 1e-12)
    assert not same(1, 1.0) and not same("a", "b") and same(None, None)


def test_spark_that_cannot_start_is_one_line_and_no_traceback(tmp_path: Path) -> None:
    config = config_file(tmp_path / "practicelake.toml", local_settings(tmp_path))
    command = [
        str(Path(sys.executable).parent / "practicelake"),
        "curate",
        "--engine",
        "spark",
        "--config",
        str(config),
    ]
    env = {"PATH": str(tmp_path / "no-java-here"), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "Java" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_an_unknown_engine_is_refused_by_name(tmp_path: Path) -> None:
    config = config_file(tmp_path / "practicelake.toml", local_settings(tmp_path))
    result = CliRunner().invoke(app, ["curate", "--engine", "presto", "--config", str(config)])
    assert result.exit_code == 2 and "presto" in result.output
