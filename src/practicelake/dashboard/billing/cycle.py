"""The revenue-cycle tiles the Revenue cycle, A/R and Denials pages and the Overview share:
each drawn from the same figures wherever it shows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from practicelake.dashboard.billing.figures import Activity, Key, Receivable, Service, as_of_dates, values_of
from practicelake.dashboard.billing.spans import Span, compared, shown_end
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.filters import Period
from practicelake.dashboard.tiles import compared_tile as tile
from practicelake.dashboard.view import Tile, Unit

T = TypeVar("T")
# Charges are due within this many days of service (common practice target for charge lag;
# HFMA's MAP Key "total charge lag days" names the measure, not a target).
CHARGE_LAG_TARGET_DAYS = 3


@dataclass(frozen=True)
class Spec(Generic[T]):
    key: str
    label: str
    unit: Unit
    pick: Callable[[T], float | Decimal | int | None]
    metric: str
    relation: str
    better: Literal["higher", "lower"] | None = None

    def tile(self, ctx: PageContext, found: Mapping[Key, T], note: str | None = None) -> Tile:
        return tile(ctx, self.key, self.label, self.unit, values_of(found, self.pick), metric=self.metric,
                    relation=self.relation, better=self.better, note=note)  # fmt: skip


SERVICE = "revenue_service_day"
ACTIVITY = "revenue_activity_day"
# On the service date: the visits served in the period, their money to date.
SERVICE_BASIS: tuple[Spec[Service], ...] = (
    Spec("gross_charges", "Gross charges", "money", lambda s: s.gross_charges, "gross charges", SERVICE, "higher"),
    Spec("payments", "Payments", "money", lambda s: s.payments, "payments", SERVICE, "higher"),
    Spec("contractual_adjustments", "Contractual adjustments", "money", lambda s: s.contractual_adjustments,
         "contractual adjustments", SERVICE),
    Spec("net_collection_rate", "Net collection rate", "rate", lambda s: s.net_collection_rate,
         "net collection rate (adjusted FFS collection %)", SERVICE, "higher"),
    Spec("gross_collection_rate", "Gross collection rate", "rate", lambda s: s.gross_collection_rate,
         "gross collection rate", SERVICE, "higher"),
    Spec("denial_write_off_rate", "Denial write-offs", "rate", lambda s: s.denial_write_off_rate,
         "denial write-off %", SERVICE, "lower"),
)  # fmt: skip
# On the posting dates: what was posted and received in the period.
POSTING_BASIS: tuple[Spec[Activity], ...] = (
    Spec("charges_posted", "Charges posted", "money", lambda a: a.charges_posted, "charges posted", ACTIVITY, "higher"),
    Spec("cash_collected", "Cash collected", "money", lambda a: a.cash_collected, "cash collected", ACTIVITY, "higher"),
    Spec("contractual_adjustments_posted", "Contractual adjustments posted", "money",
         lambda a: a.contractual_adjustments_posted, "contractual adjustments posted", ACTIVITY),
    Spec("net_collection_rate_posting", "Net collection rate (posting dates)", "rate", lambda a: a.net_collection_rate,
         "net collection rate (posting basis)", ACTIVITY, "higher"),
    Spec("gross_collection_rate_posting", "Gross collection rate (posting dates)", "rate",
         lambda a: a.gross_collection_rate, "gross collection rate (posting basis)", ACTIVITY, "higher"),
    Spec("denial_write_off_rate_posting", "Denial write-offs (posting dates)", "rate",
         lambda a: a.denial_write_off_rate, "denial write-off % (posting basis)", ACTIVITY, "lower"),
)  # fmt: skip
CLAIMS: tuple[Spec[Activity], ...] = (
    Spec("initial_denial_rate", "Initial denial rate", "rate", lambda a: a.initial_denial_rate, "initial denial rate",
         ACTIVITY, "lower"),
    Spec("clean_claim_rate", "Clean claim rate", "rate", lambda a: a.clean_claim_rate, "clean claim rate", ACTIVITY,
         "higher"),
)  # fmt: skip
RECEIVABLE: tuple[Spec[Receivable], ...] = (
    Spec("days_in_ar", "Days in A/R", "days", lambda r: r.days_in_ar, "days in A/R", "ar_daily", "lower"),
    Spec("ar_over_90_share", "A/R over 90 days", "rate", lambda r: r.over_90_share, "A/R > 90 days", "ar_daily",
         "lower"),
)  # fmt: skip


def basis_tiles(
    ctx: PageContext, served: Mapping[Key, Service], acted: Mapping[Key, Activity], keys: frozenset[str] | None = None
) -> list[Tile]:
    """Charges, payments, adjustments and the collection rates on the date basis the filters
    choose (only those of `keys`, if given)."""
    if ctx.filters.basis == "posting":
        return [spec.tile(ctx, acted) for spec in POSTING_BASIS if keys is None or spec.key in keys]
    return [spec.tile(ctx, served) for spec in SERVICE_BASIS if keys is None or spec.key in keys]


def claim_tiles(ctx: PageContext, acted: Mapping[Key, Activity]) -> list[Tile]:
    """Initial denial rate and clean claim rate: counts of claims, no money."""
    return [spec.tile(ctx, acted) for spec in CLAIMS]


def ar_tiles(ctx: PageContext, found: Mapping[Key, Receivable]) -> list[Tile]:
    return [spec.tile(ctx, found) for spec in RECEIVABLE]


def ar_dates(ctx: PageContext) -> dict[str, date]:
    """The day A/R is read at for the period, the one before it and a year before: each one's
    last day that has happened, or the last day before it that A/R is measured at."""
    wanted = {span.name: shown_end(ctx, span.period) for span in compared(ctx.period)}
    return as_of_dates(ctx, wanted)


def charges_due(ctx: PageContext, period: Period) -> Period | None:
    """The days of `period` whose encounters should have charges by now: served at least the
    charge lag target before today. None when no day of it is that old."""
    last = min(period.end, ctx.today - timedelta(days=CHARGE_LAG_TARGET_DAYS))
    return None if last < period.start else Period(period.start, last)


def due_spans(ctx: PageContext) -> list[Span]:
    """The compared spans cut to the days whose charges are due (those with any)."""
    spans = []
    for span in compared(ctx.period):
        due = charges_due(ctx, span.period)
        if due is not None:
            spans.append(Span(span.name, due))
    return spans
