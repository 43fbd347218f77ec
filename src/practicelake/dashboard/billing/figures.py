"""The billing figures of some spans of days, read through the page's context.

Each function runs one query of this package over every span at once and returns its figures
keyed by (span name, group): the group is the payer, payer type, provider, reason ... when
asked `by=...`, else "". A span without rows has no key: the caller shows None, not 0, for a
period without data. Amounts stay decimals until they are shown; every rate and average is a
ratio of sums.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, TypeVar

from practicelake.dashboard.billing import sql
from practicelake.dashboard.billing.spans import Span, bound
from practicelake.dashboard.context import PageContext

Key = tuple[str, str]
T = TypeVar("T")
CENT = Decimal("0.01")
UNKNOWN = "(unknown)"
# Which of the filters a query applies: both, the provider only (a payer mix is of every
# payer), or neither (a benchmark is the whole practice's).
Applied = Literal["payer_and_provider", "provider", "none"]


def ratio(part: Decimal | int | None, whole: Decimal | int | None) -> float | None:
    if part is None or whole is None or whole == 0:
        return None
    return float(Decimal(part) / Decimal(whole))


def money(amount: Decimal | None) -> float | None:
    return None if amount is None else float(amount.quantize(CENT, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Service:
    """revenue_service_day summed: the visits served in the span and their money to date."""

    visits: int
    encounters_without_charges: int
    billed_visits: int
    gross_charges: Decimal
    contractual_adjustments: Decimal
    adjusted_charges: Decimal
    payer_payments: Decimal
    patient_payments: Decimal
    payments: Decimal
    denial_write_offs: Decimal

    @property
    def net_collection_rate(self) -> float | None:
        return ratio(self.payments, self.adjusted_charges)

    @property
    def gross_collection_rate(self) -> float | None:
        return ratio(self.payments, self.gross_charges)

    @property
    def denial_write_off_rate(self) -> float | None:
        return ratio(self.denial_write_offs, self.adjusted_charges)


@dataclass(frozen=True)
class Activity:
    """revenue_activity_day summed: what was posted, received, submitted and decided in the span."""

    charge_lines_posted: int
    charges_posted: Decimal
    charge_lag_days_total: int
    cash_collected: Decimal
    patient_payments: Decimal
    patient_payments_at_visit: Decimal
    contractual_adjustments_posted: Decimal
    denial_adjustments_posted: Decimal
    claims_submitted: int
    claims_decided: int
    clean_claims: int
    claims_adjudicated: int
    claims_initially_denied: int
    billed_adjudicated: Decimal
    billed_initially_denied: Decimal
    claims_first_paid: int
    days_to_payment_total: int

    @property
    def charge_lag(self) -> float | None:
        return ratio(self.charge_lag_days_total, self.charge_lines_posted)

    @property
    def days_to_payment(self) -> float | None:
        return ratio(self.days_to_payment_total, self.claims_first_paid)

    @property
    def point_of_service_rate(self) -> float | None:
        return ratio(self.patient_payments_at_visit, self.patient_payments)

    @property
    def clean_claim_rate(self) -> float | None:
        return ratio(self.clean_claims, self.claims_decided)

    @property
    def initial_denial_rate(self) -> float | None:
        return ratio(self.claims_initially_denied, self.claims_adjudicated)

    @property
    def initial_denial_rate_by_amount(self) -> float | None:
        return ratio(self.billed_initially_denied, self.billed_adjudicated)

    @property
    def adjusted_charges_posted(self) -> Decimal:
        return self.charges_posted - self.contractual_adjustments_posted

    @property
    def net_collection_rate(self) -> float | None:
        return ratio(self.cash_collected, self.adjusted_charges_posted)

    @property
    def gross_collection_rate(self) -> float | None:
        return ratio(self.cash_collected, self.charges_posted)

    @property
    def denial_write_off_rate(self) -> float | None:
        return ratio(self.denial_adjustments_posted, self.adjusted_charges_posted)


@dataclass(frozen=True)
class Receivable:
    """ar_daily on one day: the payers together, or one payer."""

    payer_type: str | None
    visits_with_balance: int
    ar_0_30: Decimal
    ar_31_60: Decimal
    ar_61_90: Decimal
    ar_91_120: Decimal
    ar_over_120: Decimal
    total_ar: Decimal
    ar_over_90: Decimal
    credit_balances: Decimal
    trailing_charges: Decimal
    window_days: int

    @property
    def buckets(self) -> tuple[Decimal, ...]:
        return (self.ar_0_30, self.ar_31_60, self.ar_61_90, self.ar_91_120, self.ar_over_120)

    @property
    def over_90_share(self) -> float | None:
        return ratio(self.ar_over_90, self.total_ar)

    @property
    def days_in_ar(self) -> float | None:
        """total A/R / (trailing charges / window days)."""
        if not self.trailing_charges or not self.window_days:
            return None
        return float(Decimal(self.total_ar) * self.window_days / Decimal(self.trailing_charges))


@dataclass(frozen=True)
class Denials:
    """denial_daily summed: denial adjustments posted in the span."""

    denials: int
    denied_amount: Decimal
    reversed_amount: Decimal


@dataclass(frozen=True)
class Production:
    """productivity_provider_day summed: a provider's (or every provider's) work in the span."""

    kept_visits: int
    scheduled_days: int
    work_rvus: float
    lines_without_value_units: int
    fte: Decimal | None
    charges: Decimal
    collections: Decimal

    @property
    def visits_per_day(self) -> float | None:
        return ratio(self.kept_visits, self.scheduled_days)

    @property
    def work_rvus_per_fte(self) -> float | None:
        return None if self.fte is None or self.fte == 0 else self.work_rvus / float(self.fte)

    @property
    def revenue_per_visit(self) -> float | None:
        if not self.kept_visits:
            return None
        return money(Decimal(self.collections) / self.kept_visits)


def _keyed(rows: list[dict[str, Any]], kind: type[T]) -> dict[Key, T]:
    names = [f.name for f in fields(kind)]  # type: ignore[arg-type]
    return {(r["period"], r["grp"]): kind(**{n: r[n] for n in names}) for r in rows}


def _filters(ctx: PageContext, applied: Applied) -> dict[str, object]:
    return {
        "payer": ctx.filters.payer if applied == "payer_and_provider" else None,
        "provider": ctx.filters.provider if applied != "none" else None,
    }


def service(
    ctx: PageContext, spans: Sequence[Span], by: str = "", *, applied: Applied = "payer_and_provider"
) -> dict[Key, Service]:
    rows = ctx.rows(sql("service"), by=by, **bound(spans), **_filters(ctx, applied))
    return _keyed(rows, Service)


def activity(
    ctx: PageContext, spans: Sequence[Span], by: str = "", *, applied: Applied = "payer_and_provider"
) -> dict[Key, Activity]:
    rows = ctx.rows(sql("activity"), by=by, **bound(spans), **_filters(ctx, applied))
    return _keyed(rows, Activity)


def denials(ctx: PageContext, spans: Sequence[Span], by: str = "") -> dict[Key, Denials]:
    return _keyed(ctx.rows(sql("denials"), by=by, **bound(spans), **_filters(ctx, "payer_and_provider")), Denials)


def production(ctx: PageContext, spans: Sequence[Span], by: str = "") -> dict[Key, Production]:
    rows = ctx.rows(sql("productivity"), by=by, provider=ctx.filters.provider, **bound(spans))
    return _keyed(rows, Production)


def as_of_dates(ctx: PageContext, wanted: Mapping[str, date]) -> dict[str, date]:
    """For each named date, the last day on or before it that A/R is measured at."""
    rows = ctx.rows(sql("ar_dates"), periods=list(wanted), dates=list(wanted.values()))
    return {r["period"]: r["as_of_date"] for r in rows if r["as_of_date"] is not None}


def receivables(
    ctx: PageContext, dates: Mapping[str, date], by: str = "", *, applied: Applied = "payer_and_provider"
) -> dict[Key, Receivable]:
    """A/R on each named date (ar_daily has no provider: only the payer filter applies); a
    date A/R is measured at with no row for the payer chosen is zero A/R, not an unknown."""
    payer = ctx.filters.payer if applied == "payer_and_provider" else None
    rows = ctx.rows(sql("ar"), by=by, payer=payer, periods=list(dates), dates=list(dates.values()))
    found = _keyed(rows, Receivable)
    if not by:
        for name in dates:
            found.setdefault((name, ""), NO_RECEIVABLE)
    return found


ZERO = Decimal("0.00")
NO_RECEIVABLE = Receivable(None, 0, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, 0)


def values_of(
    found: Mapping[Key, T], pick: Callable[[T], float | Decimal | int | None], group: str = ""
) -> dict[str, float | None]:
    """`pick` of each span's figures of `group`, by span name (a tile's current, previous,
    year_ago); amounts rounded to the cent."""
    values: dict[str, float | None] = {}
    for (span, grp), figures in found.items():
        if grp == group:
            values[span] = shown(pick(figures))
    return values


def shown(value: float | Decimal | int | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return money(value)
    return float(value)
