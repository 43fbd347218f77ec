"""The Denials and Providers pages, built through the read path over the site lake for an owner
of P001, each figure checked against the same figure computed in plain Python from the cleaned
rows (billing_expected), for several periods and filters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import billing_expected as expected
import pytest
from billing_pages import PERIODS, charts_of, compared, ids, page, same, series_of, tiles_of, trend_spans, truth
from billing_truth import Chosen, Truth

from practicelake.app import App
from practicelake.contracts import reference_codes

__all__ = ["truth"]  # the module's fixture


def pick(figures: dict[str, Any] | None, key: str) -> Any:
    return None if figures is None else figures[key]


@pytest.mark.parametrize("filters", PERIODS, ids=ids)
def test_denials_page_equals_the_cleaned_rows(site_app: App, truth: Truth, filters: dict[str, Any]) -> None:
    view, ctx = page(site_app, "denials", **filters)
    tiles, chosen = tiles_of(view), Chosen(ctx.filters.payer, ctx.filters.provider)
    for field, period in compared(ctx.period).items():
        acted = expected.activity(truth, period.start, period.end, chosen)
        same(getattr(tiles["initial_denial_rate"], field), pick(acted, "initial_denial_rate"))
        same(getattr(tiles["initial_denial_rate_by_amount"], field), pick(acted, "initial_denial_rate_by_amount"))
        found = expected.denials(truth, period.start, period.end, chosen).get("")
        count, denied, reversed_ = found if found else (None, None, None)
        same(getattr(tiles["denials"], field), count)
        same(getattr(tiles["denied_amount"], field), denied)
        same(getattr(tiles["reversed_amount"], field), reversed_)
    charts = charts_of(view)
    months = trend_spans(min(ctx.period.end, ctx.today))
    rates = series_of(charts["initial_denial_trend"])
    groups = series_of(charts["group_trend"])
    for index, (_, first, last) in enumerate(months):
        acted = expected.activity(truth, first, last, chosen)
        same(rates["By count"][index], pick(acted, "initial_denial_rate"))
        same(rates["By amount"][index], pick(acted, "initial_denial_rate_by_amount"))
        by_group = expected.denials(truth, first, last, chosen, by="group")
        for group, values in groups.items():
            same(values[index], by_group[group][1] if group in by_group else None)
    reasons = expected.denials(truth, ctx.period.start, ctx.period.end, chosen, by="reason")
    table = view.tables[0]
    assert len(table.rows) == len(reasons)
    whole = sum((d for _, d, _ in reasons.values()), start=Decimal(0))
    carcs = reference_codes("carc")
    for row in table.rows:
        group, carc = str(row[0]).split(" ")[0], str(row[1])
        count, denied, reversed_ = reasons[f"{group}-{carc}"]
        assert row[2] == carcs[carc]["description"]
        same(row[3], count)  # type: ignore[arg-type]
        same(row[4], denied)  # type: ignore[arg-type]
        same(row[5], None if not whole else denied / whole)  # type: ignore[arg-type]
        same(row[6], reversed_)  # type: ignore[arg-type]
    payers = expected.denials(truth, ctx.period.start, ctx.period.end, chosen, by="payer")
    chart = charts["payers"]
    assert chart.labels == sorted(payers)
    for index, payer in enumerate(chart.labels):
        same(chart.series[0].values[index], payers[payer][1])


@pytest.mark.parametrize("filters", PERIODS, ids=ids)
def test_providers_page_equals_the_cleaned_rows(site_app: App, truth: Truth, filters: dict[str, Any]) -> None:
    view, ctx = page(site_app, "providers", **filters)
    tiles = tiles_of(view)
    for field, period in compared(ctx.period).items():
        found = expected.production(truth, period.start, period.end, ctx.filters.provider)
        if not found:
            assert all(getattr(tile, field) is None for tile in tiles.values())
            continue
        visits = sum(p["kept_visits"] for p in found.values())
        days = sum(p["scheduled_days"] for p in found.values())
        collections = sum((p["collections"] for p in found.values()), start=Decimal(0))
        same(getattr(tiles["kept_visits"], field), visits)
        same(getattr(tiles["visits_per_day"], field), visits / days if days else None)
        same(getattr(tiles["work_rvus"], field), sum(p["work_rvus"] for p in found.values()))
        same(getattr(tiles["charges"], field), sum((p["charges"] for p in found.values()), start=Decimal(0)))
        same(getattr(tiles["collections"], field), collections)
        per_visit = (collections / visits).quantize(Decimal("0.01")) if visits else None
        same(getattr(tiles["revenue_per_visit"], field), per_visit)
    providers = expected.production(truth, ctx.period.start, ctx.period.end, ctx.filters.provider)
    table = view.tables[0]
    assert [row[0] for row in table.rows] == sorted(providers)
    for row in table.rows:
        p = providers[str(row[0])]
        same(row[1], p["fte"])  # type: ignore[arg-type]
        same(row[2], p["kept_visits"])  # type: ignore[arg-type]
        same(row[3], p["scheduled_days"])  # type: ignore[arg-type]
        same(row[5], p["work_rvus"])  # type: ignore[arg-type]
        same(row[6], float(p["work_rvus"]) / float(p["fte"]) if p["fte"] else None)  # type: ignore[arg-type]
        same(row[7], p["lines_without_value_units"])  # type: ignore[arg-type]
        same(row[8], p["charges"])  # type: ignore[arg-type]
        same(row[9], p["collections"])  # type: ignore[arg-type]
    trend = charts_of(view)["work_rvu_trend"]
    months = trend_spans(min(ctx.period.end, ctx.today))
    for name, values in series_of(trend).items():
        for index, (_, first, last) in enumerate(months):
            found = expected.production(truth, first, last, name)
            same(values[index], found[name]["work_rvus"] if name in found else None)
    if ctx.filters.payer is not None:
        assert any("payer filter does not apply" in note for note in view.notes)
