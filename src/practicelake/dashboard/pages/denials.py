"""Denials: the initial denial rate by count and by amount (claims by the day of their first
adjudication, revenue_activity_day) and the denial adjustments posted (denial_daily) by X12
group and reason code, payer and month, with a 13-month trend. Sums of day-grain rows, rates
as ratios of those sums: exact for any run of days."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from practicelake.contracts import reference_codes
from practicelake.dashboard.billing.cycle import ACTIVITY, Spec
from practicelake.dashboard.billing.figures import Activity, Denials, Key, activity, denials, shown
from practicelake.dashboard.billing.frame import (
    NO_LOCATION,
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
from practicelake.dashboard.view import Chart, Column, PageView, Table, Tile

RELATION = "denial_daily"
REASONS_SHOWN = 10  # the reasons charted, by denied amount; the table lists every one
GROUPS = {"CO": "Contractual obligation", "OA": "Other adjustment", "PI": "Payer initiated", "CR": "Correction"}
DATES = (
    "The initial denial rate counts claims by the day of their first adjudication; denial adjustments count on the "
    "day the payer posted them. The date basis filter does not apply here."
)


def build(ctx: PageContext) -> PageView:
    if not sees(ctx, "denials"):
        return page_view(ctx, "denials", notes=["Denials are not shown to this role."])
    money = sees_money(ctx, "denial_daily")
    spans, months = compared(ctx.period), trend(ctx)
    current = [spans[0]]
    revenue = sees(ctx, "revenue")
    acted = activity(ctx, [*spans, *months]) if revenue else {}
    acted_by_payer = activity(ctx, current, by="payer") if revenue else None
    found = denials(ctx, [*spans, *months])
    by_group = denials(ctx, months, by="group")
    by_reason = denials(ctx, current, by="reason")
    by_payer = denials(ctx, current, by="payer")
    tiles = [*_tiles(ctx, acted if revenue else None, found, money)]
    charts = [
        *([_rate_trend(ctx, months, acted)] if revenue else []),
        *_denial_charts(ctx, months, found, by_group, by_reason, by_payer, acted_by_payer, money),
    ]
    notes = [DATES]
    if ctx.filters.location is not None:
        notes.append(NO_LOCATION)
    if not sees(ctx, "revenue"):
        notes.append("The initial denial rate is a revenue-cycle figure, not shown to this role.")
    return page_view(ctx, "denials", tiles=tiles, charts=charts, tables=[_reasons(ctx, by_reason, money)], notes=notes)


DENIAL_RATES: tuple[Spec[Activity], ...] = (
    Spec("initial_denial_rate", "Initial denial rate", "rate", lambda a: a.initial_denial_rate, "initial denial rate",
         ACTIVITY, "lower"),
    Spec("initial_denial_rate_by_amount", "Initial denial rate by amount", "rate",
         lambda a: a.initial_denial_rate_by_amount, "initial denial rate by amount", ACTIVITY, "lower"),
)  # fmt: skip
COUNT: Spec[Denials] = Spec(
    "denials", "Denials posted", "count", lambda d: d.denials, "denial reasons", RELATION, "lower"
)
AMOUNTS: tuple[Spec[Denials], ...] = (
    Spec("denied_amount", "Denied amount", "money", lambda d: d.denied_amount, "denial reasons", RELATION, "lower"),
    Spec("reversed_amount", "Denials reversed", "money", lambda d: d.reversed_amount, "denials reversed", RELATION,
         "higher"),
)  # fmt: skip


def _tiles(
    ctx: PageContext, acted: Mapping[Key, Activity] | None, found: Mapping[Key, Denials], money: bool
) -> list[Tile]:
    # The rate by amount is a ratio of billed amounts: shown with the money.
    rates = DENIAL_RATES if sees_money(ctx, ACTIVITY) else DENIAL_RATES[:1]
    tiles = [] if acted is None else [spec.tile(ctx, acted) for spec in rates]
    tiles.append(COUNT.tile(ctx, found))
    if money:
        tiles += [spec.tile(ctx, found) for spec in AMOUNTS]
    return tiles


def _rate_trend(ctx: PageContext, months: Sequence[Span], acted: Mapping[Key, Activity]) -> Chart:
    series = [span_series("By count", months, acted, lambda a: a.initial_denial_rate)]
    if sees_money(ctx, "revenue_activity_day"):
        series.append(span_series("By amount", months, acted, lambda a: a.initial_denial_rate_by_amount))
    return chart(
        ctx,
        "initial_denial_trend",
        "Initial denial rate by month",
        "line",
        ("Month of first adjudication", "Share of claims adjudicated"),
        "rate",
        [s.name for s in months],
        series,
        metric="initial denial rate",
        relation="revenue_activity_day",
    )


def _denial_charts(
    ctx: PageContext,
    months: Sequence[Span],
    found: Mapping[Key, Denials],
    by_group: Mapping[Key, Denials],
    by_reason: Mapping[Key, Denials],
    by_payer: Mapping[Key, Denials],
    acted_by_payer: Mapping[Key, Activity] | None,
    money: bool,
) -> list[Chart]:
    labels = [s.name for s in months]
    groups = sorted({group for _, group in by_group})
    amount = f"Denied ({ctx.practice.currency})"
    charts = [
        chart(
            ctx,
            "denials_trend",
            "Denials posted by month",
            "bar",
            ("Month posted", "Denial adjustments"),
            "count",
            labels,
            [span_series("Denials", months, found, lambda d: d.denials)],
            metric="denial reasons",
            relation="denial_daily",
        ),
    ]
    reasons = sorted(groups_of(by_reason), key=lambda r: (-by_reason[("current", r)].denied_amount, r))
    payers = groups_of(by_payer)
    if money:
        charts += [
            chart(
                ctx,
                "group_trend",
                "Denied amount by X12 group and month",
                "stacked",
                ("Month posted", amount),
                "money",
                labels,
                [span_series(g, months, by_group, lambda d: d.denied_amount, group=g) for g in groups],
                metric="denial reasons",
                relation="denial_daily",
            ),
            chart(
                ctx,
                "reasons",
                "Denied amount by reason",
                "bar",
                ("Group and reason code (CARC)", amount),
                "money",
                reasons[:REASONS_SHOWN],
                [
                    group_series(
                        "Denied amount", "current", reasons[:REASONS_SHOWN], by_reason, lambda d: d.denied_amount
                    )
                ],
                metric="denial reasons",
                relation="denial_daily",
                note=f"The {REASONS_SHOWN} largest reasons of the period; the table lists every one.",
            ),
            chart(
                ctx,
                "payers",
                "Denied amount by payer",
                "bar",
                ("Payer", amount),
                "money",
                payers,
                [group_series("Denied amount", "current", payers, by_payer, lambda d: d.denied_amount)],
                metric="denial reasons",
                relation="denial_daily",
            ),
        ]
    if acted_by_payer is not None:
        billed = [p for p in groups_of(acted_by_payer) if acted_by_payer[("current", p)].claims_adjudicated]
        charts.append(
            chart(
                ctx,
                "payer_rates",
                "Initial denial rate by payer",
                "bar",
                ("Payer billed", "Share of claims adjudicated"),
                "rate",
                billed,
                [group_series("By count", "current", billed, acted_by_payer, lambda a: a.initial_denial_rate)],
                metric="initial denial rate",
                relation="revenue_activity_day",
            )
        )
    return charts


def _reasons(ctx: PageContext, by_reason: Mapping[Key, Denials], money: bool) -> Table:
    carcs = reference_codes("carc")
    columns = [
        Column(key="group", label="Group", unit="text"),
        Column(key="carc", label="Reason code", unit="text"),
        Column(key="description", label="Reason", unit="text"),
        Column(key="denials", label="Denials", unit="count"),
    ]
    if money:
        columns += [
            Column(key="denied_amount", label="Denied amount", unit="money"),
            Column(key="share", label="Share of the amount denied", unit="rate"),
            Column(key="reversed_amount", label="Reversed", unit="money"),
        ]
    total = sum((d.denied_amount for (span, _), d in by_reason.items() if span == "current"), start=0)
    rows: list[list[str | float | None]] = []
    for reason in sorted(groups_of(by_reason), key=lambda r: (-by_reason[("current", r)].denied_amount, r)):
        figures = by_reason[("current", reason)]
        group, _, carc = reason.partition("-")
        row: list[str | float | None] = [
            f"{group} ({GROUPS.get(group, 'other')})",
            carc,
            carcs.get(carc, {}).get("description", ""),
            float(figures.denials),
        ]
        if money:
            share = float(figures.denied_amount / total) if total else None
            row += [shown(figures.denied_amount), share, shown(figures.reversed_amount)]
        rows.append(row)
    return Table(
        key="reasons",
        title="Denials by reason",
        columns=columns,
        rows=rows,
        definition=definition("denial reasons"),
        as_of=ctx.stamp("denial_daily"),
        drill=ctx.link("rows/denial_daily"),
    )
