"""The Overview's access tiles (visits, no-show rate) and its access attention item (a no-show
rate clearly up), from the same figures as the Access page."""

from __future__ import annotations

import math
from collections.abc import Mapping

from practicelake.dashboard.access_queries.figures import Counts, Key, compared, counts, values_of
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.tiles import compared_tile
from practicelake.dashboard.view import Attention, Target, Tile

NO_SHOW_TARGET = Target(high=0.05, source="MGMA polls: about 5% median no-show rate in primary care")
# "Clearly up" (access_attention): a rise this many rate points or more ...
LEAST_RISE = 0.02
# ... that a one-sided two-proportion z-test puts at z >= 2.58 (under 0.5% likely by chance) ...
LEAST_Z = 2.58
# ... with at least this many appointments that should have happened in each period.
LEAST_APPOINTMENTS = 30


def kept_tile(ctx: PageContext, found: Mapping[Key, Counts]) -> Tile:
    return compared_tile(
        ctx,
        "kept_appointments",
        "Visits (kept appointments)",
        "count",
        values_of(found, lambda c: c.kept),
        metric="kept appointments",
        relation="access_daily",
        better="higher",
    )


def no_show_tile(ctx: PageContext, found: Mapping[Key, Counts]) -> Tile:
    return compared_tile(
        ctx,
        "no_show_rate",
        "No-show rate",
        "rate",
        values_of(found, lambda c: c.no_show_rate),
        metric="no-show rate",
        relation="access_daily",
        better="lower",
        target=NO_SHOW_TARGET,
    )


def access_overview(ctx: PageContext) -> tuple[list[Tile], list[Attention]]:
    """The tiles and the attention item, from one read of the counts."""
    found = counts(ctx, compared(ctx))
    return [kept_tile(ctx, found), no_show_tile(ctx, found)], access_attention(ctx, found)


def no_show_rise(current: Counts | None, previous: Counts | None) -> float | None:
    """The z statistic of the rise of the no-show rate from `previous` to `current` (pooled
    two-proportion test); None when either period has too few appointments to tell."""
    if current is None or previous is None:
        return None
    n1, n2 = current.kept + current.no_shows, previous.kept + previous.no_shows
    if n1 < LEAST_APPOINTMENTS or n2 < LEAST_APPOINTMENTS:
        return None
    pooled = (current.no_shows + previous.no_shows) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:
        return None
    return (current.no_shows / n1 - previous.no_shows / n2) / spread


def access_attention(ctx: PageContext, found: Mapping[Key, Counts]) -> list[Attention]:
    """ "No-show rate clearly up": the period's rate is at least LEAST_RISE (2 points) above the
    previous period's, and the rise is not noise: a one-sided pooled two-proportion z-test of
    no-shows over kept + no-shows gives z >= LEAST_Z (2.58, under 0.5% likely if the rate had
    not changed), each period having at least LEAST_APPOINTMENTS (30) appointments that should
    have happened. The page's provider and location filters apply. `found`: the counts of the
    period and the one before it (compared)."""
    current, previous = found.get(("current", "")), found.get(("previous", ""))
    z = no_show_rise(current, previous)
    if z is None or current is None or previous is None or z < LEAST_Z:
        return []
    now, before = current.no_show_rate, previous.no_show_rate
    assert now is not None and before is not None  # both have appointments (no_show_rise)
    if now - before < LEAST_RISE:
        return []
    return [
        Attention(
            severity="warning",
            title="No-show rate clearly up",
            detail=(
                f"{now:.1%} of appointments that should have happened were missed, against {before:.1%} "
                f"in the period before ({current.no_shows} of {current.kept + current.no_shows}, "
                f"against {previous.no_shows} of {previous.kept + previous.no_shows}); "
                f"a rise this large is unlikely to be chance (z = {z:.1f})."
            ),
            link=ctx.link("access"),
        )
    ]
