"""Each role signs in through the form and visits every page it may see, at desktop and phone
width: the numbers shown are the PageView's (built here by the page's own builder, read as that
user), nothing breaks the CSP or the console, axe-core finds no serious or critical violation,
the phone layout does not scroll sideways, and a screenshot of each is kept. A page the role
may not see is refused."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browsing import DESKTOP, NOW, PHONE, PRACTICE, ROLES, SCREENSHOTS, Account, Tab

from practicelake.app import App
from practicelake.curate.snapshots import recorded_at
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.filters import Filters, resolve
from practicelake.dashboard.pages import PAGES, Page, build, visible_pages
from practicelake.dashboard.view import PageView
from practicelake.web.templating import figure
from site_lake import SiteLake

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
}"""
SHOWN = """() => {
  const cells = (root) => [...root.querySelectorAll("tbody tr")].map(
    (row) => [...row.querySelectorAll("td")].map((cell) => cell.textContent.trim()));
  return {
    tiles: Object.fromEntries([...document.querySelectorAll("li.tile")].map(
      (tile) => [tile.dataset.key, tile.querySelector(".tile__value").textContent.trim()])),
    charts: Object.fromEntries([...document.querySelectorAll("figure.chart")].map(
      (figure) => [figure.dataset.key, cells(figure)])),
    tables: Object.fromEntries([...document.querySelectorAll("section.card[data-key]")].map(
      (card) => [card.dataset.key, cells(card)])),
    drawn: [...document.querySelectorAll("canvas")].map((c) => Boolean(Chart.getChart(c)) && c.width > 0),
  };
}"""
SETTLED = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


def path_of(page: Page) -> str:
    return f"/p/{PRACTICE}/admin/users" if page.key == "admin" else f"/p/{PRACTICE}/{page.key}"


def expected_view(core: App, account: Account, page: Page) -> PageView:
    """The page's data built here, apart from the web app, as the account reads it."""
    practice = core.settings.practices[PRACTICE]
    today = NOW.astimezone(ZoneInfo(practice.time_zone)).date()
    filters = Filters()
    stamps = recorded_at(core.catalog)
    ctx = PageContext(reader=core.reader, principal=account.principal, practice_id=PRACTICE, practice=practice,
                      filters=filters, period=resolve(filters, today), today=today, stamp=stamps.get,
                      operations=(lambda: core.status(PRACTICE)) if page.duty == "operations" else None)  # fmt: skip
    return build(page, ctx)


def expected_shown(view: PageView) -> dict[str, Any]:
    def shown(value: Any, unit: str) -> str:
        return figure(value, unit, view.locale, view.currency)

    charts = {}
    for chart in view.charts:
        if chart.kind == "heatmap":  # a row per series
            charts[chart.key] = [[shown(v, chart.unit) for v in s.values] for s in chart.series]
        else:  # the table beneath: a row per label
            charts[chart.key] = [
                [shown(s.values[i], chart.unit) for s in chart.series] for i in range(len(chart.labels))
            ]
    tables = {t.key: [[shown(cell, c.unit) for cell, c in zip(row, t.columns, strict=True)] for row in t.rows]
              or [["No rows in this period."]] for t in view.tables}  # fmt: skip
    return {"tiles": {t.key: shown(t.value, t.unit) for t in view.tiles}, "charts": charts, "tables": tables}


def accessibility(tab: Tab) -> list[str]:
    tab.page.add_script_tag(url="/static/extra/axe.min.js")
    found: list[str] = tab.page.evaluate(AXE)
    return found


def screenshots(tab: Tab, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=SCREENSHOTS / f"{name}-desktop.png", full_page=True)
    tab.page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    tab.page.evaluate(SETTLED)
    tab.page.screenshot(path=SCREENSHOTS / f"{name}-phone.png", full_page=True)


@pytest.fixture(scope="module")
def phone_checked() -> set[str]:
    """Pages axe has checked at phone width: the layout is the same whoever looks, so once each."""
    return set()


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_may_see(
    role: str, tab: Tab, accounts: dict[str, Account], core: App, phone_checked: set[str]
) -> None:
    account = accounts[role]
    tab.sign_in(account)
    assert tab.faults() == []
    allowed = visible_pages(account.principal, PRACTICE)
    assert allowed, f"{role} sees some page of {PRACTICE}"
    for page in allowed:
        tab.page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
        assert tab.go(path_of(page)) == 200, page.key
        nav = tab.page.eval_on_selector_all(".site-nav a", "links => links.map(a => a.textContent.trim())")
        assert nav == [p.title for p in allowed]
        assert tab.page.text_content(".site-nav a[aria-current=page]") == page.title
        if page.module is not None:
            view = expected_view(core, account, page)
            shown = tab.page.evaluate(SHOWN)
            assert all(shown.pop("drawn")), f"every chart of {page.key} is drawn"
            assert shown == expected_shown(view), page.key
            assert tab.page.text_content("h1") == view.title
        assert accessibility(tab) == [], f"{role} on {page.key} (desktop)"
        screenshots(tab, f"{role}-{page.key}")
        assert tab.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), page.key
        if page.key not in phone_checked:
            assert accessibility(tab) == [], f"{role} on {page.key} (phone)"
            phone_checked.add(page.key)
        assert tab.faults() == [], f"{role} on {page.key}"
    for page in PAGES:
        if page not in allowed:
            assert tab.go(path_of(page)) == 403, f"{role} is refused {page.key}"
            assert tab.page.text_content("h1") == "Not allowed"
            tab.faults()  # the browser logs the refused load itself


def check(tab: Tab, name: str) -> None:
    """axe at both widths, screenshots, no sideways scrolling on a phone, nothing broken."""
    tab.page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
    assert accessibility(tab) == [], f"{name} (desktop)"
    screenshots(tab, name)
    assert tab.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), name
    assert accessibility(tab) == [], f"{name} (phone)"
    tab.page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
    assert tab.faults() == [], name


def test_the_pages_around_the_dashboard(tab: Tab, accounts: dict[str, Account], site: SiteLake) -> None:
    """Signing in, changing a password, choosing a practice, the rows beneath a figure, the
    audit log and an error page pass the same checks as the dashboard's pages."""
    assert tab.go("/sign-in") == 200
    check(tab, "sign-in")
    operator = accounts["platform_admin"]
    tab.sign_in(operator)
    assert tab.go("/practices") == 200
    links = tab.page.locator(".choice-list a")
    assert links.count() == len(site.practice_ids), "an operator chooses among every practice"
    assert sorted(t.split()[-1] for t in links.all_inner_texts()) == sorted(site.practice_ids)
    check(tab, "practices")
    assert tab.go("/admin/audit?kind=admin") == 200
    assert tab.page.locator(".alert--ok").count() == 1, "the audit chain verifies"
    kinds = tab.page.eval_on_selector_all(
        "table.audit tbody tr td:nth-child(2)", "cells => cells.map(c => c.textContent)"
    )
    assert kinds and set(kinds) == {"admin"}
    check(tab, "audit")
    assert tab.go("/account/password") == 200
    check(tab, "password")
    tab.page.context.clear_cookies()
    tab.sign_in(accounts["practice_owner"])
    assert tab.go(f"/p/{PRACTICE}/overview") == 200
    with tab.page.expect_navigation():
        tab.page.locator(".tile__drill").first.click()
    assert tab.page.locator("tbody tr").count() > 0
    check(tab, "rows")
    assert tab.go(f"/p/{PRACTICE}/no-such-page") == 404
    tab.faults()  # the browser logs the refused load itself
    assert tab.page.text_content("h1") == "Not found"
    check(tab, "error")
