"""Running the models for a group of practices, so that one practice's rows never block the
others: a group that fails is run again one practice at a time, and a practice that fails on
its own is set aside with a one-line reason (the model and the error, never a value).

The engine is DuckDB (curate.engine, over the cleaned rows read into Arrow) or Spark
(curate.spark, which reads the cleaned Iceberg tables itself); either returns the same Arrow
tables in the contracts' types, so what is written, and how, does not depend on it. Spark is
imported only when it is asked for. An engine that cannot start (SparkUnavailable) is the
run's problem, not a practice's: it is raised as it is, never set aside as a failed group."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

import duckdb
import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import In, Reference

from practicelake.curate.engine import run_models
from practicelake.curate.project import Model, ModelError
from practicelake.curate.windows import Windows
from practicelake.lakehouse.schemas import LINEAGE

MEMORY_LIMIT = "2GB"
ENGINES = ("duckdb", "spark")
# An error can quote the value it choked on: a zone name, an amount, a date.
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
NUMBER = re.compile(r"\b\d[\d.,:-]*")


def reason(exc: Exception) -> str:
    """One line naming the model and the error, with anything quoted or numeric taken out."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    if not isinstance(exc, ModelError):
        line = f"{type(exc).__name__}: {line}"
    return NUMBER.sub("?", QUOTED.sub("?", line))[:300]


def check_engine(engine: str) -> None:
    """Refuse an engine that does not exist or cannot start here, before anything is read."""
    if engine not in ENGINES:
        raise ModelError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    if engine == "spark":
        from practicelake.curate import spark_session

        spark_session.available()


def cleaned_inputs(catalog: Catalog, models: tuple[Model, ...], practices: list[str]) -> dict[str, pa.Table]:
    lineage = {f.name for f in LINEAGE}
    entities = sorted({t.removeprefix("cleaned.") for m in models for t in m.reads if t.startswith("cleaned.")})
    chosen = In(Reference("practice_id"), practices)  # type: ignore[call-arg,arg-type]
    inputs = {}
    for entity in entities:
        table = catalog.load_table("cleaned." + entity)
        columns = tuple(name for name in table.schema().column_names if name not in lineage)
        inputs["cleaned." + entity] = table.scan(row_filter=chosen, selected_fields=columns).to_arrow()
    return inputs


def build(
    catalog: Catalog,
    models: tuple[Model, ...],
    practices: list[str],
    references: Mapping[str, pa.Table],
    engine: str = "duckdb",
    windows: Windows | None = None,
) -> dict[str, pa.Table]:
    """The curated rows of `practices`, by table: all of them, or with `windows` (one practice,
    its cleaned rows read) only each windowed model's rows from its window's start. Reading the
    cleaned zone may fail like any read; what the models make of the rows fails as the caller
    sees fit (see `build_each`)."""
    check_engine(engine)
    if engine == "spark":
        rows = _on_spark(catalog, models, practices, references)
        return windows.rows_in(models, rows) if windows is not None else rows
    cleaned = windows.cleaned if windows is not None else cleaned_inputs(catalog, models, practices)
    inputs = cleaned | {"reference." + n: t for n, t in references.items()}
    try:
        if windows is None:
            return _run(models, inputs)
        return windows.rows_in(models, _run_windowed(models, inputs, windows))
    except Exception as exc:  # whatever the models choke on is this group's, not the run's
        raise GroupFailed(exc) from exc


def _run(models: Sequence[Model], inputs: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    with duckdb.connect(config={"memory_limit": MEMORY_LIMIT}) as con:
        return run_models(con, models, inputs)


def _run_windowed(models: tuple[Model, ...], inputs: Mapping[str, pa.Table], windows: Windows) -> dict[str, pa.Table]:
    """The models whose windows need only recent cleaned rows run over those (curate.windows),
    the others, with what they read, over every row."""
    recent = windows.recent(models)
    by_name = {m.name: m for m in models}
    everything: set[str] = set()
    for model in reversed(models):  # readers before what they read
        if model.name not in recent or model.name in everything:
            everything |= {model.name, *model.depends_on}
    everything = {name for name in everything if name in by_name}
    results = _run([m for m in models if m.name in recent], windows.recent_inputs(models, inputs))
    full = _run([m for m in models if m.name in everything], inputs)
    return {name: rows for name, rows in results.items() if name not in everything} | full


def _on_spark(
    catalog: Catalog, models: tuple[Model, ...], practices: list[str], references: Mapping[str, pa.Table]
) -> dict[str, pa.Table]:
    from practicelake.curate import spark, spark_session

    started = spark_session.session()  # SparkUnavailable is the run's, raised as it is
    try:
        return spark.run_models(started, catalog, models, practices, references)
    except spark_session.SparkUnavailable:
        raise
    except Exception as exc:
        raise GroupFailed(exc) from exc


class GroupFailed(Exception):
    """The models failed over a group's rows: `cause` is why."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


def build_each(
    catalog: Catalog,
    models: tuple[Model, ...],
    group: list[str],
    references: Mapping[str, pa.Table],
    failed: dict[str, str],
    engine: str = "duckdb",
    windows: Windows | None = None,
) -> Iterator[tuple[list[str], dict[str, pa.Table]]]:
    """(practices, their curated rows) for the group at once, or, if that fails, for each of
    its practices alone; each practice that fails alone is put in `failed` with its reason.
    With `windows`, the group is its one practice."""
    try:
        rows = build(catalog, models, group, references, engine, windows)
    except GroupFailed as exc:
        if len(group) == 1:
            failed[group[0]] = reason(exc.cause)
            return
    else:
        yield group, rows
        return
    for practice_id in group:
        try:
            rows = build(catalog, models, [practice_id], references, engine)
        except GroupFailed as exc:
            failed[practice_id] = reason(exc.cause)
            continue
        yield [practice_id], rows
