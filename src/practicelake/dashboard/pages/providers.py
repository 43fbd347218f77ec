"""Providers: productivity side by side (kept visits, visits per scheduled day, work RVUs and
wRVUs per FTE, charges, collections, revenue per visit), the practice's totals as tiles against
the period before and a year before, and each provider's work RVUs by month. Summed from
productivity_provider_day, ratios of those sums: exact for any run of days."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from practicelake.dashboard.billing.cycle import Spec
from practicelake.dashboard.billing.figures import Key, Production, production, shown
from practicelake.dashboard.billing.frame import (
    NO_LOCATION,
    Pick,
    chart,
    group_series,
    groups_of,
    sees,
    sees_money,
    span_series,
)
from practicelake.dashboard.billing.spans import Span, compared, trend
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.definitions import definition
from practicelake.dashboard.pages import page_view
from practicelake.dashboard.view import Chart, Column, PageView, Table, Tile, Unit

RELATION = "productivity_provider_day"
NOTES = (
    "Visits count on the day of the visit, work RVUs and charges on the service date, collections on the day "
    "received; the date basis filter does not apply here."
)
NO_PAYER = "The payer filter does not apply here: a provider's visits and schedule are counted whoever pays."


def build(ctx: PageContext) -> PageView:
    if not sees(ctx, "productivity"):
        return page_view(ctx, "providers", notes=["Provider productivity is not shown to this role."])
    money = sees_money(ctx, RELATION)
    spans, months = compared(ctx.period), trend(ctx)
    found = production(ctx, spans)
    by_provider = production(ctx, [spans[0], *months], by="provider")
    providers = groups_of(by_provider)
    notes = [NOTES]
    if ctx.filters.payer is not None:
        notes.append(NO_PAYER)
    if ctx.filters.location is not None:
        notes.append(NO_LOCATION)
    charts = [*_side_by_side(ctx, providers, by_provider, money), _rvu_trend(ctx, months, providers, by_provider)]
    return page_view(
        ctx,
        "providers",
        tiles=_tiles(ctx, found, money),
        charts=charts,
        tables=[_table(ctx, providers, by_provider, money)],
        notes=notes,
    )


WORK: tuple[Spec[Production], ...] = (
    Spec("kept_visits", "Kept visits", "count", lambda p: p.kept_visits, "visits per provider per day", RELATION,
         "higher"),
    Spec("visits_per_day", "Visits per scheduled day", "per_day", lambda p: p.visits_per_day,
         "visits per provider per day", RELATION, "higher"),
    Spec("work_rvus", "Work RVUs", "rvu", lambda p: p.work_rvus, "wRVUs", RELATION, "higher"),
)  # fmt: skip
MONEY: tuple[Spec[Production], ...] = (
    Spec("charges", "Charges", "money", lambda p: p.charges, "charges and collections per provider", RELATION,
         "higher"),
    Spec("collections", "Collections", "money", lambda p: p.collections, "charges and collections per provider",
         RELATION, "higher"),
    Spec("revenue_per_visit", "Revenue per visit", "money", lambda p: p.revenue_per_visit, "revenue per visit",
         RELATION, "higher"),
)  # fmt: skip


def _tiles(ctx: PageContext, found: Mapping[Key, Production], money: bool) -> list[Tile]:
    return [spec.tile(ctx, found) for spec in (*WORK, *(MONEY if money else ()))]


def _side_by_side(
    ctx: PageContext, providers: Sequence[str], found: Mapping[Key, Production], money: bool
) -> list[Chart]:
    def bars(key: str, title: str, y_label: str, unit: Unit, metric: str, picks: dict[str, Pick[Production]]) -> Chart:
        series = [group_series(name, "current", providers, found, pick) for name, pick in picks.items()]
        return chart(
            ctx,
            key,
            title,
            "bar",
            ("Provider", y_label),
            unit,
            providers,
            series,
            metric=metric,
            relation=RELATION,
        )

    charts = [
        bars(
            "visits_per_day",
            "Visits per scheduled day",
            "Kept visits per day",
            "per_day",
            "visits per provider per day",
            {"Visits per scheduled day": lambda p: p.visits_per_day},
        ),
        bars("work_rvus", "Work RVUs", "wRVUs", "rvu", "wRVUs", {"Work RVUs": lambda p: p.work_rvus}),
        bars(
            "work_rvus_per_fte",
            "Work RVUs per FTE",
            "wRVUs per clinical FTE",
            "rvu",
            "wRVUs per FTE",
            {"Work RVUs per FTE": lambda p: p.work_rvus_per_fte},
        ),
    ]
    if money:
        currency = ctx.practice.currency
        charts += [
            bars(
                "charges_collections",
                "Charges and collections",
                f"Amount ({currency})",
                "money",
                "charges and collections per provider",
                {"Charges": lambda p: p.charges, "Collections": lambda p: p.collections},
            ),
            bars(
                "revenue_per_visit",
                "Revenue per visit",
                f"Collections per kept visit ({currency})",
                "money",
                "revenue per visit",
                {"Revenue per visit": lambda p: p.revenue_per_visit},
            ),
        ]
    return charts


def _rvu_trend(
    ctx: PageContext, months: Sequence[Span], providers: Sequence[str], found: Mapping[Key, Production]
) -> Chart:
    series = [span_series(p, months, found, lambda f: f.work_rvus, group=p) for p in providers]
    return chart(
        ctx,
        "work_rvu_trend",
        "Work RVUs by month",
        "line",
        ("Month of service", "wRVUs"),
        "rvu",
        [s.name for s in months],
        series,
        metric="wRVUs",
        relation=RELATION,
    )


def _table(ctx: PageContext, providers: Sequence[str], found: Mapping[Key, Production], money: bool) -> Table:
    columns = [
        Column(key="provider_id", label="Provider", unit="text"),
        Column(key="fte", label="Clinical FTE", unit="ratio"),
        Column(key="kept_visits", label="Kept visits", unit="count"),
        Column(key="scheduled_days", label="Scheduled days", unit="count"),
        Column(key="visits_per_day", label="Visits per scheduled day", unit="per_day"),
        Column(key="work_rvus", label="Work RVUs", unit="rvu"),
        Column(key="work_rvus_per_fte", label="wRVUs per FTE", unit="rvu"),
        Column(key="lines_without_value_units", label="Charge lines without value units", unit="count"),
    ]
    if money:
        columns += [
            Column(key="charges", label="Charges", unit="money"),
            Column(key="collections", label="Collections", unit="money"),
            Column(key="revenue_per_visit", label="Revenue per visit", unit="money"),
        ]
    rows: list[list[str | float | None]] = []
    for provider in providers:
        p = found[("current", provider)]
        row: list[str | float | None] = [
            provider,
            None if p.fte is None else float(p.fte),
            float(p.kept_visits),
            float(p.scheduled_days),
            p.visits_per_day,
            p.work_rvus,
            p.work_rvus_per_fte,
            float(p.lines_without_value_units),
        ]
        if money:
            row += [shown(p.charges), shown(p.collections), p.revenue_per_visit]
        rows.append(row)
    return Table(
        key="providers",
        title="Providers side by side",
        columns=columns,
        rows=rows,
        definition=definition("visits per provider per day"),
        as_of=ctx.stamp(RELATION),
        drill=ctx.link("rows/" + RELATION),
    )
