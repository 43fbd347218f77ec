"""A/R: what is owed to the practice on one day, the period's last (or the last day before it
that the data reaches), in age buckets by payer; days in A/R and the share over 90 days, against
the same day of the period before and a year before; and how A/R has aged over the months
before. A/R is read from ar_daily exactly on the day named, never interpolated."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from practicelake.dashboard.billing.cycle import Spec, ar_dates, ar_tiles
from practicelake.dashboard.billing.figures import Key, Receivable, receivables, shown
from practicelake.dashboard.billing.frame import NO_LOCATION, chart, sees, sees_money, span_series
from practicelake.dashboard.billing.spans import Span, month_end, shown_end, trend
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.definitions import definition
from practicelake.dashboard.filters import Period
from practicelake.dashboard.pages import page_view
from practicelake.dashboard.view import Chart, Column, PageView, Series, Table, Tile

BUCKETS = ("0-30 days", "31-60 days", "61-90 days", "91-120 days", "Over 120 days")
RELATION = "ar_daily"
NO_PROVIDER = "The provider filter does not apply here: A/R is kept by payer, for the whole practice."


def build(ctx: PageContext) -> PageView:
    if not (sees(ctx, "ar") and sees_money(ctx, "ar_daily")):
        return page_view(ctx, "ar", notes=["A/R is not shown to this role."])
    dates = ar_dates(ctx)
    notes = _as_of_notes(ctx, dates)
    if ctx.filters.provider is not None:
        notes.append(NO_PROVIDER)
    if ctx.filters.location is not None:
        notes.append(NO_LOCATION)
    if "current" not in dates:
        return page_view(ctx, "ar", tiles=_tiles(ctx, {}), notes=notes)
    found = receivables(ctx, dates)
    month_ends = _month_ends(ctx, dates["current"])
    history = receivables(ctx, {span.name: span.period.end for span in month_ends})
    by_payer = receivables(ctx, {span.name: span.period.end for span in month_ends}, by="payer")
    charts = [
        _buckets_over_time(ctx, month_ends, history),
        _payers_over_time(ctx, month_ends, by_payer),
        _payers_now(ctx, month_ends[-1].name, by_payer),
        chart(
            ctx,
            "days_in_ar_trend",
            "Days in A/R",
            "line",
            ("As of (day)", "Days"),
            "days",
            [s.name for s in month_ends],
            [span_series("Days in A/R", month_ends, history, lambda r: r.days_in_ar)],
            metric="days in A/R",
            relation="ar_daily",
        ),
    ]
    table = _ageing_table(ctx, dates["current"], month_ends[-1].name, by_payer)
    return page_view(ctx, "ar", tiles=_tiles(ctx, found), charts=charts, tables=[table], notes=notes)


TOTAL: Spec[Receivable] = Spec("total_ar", "Total A/R", "money", lambda r: r.total_ar, "total A/R", RELATION, "lower")
AMOUNTS: tuple[Spec[Receivable], ...] = (
    Spec("ar_over_90", "A/R over 90 days (amount)", "money", lambda r: r.ar_over_90, "A/R > 90 days", RELATION,
         "lower"),
    Spec("credit_balances", "Credit balances", "money", lambda r: r.credit_balances, "credit balances", RELATION,
         "lower"),
)  # fmt: skip


def _tiles(ctx: PageContext, found: Mapping[Key, Receivable]) -> list[Tile]:
    return [TOTAL.tile(ctx, found), *ar_tiles(ctx, found), *(spec.tile(ctx, found) for spec in AMOUNTS)]


def _as_of_notes(ctx: PageContext, dates: Mapping[str, date]) -> list[str]:
    """Which day each A/R figure is as of: the period's last day, unless it is still to come or
    past the practice's data."""
    names = {"current": "the period", "previous": "the period before", "year_ago": "the same period a year before"}
    notes = []
    for name, period in _compared(ctx).items():
        wanted = shown_end(ctx, period)
        found = dates.get(name)
        if found is None:
            notes.append(f"No A/R is measured on or before {wanted.isoformat()}, the last day of {names[name]}.")
        elif found == period.end:
            notes.append(f"A/R for {names[name]} is as of {found.isoformat()}, its last day.")
        else:
            notes.append(
                f"A/R for {names[name]} is as of {found.isoformat()}: its last day, {period.end.isoformat()}, "
                + ("is still to come." if found == wanted else "is past the last day the billing data reaches.")
            )
    return notes


def _compared(ctx: PageContext) -> dict[str, Period]:
    return {"current": ctx.period, "previous": ctx.period.previous(), "year_ago": ctx.period.year_ago()}


def _month_ends(ctx: PageContext, as_of: date) -> list[Span]:
    """The 12 month ends before the as-of day's month, then the as-of day itself; each named by
    its date (the label of the chart)."""
    months = trend(ctx)
    ends = [month_end(span.period.start) for span in months[:-1]]
    days = [day for day in ends if day < as_of] + [as_of]
    return [Span(day.isoformat(), Period(day, day)) for day in days]


def _bucket_values(found: Mapping[Key, Receivable], spans: list[Span], group: str = "") -> list[list[float | None]]:
    out: list[list[float | None]] = [[] for _ in BUCKETS]
    for span in spans:
        figures = found.get((span.name, group))
        for index in range(len(BUCKETS)):
            out[index].append(None if figures is None else shown(figures.buckets[index]))
    return out


def _buckets_over_time(ctx: PageContext, spans: list[Span], found: Mapping[Key, Receivable]) -> Chart:
    series = [Series(name=n, values=v) for n, v in zip(BUCKETS, _bucket_values(found, spans), strict=True)]
    return chart(
        ctx,
        "ageing_trend",
        "A/R by age from service",
        "stacked",
        ("As of (day)", f"A/R ({ctx.practice.currency})"),
        "money",
        [s.name for s in spans],
        series,
        metric="A/R ageing",
        relation="ar_daily",
    )


def _payers(found: Mapping[Key, Receivable]) -> list[str]:
    return sorted({group for _, group in found})


def _payers_over_time(ctx: PageContext, spans: list[Span], found: Mapping[Key, Receivable]) -> Chart:
    series = [span_series(payer, spans, found, lambda r: r.total_ar, group=payer) for payer in _payers(found)]
    return chart(
        ctx,
        "payer_trend",
        "A/R by payer",
        "stacked",
        ("As of (day)", f"A/R ({ctx.practice.currency})"),
        "money",
        [s.name for s in spans],
        series,
        metric="total A/R",
        relation="ar_daily",
    )


def _payers_now(ctx: PageContext, span: str, found: Mapping[Key, Receivable]) -> Chart:
    payers = [payer for payer in _payers(found) if (span, payer) in found]
    series = [
        Series(name=bucket, values=[shown(found[(span, p)].buckets[index]) for p in payers])
        for index, bucket in enumerate(BUCKETS)
    ]
    return chart(
        ctx,
        "payer_ageing",
        f"A/R ageing by payer as of {span}",
        "stacked",
        ("Payer", f"A/R ({ctx.practice.currency})"),
        "money",
        payers,
        series,
        metric="A/R ageing",
        relation="ar_daily",
    )


def _ageing_table(ctx: PageContext, as_of: date, span: str, found: Mapping[Key, Receivable]) -> Table:
    columns = [
        Column(key="payer_id", label="Payer", unit="text"),
        Column(key="payer_type", label="Payer type", unit="text"),
    ]
    columns += [Column(key=f"bucket_{i}", label=b, unit="money") for i, b in enumerate(BUCKETS)]
    columns += [
        Column(key="total_ar", label="Total A/R", unit="money"),
        Column(key="ar_over_90_share", label="Over 90 days", unit="rate"),
        Column(key="days_in_ar", label="Days in A/R", unit="days"),
        Column(key="credit_balances", label="Credit balances", unit="money"),
    ]
    rows: list[list[str | float | None]] = []
    for payer in _payers(found):
        figures = found.get((span, payer))
        if figures is None or (figures.total_ar == Decimal(0) and figures.credit_balances == Decimal(0)):
            continue
        rows.append(
            [
                payer,
                figures.payer_type,
                *[shown(b) for b in figures.buckets],
                shown(figures.total_ar),
                figures.over_90_share,
                figures.days_in_ar,
                shown(figures.credit_balances),
            ]
        )
    return Table(
        key="ageing_by_payer",
        title=f"A/R ageing by payer as of {as_of.isoformat()}",
        columns=columns,
        rows=rows,
        definition=definition("A/R ageing"),
        as_of=ctx.stamp("ar_daily"),
        drill=ctx.link("rows/ar_daily"),
    )
