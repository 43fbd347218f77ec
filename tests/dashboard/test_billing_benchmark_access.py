"""The Benchmark page (the practice's own figures against the cleaned rows, the peers' against
the published benchmark tables, withheld months said plainly), and who sees what on the billing
pages: staff no money, another practice's owner nothing of P001, an analyst the peers only, an
empty period no values and no error."""

from __future__ import annotations

from datetime import date
from typing import Any

import billing_expected as expected
import pytest
from billing_pages import (
    ANALYST,
    BILLING,
    EMPTY,
    OTHER_OWNER,
    STAFF,
    charts_of,
    context,
    month_end,
    page,
    same,
    series_of,
    tiles_of,
    trend_spans,
    truth,
)
from billing_truth import Chosen, Truth

from practicelake.app import App
from practicelake.dashboard.tiles.revenue import revenue_overview
from practicelake.errors import PracticelakeError

__all__ = ["truth"]  # the module's fixture
BILLING_PAGES = ("revenue", "ar", "denials", "providers", "benchmark")
PEERS = {"no_show_rate": ("benchmark_access_monthly", "month", "no_show_rate"),
         "net_collection_rate": ("benchmark_revenue_monthly", "month", "net_collection_rate"),
         "initial_denial_rate": ("benchmark_revenue_monthly", "month", None),
         "days_in_ar": ("benchmark_ar_monthly", "as_of_date", "days_in_ar")}  # fmt: skip


def published(app: App, relation: str, column: str) -> dict[str, dict[str, Any]]:
    rows = app.catalog.load_table("curated." + relation).scan().to_arrow().to_pylist()
    return {row[column].strftime("%Y-%m"): row for row in rows}


def own_figure(truth: Truth, key: str, first: date, last: date) -> float | None:
    if key == "no_show_rate":
        counts = expected.access_month(truth, first, last)
        kept = None if counts is None else counts["kept"] + counts["no_shows"]
        return None if counts is None or not kept else counts["no_shows"] / kept
    if key == "net_collection_rate":
        served = expected.service(truth, first, last, Chosen())
        return None if served is None else served["net_collection_rate"]
    if key == "initial_denial_rate":
        acted = expected.activity(truth, first, last, Chosen())
        return None if acted is None else acted["initial_denial_rate"]
    ageing = expected.receivable(truth, last)[None]
    return ageing.days_in_ar


@pytest.mark.parametrize("filters", [{"period": "last_month"}, {"period": "year_to_date", "payer": "PYR001"}])
def test_benchmark_sets_the_practice_beside_its_peers(site_app: App, truth: Truth, filters: dict[str, Any]) -> None:
    view, ctx = page(site_app, "benchmark", **filters)
    charts = charts_of(view)
    months = trend_spans(ctx.period.end)
    for key, (relation, column, measure) in PEERS.items():
        chart = charts[key]
        assert chart.labels == [label for label, _, _ in months]
        series = series_of(chart)
        cells = published(site_app, relation, column)
        for index, (label, first, _) in enumerate(months):
            same(series["This practice"][index], own_figure(truth, key, first, month_end(first)))
            peers = cells.get(label)
            same(series["Peers, median"][index], None if peers is None else peers[f"{measure or key}_p50"])
            if "Peers, lower quartile" in series:
                same(series["Peers, lower quartile"][index], None if peers is None else peers[f"{key}_p25"])
    assert any("filters do not apply" in note for note in view.notes) == ("payer" in filters)


def test_benchmark_says_where_the_rules_withhold_a_month(site_app: App) -> None:
    view, _ = page(site_app, "benchmark", period="custom", start=date(2021, 1, 1), end=date(2021, 12, 31))
    for relation in ("benchmark_access_monthly", "benchmark_revenue_monthly", "benchmark_ar_monthly"):
        (note,) = [n for n in view.notes if f"in {relation} for" in n]
        assert "2020-12" in note and "2021-12" in note and "fewer than 5 practices contributed" in note
    for chart in view.charts:
        assert all(value is None for series in chart.series for value in series.values)


def test_an_analyst_sees_the_peers_only(site_app: App) -> None:
    view, _ = page(site_app, "benchmark", ANALYST)
    assert view.charts and all("This practice" not in series_of(chart) for chart in view.charts)
    assert any(value is not None for chart in view.charts for s in chart.series for value in s.values)
    assert any("peers' figures only" in note for note in view.notes)
    for key in ("revenue", "ar", "denials", "providers"):
        other, _ = page(site_app, key, ANALYST)
        assert not other.tiles and not other.charts and other.notes[0].endswith("not shown to this role.")


def test_staff_see_no_money_and_no_billing_figure(site_app: App) -> None:
    ctx = context(site_app, STAFF)
    assert revenue_overview(ctx) == ([], [])
    for key in BILLING_PAGES:
        view, _ = page(site_app, key, STAFF)
        assert not view.tiles and not view.charts and not view.tables
    # The read path itself refuses them the money.
    with pytest.raises(PracticelakeError):
        ctx.rows("select sum(gross_charges) as charges from revenue_service_day where practice_id = $practice_id")


def test_billing_staff_see_the_revenue_cycle_with_its_money_and_no_productivity(site_app: App) -> None:
    ctx = context(site_app, BILLING)
    keys = [tile.key for tile in revenue_overview(ctx)[0]]
    assert keys[:3] == ["gross_charges", "payments", "net_collection_rate"] and "days_in_ar" in keys
    revenue, _ = page(site_app, "revenue", BILLING)
    assert tiles_of(revenue)["gross_charges"].value is not None
    providers, _ = page(site_app, "providers", BILLING)
    assert not providers.tiles and providers.notes == ["Provider productivity is not shown to this role."]


@pytest.mark.parametrize("key", BILLING_PAGES)
def test_another_practices_owner_gets_nothing_of_p001(site_app: App, key: str) -> None:
    view, ctx = page(site_app, key, OTHER_OWNER)
    assert not view.tiles and not view.charts
    # Even asked directly, the read path shows them none of P001's rows.
    counted = ctx.rows("select count(*) as n from revenue_service_day where practice_id = $practice_id")
    assert counted == [{"n": 0}]
    assert revenue_overview(ctx) == ([], [])


@pytest.mark.parametrize("key", BILLING_PAGES)
def test_an_empty_period_shows_no_values(site_app: App, key: str) -> None:
    view, ctx = page(site_app, key, **EMPTY)
    assert view.tiles or key == "benchmark"
    assert all(value is None for tile in view.tiles for value in (tile.value, tile.previous, tile.year_ago))
    assert all(tile.definition.formula and tile.drill and tile.drill.startswith("/p/P001/rows/") for tile in view.tiles)
    if key == "ar":
        assert any("No A/R is measured on or before 2019-03-31" in note for note in view.notes)
    assert revenue_overview(ctx)[1] == []
