"""Run the models in DuckDB over in-memory inputs: the cleaned rows of some practices and the
reference tables; and a cross-practice model over every practice's curated rows. Pure: no
catalog, no files; the runner and the model tests both use it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import pyarrow as pa
from sqlglot import exp

from practicelake.clean.sql import literal
from practicelake.curate.contract import Tests
from practicelake.curate.disclosure import publish
from practicelake.curate.project import Model, ModelError

ZONES = ("cleaned", "reference", "curated")


def _table(qualified: str) -> exp.Table:
    zone, _, name = qualified.partition(".")
    return exp.table_(name, db=zone, quoted=True)


def _run(con: duckdb.DuckDBPyConnection, statement: exp.Expression) -> None:
    con.execute(statement.sql("duckdb"))


def expose(con: duckdb.DuckDBPyConnection, inputs: Mapping[str, pa.Table]) -> None:
    """Make each input readable under its zone-qualified name (cleaned.appointment, ...)."""
    for zone in ZONES:
        _run(con, exp.Create(this=exp.to_identifier(zone, quoted=True), kind="SCHEMA", exists=True))
    for qualified, rows in inputs.items():
        alias = "__input_" + qualified.replace(".", "_")
        con.register(alias, rows)
        select = exp.select("*").from_(exp.to_identifier(alias, quoted=True))
        _run(con, exp.Create(this=_table(qualified), kind="VIEW", expression=select, replace=True))


def check(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    """The model's output has its contract's columns and passes its tests, all counted in one
    scan of its rows (and one more for a unique grain)."""
    table = _table("curated." + model.name)
    described = con.execute(exp.Describe(this=exp.select("*").from_(table)).sql("duckdb")).fetchall()
    columns = [str(row[0]) for row in described]
    declared = list(model.contract.columns)
    if columns != declared:
        raise ModelError(f"model {model.name}: its SQL returns columns {columns}, its contract declares {declared}")
    failures = [f"{n} {what}" for what, n in _tested(con, table, model.contract.tests) if n]
    if failures:
        raise ModelError(f"model {model.name} fails its tests: " + "; ".join(failures))


def _tested(con: duckdb.DuckDBPyConnection, table: exp.Table, tests: Tests) -> list[tuple[str, int]]:
    """(what a failing row is, how many there are) for each of the tests, in their order."""
    counted: list[tuple[str, exp.Expr]] = []
    if tests.unique:
        keys = [exp.column(c, quoted=True) for c in tests.unique]
        repeated = exp.select(*keys).from_(table).group_by(*keys).having("count(*) > 1")
        count = exp.select(exp.Count(this=exp.Star())).from_(repeated.subquery("repeated"))
        counted.append((f"values of ({', '.join(tests.unique)}) occur more than once", count.subquery()))
    tested: list[tuple[str, exp.Expr]] = []
    for name in tests.not_null:
        tested.append((f"rows have no {name}", exp.column(name, quoted=True).is_(exp.null())))
    for name, (low, high) in tests.between.items():
        column = exp.column(name, quoted=True)
        outside = exp.or_(column < literal(low), column > literal(high))
        tested.append((f"rows have {name} outside [{low:g}, {high:g}]", outside))
    counted += [
        (what, exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=test))) for what, test in tested
    ]
    if not counted:
        return []
    query = exp.select(*(exp.alias_(e, f"t{i}") for i, (_, e) in enumerate(counted)))
    if tested:
        query = query.from_(table)
    row = con.execute(query.sql("duckdb")).fetchone()
    assert row is not None
    return [(what, int(n or 0)) for (what, _), n in zip(counted, row, strict=True)]


def _missing(model: Model, inputs: Mapping[str, pa.Table], zones: tuple[str, ...]) -> None:
    missing = sorted(t for t in model.reads if t.startswith(zones) and t not in inputs)
    if missing:
        raise ModelError(f"model {model.name}: no input for {', '.join(missing)}")


def run_models(
    con: duckdb.DuckDBPyConnection, models: Sequence[Model], inputs: Mapping[str, pa.Table]
) -> dict[str, pa.Table]:
    """Every per-practice model in order, each checked against its contract; returns the rows
    of each materialised model, in its contract's types. `inputs` are keyed `cleaned.<entity>`
    and `reference.<name>`. Cross-practice models are left out: they run over every
    practice's curated rows (`contributions`, `published`)."""
    expose(con, inputs)
    results: dict[str, pa.Table] = {}
    for model in models:
        if model.contract.cross_practice:
            continue
        _missing(model, inputs, ("cleaned.", "reference."))
        # The model's SQL is the project's own file, run as written: a round trip through
        # sqlglot could change what it means.
        create = "create or replace table " + _table("curated." + model.name).sql("duckdb") + " as\n" + model.sql
        try:
            con.execute(create)
        except duckdb.Error as exc:
            raise ModelError(f"model {model.name}: {exc}") from None
        check(con, model)
        if model.contract.materialized == "table":
            rows = con.execute(exp.select("*").from_(_table("curated." + model.name)).sql("duckdb")).to_arrow_table()
            try:
                results[model.name] = rows.cast(model.contract.arrow_schema())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise ModelError(f"model {model.name}: output does not fit its contract's types: {exc}") from None
    return results


def contributions(con: duckdb.DuckDBPyConnection, model: Model, inputs: Mapping[str, pa.Table]) -> pa.Table:
    """A cross-practice model's SQL over some practices' curated rows (`inputs` keyed
    `curated.<table>`): one row per practice and cell, the practice's own figures."""
    _missing(model, inputs, ("curated.",))
    expose(con, {name: rows for name, rows in inputs.items() if name in model.reads})
    try:
        rows = con.execute(model.sql).to_arrow_table()
    except duckdb.Error as exc:
        raise ModelError(f"model {model.name}: {exc}") from None
    schema = model.contract.contributions_schema()
    if rows.column_names != schema.names:
        raise ModelError(
            f"model {model.name}: its SQL returns columns {rows.column_names}, its [disclosure] {schema.names}"
        )
    try:
        return rows.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ModelError(f"model {model.name}: contributions do not fit their declared types: {exc}") from None


def published(con: duckdb.DuckDBPyConnection, model: Model, rows: pa.Table, secret: bytes) -> pa.Table:
    """The model's published cells from every practice's contributions, checked against its contract."""
    table = publish(model.name, model.contract, rows, secret)
    expose(con, {"curated." + model.name: table})
    check(con, model)
    return table


def run_cross_practice(
    con: duckdb.DuckDBPyConnection, models: Sequence[Model], inputs: Mapping[str, pa.Table], secret: bytes
) -> dict[str, pa.Table]:
    """Every cross-practice model over `inputs`, every practice's curated rows at once."""
    return {
        model.name: published(con, model, contributions(con, model, inputs), secret)
        for model in models
        if model.contract.cross_practice
    }
