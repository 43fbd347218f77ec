"""What a person does on the dashboard, in a real browser under the CSP: hide a series from the
legend by keyboard, read a definition on focus and on hover, hover a chart for its values,
change the filters (the URL then holds the view), open the phone menu, follow a figure to its
rows, add a user through the form, be refused a practice or sent to sign in, sign out, and
print the Overview of a month."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from browsing import OUTPUT, PHONE, PRACTICE, Account, Tab

from practicelake.dashboard.filters import ID

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

OVERVIEW = f"/p/{PRACTICE}/overview"
CHARTS = f"/p/{PRACTICE}/access"
"""A page with line, bar and heatmap charts."""
A4 = {"width": 794, "height": 1123}
"""A4 at 96 dpi: the charts are drawn at the width they print at."""


def query(tab: Tab) -> dict[str, list[str]]:
    return parse_qs(urlsplit(tab.page.url).query)


def test_legend_definitions_and_hover_work_by_keyboard_and_pointer(tab: Tab, accounts: dict[str, Account]) -> None:
    tab.sign_in(accounts["practice_owner"])
    assert tab.go(CHARTS) == 200
    legend = tab.page.locator(".legend-item").first
    chart_id = legend.get_attribute("data-chart")
    canvas = tab.page.locator(f"#{chart_id}").get_attribute("data-canvas")
    visible = f"() => Chart.getChart(document.getElementById('{canvas}')).isDatasetVisible(0)"
    assert tab.page.evaluate(visible) is True
    legend.focus()
    tab.page.keyboard.press("Space")
    assert legend.get_attribute("aria-pressed") == "false"
    assert tab.page.evaluate(visible) is False
    tab.page.keyboard.press("Enter")
    assert legend.get_attribute("aria-pressed") == "true"
    assert tab.page.evaluate(visible) is True

    tab.page.hover(f"#{canvas}")
    active = f"() => Chart.getChart(document.getElementById('{canvas}')).tooltip.getActiveElements().length"
    assert tab.page.evaluate(active) > 0, "hovering a chart shows its values"

    info = tab.page.locator("li.tile button.info").first
    panel = tab.page.locator(f"#{info.get_attribute('aria-describedby')}")
    assert not panel.is_visible()
    info.focus()
    assert panel.is_visible(), "the definition shows on keyboard focus"
    assert "Formula:" in (panel.text_content() or "")
    tab.page.keyboard.press("Escape")
    assert not panel.is_visible(), "Escape closes it"
    tab.page.locator("h1").click()
    info.hover()
    assert panel.is_visible(), "the definition shows on hover"
    assert tab.faults() == []


def test_the_filter_bar_puts_the_view_in_the_url(tab: Tab, accounts: dict[str, Account]) -> None:
    tab.sign_in(accounts["practice_owner"])
    assert tab.go(OVERVIEW) == 200
    assert not tab.page.locator("#filter-start").is_visible(), "custom dates only for a custom period"
    tab.page.select_option("#filter-period", "this_quarter")
    offered = [o.get_attribute("value") or "" for o in tab.page.locator("#filter-provider option").all()]
    assert offered[0] == "" and len(offered) > 1, "All, then the practice's providers"
    assert [p for p in offered[1:] if not re.fullmatch(ID, p)] == [], "every provider offered is one the filter takes"
    provider = offered[1]
    tab.page.select_option("#filter-provider", provider)
    with tab.page.expect_navigation():
        tab.page.click(".filters button[type=submit]")
    assert query(tab) == {"period": ["this_quarter"], "provider": [provider], "basis": ["service"]}
    assert tab.page.text_content(".page-header__label") == "2026-04-01 to 2026-06-17"
    assert tab.page.locator("#filter-provider option:checked").get_attribute("value") == provider

    tab.page.select_option("#filter-period", "custom")
    assert tab.page.locator("#filter-start").is_visible()
    tab.page.fill("#filter-start", "2026-02-01")
    tab.page.fill("#filter-end", "2026-02-28")
    tab.page.select_option("#filter-provider", "")
    with tab.page.expect_navigation():
        tab.page.click(".filters button[type=submit]")
    assert query(tab) == {"period": ["custom"], "start": ["2026-02-01"], "end": ["2026-02-28"], "basis": ["service"]}
    assert tab.page.text_content(".page-header__label") == "February 2026"
    assert tab.faults() == []


def test_the_phone_menu_opens_without_script(tab: Tab, accounts: dict[str, Account]) -> None:
    tab.page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    tab.sign_in(accounts["staff"])
    assert tab.go(OVERVIEW) == 200
    assert not tab.page.locator(".site-nav").is_visible()
    links = tab.page.locator(".site-nav-menu nav a")
    assert not links.first.is_visible()
    tab.page.locator(".site-nav-menu summary").focus()
    tab.page.keyboard.press("Enter")
    assert links.first.is_visible()
    titles = [t.strip() for t in links.all_text_contents()]
    assert "Overview" in titles and "Revenue cycle" not in titles, "staff see no money pages"
    with tab.page.expect_navigation():
        links.filter(has_text="Access").click()
    assert tab.page.url.endswith(f"/p/{PRACTICE}/access")
    assert tab.faults() == []


def test_a_figure_leads_to_its_rows(tab: Tab, accounts: dict[str, Account]) -> None:
    tab.sign_in(accounts["practice_manager"])
    assert tab.go(OVERVIEW) == 200
    with tab.page.expect_navigation():
        tab.page.locator(".tile__drill").first.click()
    assert "/rows/" in tab.page.url
    assert tab.page.locator("tbody tr").count() > 0
    assert tab.page.locator("thead th").count() > 0
    assert tab.faults() == []


def test_a_manager_adds_a_user_through_the_form(tab: Tab, accounts: dict[str, Account]) -> None:
    tab.sign_in(accounts["practice_manager"])
    assert tab.go(f"/p/{PRACTICE}/admin/users") == 200
    tab.page.fill("#add-name", "front.desk")
    tab.page.fill("#add-password", "a long passphrase for the front desk")
    tab.page.select_option("#add-role", "staff")
    with tab.page.expect_navigation():
        tab.page.click("text=Add user")
    assert tab.page.text_content(".alert--ok") == "User added."
    row = tab.page.locator("table.users tbody tr", has_text="front.desk")
    assert row.locator("td").nth(1).text_content() == "staff"
    assert tab.faults() == []


def test_refused_and_signed_out(tab: Tab, accounts: dict[str, Account]) -> None:
    assert tab.go(OVERVIEW) in (200, 303)
    assert urlsplit(tab.page.url).path == "/sign-in", "signed out: sent to sign in"
    tab.faults()  # the browser logs a refused load itself
    tab.sign_in(accounts["billing"])
    assert tab.go("/p/P002/overview") == 403
    assert tab.page.text_content("h1") == "Not allowed"
    tab.faults()
    assert tab.go(OVERVIEW) == 200, tab.page.text_content("main")
    with tab.page.expect_navigation():
        tab.page.click(".account__sign-out button")
    assert tab.go(OVERVIEW) in (200, 303)
    assert urlsplit(tab.page.url).path == "/sign-in", "signed out again"


def test_the_overview_of_a_month_prints_as_a_report(tab: Tab, accounts: dict[str, Account]) -> None:
    tab.page.set_viewport_size(A4)  # type: ignore[arg-type]
    tab.sign_in(accounts["practice_owner"])
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for path, name in ((OVERVIEW, "overview"), (CHARTS, "access")):
        assert tab.go(f"{path}?period=custom&start=2026-05-01&end=2026-05-31") == 200
        tab.page.emulate_media(media="print")
        controls = ".site-header, .filters, .chart__legend, .info, .card__link, .tile__drill"
        assert tab.page.eval_on_selector_all(controls, "all => all.every(e => getComputedStyle(e).display === 'none')")
        for shown in (".page-header__practice", ".page-header__label", ".page-header__stamp .as-of"):
            assert tab.page.locator(shown).is_visible(), shown
        assert tab.page.text_content(".page-header__label") == "May 2026"
        pdf = tab.page.pdf(path=OUTPUT / f"{name}-2026-05.pdf", format="A4", print_background=True)
        pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
        assert pdf.startswith(b"%PDF-") and pages >= 2, "sections start on new pages"
        if name == "overview":
            columns = tab.page.eval_on_selector(
                ".tiles", "e => getComputedStyle(e).gridTemplateColumns.split(' ').length"
            )
            assert columns == 3, "the tiles print in a grid"
        else:
            tables = tab.page.locator(".chart__table table")
            assert tables.count() > 0 and all(t.is_visible() for t in tables.all()), "each chart prints its table"
        tab.page.emulate_media(media="screen")
    assert tab.faults() == []
