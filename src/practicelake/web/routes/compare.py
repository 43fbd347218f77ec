"""Practices side by side: for a user with roles in several practices, the Overview's tiles
of each practice the user may see it for, one column per practice, for the same period.
Each practice's figures are that practice's page, built through the read path as for the
page itself (a practice the user may not see is not a column, and is not read)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from practicelake.dashboard.filters import PRESETS
from practicelake.dashboard.pages import BY_KEY, may_see
from practicelake.dashboard.view import PageView
from practicelake.web.deps import CurrentViewer
from practicelake.web.templating import templates
from practicelake.web.views import Refused, core_of, page_view, parse_filters, practice_links, practices_of

router = APIRouter(include_in_schema=False)
MOST_PRACTICES = 12  # columns a screen can hold; the chooser reaches the others


@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request, viewer: CurrentViewer) -> Response:
    principal = viewer.principal
    core = core_of(request)
    query = {k: v for k, v in request.query_params.items() if k == "period"}
    if set(request.query_params) - {"period"}:
        raise Refused(400, "practices side by side take one parameter: period")
    filters = parse_filters(request, principal, query, extra=frozenset())
    shown = [p for p in practices_of(core, principal) if may_see(principal, BY_KEY["overview"], p)]
    views: list[PageView] = [page_view(request, principal, p, "overview", filters) for p in shown[:MOST_PRACTICES]]
    labels: dict[str, tuple[str, str]] = {}
    for view in views:
        for tile in view.tiles:
            labels.setdefault(tile.key, (tile.label, tile.unit))
    rows = [
        {"label": label, "unit": unit,
         "cells": [next((t for t in view.tiles if t.key == key), None) for view in views]}
        for key, (label, unit) in labels.items()
    ]  # fmt: skip
    context = {
        "viewer": viewer,
        "nav": [],
        "practices": practice_links(core, principal, None, "overview"),
        "views": views,
        "rows": rows,
        "presets": {k: v for k, v in PRESETS.items() if k != "custom"},
        "period": filters.period,
        "more": len(shown) > MOST_PRACTICES,
    }
    return templates.TemplateResponse(request, "compare.html", context)
