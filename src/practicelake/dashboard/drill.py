"""The rows beneath a figure: a curated relation's own rows for the practice, the period and
the filters a page was viewed with, at the relation's grain (never patient rows: the
curated zone has none). The query is a sqlglot tree built from the contract's relation and
column names; every value is bound."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlglot import exp

from practicelake.access.permissions import curated_tables
from practicelake.curate.project import Model
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.filters import Filters
from practicelake.dashboard.view import Column, Unit

FILTERED = {"provider": "provider_id", "location": "location_id", "payer": "payer_id"}
UNITS: dict[str, Unit] = {"string": "text", "date": "date", "long": "count", "int": "count"}


@dataclass(frozen=True)
class Rows:
    title: str
    """What the rows are, in a few words (the contract's description up to its colon)."""
    about: str
    """The contract's whole description."""
    columns: list[Column]
    rows: list[list[Any]]
    more: bool
    """Whether rows follow the page returned."""
    filters: Filters


def drillable(relation: str) -> bool:
    return relation in curated_tables()


def _parameter(name: str) -> exp.Parameter:
    return exp.Parameter(this=exp.var(name))


def _date_column(model: Model) -> str | None:
    dated = [name for name, column in model.contract.columns.items() if column.type == "date"]
    return dated[0] if dated else None


def _period_start(column: str) -> exp.Expression:
    """The period's first day at the column's grain: a month column holds months' first days."""
    start: exp.Expression = _parameter("start")
    if "month" in column:
        return cast(exp.Expression, exp.func("date_trunc", exp.Literal.string("month"), start))
    if "week" in column:
        return cast(exp.Expression, exp.func("date_trunc", exp.Literal.string("week"), start))
    return start


def rows_sql(model: Model, filters: Filters) -> tuple[str, dict[str, object]]:
    """The query of a page of `model`'s rows and the parameters it binds (besides the
    practice, the period and the paging, which the caller binds)."""
    contract = model.contract
    query = exp.select(exp.Star()).from_(exp.to_table(model.name))
    query = query.where(exp.column("practice_id").eq(_parameter("row_practice")))
    dated = _date_column(model)
    if dated is not None:
        column = exp.column(dated)
        query = query.where(column >= _period_start(dated)).where(column < _parameter("end_exclusive"))
    bound: dict[str, object] = {}
    for name, column_name in FILTERED.items():
        chosen = getattr(filters, name)
        if chosen is not None and column_name in contract.columns:
            query = query.where(exp.column(column_name).eq(_parameter(name)))
            bound[name] = chosen
    order = [dated] if dated else []
    order += [c for c in contract.tests.unique if c not in order] or list(contract.columns)[:3]
    query = query.order_by(*order).limit(_parameter("limit_plus_one")).offset(_parameter("offset"))
    return query.sql(dialect="duckdb"), bound


def rows(ctx: PageContext, relation: str, *, offset: int, limit: int) -> Rows:
    model = curated_tables()[relation]
    sql, bound = rows_sql(model, ctx.filters)
    row_practice = "*" if model.contract.cross_practice else ctx.practice_id
    table = ctx.read(
        sql,
        row_practice=row_practice,
        start=ctx.period.start,
        end_exclusive=ctx.period.end_exclusive,
        limit_plus_one=limit + 1,
        offset=offset,
        **bound,
    )
    columns = [
        Column(key=name, label=name.replace("_", " "), unit=_unit(model, name, name in model.contract.money_columns))
        for name in table.column_names
    ]
    found = [list(row.values()) for row in table.to_pylist()]
    about = model.contract.description
    title = about.split(":", 1)[0].strip().rstrip(".")
    return Rows(title, about, columns, [_plain(r) for r in found[:limit]], len(found) > limit, ctx.filters)


def _unit(model: Model, name: str, money: bool) -> Unit:
    if money:
        return "money"
    column = model.contract.columns.get(name)
    kind = column.type if column else "string"
    if kind == "double":
        return "rate" if name.endswith(("_rate", "_share", "_ratio", "utilisation")) else "ratio"
    return UNITS.get(kind, "text")


def _plain(values: list[Any]) -> list[Any]:
    """JSON- and CSV-ready cells: decimals as numbers, dates as ISO text."""
    plain: list[Any] = []
    for value in values:
        if hasattr(value, "isoformat"):
            plain.append(value.isoformat())
        elif value is not None and not isinstance(value, int | float | str | bool):
            plain.append(float(value))
        else:
            plain.append(value)
    return plain
