"""The per-practice models of a group run on Spark: `curate --engine spark`, for a deployment
whose cleaned zone outgrows one machine (EMR, a Glue job), over the same Iceberg tables.

Each model's SQL is transpiled by sqlglot from DuckDB's dialect to Spark's (curate.dialects,
which also rewrites what sqlglot would translate wrongly), its tables renamed to the group's
temporary views (curate.spark_inputs), and run in the models' dependency order. A model's rows
are checkpointed (computed once, kept by Spark, the plan cut there) before anything reads them:
later models, the contract checks and the collection then start from those rows, not from the
whole chain of views above them. Every group runs in its own session of the one SparkContext,
so its views are its own, and its checkpoints are released when it ends.

Each model's output is checked against its contract on Spark, where the rows are: its columns,
then its tests (unique grain, not null, bounds) with the very messages of curate.engine.check,
one aggregation per model. A materialised model's rows are then brought back as Arrow and cast
to the contract's types, exactly as the DuckDB engine returns them, so the runner writes them
with pyiceberg as it always does: the same commits, the same snapshot pins, the same journal
and crash safety. On a cluster at scale the write would go through Spark's Iceberg writer
instead (docs/spark.md says what changes); collecting through the driver is what keeps one
writer, one commit protocol and one set of pins for both engines.

The cross-practice models stay on DuckDB: they read the curated tables this run writes, one row
per practice and cell, and their disclosure control (curate.disclosure) runs in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pyarrow as pa

from practicelake.curate.dialects import transpile
from practicelake.curate.project import Model, ModelError
from practicelake.curate.spark_inputs import inputs, view_name, view_table
from practicelake.curate.spark_session import SQL_SETTINGS

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyspark.sql import Column, DataFrame, SparkSession

ARROW = {"spark.sql.execution.arrow.pyspark.enabled": "true"}


def spark_sql(model: Model) -> str:
    """The model in Spark SQL, reading the group's views."""
    return transpile(model, "spark", table_names=view_table)


def run_models(
    spark: SparkSession,
    catalog: Catalog,
    models: tuple[Model, ...],
    practices: list[str],
    references: Mapping[str, pa.Table],
) -> dict[str, pa.Table]:
    """Every per-practice model over the group's rows, each checked against its contract; the
    rows of each materialised model, in its contract's types (as curate.engine.run_models)."""
    session = spark.newSession()
    for key, value in (SQL_SETTINGS | ARROW).items():
        session.conf.set(key, value)
    kept: list[DataFrame] = []
    try:
        views = inputs(session, catalog, models, practices, references)
        for name, frame in views.items():
            frame.createOrReplaceTempView(name)
        results: dict[str, pa.Table] = {}
        for model in models:
            if model.contract.cross_practice:
                continue
            inputs_read = [t for t in model.reads if t.startswith(("cleaned.", "reference."))]
            missing = sorted(t for t in inputs_read if view_name(*t.split(".", 1)) not in views)
            if missing:
                raise ModelError(f"model {model.name}: no input for {', '.join(missing)}")
            rows = _run(session, model)
            kept.append(rows)
            rows.createOrReplaceTempView(view_name("curated", model.name))
            check(rows, model)
            if model.contract.materialized == "table":
                results[model.name] = collect(rows, model)
        return results
    finally:
        for frame in kept:
            frame.unpersist()


def _run(session: SparkSession, model: Model) -> DataFrame:
    from pyspark.errors import PySparkException
    from pyspark.storagelevel import StorageLevel

    try:
        rows = session.sql(spark_sql(model)).persist(StorageLevel.MEMORY_AND_DISK)
        rows.count()  # computed here, so that an error is this model's
    except PySparkException as exc:
        raise ModelError(f"model {model.name}: {_first_line(exc)}") from None
    return rows


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check(rows: DataFrame, model: Model) -> None:
    """The model's output has its contract's columns and passes its tests (curate.engine.check)."""
    from pyspark.sql import functions as f

    declared = list(model.contract.columns)
    if rows.columns != declared:
        raise ModelError(
            f"model {model.name}: its SQL returns columns {rows.columns}, its contract declares {declared}"
        )
    tests = model.contract.tests
    counted: list[tuple[str, Column]] = []
    for name in tests.not_null:
        counted.append((f"rows have no {name}", f.col(name).isNull()))
    for name, (low, high) in tests.between.items():
        counted.append((f"rows have {name} outside [{low:g}, {high:g}]", (f.col(name) < low) | (f.col(name) > high)))
    failures: list[str] = []
    if tests.unique:
        repeated = rows.groupBy(*tests.unique).agg(f.count(f.lit(1)).alias("rows")).where(f.col("rows") > 1)
        if n := repeated.count():
            failures.append(f"{n} values of ({', '.join(tests.unique)}) occur more than once")
    if counted:
        totals = rows.agg(*[f.sum(f.when(test, 1).otherwise(0)) for _, test in counted]).first()
        assert totals is not None
        failures += [f"{n} {what}" for (what, _), n in zip(counted, totals, strict=True) if n]
    if failures:
        raise ModelError(f"model {model.name} fails its tests: " + "; ".join(failures))


def collect(rows: DataFrame, model: Model) -> pa.Table:
    """The rows as Arrow, in the contract's types."""
    schema = model.contract.arrow_schema()
    # pyspark 4 names it toArrow; 3.5 has only the method toPandas itself uses.
    to_arrow = getattr(rows, "toArrow", None)
    if to_arrow is not None:
        table: pa.Table = to_arrow()
    else:
        batches = rows._collect_as_arrow()
        table = pa.Table.from_batches(batches) if batches else schema.empty_table()
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ModelError(f"model {model.name}: output does not fit its contract's types: {exc}") from None
