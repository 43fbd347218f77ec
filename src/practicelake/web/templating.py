"""The one Jinja environment of the web app: templates from the package, autoescaped, and
the filters that format numbers in the practice's currency and locale.

A template formats a figure by its unit: `{{ tile.value | figure(tile.unit) }}`. The locale
and currency come from the page's `view` (a PageView) when the template has one, else from
`locale` and `currency` keys of its context, else en-US and no currency symbol."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.resources import files
from typing import Any, Literal

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from practicelake.dashboard.locales import locale_of
from practicelake.dashboard.view import Cell, Chart, PageView, Table, Tile

TEMPLATES_DIR = str(files("practicelake.web") / "templates")
STATIC_DIR = str(files("practicelake.web") / "static")
MISSING = "—"
"""What a figure with no value shows (a period without data, a figure withheld)."""
HEAT_LEVELS = 6
"""The colour steps of a heatmap cell (CSS classes heat-0 .. heat-5)."""

# Decimal patterns per unit (CLDR pattern syntax); the suffix says the unit in words.
PATTERNS: dict[str, tuple[str, str]] = {
    "count": ("#,##0", ""),
    "days": ("#,##0.0", " days"),
    "minutes": ("#,##0", " min"),
    "ratio": ("#,##0.00", ""),
    "per_day": ("#,##0.0", " a day"),
    "rvu": ("#,##0.0", ""),
}


def figure(value: Cell | date, unit: str, locale: str | None, currency: str | None) -> str:
    """`value` as the page shows it: a rate (a fraction) as a percent, money in the currency,
    counts grouped, durations with their unit. None shows as a dash."""
    if value is None:
        return MISSING
    if unit == "text" or (isinstance(value, str) and unit != "date"):
        return str(value)
    where = locale_of(locale)
    if unit == "date":
        return _date(value, where)
    if isinstance(value, date):
        return _date(value, where)
    if unit == "rate":
        return str(format_percent(value, "#,##0.0%", locale=where))
    if unit == "money":
        if currency:
            return str(format_currency(value, currency, locale=where))
        return str(format_decimal(value, "#,##0.00", locale=where))
    pattern, suffix = PATTERNS.get(unit, ("#,##0.##", ""))
    return str(format_decimal(value, pattern, locale=where)) + suffix


def _date(value: object, where: Locale) -> str:
    if isinstance(value, datetime):
        return str(format_date(value.date(), "medium", locale=where))
    if isinstance(value, date):
        return str(format_date(value, "medium", locale=where))
    try:
        return str(format_date(date.fromisoformat(str(value)), "medium", locale=where))
    except ValueError:
        return str(value)


def stamp(moment: datetime | None, locale: str | None) -> str:
    """When a dataset was last curated, in UTC (the page does not know the reader's zone)."""
    if moment is None:
        return MISSING
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return str(format_datetime(utc, "d MMM y, HH:mm", tzinfo=UTC, locale=locale_of(locale))) + " UTC"


@dataclass(frozen=True)
class Change:
    """A figure against an earlier one: how it reads and whether it is good news."""

    text: str
    """The change in short: "+3.1%" or, for a rate, "+1.2 pts"."""
    direction: Literal["up", "down", "flat"]
    quality: Literal["good", "bad", "neutral"]
    words: str
    """The same in words, for the screen-reader and for anyone who cannot tell colours."""


def change(value: float | None, earlier: float | None, unit: str, better: str | None, locale: str | None,
           against: str) -> Change | None:  # fmt: skip
    """`value` against `earlier` ("the previous period", "a year ago"): rates change in
    percentage points, other figures by percent of the earlier one; None when either is missing
    or the earlier one is zero (no percent of nothing)."""
    if value is None or earlier is None:
        return None
    where = locale_of(locale)
    if unit == "rate":
        delta = (value - earlier) * 100
        size = str(format_decimal(abs(delta), "#,##0.0", locale=where)) + " pts"
    else:
        if earlier == 0:
            return None
        delta = (value - earlier) / abs(earlier) * 100
        size = str(format_decimal(abs(delta), "#,##0.0", locale=where)) + "%"
    rounded = round(delta, 1)
    direction: Literal["up", "down", "flat"] = "up" if rounded > 0 else "down" if rounded < 0 else "flat"
    quality: Literal["good", "bad", "neutral"] = "neutral"
    if better is not None and direction != "flat":
        quality = "good" if (direction == "up") == (better == "higher") else "bad"
    sign = {"up": "+", "down": "−", "flat": "±"}[direction]
    verdict = {"good": ", better", "bad": ", worse", "neutral": ""}[quality]
    moved = {"up": f"up {size}", "down": f"down {size}", "flat": "unchanged"}[direction]
    return Change(f"{sign}{size}", direction, quality, f"{moved} on {against}{verdict}")


def heat(value: Cell, chart: Chart) -> int:
    """The colour step of a heatmap cell: its share of the chart's largest value."""
    if not isinstance(value, int | float):
        return 0
    largest = max((v for s in chart.series for v in s.values if v is not None), default=0.0)
    if largest <= 0:
        return 0
    return min(HEAT_LEVELS - 1, int(value / largest * (HEAT_LEVELS - 1) + 0.5))


def island(chart: Chart, view: PageView) -> Markup:
    """A chart's data for dashboard.js, as JSON that is safe inside a <script> element
    (`<`, `>`, `&` and `'` escaped), with the locale and currency to format it in."""
    data = chart.model_dump(mode="json") | {"locale": view.locale, "currency": view.currency}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("'", "\\u0027")):
        text = text.replace(raw, escaped)
    return Markup(text)  # noqa: S704 - escaped above for a script data block


def slug(text: object) -> str:
    """`text` made fit for an element id (ids come from keys the builders choose)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-") or "x"


def local_href(href: object) -> str:
    """A link of this app only: a path, a query or a fragment; anything else (another
    origin, a `javascript:` URL) becomes a link to nowhere."""
    text = "" if href is None else str(href)
    if text.startswith(("?", "#")) or (text.startswith("/") and not text.startswith(("//", "/\\"))):
        return text
    return "#"


def latest_stamp(view: PageView) -> datetime | None:
    """The page's "as of": the newest curate among its figures."""
    parts: list[Tile | Chart | Table] = [*view.tiles, *view.charts, *view.tables]
    return max((part.as_of for part in parts if part.as_of is not None), default=None)


def _where(context: Context) -> tuple[str | None, str | None]:
    view = context.get("view")
    if isinstance(view, PageView):
        return view.locale, view.currency
    return context.get("locale"), context.get("currency")


@pass_context
def _figure(context: Context, value: Any, unit: str) -> str:
    return figure(value, unit, *_where(context))


@pass_context
def _number(context: Context, value: Any) -> str:
    return figure(value, "count" if isinstance(value, int) else "ratio", *_where(context))


@pass_context
def _money(context: Context, value: Any) -> str:
    return figure(value, "money", *_where(context))


@pass_context
def _percent(context: Context, value: Any) -> str:
    return figure(value, "rate", *_where(context))


@pass_context
def _date_filter(context: Context, value: Any) -> str:
    return figure(value, "date", *_where(context))


@pass_context
def _stamp(context: Context, value: datetime | None) -> str:
    return stamp(value, _where(context)[0])


@pass_context
def _change(context: Context, value: float | None, earlier: float | None, unit: str, better: str | None,
            against: str) -> Change | None:  # fmt: skip
    return change(value, earlier, unit, better, _where(context)[0], against)


templates = Jinja2Templates(directory=TEMPLATES_DIR)  # autoescapes .html
templates.env.filters.update(
    figure=_figure,
    number=_number,
    money=_money,
    percent=_percent,
    date=_date_filter,
    stamp=_stamp,
    heat=heat,
    slug=slug,
    local_href=local_href,
)
templates.env.globals.update(change=_change, island=island, latest_stamp=latest_stamp, figure_in=figure)
