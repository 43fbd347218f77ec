"""The dashboard's HTML pages: a practice's pages, the rows beneath a figure, a chart's data as
CSV. Thin: web.views decides and refuses, dashboard builds, the templates draw."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from practicelake.dashboard import drill
from practicelake.dashboard.filters import BASES, PRESETS
from practicelake.dashboard.pages import visible_pages
from practicelake.dashboard.view import PageView
from practicelake.query.formats import csv_text
from practicelake.web.deps import CurrentViewer, Viewer
from practicelake.web.templating import templates
from practicelake.web.views import (
    Refused,
    context,
    core_of,
    navigation,
    page_view,
    parse_filters,
    practice_links,
    practice_target,
    practices_of,
    refuse,
)

router = APIRouter(include_in_schema=False)
ROW_PAGE = 100
MOST_ROWS_PER_PAGE = 500
DEEPEST_OFFSET = 100_000


def _shell(request: Request, viewer: Viewer, practice_id: str | None, page_key: str | None) -> dict[str, Any]:
    core = core_of(request)
    principal = viewer.principal
    return {
        "viewer": viewer,
        "nav": navigation(principal, practice_id, page_key) if practice_id else [],
        "practices": practice_links(core, principal, practice_id, page_key),
    }


@router.get("/", response_class=HTMLResponse)
def home(request: Request, viewer: CurrentViewer) -> Response:
    practices = practices_of(core_of(request), viewer.principal)
    if len(practices) == 1:
        pages = visible_pages(viewer.principal, practices[0])
        if pages:
            return RedirectResponse(_href(practices[0], pages[0].key), status_code=303)
    return practices_page(request, viewer)


@router.get("/practices", response_class=HTMLResponse)
def practices_page(request: Request, viewer: CurrentViewer) -> Response:
    context = _shell(request, viewer, None, None)
    return templates.TemplateResponse(request, "practices.html", context)


@router.get("/p/{practice_id}/rows/{relation}.csv")
def rows_csv(request: Request, practice_id: str, relation: str, viewer: CurrentViewer) -> Response:
    query = dict(request.query_params)
    offset, limit = _paging(query)
    found = _rows(request, viewer, practice_id, relation, query, offset, limit)
    text = csv_text([c.key for c in found.columns], found.rows)
    return _csv(request, viewer, practice_id, f"{relation}.csv", text)


@router.get("/p/{practice_id}/rows/{relation}", response_class=HTMLResponse)
def rows_page(request: Request, practice_id: str, relation: str, viewer: CurrentViewer) -> Response:
    query = dict(request.query_params)
    offset, limit = _paging(query)
    found = _rows(request, viewer, practice_id, relation, query, offset, limit)
    base = f"/p/{practice_id}/rows/{relation}"
    filters = found.filters.query()
    practice = core_of(request).settings.practices[practice_id]
    context = _shell(request, viewer, practice_id, None) | {
        "locale": practice.locale,
        "currency": practice.currency,
        "title": found.title,
        "about": found.about,
        "relation": relation,
        "columns": found.columns,
        "rows": found.rows,
        "offset": offset,
        "limit": limit,
        "next_href": _with(base, filters, offset=offset + limit, limit=limit) if found.more else None,
        "prev_href": _with(base, filters, offset=max(0, offset - limit), limit=limit) if offset else None,
        "csv_href": _with(f"{base}.csv", filters, offset=offset, limit=limit),
        "back_href": _with(f"/p/{practice_id}/overview", filters),
    }
    return templates.TemplateResponse(request, "rows.html", context)


@router.get("/p/{practice_id}/{page_key}/charts/{chart_key}.csv")
def chart_csv(request: Request, practice_id: str, page_key: str, chart_key: str, viewer: CurrentViewer) -> Response:
    filters = parse_filters(request, viewer.principal, request.query_params, extra=frozenset())
    view = page_view(request, viewer.principal, practice_id, page_key, filters)
    found = chart_rows(view, chart_key)
    if found is None:
        raise refuse(request, viewer.principal, 404, "no such chart on this page", practice_id=practice_id)
    names, rows = found
    return _csv(request, viewer, practice_id, f"{page_key}-{chart_key}.csv", csv_text(names, rows))


@router.get("/p/{practice_id}/{page_key}", response_class=HTMLResponse)
def dashboard_page(request: Request, practice_id: str, page_key: str, viewer: CurrentViewer) -> Response:
    filters = parse_filters(request, viewer.principal, request.query_params, extra=frozenset())
    view = page_view(request, viewer.principal, practice_id, page_key, filters)
    query = filters.query()

    def csv_href(chart_key: str) -> str:
        return _with(f"/p/{practice_id}/{page_key}/charts/{chart_key}.csv", query)

    context = _shell(request, viewer, practice_id, page_key) | {
        "view": view,
        "presets": PRESETS,
        "bases": BASES,
        "csv_href": csv_href,
    }
    return templates.TemplateResponse(request, "page.html", context)


def chart_rows(view: PageView, key: str) -> tuple[list[str], list[list[Any]]] | None:
    """A chart's (or table's) data as a header and rows: one row per label, one column per
    series; numbers stay numbers."""
    for chart in view.charts:
        if chart.key == key:
            names = [chart.x_label, *(s.name for s in chart.series)]
            rows = [[label, *(s.values[i] if i < len(s.values) else None for s in chart.series)]
                    for i, label in enumerate(chart.labels)]  # fmt: skip
            return names, rows
    for table in view.tables:
        if table.key == key:
            return [c.label for c in table.columns], [list(row) for row in table.rows]
    return None


def _rows(
    request: Request, viewer: Viewer, practice_id: str, relation: str, query: dict[str, str], offset: int, limit: int
) -> drill.Rows:
    principal = viewer.principal
    practice = practice_target(request, principal, practice_id)
    filters = parse_filters(request, principal, query, extra=frozenset({"offset", "limit"}))
    if relation not in core_of(request).reader.relations(principal) or not drill.drillable(relation):
        raise refuse(request, principal, 404, "no such table", practice_id=practice_id)
    with core_of(request).reader.together() as reader:
        return drill.rows(context(request, principal, practice_id, practice, filters, reader), relation,
                          offset=offset, limit=limit)  # fmt: skip


def _paging(query: dict[str, str]) -> tuple[int, int]:
    try:
        offset = int(query.get("offset", "0"))
        limit = int(query.get("limit", str(ROW_PAGE)))
    except ValueError:
        raise Refused(400, "offset and limit are whole numbers") from None
    if not 0 <= offset <= DEEPEST_OFFSET or not 1 <= limit <= MOST_ROWS_PER_PAGE:
        raise Refused(400, f"offset is 0 to {DEEPEST_OFFSET:,} and limit 1 to {MOST_ROWS_PER_PAGE}")
    return offset, limit


def _csv(request: Request, viewer: Viewer, practice_id: str, name: str, text: str) -> Response:
    core = core_of(request)
    core.admin.record("download", name, actor=viewer.principal.name, practices=[practice_id],
                      details={"bytes": len(text.encode())})  # fmt: skip
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


def _href(practice_id: str, page_key: str) -> str:
    return f"/p/{practice_id}/admin/users" if page_key == "admin" else f"/p/{practice_id}/{page_key}"


def _with(path: str, query: dict[str, str], **more: object) -> str:
    values = query | {k: str(v) for k, v in more.items()}
    return path + (f"?{urlencode(values)}" if values else "")
