"""The dashboard's warm-up covers what its pages send: after it, no page of any role waits
for a query process to start or for the guard to check a text, and what a page shows is
what it shows without warming."""

from __future__ import annotations

from dataclasses import replace

import pytest
from appointments_truth import context, owner

from practicelake.access.principals import Principal
from practicelake.app import App
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.filters import Filters
from practicelake.dashboard.pages import build, visible_pages
from practicelake.dashboard.warm import warm_up
from practicelake.query import worker
from practicelake.query.service import WORKERS
from site_lake import SiteLake

FILTERS = [Filters(), Filters(period="last_12_months")]
ROLES = ["practice_owner", "practice_manager", "staff", "billing"]


def page_context(app: App, site: SiteLake, principal: Principal, practice_id: str, filters: Filters) -> PageContext:
    status = app.status(practice_id)
    return replace(context(app, site, principal, practice_id, filters), operations=lambda: status)


@pytest.fixture(scope="module")
def warmed(site: SiteLake) -> App:
    app = App(site.settings)
    assert warm_up(app.reader) == WORKERS
    return app


@pytest.mark.parametrize("role", ROLES)
def test_after_warming_no_page_waits_for_a_check_or_a_process(
    site: SiteLake, site_app: App, warmed: App, role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = warmed.query_service._pool
    sent: list[object] = []
    call = pool.call

    def counted(owner_: object, request: worker.Check | worker.Run, seconds: float) -> object:
        sent.append(request)
        return call(owner_, request, seconds)

    monkeypatch.setattr(pool, "call", counted)
    before = warmed.query_service.stats()
    asked_before = before.queries + before.answered_again
    practice_id = site.practice_ids[0]
    principal = owner(practice_id, role)
    for filters in FILTERS:
        for page in [page for page in visible_pages(principal, practice_id) if page.module is not None]:
            shown = build(page, page_context(warmed, site, principal, practice_id, filters))
            unwarmed = build(page, page_context(site_app, site, principal, practice_id, filters))
            assert shown == unwarmed, page.key
    checks = [request for request in sent if isinstance(request, worker.Check)]
    assert checks == []
    asked = warmed.query_service.stats()
    assert asked.queries + asked.answered_again > asked_before
    assert asked.workers_started == WORKERS
