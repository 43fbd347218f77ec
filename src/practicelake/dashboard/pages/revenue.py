"""Revenue cycle: charges, payments, adjustments, net and gross collection rates, charge lag,
days to payment, point-of-service collections and the payer mix, as tiles against the period
before and a year before, with a 13-month trend. Every figure is summed from day-grain
curated rows (revenue_service_day, revenue_activity_day) and every rate is a ratio of sums,
so it is exact for any run of days."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from practicelake.dashboard.billing.cycle import (
    ACTIVITY,
    CHARGE_LAG_TARGET_DAYS,
    SERVICE,
    Spec,
    basis_tiles,
    claim_tiles,
    due_spans,
)
from practicelake.dashboard.billing.figures import Activity, Key, Service, activity, service
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
from practicelake.dashboard.pages import page_view
from practicelake.dashboard.view import Chart, PageView, Tile

SERVICE_BASIS = (
    "Date basis: service date. Charges, payments, adjustments and the collection rates are of the visits served "
    "in the period, with the payments and adjustments received or posted for them to date."
)
POSTING_BASIS = (
    "Date basis: posting date. Charges count on the day they were posted, payments on the day received and "
    "adjustments on the day posted, whichever visit they belong to."
)
FIXED_BASIS = (
    "Whichever the basis: charge lag counts charge lines by the day posted, days to payment claims by the day of "
    "their first payer payment, point-of-service collections patient payments by the day received, claims by the "
    "day submitted or first adjudicated, and the payer mix visits and charges by the service date."
)
PAYER_MIX = "The payer mix shows every payer's share: the payer filter does not apply to it."


def build(ctx: PageContext) -> PageView:
    if not sees(ctx, "revenue"):
        return page_view(ctx, "revenue", notes=["Revenue-cycle figures are not shown to this role."])
    money = sees_money(ctx, "revenue_service_day") and sees_money(ctx, "revenue_activity_day")
    spans, months = compared(ctx.period), trend(ctx)
    due = [Span("due_" + span.name, span.period) for span in due_spans(ctx)]
    served = service(ctx, [*spans, *months, *due])
    acted = activity(ctx, [*spans, *months])
    current = [spans[0]]
    by_payer = service(ctx, current, by="payer", applied="provider")
    by_type = service(ctx, current, by="payer_type", applied="provider")
    tiles = [*(basis_tiles(ctx, served, acted) if money else []), *_cycle_tiles(ctx, served, acted, money)]
    charts = [
        *(_money_trends(ctx, months, served, acted) if money else []),
        _day_trend(ctx, months, acted),
        _payer_mix(ctx, "payer_mix", "Payer mix by payer", "Payer", by_payer, money),
        _payer_mix(ctx, "payer_type_mix", "Payer mix by payer type", "Payer type", by_type, money),
    ]
    notes = [SERVICE_BASIS if ctx.filters.basis == "service" else POSTING_BASIS, FIXED_BASIS]
    if ctx.filters.payer is not None:
        notes.append(PAYER_MIX)
    if ctx.filters.location is not None:
        notes.append(NO_LOCATION)
    if not money:
        notes.append("Amounts are not shown to this role.")
    return page_view(ctx, "revenue", tiles=tiles, charts=charts, notes=notes)


LAGS: tuple[Spec[Activity], ...] = (
    Spec("charge_lag", "Charge lag", "days", lambda a: a.charge_lag, "charge lag", ACTIVITY, "lower"),
    Spec("days_to_payment", "Days to payment", "days", lambda a: a.days_to_payment, "days to payment", ACTIVITY,
         "lower"),
)  # fmt: skip
POINT_OF_SERVICE: Spec[Activity] = Spec("point_of_service_collections", "Point-of-service collections", "rate",
                                        lambda a: a.point_of_service_rate, "point-of-service collections", ACTIVITY,
                                        "higher")  # fmt: skip
UNCHARGED: Spec[Service] = Spec("encounters_without_charges", "Encounters without charges", "count",
                                lambda s: s.encounters_without_charges, "encounters without charges", SERVICE,
                                "lower")  # fmt: skip


def _cycle_tiles(
    ctx: PageContext, served: Mapping[Key, Service], acted: Mapping[Key, Activity], money: bool
) -> list[Tile]:
    # The encounters' spans are the compared ones cut to the days whose charges are due.
    due = {(span.removeprefix("due_"), grp): s for (span, grp), s in served.items() if span.startswith("due_")}
    tiles = [spec.tile(ctx, acted) for spec in LAGS]
    if money:
        tiles.append(POINT_OF_SERVICE.tile(ctx, acted))
    tiles += claim_tiles(ctx, acted)
    note = f"Encounters of the last {CHARGE_LAG_TARGET_DAYS} days are not counted: their charges are not due yet."
    tiles.append(UNCHARGED.tile(ctx, due, note=note))
    return tiles


def _money_trends(
    ctx: PageContext, months: Sequence[Span], served: Mapping[Key, Service], acted: Mapping[Key, Activity]
) -> list[Chart]:
    labels = [span.name for span in months]
    axes = ("Month", f"Amount ({ctx.practice.currency})")
    if ctx.filters.basis == "posting":
        amounts = [
            span_series("Charges posted", months, acted, lambda a: a.charges_posted),
            span_series("Cash collected", months, acted, lambda a: a.cash_collected),
            span_series("Contractual adjustments posted", months, acted, lambda a: a.contractual_adjustments_posted),
        ]
        rates = [
            span_series("Net collection rate", months, acted, lambda a: a.net_collection_rate),
            span_series("Gross collection rate", months, acted, lambda a: a.gross_collection_rate),
        ]
        metrics, relation = ("charges posted", "net collection rate (posting basis)"), "revenue_activity_day"
    else:
        amounts = [
            span_series("Gross charges", months, served, lambda s: s.gross_charges),
            span_series("Payments", months, served, lambda s: s.payments),
            span_series("Contractual adjustments", months, served, lambda s: s.contractual_adjustments),
        ]
        rates = [
            span_series("Net collection rate", months, served, lambda s: s.net_collection_rate),
            span_series("Gross collection rate", months, served, lambda s: s.gross_collection_rate),
        ]
        metrics, relation = ("gross charges", "net collection rate (adjusted FFS collection %)"), "revenue_service_day"
    return [
        chart(
            ctx,
            "money_trend",
            "Charges, payments and contractual adjustments by month",
            "bar",
            axes,
            "money",
            labels,
            amounts,
            metric=metrics[0],
            relation=relation,
        ),
        chart(
            ctx,
            "collection_trend",
            "Collection rates by month",
            "line",
            ("Month", "Share of charges"),
            "rate",
            labels,
            rates,
            metric=metrics[1],
            relation=relation,
        ),
    ]


def _day_trend(ctx: PageContext, months: Sequence[Span], acted: Mapping[Key, Activity]) -> Chart:
    series = [
        span_series("Charge lag", months, acted, lambda a: a.charge_lag),
        span_series("Days to payment", months, acted, lambda a: a.days_to_payment),
    ]
    return chart(
        ctx,
        "lag_trend",
        "Charge lag and days to payment by month",
        "line",
        ("Month", "Days"),
        "days",
        [span.name for span in months],
        series,
        metric="charge lag",
        relation="revenue_activity_day",
    )


def _payer_mix(
    ctx: PageContext, key: str, title: str, x_label: str, found: Mapping[Key, Service], money: bool
) -> Chart:
    groups = groups_of(found)
    visits = sum(s.visits for (span, _), s in found.items() if span == "current")
    charges = sum((s.gross_charges for (span, _), s in found.items() if span == "current"), start=0)
    series = [
        group_series("Share of visits", "current", groups, found, lambda s: s.visits / visits if visits else None)
    ]
    if money:
        series.append(
            group_series(
                "Share of charges",
                "current",
                groups,
                found,
                lambda s: float(s.gross_charges / charges) if charges else None,
            )
        )
    return chart(
        ctx,
        key,
        title,
        "bar",
        (x_label, "Share of the period's visits served"),
        "rate",
        groups,
        series,
        metric="payer mix",
        relation="revenue_service_day",
    )
