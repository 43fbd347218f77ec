"""The dashboard's pages, and who may see each: a page shows when one of the principal's
roles in the practice sees a dataset the page needs (access.permissions.MATRIX), or holds the
duty it needs (ROLE_DUTIES). Each page's builder lives in a module of this package and is
looked up here; `build` is the one entry point the web app and the API call."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from practicelake.access.permissions import MATRIX, allows
from practicelake.access.principals import Principal
from practicelake.access.roles import EVERY_PRACTICE
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.view import Attention, Chart, PageView, PeriodView, Table, Tile


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    datasets: frozenset[str] = frozenset()
    """The page shows when the principal sees any of these datasets of the practice."""
    duty: str | None = None
    """Or when the principal holds this duty for the practice."""
    module: str | None = None
    """The module of this package whose `build(PageContext) -> PageView` draws the page's data;
    None for a page the web app draws itself (administration)."""
    filtered: bool = True
    """Whether the period and filters apply to the page (not to data health: every file)."""


PRACTICE_DATASETS = frozenset({"access", "flow", "revenue", "ar", "denials", "productivity"})
PAGES: tuple[Page, ...] = (
    Page("overview", "Overview", PRACTICE_DATASETS, module="overview"),
    Page("today", "Today", frozenset({"access", "flow"}), module="today"),
    Page("access", "Access", frozenset({"access"}), module="access"),
    Page("flow", "Patient flow", frozenset({"flow"}), module="flow"),
    Page("revenue", "Revenue cycle", frozenset({"revenue"}), module="revenue"),
    Page("ar", "A/R", frozenset({"ar"}), module="ar"),
    Page("denials", "Denials", frozenset({"denials"}), module="denials"),
    Page("providers", "Providers", frozenset({"productivity"}), module="providers"),
    Page("benchmark", "Benchmark", frozenset({"benchmark"}), module="benchmark"),
    Page("health", "Data health", duty="operations", module="health", filtered=False),
    Page("admin", "Administration", duty="users"),
)
BY_KEY = {page.key: page for page in PAGES}


def datasets_seen(principal: Principal, practice_id: str) -> frozenset[str]:
    """The datasets the principal sees of `practice_id` (benchmarks belong to no practice: an
    analyst sees them whichever practice is named)."""
    seen: set[str] = set()
    for grant in principal.grants:
        if grant.practice_id in (practice_id, EVERY_PRACTICE):
            seen |= MATRIX.get(grant.role, frozenset())
    return frozenset(seen)


def may_see(principal: Principal, page: Page, practice_id: str) -> bool:
    if page.datasets & datasets_seen(principal, practice_id):
        return True
    return page.duty is not None and allows(principal, page.duty, practice_id)


def visible_pages(principal: Principal, practice_id: str) -> list[Page]:
    return [page for page in PAGES if may_see(principal, page, practice_id)]


def builder(page: Page) -> Callable[[PageContext], PageView]:
    if page.module is None:
        raise LookupError(f"page {page.key} has no data builder")
    module = importlib.import_module(f"{__name__}.{page.module}")
    built: Callable[[PageContext], PageView] = module.build
    return built


def build(page: Page, context: PageContext) -> PageView:
    """The page's data, read as `context.principal` (the caller has checked `may_see`)."""
    return builder(page)(context)


def page_view(
    ctx: PageContext,
    key: str,
    *,
    tiles: Sequence[Tile] = (),
    attention: Sequence[Attention] = (),
    charts: Sequence[Chart] = (),
    tables: Sequence[Table] = (),
    notes: Sequence[str] = (),
    period: PeriodView | None = None,
) -> PageView:
    """The page `key` of the practice with these parts; the period shown is the context's
    unless the page fixes its own."""
    return PageView(
        page=key,
        title=BY_KEY[key].title,
        filtered=BY_KEY[key].filtered,
        practice_id=ctx.practice_id,
        practice_name=ctx.practice.name or ctx.practice_id,
        currency=ctx.practice.currency,
        locale=ctx.practice.locale,
        period=period or ctx.period_view(),
        filters=ctx.filters,
        tiles=list(tiles),
        attention=list(attention),
        charts=list(charts),
        tables=list(tables),
        notes=list(notes),
    )
