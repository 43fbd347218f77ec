"""The dashboard's warm-up covers what its pages send: after it, no page of any role waits
for a query process to start or for the guard to check a text, and what a page shows is
what it shows without warming."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from appointments_truth import context, owner
from argon2 import PasswordHasher

from practicelake.access.principals import Principal, PrincipalStore
from practicelake.app import App
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.filters import Filters
from practicelake.dashboard.pages import build, visible_pages
from practicelake.dashboard.warm import warm_up
from practicelake.query import worker
from practicelake.query.scope import Scope
from practicelake.query.service import WORKERS, QueryService
from site_lake import SiteLake

FILTERS = [Filters(), Filters(period="last_12_months")]
BENCHMARKS = {"benchmark_access_monthly", "benchmark_ar_monthly", "benchmark_revenue_monthly"}
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


def users_of(tmp_path: Path, grants: list[tuple[str, str, str]], disabled: tuple[str, ...] = ()) -> PrincipalStore:
    store = PrincipalStore(tmp_path / "users.db", hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    for name, role, practice_id in grants:
        if name not in {user.name for user in store.list_users()}:
            store.add_user(name, "a long enough password")
        store.grant(name, role, practice_id)
    for name in disabled:
        store.disable_user(name)
    return store


def test_warming_for_users_reads_each_ones_rows_before_their_first_page(site: SiteLake, tmp_path: Path) -> None:
    first, second = site.practice_ids[:2]
    users = users_of(tmp_path, [("owner-1", "practice_owner", first), ("clerk-2", "staff", second)])
    with App(site.settings) as app:
        warm_up(app.reader, users)
        held = app.query_service.stats().scanned
        assert held, "the users' rows were read while warming up"
        before = app.query_service.stats().scanned
        for name, practice_id, role in [("owner-1", first, "practice_owner"), ("clerk-2", second, "staff")]:
            principal = Principal(name, "user", users.roles(name))
            for page in [page for page in visible_pages(principal, practice_id) if page.module is not None]:
                shown = build(page, page_context(app, site, principal, practice_id, Filters()))
                # Rows held for one user's scope are that scope's: another role or practice sees its own.
                assert shown == build(page, page_context(app, site, owner(practice_id, role), practice_id, Filters()))
        again = app.query_service.stats().scanned
        # Only the benchmarks (every practice's rows, under disclosure control) are read when used.
        read_again = {name for name in again if again[name] != before.get(name)}
        assert read_again <= BENCHMARKS, "a first page read a table again"


def test_warming_holds_no_disabled_user_no_many_practice_scope_and_stops_at_the_budget(
    site: SiteLake, tmp_path: Path
) -> None:
    first, second = site.practice_ids[:2]
    grants = [("gone", "practice_owner", first), ("both", "practice_owner", first), ("both", "practice_owner", second)]
    with App(site.settings) as app:
        warm_up(app.reader, users_of(tmp_path, grants, disabled=("gone",)))
        assert app.query_service.stats().scanned == {}, "a disabled user's or a two-practice scope was read"
    scopes = [Scope(frozenset({practice_id})) for practice_id in site.practice_ids]
    with App(site.settings) as app:
        service = app.query_service
        assert service.hold(scopes) == len(scopes)
    with App(site.settings) as app, QueryService(app.catalog, cache_bytes=1, workers=1) as small:
        assert small.hold(scopes) == 1, "holding goes on past the budget, pushing out what it held"
