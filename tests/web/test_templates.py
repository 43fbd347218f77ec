"""The dashboard's templates rendered through the web app's own Jinja environment with real
PageView objects: hostile text stays text, nothing runs inline (the CSP would block it), money
reads in each practice's currency and locale, definitions are tied to their figures, and the
table beneath each chart holds the chart's own numbers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from babel.numbers import parse_decimal

from practicelake.dashboard.filters import BASES, PRESETS, Filters
from practicelake.dashboard.view import (
    Attention,
    Chart,
    Column,
    Definition,
    PageView,
    PeriodView,
    Series,
    Table,
    Target,
    Tile,
)
from practicelake.web.templating import figure, locale_of, templates

HOSTILE = "<script>alert('x')</script> \"quoted\" {{ 7*7 }} {% if 1 %}"
UNITS = ("count", "rate", "money", "days", "minutes", "ratio", "per_day", "rvu", "text", "date")
STAMP = datetime(2026, 6, 17, 4, 30, tzinfo=UTC)
DEFINITION = Definition(
    name="no_show_rate",
    formula="no-shows / (fulfilled + arrived + no-shows)",
    includes="appointments that should have happened",
    excludes="late cancellations",
    source="common practice (MGMA)",
)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self) -> list[Element]:
        found = [self]
        for child in self.children:
            if isinstance(child, Element):
                found += child.walk()
        return found

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e for e in self.walk() if e.tag == tag and all(e.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def by_class(self, name: str) -> list[Element]:
        return [e for e in self.walk() if name in e.attrs.get("class", "").split()]


class TreeBuilder(HTMLParser):
    VOID: ClassVar[set[str]] = {"meta", "link", "input", "img", "br", "hr", "source", "col"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Element:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


def render(name: str, **context: Any) -> str:
    defaults: dict[str, Any] = {"request": None, "viewer": None, "nav": [], "practices": []}
    return templates.env.get_template(name).render(defaults | context)


LABELS = ["2026-04", "2026-05", "2026-06"]
TILES = (  # unit, value, previous period, better
    ("count", 1234.0, 1000.0, "higher"), ("rate", 0.125, 0.1, "lower"), ("money", 1234567.5, 1300000.0, "higher"),
    ("days", 41.25, None, "lower"), ("minutes", 17.0, 17.0, None), ("ratio", 1.5, 1.2, None),
    ("per_day", 18.4, 20.0, "higher"), ("rvu", 812.3, 800.0, "higher"), ("text", 3.0, None, None),
    ("date", None, None, None),
)  # fmt: skip


def sample_view(currency: str = "ZAR", locale: str = "en-ZA", text: str = "Dr Naidoo") -> PageView:
    """A page with a tile of every unit, a chart of every kind, a table, notes and attention."""
    shared = {"definition": DEFINITION, "as_of": STAMP}
    tiles = [
        Tile.model_validate(shared | {"key": f"tile_{unit}", "label": f"{unit} {text}", "unit": unit, "value": value,
                                      "previous": previous, "year_ago": value, "better": better, "drill": "/p/P001/x"})
        for unit, value, previous, better in TILES
    ]  # fmt: skip
    tiles[1] = tiles[1].model_copy(update={"target": Target(low=0.05, high=0.1, source="MGMA")})
    money = [Series(name=text, values=[1500.25, None, 98765.5]), Series(name="Others", values=[10.0, 20.5, 0.0])]
    counts = [Series(name=text, values=[3.0, None, 12.0]), Series(name="Others", values=[0.0, 6.0, 1.0])]
    charts = [
        Chart.model_validate(shared | {"key": f"chart_{kind}", "title": f"{kind} of {text}", "kind": kind,
                                       "x_label": "Month", "y_label": "Amount", "labels": LABELS,
                                       "unit": "count" if kind == "heatmap" else "money",
                                       "series": counts if kind == "heatmap" else money, "drill": "/p/P001/rows/chart"})
        for kind in ("line", "bar", "stacked", "heatmap")
    ]  # fmt: skip
    columns = [Column(key="payer", label="Payer", unit="text"), Column(key="paid", label="Paid", unit="money"),
               Column(key="day", label="Day", unit="date")]  # fmt: skip
    table = Table(
        key="payers", title=f"Payers {text}", as_of=STAMP, columns=columns, rows=[[text, 2500.0, "2026-06-01"]]
    )
    attention = [Attention(severity="critical", title=text, detail=text, link="javascript:alert(1)"),
                 Attention(severity="warning", title="Denials", detail="up", link="/p/P001/denials")]  # fmt: skip
    period = PeriodView(start=date(2026, 5, 1), end=date(2026, 5, 31), label="May 2026")
    return PageView(page="overview", title="Overview", practice_id="P001", practice_name=f"Practice {text}",
                    currency=currency, locale=locale, period=period, filters=Filters(provider="PRV-1"), tiles=tiles,
                    charts=charts, tables=[table], attention=attention, notes=[f"withheld: {text}"],
                    choices={"provider": ["PRV-1", text], "payer": ["PAY-1"]})  # fmt: skip


def render_page(view: PageView) -> Element:
    viewer = SimpleNamespace(principal=SimpleNamespace(name="mia"), csrf_token="tok")
    nav = [{"key": "overview", "title": "Overview", "href": "/p/P001/overview", "current": True}]
    practices = [{"id": "P001", "name": "A", "href": "/p/P001", "current": True},
                 {"id": "P002", "name": "B", "href": "/p/P002", "current": False}]  # fmt: skip
    return parse(render("page.html", view=view, presets=PRESETS, bases=BASES, csv_href=lambda key: f"/csv/{key}",
                        viewer=viewer, nav=nav, practices=practices))  # fmt: skip


def every_template() -> dict[str, str]:
    viewer = SimpleNamespace(principal=SimpleNamespace(name=HOSTILE), csrf_token=HOSTILE)
    practices = [{"id": "P001", "name": HOSTILE, "href": "/p/P001", "current": True},
                 {"id": "P002", "name": "B", "href": "javascript:alert(1)", "current": False}]  # fmt: skip
    shell = {"viewer": viewer, "practices": practices, "nav": [{"title": HOSTILE, "href": "/p/x", "current": True}]}
    columns = [Column(key="provider_id", label=HOSTILE, unit="text"), Column(key="paid", label="Paid", unit="money")]
    entry = {"time": "2026-06-17T04:30:00", "kind": HOSTILE, "actor": HOSTILE, "action": "read", "target": HOSTILE,
             "practices": ["P001"], "allowed": False, "reason": HOSTILE}  # fmt: skip
    users = [{"name": HOSTILE, "disabled": False, "role": "staff"}]
    audit_filters = {"actor": HOSTILE, "kind": "admin", "practice": None, "outcome": "denied"}
    pages = {"offset": 0, "limit": 50, "next_href": "/next", "prev_href": "/prev"}
    return {
        "sign_in.html": render("sign_in.html", error=HOSTILE, next=HOSTILE, csrf_token=HOSTILE),
        "password.html": render("password.html", error=HOSTILE, done=True, csrf_token=HOSTILE, viewer=viewer),
        "page.html": render("page.html", view=sample_view(text=HOSTILE), presets=PRESETS, bases=BASES,
                            csv_href=lambda key: f"/csv/{key}", **shell),
        "rows.html": render("rows.html", title=HOSTILE, about=HOSTILE, relation=HOSTILE, columns=columns,
                            rows=[[HOSTILE, 12.5]],
                            csv_href="/csv", back_href="/back", locale="en-GB", currency="GBP", **pages, **shell),
        "error.html": render("error.html", status=403, message=HOSTILE, **shell),
        "practices.html": render("practices.html", practices=practices, viewer=viewer),
        "admin_users.html": render("admin_users.html", practice_id="P001", users=users, roles=["staff", "billing"],
                                   csrf_token=HOSTILE, message=HOSTILE, error=HOSTILE, **shell),
        "admin_audit.html": render("admin_audit.html", verification={"ok": False, "records": 1200, "message": HOSTILE},
                                   entries=[entry], filters=audit_filters, **pages, **shell),
    }  # fmt: skip


@pytest.mark.parametrize("name", list(every_template()))
def test_hostile_text_stays_text_and_nothing_runs_inline(name: str) -> None:
    html = every_template()[name]
    tree = parse(html)
    assert "<script>alert" not in html
    assert any(HOSTILE in e.text() or HOSTILE in e.attrs.values() for e in tree.walk()), "the text is shown, as text"
    assert not tree.find("style")
    for element in tree.walk():
        assert "style" not in element.attrs, element
        assert not [a for a in element.attrs if a.startswith("on")], element
        for attribute in ("href", "src", "action", "formaction"):
            assert not element.attrs.get(attribute, "").strip().lower().startswith("javascript:"), element
        if element.tag == "script":
            assert element.attrs.get("src") or element.attrs.get("type") == "application/json", element
    assert tree.find("html")[0].attrs["lang"]
    assert tree.find("main", id="main") and tree.find("a", href="#main")


def test_data_islands_are_json_that_cannot_close_their_element() -> None:
    view = sample_view(text=HOSTILE)
    tree = render_page(view)
    islands = tree.find("script", type="application/json")
    assert len(islands) == 3  # the heatmap is a table, not a canvas
    for island in islands:
        raw = island.text()
        assert "</" not in raw and "<" not in raw
        data = json.loads(raw)
        chart = next(c for c in view.charts if c.key == data["key"])
        assert data["series"][0]["name"] == HOSTILE
        assert [s["values"] for s in data["series"]] == [s.values for s in chart.series]
        assert (data["locale"], data["currency"]) == ("en-ZA", "ZAR")


@pytest.mark.parametrize(
    ("currency", "locale", "shown"),
    [
        ("ZAR", "en-ZA", "R1\xa0234\xa0567,50"),
        ("USD", "en-US", "$1,234,567.50"),
        ("GBP", "en-GB", "£1,234,567.50"),
    ],
)
def test_money_in_the_practice_currency_and_locale(currency: str, locale: str, shown: str) -> None:
    tree = render_page(sample_view(currency, locale))
    assert tree.find("html")[0].attrs["lang"] == locale
    money = next(t for t in tree.by_class("tile") if t.attrs["data-key"] == "tile_money")
    assert money.by_class("tile__value")[0].text() == shown
    paid = [td.text() for td in tree.by_class("card")[-1].find("td")]
    assert paid[1] == figure(2500.0, "money", locale, currency) and paid[1].count("2") == 1


def test_units_read_as_their_kind() -> None:
    tree = render_page(sample_view("USD", "en-US"))
    shown = {t.attrs["data-key"]: t.by_class("tile__value")[0].text() for t in tree.by_class("tile")}
    assert shown == {
        "tile_count": "1,234",
        "tile_rate": "12.5%",
        "tile_money": "$1,234,567.50",
        "tile_days": "41.2 days",
        "tile_minutes": "17 min",
        "tile_ratio": "1.50",
        "tile_per_day": "18.4 a day",
        "tile_rvu": "812.3",
        "tile_text": "3.0",
        "tile_date": "—",
    }


def test_changes_say_good_or_bad_in_colour_and_words() -> None:
    tiles = {t.attrs["data-key"]: t for t in render_page(sample_view("USD", "en-US")).by_class("tile")}

    def first_delta(key: str) -> Element:
        return tiles[key].by_class("delta")[0]

    assert "delta--good" in first_delta("tile_count").attrs["class"]
    assert "up 23.4% on the previous period, better" in first_delta("tile_count").text()
    assert "delta--bad" in first_delta("tile_rate").attrs["class"]  # a no-show rate up 2.5 points is bad
    assert "up 2.5 pts on the previous period, worse" in first_delta("tile_rate").text()
    assert "delta--bad" in first_delta("tile_money").attrs["class"]
    assert "delta--neutral" in first_delta("tile_minutes").attrs["class"]
    assert "unchanged" in first_delta("tile_minutes").text()
    assert "no comparison" in first_delta("tile_days").text()
    assert "above target" in tiles["tile_rate"].by_class("tile__target")[0].text()


def test_every_definition_is_tied_to_its_figure_by_aria_describedby() -> None:
    tree = render_page(sample_view())
    buttons = tree.find("button", class_="info")
    assert len(buttons) == 10 + 4 + 0  # ten tiles, four charts; the table has no definition
    for button in buttons:
        panel = tree.find("span", id=button.attrs["aria-describedby"])
        assert len(panel) == 1
        text = panel[0].text()
        for part in (DEFINITION.formula, DEFINITION.includes, DEFINITION.excludes, DEFINITION.source):
            assert part in text
    ids = [e.attrs["id"] for e in tree.walk() if "id" in e.attrs]
    assert len(ids) == len(set(ids)), "ids are unique"


@pytest.mark.parametrize(("currency", "locale"), [("ZAR", "en-ZA"), ("USD", "en-US")])
def test_the_table_beneath_a_chart_holds_the_chart_values(currency: str, locale: str) -> None:
    view = sample_view(currency, locale)
    tree = render_page(view)
    figures = tree.find("figure")
    assert len(figures) == len(view.charts)
    for chart, figure_element in zip(view.charts, figures, strict=True):
        table = figure_element.find("table")[0]
        body = table.find("tbody")[0].find("tr")
        if chart.kind == "heatmap":  # series are rows, labels columns
            cells = [[td.text() for td in row.find("td")] for row in body]
            expected = [list(s.values) for s in chart.series]
        else:
            cells = [[td.text() for td in row.find("td")] for row in body]
            expected = [[s.values[i] for s in chart.series] for i in range(len(chart.labels))]
            assert [row.find("th")[0].text() for row in body] == chart.labels
        assert [[number(c, currency, locale) for c in row] for row in cells] == expected


def number(text: str, currency: str, locale: str) -> float | None:
    if text == "—":
        return None
    symbol = {"ZAR": "R", "USD": "$"}[currency]
    return float(parse_decimal(text.replace(symbol, "").strip(), locale=locale_of(locale)))


def test_heatmap_cells_are_coloured_by_their_share_of_the_largest() -> None:
    heatmap = next(f for f in render_page(sample_view()).find("figure") if "chart--heatmap" in f.attrs["class"])
    levels = [
        next(c for c in td.attrs["class"].split() if c.startswith("heat-"))
        for td in heatmap.find("tbody")[0].find("td")
    ]
    assert levels == ["heat-1", "heat-0", "heat-5", "heat-0", "heat-3", "heat-0"]


def test_filter_bar_holds_the_view_state() -> None:
    tree = render_page(sample_view(text=HOSTILE))
    form = tree.find("form", class_="filters")[0]
    assert form.attrs["method"] == "get"
    selected = {
        s.attrs["name"]: [o.attrs["value"] for o in s.find("option") if "selected" in o.attrs]
        for s in form.find("select")
    }
    assert selected == {"period": ["last_month"], "provider": ["PRV-1"], "payer": [""], "basis": ["service"]}
    providers = [o.attrs["value"] for o in form.find("select", name="provider")[0].find("option")]
    assert providers == ["", "PRV-1", HOSTILE]
    assert {i.attrs["name"] for i in form.find("input")} == {"start", "end"}


def test_links_leave_neither_the_app_nor_run_script() -> None:
    tree = render_page(sample_view())
    critical = tree.by_class("attention__item--critical")[0].find("a")[0]
    assert critical.attrs["href"] == "#"
    csv = [a.attrs["href"] for a in tree.find("a") if "download" in a.attrs]
    assert csv == [f"/csv/chart_{kind}" for kind in ("line", "bar", "stacked", "heatmap")]
    sign_out = tree.find("form", action="/sign-out")[0]
    assert sign_out.attrs["method"] == "post"
    assert sign_out.find("input", name="csrf_token")[0].attrs["value"] == "tok"
    assert tree.find("meta", name="csrf-token")[0].attrs["content"] == "tok"


def test_rows_and_attention() -> None:
    html = every_template()["rows.html"]
    cells = [td.text() for td in parse(html).find("tbody")[0].find("td")]
    assert cells == [HOSTILE, "£12.50"], "money in the locale and currency the route gives"
    assert parse(html).find("html")[0].attrs["lang"] == "en-GB"
    quiet = sample_view().model_copy(update={"attention": []})
    assert not render_page(quiet).by_class("section--attention"), "no attention section without items"
    items = render_page(sample_view()).by_class("attention__item")
    assert [i.by_class("severity")[0].text() for i in items] == ["Critical", "Warning"]


def test_a_page_the_filters_do_not_apply_to_shows_no_filter_bar() -> None:
    filtered = render_page(sample_view())
    assert filtered.find("form", **{"class": "filters"})
    assert filtered.by_class("page-header__period")
    unfiltered = render_page(sample_view().model_copy(update={"filtered": False}))
    assert not unfiltered.find("form", **{"class": "filters"})
    assert not unfiltered.by_class("page-header__period")
