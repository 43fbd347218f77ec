"""The Revenue cycle and A/R pages and the Overview's revenue tiles, built through the read path
over the site lake for an owner of P001, each figure checked against the same figure computed
in plain Python from the cleaned rows (billing_expected), for several periods and filters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import billing_expected as expected
import pytest
from babel.numbers import format_currency
from billing_pages import PERIODS, charts_of, compared, ids, page, same, series_of, tiles_of, trend_spans, truth
from billing_truth import Chosen, Truth

from practicelake.app import App
from practicelake.dashboard.billing import attention as rules
from practicelake.dashboard.billing.cycle import CHARGE_LAG_TARGET_DAYS
from practicelake.dashboard.tiles.revenue import revenue_overview
from site_lake import TODAY

__all__ = ["truth"]  # the module's fixture
SERVICE = ("gross_charges", "payments", "contractual_adjustments", "net_collection_rate", "gross_collection_rate",
           "denial_write_off_rate")  # fmt: skip
ACTIVITY = ("charge_lag", "days_to_payment", "clean_claim_rate", "initial_denial_rate")
POSTING = {"charges_posted": "charges_posted", "cash_collected": "cash_collected",
           "contractual_adjustments_posted": "contractual_adjustments_posted",
           "net_collection_rate_posting": "net_collection_rate",
           "gross_collection_rate_posting": "gross_collection_rate",
           "denial_write_off_rate_posting": "denial_write_off_rate"}  # fmt: skip


def pick(figures: dict[str, Any] | None, key: str) -> Any:
    return None if figures is None else figures[key]


@pytest.mark.parametrize("filters", PERIODS, ids=ids)
def test_revenue_page_equals_the_cleaned_rows(site_app: App, truth: Truth, filters: dict[str, Any]) -> None:
    view, ctx = page(site_app, "revenue", **filters)
    tiles, chosen = tiles_of(view), Chosen(ctx.filters.payer, ctx.filters.provider)
    for field, period in compared(ctx.period).items():
        served = expected.service(truth, period.start, period.end, chosen)
        acted = expected.activity(truth, period.start, period.end, chosen)
        for key in SERVICE:
            same(getattr(tiles[key], field), pick(served, key))
        for key in ACTIVITY:
            same(getattr(tiles[key], field), pick(acted, key))
        same(getattr(tiles["point_of_service_collections"], field), pick(acted, "point_of_service_rate"))
        due = min(period.end, ctx.today - timedelta(days=CHARGE_LAG_TARGET_DAYS))
        uncharged = expected.service(truth, period.start, due, chosen) if due >= period.start else None
        same(getattr(tiles["encounters_without_charges"], field), pick(uncharged, "encounters_without_charges"))
    charts = charts_of(view)
    months = trend_spans(min(ctx.period.end, ctx.today))
    assert charts["money_trend"].labels == [label for label, _, _ in months]
    money, rates, lags = (series_of(charts[k]) for k in ("money_trend", "collection_trend", "lag_trend"))
    for index, (_, first, last) in enumerate(months):
        served = expected.service(truth, first, last, chosen)
        acted = expected.activity(truth, first, last, chosen)
        same(money["Gross charges"][index], pick(served, "gross_charges"))
        same(money["Payments"][index], pick(served, "payments"))
        same(rates["Net collection rate"][index], pick(served, "net_collection_rate"))
        same(lags["Charge lag"][index], pick(acted, "charge_lag"))
        same(lags["Days to payment"][index], pick(acted, "days_to_payment"))
    for key, by_type in (("payer_mix", False), ("payer_type_mix", True)):
        mix = expected.payer_mix(truth, ctx.period.start, ctx.period.end, chosen, by_type)
        chart = charts[key]
        assert chart.labels == sorted(mix)
        shares = series_of(chart)
        for index, label in enumerate(chart.labels):
            same(shares["Share of visits"][index], mix[label][0])
            same(shares["Share of charges"][index], mix[label][1])
    assert any(note.startswith("Date basis: service date") for note in view.notes)
    assert (ctx.filters.payer is not None) == any("payer filter does not apply" in note for note in view.notes)


@pytest.mark.parametrize("filters", [PERIODS[0], PERIODS[4], PERIODS[5]], ids=ids)
def test_revenue_page_on_posting_dates(site_app: App, truth: Truth, filters: dict[str, Any]) -> None:
    view, ctx = page(site_app, "revenue", basis="posting", **filters)
    tiles, chosen = tiles_of(view), Chosen(ctx.filters.payer, ctx.filters.provider)
    assert not set(SERVICE) & set(tiles)
    for field, period in compared(ctx.period).items():
        acted = expected.activity(truth, period.start, period.end, chosen)
        for key, figure in POSTING.items():
            same(getattr(tiles[key], field), pick(acted, figure))
    cash = series_of(charts_of(view)["money_trend"])["Cash collected"]
    for index, (_, first, last) in enumerate(trend_spans(min(ctx.period.end, ctx.today))):
        same(cash[index], pick(expected.activity(truth, first, last, chosen), "cash_collected"))
    assert any(note.startswith("Date basis: posting date") for note in view.notes)


@pytest.mark.parametrize("filters", PERIODS, ids=ids)
def test_ar_page_is_as_of_the_periods_last_day(site_app: App, truth: Truth, filters: dict[str, Any]) -> None:
    view, ctx = page(site_app, "ar", **filters)
    tiles, payer = tiles_of(view), ctx.filters.payer
    end = expected.ar_calendar_end(truth)
    for field, period in compared(ctx.period).items():
        on = min(period.end, ctx.today, end)
        ageing = expected.receivable(truth, on, payer)[None]
        same(getattr(tiles["total_ar"], field), ageing.total)
        same(getattr(tiles["ar_over_90"], field), ageing.over_90)
        same(getattr(tiles["credit_balances"], field), ageing.credit)
        same(getattr(tiles["days_in_ar"], field), ageing.days_in_ar)
        same(getattr(tiles["ar_over_90_share"], field), None if not ageing.total else ageing.over_90 / ageing.total)
    as_of = min(ctx.period.end, ctx.today, end)
    assert f"A/R for the period is as of {as_of.isoformat()}" in " ".join(view.notes)
    charts = charts_of(view)
    ends = [last for _, _, last in trend_spans(min(ctx.period.end, ctx.today))[:-1] if last < as_of] + [as_of]
    assert charts["ageing_trend"].labels == [day.isoformat() for day in ends]
    buckets = series_of(charts["ageing_trend"])
    days = series_of(charts["days_in_ar_trend"])["Days in A/R"]
    for index, day in enumerate(ends):
        ageing = expected.receivable(truth, day, payer)[None]
        for position, name in enumerate(buckets):
            same(buckets[name][index], ageing.buckets[position])
        same(days[index], ageing.days_in_ar)
    by_payer = expected.receivable(truth, as_of, payer, by_payer=True)
    table = view.tables[0]
    shown = {str(row[0]): row for row in table.rows}
    owed = {p or "(unknown)": a for p, a in by_payer.items() if a.total or a.credit}
    assert sorted(shown) == sorted(owed)
    for key, ageing in owed.items():
        row = [None if isinstance(cell, str) else cell for cell in shown[key]]
        for position in range(5):
            same(row[2 + position], ageing.buckets[position])
        same(row[7], ageing.total)
        same(row[9], ageing.days_in_ar)
        same(row[10], ageing.credit)
    if ctx.filters.provider is not None:
        assert any("provider filter does not apply" in note for note in view.notes)


def test_ar_of_a_period_still_running_is_as_of_today(site_app: App, truth: Truth) -> None:
    start = TODAY.replace(day=1)
    filters = {"period": "custom", "start": start, "end": start + timedelta(days=60)}
    view, ctx = page(site_app, "ar", **filters)
    ageing = expected.receivable(truth, ctx.today)[None]
    same(tiles_of(view)["total_ar"].value, ageing.total)
    assert f"is as of {ctx.today.isoformat()}: its last day, {ctx.period.end.isoformat()}, is still to come." in (
        " ".join(view.notes)
    )


@pytest.mark.parametrize("filters", [PERIODS[0], PERIODS[2], PERIODS[5]], ids=ids)
def test_overview_tiles_are_the_pages_figures(site_app: App, truth: Truth, filters: dict[str, Any]) -> None:
    revenue, ctx = page(site_app, "revenue", **filters)
    ar, _ = page(site_app, "ar", **filters)
    shown = {t.key: t for t in revenue_overview(ctx)[0]}
    assert list(shown) == ["gross_charges", "payments", "net_collection_rate", "days_in_ar", "ar_over_90_share",
                           "initial_denial_rate", "clean_claim_rate"]  # fmt: skip
    on_pages = tiles_of(revenue) | tiles_of(ar)
    for key, tile in shown.items():
        assert (tile.value, tile.previous, tile.year_ago) == (
            on_pages[key].value, on_pages[key].previous, on_pages[key].year_ago,
        )  # fmt: skip
        assert tile.definition == on_pages[key].definition and tile.drill == on_pages[key].drill


@pytest.mark.parametrize("filters", [PERIODS[0], PERIODS[2], PERIODS[3], PERIODS[5]], ids=ids)
def test_attention_follows_its_rules(site_app: App, truth: Truth, filters: dict[str, Any]) -> None:
    view, ctx = page(site_app, "revenue", **filters)
    items = {item.title: item for item in revenue_overview(ctx)[1]}
    chosen = Chosen(ctx.filters.payer, ctx.filters.provider)
    ageing = expected.receivable(truth, min(ctx.period.end, ctx.today), ctx.filters.payer)[None]
    share = None if not ageing.total else ageing.over_90 / ageing.total
    assert ("Claims over 90 days" in items) == (share is not None and share > rules.AR_OVER_90_WARNING)
    if share is not None and share > rules.AR_OVER_90_WARNING:
        item = items["Claims over 90 days"]
        assert item.severity == ("critical" if share > rules.AR_OVER_90_CRITICAL else "warning")
        # The amount as the tiles write it: the practice's currency in its locale (Babel).
        written = format_currency(ageing.over_90, ctx.practice.currency, locale=ctx.practice.locale.replace("-", "_"))
        assert written in item.detail and item.link.startswith("/p/P001/ar")
    acted = expected.activity(truth, ctx.period.start, ctx.period.end, chosen)
    lag = pick(acted, "charge_lag")
    assert ("Charge lag over its target" in items) == (lag is not None and lag > CHARGE_LAG_TARGET_DAYS)
    due = min(ctx.period.end, ctx.today - timedelta(days=CHARGE_LAG_TARGET_DAYS))
    uncharged = pick(expected.service(truth, ctx.period.start, due, chosen), "encounters_without_charges") or 0
    assert ("Encounters without charges" in items) == (uncharged > 0)
    if uncharged:
        assert items["Encounters without charges"].detail.startswith(f"{uncharged} encounter")
    rising = set()
    for payer in {c.payer_id for c in truth.claims}:
        one = Chosen(payer, ctx.filters.provider) if ctx.filters.payer in (None, payer) else None
        now = expected.activity(truth, ctx.period.start, ctx.period.end, one) if one else None
        before_period = ctx.period.previous()
        before = expected.activity(truth, before_period.start, before_period.end, one) if one else None
        if now and before and min(now["claims_adjudicated"], before["claims_adjudicated"]) >= rules.LEAST_CLAIMS:
            n1, n0 = now["claims_adjudicated"], before["claims_adjudicated"]
            d1, d0 = now["claims_initially_denied"], before["claims_initially_denied"]
            pooled = (d1 + d0) / (n1 + n0)
            spread = (pooled * (1 - pooled) * (1 / n1 + 1 / n0)) ** 0.5
            z = float("inf") if spread == 0 else (d1 / n1 - d0 / n0) / spread
            if d1 / n1 - d0 / n0 >= rules.LEAST_DENIAL_RISE and z >= rules.LEAST_Z:
                rising.add(f"Denials rose for payer {payer}")
    assert {title for title in items if title.startswith("Denials rose")} == rising
    assert all(item.link.startswith("/p/P001/") for item in items.values()) and view.page == "revenue"
