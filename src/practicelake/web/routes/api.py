"""The JSON API under /api/v1: every page's data, the rows beneath it, who the caller is.
Read-only for data; authorised exactly like the pages (a session, or a bearer token from
`practicelake tokens`), bounded and paginated, described by /api/v1/openapi.json."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, ValidationError

from practicelake.dashboard import drill
from practicelake.dashboard.filters import Basis, Filters, Preset
from practicelake.dashboard.pages import PAGES, visible_pages
from practicelake.dashboard.view import Column, PageView
from practicelake.web.deps import CurrentViewer
from practicelake.web.views import (
    Refused,
    context,
    core_of,
    page_view,
    practice_target,
    practices_of,
    refuse,
)

router = APIRouter(tags=["dashboard"])
PracticeId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", max_length=64)]
# The pages as an enumeration, so that the schema names them.
PageName = StrEnum("PageName", {page.key: page.key for page in PAGES if page.module})  # type: ignore[misc]
Relation = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
IdFilter = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._:/#-]{0,63}$", max_length=64)]
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A filter or paging value that cannot be applied"},
    401: {"description": "No valid session or bearer token"},
    403: {"description": "The caller's roles do not show this"},
    404: {"description": "No such practice, page, relation, provider, location or payer"},
    422: {"description": "A parameter that is not valid"},
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GrantOut(Strict):
    practice_id: str
    role: str


class PageLink(Strict):
    key: str
    title: str


class PracticeOut(Strict):
    id: str
    name: str
    currency: str
    locale: str
    time_zone: str
    pages: list[PageLink]


class Me(Strict):
    name: str
    via: str
    grants: list[GrantOut]
    practices: list[PracticeOut]


class RowsOut(Strict):
    relation: str
    description: str
    columns: list[Column]
    rows: list[list[str | float | int | bool | None]]
    offset: int
    limit: int
    next_offset: int | None


def _filters(
    period: Preset = "last_month",
    start: date | None = None,
    end: date | None = None,
    provider: str | None = None,
    location: str | None = None,
    payer: str | None = None,
    basis: Basis = "service",
) -> Filters:
    try:
        return Filters(period=period, start=start, end=end, provider=provider, location=location, payer=payer,
                       basis=basis)  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]["msg"] if exc.errors() else "not valid"
        raise Refused(400, f"bad filter: {first.removeprefix('Value error, ')}") from None


FILTER_NAMES = frozenset({"period", "start", "end", "provider", "location", "payer", "basis"})


def _only(request: Request, names: frozenset[str]) -> None:
    """A parameter the endpoint does not take is refused, not ignored: a link that says
    `practice_id=P002` must not look as if it had been applied."""
    unknown = sorted(set(request.query_params) - names)
    if unknown:
        raise Refused(400, f"unknown parameter {unknown[0][:40]!r}: the parameters are {', '.join(sorted(names))}")


def _practice(request: Request, practice_id: str) -> PracticeOut:
    core = core_of(request)
    settings = core.settings.practices[practice_id]
    return PracticeOut(
        id=practice_id,
        name=settings.name or practice_id,
        currency=settings.currency,
        locale=settings.locale,
        time_zone=settings.time_zone,
        pages=[],
    )


@router.get("/me", responses=ERRORS)
def me(request: Request, viewer: CurrentViewer) -> Me:
    """Who the caller is, their roles, and the practices and pages they may see."""
    principal = viewer.principal
    practices = []
    for practice_id in practices_of(core_of(request), principal):
        pages = [PageLink(key=p.key, title=p.title) for p in visible_pages(principal, practice_id) if p.module]
        practices.append(_practice(request, practice_id).model_copy(update={"pages": pages}))
    grants = [GrantOut(practice_id=g.practice_id, role=g.role) for g in principal.grants]
    return Me(name=principal.name, via=viewer.via, grants=grants, practices=practices)


@router.get("/practices/{practice_id}/pages/{page}", responses=ERRORS)
def page_data(
    request: Request,
    practice_id: PracticeId,
    page: PageName,
    viewer: CurrentViewer,
    period: Preset = "last_month",
    start: date | None = None,
    end: date | None = None,
    provider: IdFilter = None,
    location: IdFilter = None,
    payer: IdFilter = None,
    basis: Basis = "service",
) -> PageView:
    """A page's data (tiles, charts, tables, what needs attention) for the period and filters."""
    _only(request, FILTER_NAMES)
    filters = _filters(period, start, end, provider, location, payer, basis)
    return page_view(request, viewer.principal, practice_id, str(page.value), filters)


@router.get("/practices/{practice_id}/rows/{relation}", responses=ERRORS)
def rows(
    request: Request,
    practice_id: PracticeId,
    relation: Relation,
    viewer: CurrentViewer,
    period: Preset = "last_month",
    start: date | None = None,
    end: date | None = None,
    provider: IdFilter = None,
    location: IdFilter = None,
    payer: IdFilter = None,
    basis: Basis = "service",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> RowsOut:
    """A curated relation's rows for the practice, period and filters, a page at a time."""
    _only(request, FILTER_NAMES | {"offset", "limit"})
    principal = viewer.principal
    practice = practice_target(request, principal, practice_id)
    filters = _filters(period, start, end, provider, location, payer, basis)
    if relation not in core_of(request).reader.relations(principal) or not drill.drillable(relation):
        raise refuse(request, principal, 404, "no such table", practice_id=practice_id)
    with core_of(request).reader.together() as reader:
        found = drill.rows(context(request, principal, practice_id, practice, filters, reader), relation,
                           offset=offset, limit=limit)  # fmt: skip
    return RowsOut(
        relation=relation,
        description=found.about,
        columns=found.columns,
        rows=found.rows,
        offset=offset,
        limit=limit,
        next_offset=offset + limit if found.more else None,
    )
