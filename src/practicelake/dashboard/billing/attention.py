"""What the revenue-cycle data says to act on, each item with its rule and the page that
explains it: claims over 90 days, a payer whose denials rose sharply, charge lag over its
target, encounters without charges."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Literal

from practicelake.dashboard.billing.cycle import CHARGE_LAG_TARGET_DAYS, due_spans
from practicelake.dashboard.billing.figures import UNKNOWN, Activity, Key, Receivable, activity, service
from practicelake.dashboard.billing.frame import currency_amount
from practicelake.dashboard.billing.spans import Span
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.view import Attention

# A/R over 90 days above this share of A/R is a warning, above the next a critical item
# (common practice: keep A/R over 90 days under a fifth of A/R).
AR_OVER_90_WARNING = 0.20
AR_OVER_90_CRITICAL = 0.30
# A payer's denials "rose sharply": its initial denial rate up at least this many points ...
LEAST_DENIAL_RISE = 0.05
# ... which a one-sided two-proportion z-test puts at z >= 2.58 (under 0.5% likely by chance) ...
LEAST_Z = 2.58
# ... with at least this many claims adjudicated in each period.
LEAST_CLAIMS = 20


def claims_over_90(ctx: PageContext, dates: Mapping[str, date], found: Mapping[Key, Receivable]) -> list[Attention]:
    """`dates`: the days A/R is read at (cycle.ar_dates), the period's as "current"; `found`:
    A/R on each (figures.receivables)."""
    if "current" not in dates:
        return []
    now = found[("current", "")]
    share = now.over_90_share
    if share is None or share <= AR_OVER_90_WARNING:
        return []
    severity: Literal["warning", "critical"] = "critical" if share > AR_OVER_90_CRITICAL else "warning"
    detail = (
        f"{currency_amount(ctx, now.ar_over_90)} ({share:.0%} of A/R) is more than 90 days from service as of "
        f"{dates['current'].isoformat()}. Rule: a warning above {AR_OVER_90_WARNING:.0%} of A/R, critical above "
        f"{AR_OVER_90_CRITICAL:.0%} (common practice: under a fifth of A/R)."
    )
    return [Attention(severity=severity, title="Claims over 90 days", detail=detail, link=ctx.link("ar"))]


def denial_rise_z(current: Activity, previous: Activity) -> float | None:
    """The z statistic of a one-sided two-proportion test that the current initial denial rate
    exceeds the previous one; None without enough claims or without a rise of LEAST_DENIAL_RISE."""
    n1, n0 = current.claims_adjudicated, previous.claims_adjudicated
    if n1 < LEAST_CLAIMS or n0 < LEAST_CLAIMS:
        return None
    p1, p0 = current.claims_initially_denied / n1, previous.claims_initially_denied / n0
    if p1 - p0 < LEAST_DENIAL_RISE:
        return None
    pooled = (current.claims_initially_denied + previous.claims_initially_denied) / (n1 + n0)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    return math.inf if spread == 0 else (p1 - p0) / spread


def denials_rising(ctx: PageContext) -> list[Attention]:
    spans = [Span("current", ctx.period), Span("previous", ctx.period.previous())]
    found = activity(ctx, spans, by="payer")
    items = []
    for (name, payer), current in sorted(found.items()):
        previous = found.get(("previous", payer))
        if name != "current" or previous is None:
            continue
        z = denial_rise_z(current, previous)
        if z is None or z < LEAST_Z:
            continue
        detail = (
            f"Initial denial rate {current.claims_initially_denied / current.claims_adjudicated:.1%} of "
            f"{current.claims_adjudicated} claims, up from "
            f"{previous.claims_initially_denied / previous.claims_adjudicated:.1%} of {previous.claims_adjudicated} "
            f"in the period before. Rule: up {LEAST_DENIAL_RISE * 100:.0f} points or more, at least {LEAST_CLAIMS} "
            f"claims adjudicated in each period, and a one-sided two-proportion z-test at z >= {LEAST_Z} "
            "(under 0.5% likely by chance)."
        )
        link = ctx.link("denials", payer=None if payer == UNKNOWN else payer)
        items.append(Attention(severity="warning", title=f"Denials rose for payer {payer}", detail=detail, link=link))
    return items


def charge_lag(ctx: PageContext, acted: Mapping[Key, Activity]) -> list[Attention]:
    """`acted`: the activity of the period as "current", the page's filters applied."""
    current = acted.get(("current", ""))
    lag = None if current is None else current.charge_lag
    if current is None or lag is None or lag <= CHARGE_LAG_TARGET_DAYS:
        return []
    detail = (
        f"Charges posted in the period came {lag:.1f} days after service on average ({current.charge_lines_posted} "
        f"lines); the target is {CHARGE_LAG_TARGET_DAYS} days or less (common practice; HFMA's MAP Key 'total "
        "charge lag days' is the measure)."
    )
    return [Attention(severity="warning", title="Charge lag over its target", detail=detail, link=ctx.link("revenue"))]


def encounters_without_charges(ctx: PageContext) -> list[Attention]:
    spans = [span for span in due_spans(ctx) if span.name == "current"]
    current = service(ctx, spans).get(("current", "")) if spans else None
    if current is None or current.encounters_without_charges == 0:
        return []
    count, due = current.encounters_without_charges, spans[0].period
    detail = (
        f"{count} encounter{'s' if count != 1 else ''} served from {due.start.isoformat()} to {due.end.isoformat()} "
        f"{'have' if count != 1 else 'has'} no charge line, {CHARGE_LAG_TARGET_DAYS} days or more after service "
        "(the charge lag target)."
    )
    return [Attention(severity="warning", title="Encounters without charges", detail=detail, link=ctx.link("revenue"))]
