"""What a dashboard page shows, as data: tiles, charts, tables and what needs attention.

A page builder (dashboard.pages) reads the curated zone through the read path and returns a
`PageView`; the web app draws it as HTML and the API returns it as JSON, so the page and the
API always agree. Numbers are plain floats (money rounded to the cent); their unit says how
to show them, in the practice's currency and locale.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from practicelake.dashboard.filters import Filters

Unit = Literal["count", "rate", "money", "days", "minutes", "ratio", "per_day", "rvu", "text", "date"]
Number = float | None
Cell = str | float | None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Definition(Strict):
    """A KPI as the curated contracts define it (metrics of the model's TOML)."""

    name: str
    formula: str
    includes: str = ""
    excludes: str = ""
    source: str


class Target(Strict):
    """The band an industry figure puts a KPI in; either end may be open."""

    low: Number = None
    high: Number = None
    source: str


class Tile(Strict):
    key: str
    label: str
    unit: Unit
    value: Number
    previous: Number = None
    """The same KPI over the previous period."""
    year_ago: Number = None
    """The same KPI over the same period a year before."""
    better: Literal["higher", "lower"] | None = None
    """Which way a change is good; None: neither."""
    target: Target | None = None
    definition: Definition
    as_of: datetime | None = None
    """The last curate of the tile's dataset."""
    drill: str | None = None
    """Where the rows beneath the figure are (a path and query string of this app)."""
    note: str | None = None


class Series(Strict):
    name: str
    values: list[Number]
    """One value per label of the chart."""


class Chart(Strict):
    key: str
    title: str
    kind: Literal["line", "bar", "stacked", "heatmap"]
    x_label: str
    y_label: str
    unit: Unit
    labels: list[str]
    series: list[Series]
    definition: Definition | None = None
    as_of: datetime | None = None
    drill: str | None = None
    note: str | None = None


class Column(Strict):
    key: str
    label: str
    unit: Unit


class Table(Strict):
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]]
    definition: Definition | None = None
    as_of: datetime | None = None
    drill: str | None = None
    note: str | None = None


class Attention(Strict):
    """Something the data says to act on, with the page that explains it."""

    severity: Literal["info", "warning", "critical"]
    title: str
    detail: str
    link: str


class PeriodView(Strict):
    start: date
    end: date
    label: str


class PageView(Strict):
    page: str
    title: str
    filtered: bool = True
    """Whether the period and filters apply (and the filter bar shows)."""
    practice_id: str
    practice_name: str
    currency: str
    locale: str
    period: PeriodView
    filters: Filters
    tiles: list[Tile] = Field(default_factory=list)
    attention: list[Attention] = Field(default_factory=list)
    charts: list[Chart] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    choices: dict[str, list[str]] = Field(default_factory=dict)
    """The ids the filter bar offers: provider, location, payer (those the reader sees)."""
    notes: list[str] = Field(default_factory=list)
    """Plain statements about the page's data: a figure withheld, a filter that does not apply."""
