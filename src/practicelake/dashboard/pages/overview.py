"""Overview: the strip of KPI tiles a role may see (each against the previous period and the
same period a year before), and what needs attention, computed from the data. The tiles and
the attention items of each area are drawn by that area's module (dashboard.tiles)."""

from __future__ import annotations

from practicelake.dashboard.context import PageContext
from practicelake.dashboard.pages import datasets_seen, page_view
from practicelake.dashboard.tiles.access import access_overview
from practicelake.dashboard.tiles.revenue import revenue_overview
from practicelake.dashboard.view import PageView

SEVERITY = {"critical": 0, "warning": 1, "info": 2}


def build(ctx: PageContext) -> PageView:
    seen = datasets_seen(ctx.principal, ctx.practice_id)
    access = "access" in seen
    access_tiles, access_items = access_overview(ctx) if access else ([], [])
    revenue_tiles, revenue_items = revenue_overview(ctx)
    tiles = [*access_tiles, *revenue_tiles]
    found = [*access_items, *revenue_items]
    attention = sorted(found, key=lambda item: SEVERITY[item.severity])
    notes = []
    if not attention:
        notes.append("Nothing needs attention in this period.")
    if any(getattr(ctx.filters, name) for name in ("provider", "location", "payer")):
        notes.append("Each tile applies the filters that fit its figure; its definition says which.")
    return page_view(ctx, "overview", tiles=tiles, attention=attention, notes=notes)
