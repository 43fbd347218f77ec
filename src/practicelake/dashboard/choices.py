"""What the filter bar offers: the provider, location and payer ids of the practice, from the
curated relations the principal sees (so a staff member is offered no payer they could not
filter by anyway). One audited read, a union over those relations; the SQL is built as a
sqlglot tree from the contracts' relation and column names, and the practice is bound."""

from __future__ import annotations

import re
from functools import cache

from sqlglot import exp

from practicelake.access.permissions import curated_tables
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.filters import ID

ID_SHAPE = re.compile(ID.removeprefix("^").removesuffix("$"))

FILTERED = {"provider": "provider_id", "location": "location_id", "payer": "payer_id"}
# Where each kind of id is listed from: small tables (weeks, months) that between them hold
# every id the larger ones do (those are their roll-ups, or rows of the same appointments
# and visits). Reading every visible table would load each one's partition of the practice
# into the query process, the dearest part of a first page.
LISTED_IN = {
    "provider_id": ("access_weekly", "productivity_provider_month", "revenue_service_month", "revenue_activity_month"),
    "location_id": ("access_daily",),
    "payer_id": ("revenue_payer_mix", "revenue_service_month", "revenue_activity_month", "ar_ageing"),
}
MOST = 500  # a practice has at most 50 providers; payers and locations are fewer than this


def choices_sql(relations: list[str]) -> str | None:
    """One query listing (kind, id) over `relations`, or None when none carries a filtered id."""
    return _choices_sql(frozenset(relations))


@cache
def _choices_sql(relations: frozenset[str]) -> str | None:
    tables = curated_tables()
    parts: list[exp.Select] = []
    for relation in sorted(relations):
        model = tables.get(relation)
        if model is None or model.contract.cross_practice:
            continue
        for kind, column in FILTERED.items():
            listed = [name for name in LISTED_IN[column] if name in relations]
            if column in model.contract.columns and (relation in listed or not listed):
                parts.append(
                    exp.select(exp.alias_(exp.Literal.string(kind), "kind"), exp.alias_(exp.column(column), "id"))
                    .from_(exp.to_table(relation))
                    .where(exp.column("practice_id").eq(exp.Parameter(this=exp.var("practice_id"))))
                    .where(exp.column(column).is_(exp.null()).not_())
                )
    if not parts:
        return None
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=True)
    query = exp.select("kind", "id").from_(exp.paren(union))
    query = query.order_by("kind", "id").limit(len(FILTERED) * MOST)
    return query.sql(dialect="duckdb")


def choices(ctx: PageContext) -> dict[str, list[str]]:
    sql = choices_sql(ctx.reader.relations(ctx.principal))
    offered: dict[str, list[str]] = {kind: [] for kind in FILTERED}
    if sql is None:
        return offered
    for row in ctx.rows(sql):
        # `*` rows are roll-ups over every provider or location, not one to filter by.
        if ID_SHAPE.fullmatch(row["id"]):
            offered[row["kind"]].append(row["id"])
    return offered
