"""SQL built as syntax trees: templates are fixed text; columns and constants are put in as
nodes (quoted identifiers, escaped literals); run-time values go in as bound parameters."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

DIALECT = "duckdb"


def ident(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def literal(value: str | int | float) -> exp.Expression:
    return exp.Literal.string(value) if isinstance(value, str) else exp.Literal.number(value)


def render(template: str, **slots: exp.Expression) -> exp.Expression:
    """Parse `template` and put `slots[name]` where it says `__name__`."""
    tree = sqlglot.parse_one(template, read=DIALECT)

    def fill(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table:
            name = node.name
            if name.startswith("__") and name.endswith("__") and name[2:-2] in slots:
                return slots[name[2:-2]].copy()
        return node

    return tree.transform(fill)


def sql(node: exp.Expression) -> str:
    return node.sql(DIALECT)


def parameters(query: str) -> frozenset[str]:
    """The `$parameter` names a query uses (DuckDB wants exactly those bound)."""
    return frozenset(node.name for node in sqlglot.parse_one(query, read=DIALECT).find_all(exp.Placeholder))
