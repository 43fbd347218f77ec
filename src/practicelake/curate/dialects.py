"""The models in other engines' SQL: each model's DuckDB SQL, parsed by sqlglot and written in
Spark SQL (`curate --engine spark`) or Trino SQL (Athena, over the curated tables).

A model is written once, for DuckDB, and DuckDB runs it as written (curate.engine). For another
engine sqlglot rewrites the parsed tree, and any construct it cannot express there is an
error (`unsupported_level=RAISE`), never a silent change of meaning.

Where sqlglot's own translation would change what a model means, practicelake rewrites the
tree first:
- A recursive CTE that walks a date forward one day at a time until a bound (ar_calendar's
  days) becomes an explicit sequence of those days, unnested. Spark 3.5 has no recursive CTEs,
  and Trino's are capped at ten levels by default (`max_recursion_depth`), far fewer than the
  days of a year; the sequence holds the same rows (`_as_sequence`, NULLs included). Any other
  recursive CTE is refused by name rather than guessed at.
- `percentile_cont(q) within group (order by x)` is exact in DuckDB; sqlglot writes Spark's and
  Trino's approximate percentiles for it. Spark gets `percentile(x, q)`, exact with the same
  linear interpolation; Trino has no exact percentile function, so it gets the interpolation
  written out over the sorted values (`array_agg`, `array_sort`).
- `extract(isodow from t)` (Monday 1 .. Sunday 7) is passed through unchanged by sqlglot, and
  neither engine knows ISODOW: Spark's field is DAYOFWEEK_ISO, Trino's DOW (both Monday 1).
- `round(x, n)` of a double: DuckDB rounds the binary value (round(x * 10^n) / 10^n), Spark the
  shortest decimal that prints it, so a figure such as 139.765 rounds down in one and up in
  the other. Spark gets DuckDB's arithmetic, which for a decimal x is the same exact rounding.

    python -m practicelake.curate.dialects trino access_daily   # one model, in Trino SQL
    python -m practicelake.curate.dialects spark                # every model, in Spark SQL
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

from practicelake.curate.project import DIALECT, Model, ModelError, load_models

DIALECTS = ("spark", "trino")
# How a model names a table (zone, name) -> how the target engine names it.
TableNames = Callable[[str, str], exp.Table]


def transpile(model: Model, dialect: str, *, table_names: TableNames | None = None, pretty: bool = False) -> str:
    """The model's SQL in `dialect` (one of DIALECTS); `table_names` renames the zone-qualified
    tables it reads (an engine that cannot hold them under their zones)."""
    if dialect not in DIALECTS:
        raise ModelError(f"unknown dialect {dialect!r}: use one of {', '.join(DIALECTS)}")
    tree = sqlglot.parse_one(model.sql, read=DIALECT)
    _unroll_recursion(model.name, tree)
    tree = tree.transform(_exact_for(dialect, model.name))
    if table_names is not None:
        for table in list(tree.find_all(exp.Table)):
            if table.db:
                renamed = table_names(table.db, table.name)
                table.set("this", renamed.this)
                table.set("db", renamed.args.get("db"))
                table.set("catalog", renamed.args.get("catalog"))
    try:
        return tree.sql(dialect, unsupported_level=ErrorLevel.RAISE, pretty=pretty, comments=pretty)
    except UnsupportedError as exc:
        raise ModelError(f"model {model.name}: cannot be written in {dialect} SQL: {exc}") from None


def parses(sql: str, dialect: str) -> exp.Expr:
    """`sql` parsed back in `dialect`, strictly: the check that a transpiled model is valid there."""
    try:
        return sqlglot.parse_one(sql, read=dialect, error_level=ErrorLevel.RAISE)
    except ParseError as exc:
        raise ModelError(f"{dialect} SQL does not parse: {exc}") from None


# Percentile_cont over the sorted non-NULL values, for Trino: position (n - 1) * q counted
# from 0, interpolated between the values either side, as DuckDB computes it. Placeholders
# __x and __q are replaced by the model's expressions.
_TRINO_PERCENTILE = sqlglot.parse_one(
    """element_at(transform(
        ARRAY[array_sort(filter(array_agg(CAST(__x AS DOUBLE)), e -> e IS NOT NULL))],
        v -> IF(cardinality(v) = 0, NULL,
            v[CAST(floor((cardinality(v) - 1) * __q) AS BIGINT) + 1]
            + ((cardinality(v) - 1) * __q - floor((cardinality(v) - 1) * __q))
            * (v[CAST(ceiling((cardinality(v) - 1) * __q) AS BIGINT) + 1]
               - v[CAST(floor((cardinality(v) - 1) * __q) AS BIGINT) + 1]))
    ), 1)""",
    read="trino",
)
_ISO_WEEKDAY = {"spark": "DAYOFWEEK_ISO", "trino": "DOW"}


def _exact_for(dialect: str, model: str) -> Callable[[exp.Expr], exp.Expr]:
    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.WithinGroup) and isinstance(node.this, exp.PercentileCont):
            return _percentile(node, dialect, model)
        if isinstance(node, exp.Extract) and node.this.name.upper() == "ISODOW":
            return exp.Extract(this=exp.var(_ISO_WEEKDAY[dialect]), expression=node.expression)
        if dialect == "spark" and isinstance(node, exp.Round) and _places(node) is not None:
            scale = exp.Literal.number(10 ** (_places(node) or 0))
            rounded = exp.Round(this=exp.Mul(this=exp.paren(node.this.copy()), expression=scale))
            return exp.Div(this=rounded, expression=scale.copy())
        return node

    return rewrite


def _places(node: exp.Round) -> int | None:
    """The decimal places a round keeps, when they are a literal above 0 (else: left as is)."""
    places = node.args.get("decimals")
    if isinstance(places, exp.Literal) and not places.is_string and places.name.isdigit() and int(places.name) > 0:
        return int(places.name)
    return None


def _percentile(node: exp.WithinGroup, dialect: str, model: str) -> exp.Expr:
    order = node.expression
    keys = order.expressions if isinstance(order, exp.Order) else []
    if len(keys) != 1 or keys[0].args.get("desc"):
        raise ModelError(f"model {model}: percentile_cont orders by one expression, ascending, to be transpiled")
    value, rank = keys[0].this, node.this.this
    if dialect == "spark":
        return exp.Anonymous(this="percentile", expressions=[value.copy(), rank.copy()])
    placeholders = {"__x": value, "__q": rank}

    def substitute(part: exp.Expr) -> exp.Expr:
        if isinstance(part, exp.Column) and not part.table and part.name in placeholders:
            return exp.paren(placeholders[part.name].copy())
        return part

    return _TRINO_PERCENTILE.copy().transform(substitute)


def _unroll_recursion(name: str, tree: exp.Expr) -> None:
    with_ = tree.args.get("with_") or tree.args.get("with")
    if not isinstance(with_, exp.With) or not with_.args.get("recursive"):
        return
    for cte in with_.expressions:
        body = cte.this
        if isinstance(body, exp.Union) and _reads_itself(cte):
            cte.set("this", _as_sequence(name, cte.alias_or_name, body))
    with_.set("recursive", False)


def _reads_itself(cte: exp.CTE) -> bool:
    return any(t.name == cte.alias_or_name and not t.db for t in cte.this.find_all(exp.Table))


def _as_sequence(model: str, name: str, union: exp.Union) -> exp.Select:
    """`anchor UNION ALL (select ..., cast(c + interval '1 day' as date) as c, ... from name
    where c < bound)` -> the anchor's rows, each with c taken from the days first..bound.

    The recursion yields first, first + 1 day, ... while the previous day is before the bound:
    every day from first to bound when first <= bound, only first when first > bound or the
    bound is NULL, and one row with c NULL when first is NULL (NULL < x is never true). The
    sequence from first to greatest(first, coalesce(bound, first)) is exactly those days, and
    array(NULL) stands for it when first is NULL."""
    anchor, step = union.left, union.right
    refused = ModelError(
        f"model {model}: the recursive CTE {name} is not a day-by-day walk to a bound, "
        "and no other recursion can be written in Spark or Trino SQL"
    )
    if not (union.args.get("distinct") is False and isinstance(anchor, exp.Select) and isinstance(step, exp.Select)):
        raise refused
    columns = [p.alias_or_name for p in anchor.expressions]
    if [p.alias_or_name for p in step.expressions] != columns or _reads_itself_in(anchor, name):
        raise refused
    walked = _walked_column(step, name, columns)
    bound = _bound(step, walked, columns)
    if walked is None or bound is None:
        raise refused
    first = anchor.expressions[columns.index(walked)].unalias()
    last = anchor.expressions[columns.index(bound)].unalias()
    end = exp.Greatest(this=first.copy(), expressions=[exp.func("coalesce", last.copy(), first.copy())])
    days = exp.GenerateSeries(
        start=first.copy(), end=end, step=exp.Interval(this=exp.Literal.string("1"), unit=exp.var("DAY"))
    )
    no_day = exp.Array(expressions=[exp.cast(exp.null(), exp.DataType.build("date"))])
    alias = f"{name}_{walked}"
    unnest = exp.Unnest(
        expressions=[exp.func("coalesce", days, no_day)],
        alias=exp.TableAlias(this=exp.to_identifier(alias), columns=[exp.to_identifier(walked)]),
    )
    select = anchor.copy()
    value = exp.cast(exp.column(walked, table=alias), exp.DataType.build("date"))
    select.expressions[columns.index(walked)].replace(exp.alias_(value, walked))
    return select.join(unnest, join_type="cross")


def _reads_itself_in(select: exp.Select, name: str) -> bool:
    return any(t.name == name and not t.db for t in select.find_all(exp.Table))


def _walked_column(step: exp.Select, name: str, columns: list[str]) -> str | None:
    """The one column the step moves on by a day; every other column is carried as it is."""
    source = step.args.get("from_") or step.args.get("from")
    if not isinstance(source, exp.From) or not isinstance(source.this, exp.Table) or source.this.name != name:
        return None
    if step.args.get("joins") or step.args.get("group") or step.args.get("having"):
        return None
    walked = None
    for column, projection in zip(columns, step.expressions, strict=True):
        value = projection.unalias()
        if isinstance(value, exp.Column) and value.name == column:
            continue
        if walked is not None or not _next_day(value, column):
            return None
        walked = column
    return walked


def _next_day(value: exp.Expr, column: str) -> bool:
    """cast(column + interval '1 day' as date), as the DuckDB SQL spells it."""
    if not (isinstance(value, exp.Cast) and value.to.is_type("date")):
        return False
    added = value.this
    if not isinstance(added, exp.Add) or not isinstance(added.left, exp.Column) or added.left.name != column:
        return False
    interval = added.right
    if not isinstance(interval, exp.Interval):
        return False
    unit = interval.unit.name.upper() if interval.unit else ""
    text = interval.this.name.strip().lower()
    return (text, unit) in {("1", "DAY"), ("1 day", "")}


def _bound(step: exp.Select, walked: str | None, columns: list[str]) -> str | None:
    """The carried column the walk stops at: the step's one condition is walked < bound."""
    where = step.args.get("where")
    condition = where.this if isinstance(where, exp.Where) else None
    if not isinstance(condition, exp.LT) or walked is None:
        return None
    left, right = condition.left, condition.right
    if not (isinstance(left, exp.Column) and left.name == walked and isinstance(right, exp.Column)):
        return None
    return right.name if right.name in columns and right.name != walked else None


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in DIALECTS or len(argv) > 2:
        print(f"usage: python -m practicelake.curate.dialects {{{'|'.join(DIALECTS)}}} [MODEL]", file=sys.stderr)
        return 2
    dialect, wanted = argv[0], argv[1:]
    models = {m.name: m for m in load_models()}
    unknown = [name for name in wanted if name not in models]
    if unknown:
        print(f"no model {unknown[0]}: one of {', '.join(models)}", file=sys.stderr)
        return 1
    for name in wanted or list(models):
        print(f"-- {name}\n{transpile(models[name], dialect, pretty=True)};\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
