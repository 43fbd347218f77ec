"""The Overview's revenue-cycle tiles (charges, payments, net collection rate, days in A/R,
A/R over 90 days, initial denial rate, clean claim rate) and its revenue attention items
(claims over 90 days, a payer whose denials rose sharply, charge lag over its target,
encounters without charges), from the same figures as the Revenue cycle, A/R and Denials
pages. Each shows only to a principal who sees its dataset, with its money."""

from __future__ import annotations

from practicelake.dashboard.billing import attention
from practicelake.dashboard.billing.cycle import ar_dates, ar_tiles, basis_tiles, claim_tiles
from practicelake.dashboard.billing.figures import activity, receivables, service
from practicelake.dashboard.billing.frame import sees, sees_money
from practicelake.dashboard.billing.spans import compared
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.view import Attention, Tile

OVERVIEW = frozenset(
    {
        "gross_charges",
        "payments",
        "net_collection_rate",
        "charges_posted",
        "cash_collected",
        "net_collection_rate_posting",
    }
)


def revenue_overview(ctx: PageContext) -> tuple[list[Tile], list[Attention]]:
    """The tiles and the attention items; an attention item that needs a figure a tile has
    read uses that read."""
    tiles: list[Tile] = []
    items: list[Attention] = []
    spans = compared(ctx.period)
    revenue = sees(ctx, "revenue")
    acted = activity(ctx, spans) if revenue else {}
    if revenue and sees_money(ctx, "revenue_service_day") and sees_money(ctx, "revenue_activity_day"):
        served = service(ctx, spans) if ctx.filters.basis == "service" else {}
        tiles += basis_tiles(ctx, served, acted, OVERVIEW)
    if sees(ctx, "ar") and sees_money(ctx, "ar_daily"):
        dates = ar_dates(ctx)
        found = receivables(ctx, dates)
        tiles += ar_tiles(ctx, found)
        items += attention.claims_over_90(ctx, dates, found)
    if revenue:
        tiles += claim_tiles(ctx, acted)
        items += attention.denials_rising(ctx)
        items += attention.charge_lag(ctx, acted)
        items += attention.encounters_without_charges(ctx)
    return tiles, items
