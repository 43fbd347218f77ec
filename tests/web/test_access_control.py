"""Every route, for every role: allowed or refused, and every refusal on the audit log. A user
of one practice who changes practice ids, provider ids, relations or periods in paths, query
strings and forms gets 403, 404 or 400, never data. Written as the attacker would try it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from auth_helper import Browser, new_password
from fastapi import FastAPI

from practicelake.app import App
from practicelake.web.app import create_app
from site_lake import SiteLake

pytestmark = pytest.mark.xdist_group("site")

USERS = {
    "ac.owner": ("practice_owner", "P001"),
    "ac.manager": ("practice_manager", "P001"),
    "ac.staff": ("staff", "P001"),
    "ac.billing": ("billing", "P001"),
    "ac.admin": ("platform_admin", None),
    "ac.analyst": ("analyst", None),
    "ac.other": ("practice_owner", "P002"),
}
# Who sees which page of P001: the roles, written out (not derived from the code).
SEES = {
    "overview": {"ac.owner", "ac.manager", "ac.staff", "ac.billing"},
    "today": {"ac.owner", "ac.manager", "ac.staff"},
    "access": {"ac.owner", "ac.manager", "ac.staff"},
    "flow": {"ac.owner", "ac.manager", "ac.staff"},
    "revenue": {"ac.owner", "ac.manager", "ac.billing"},
    "ar": {"ac.owner", "ac.manager", "ac.billing"},
    "denials": {"ac.owner", "ac.manager", "ac.billing"},
    "providers": {"ac.owner", "ac.manager"},
    "benchmark": {"ac.owner", "ac.manager", "ac.analyst"},
    "health": {"ac.owner", "ac.manager", "ac.admin"},
}
ADMIN_USERS = {"ac.manager", "ac.admin"}
AUDIT_READERS = {"ac.admin"}


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(scope="module")
def web(site: SiteLake, site_app: App) -> FastAPI:
    known = {user.name for user in site_app.users.list_users()}
    for name, (role, practice) in USERS.items():
        if name not in known:
            site_app.add_user(name, PASSWORDS[name])
            site_app.grant(name, role, practice)
    noon = datetime.combine(site.today, datetime.min.time(), UTC) + timedelta(hours=12)
    return create_app(site_app, clock=Clock(noon))


PASSWORDS = {name: new_password() for name in USERS}


@pytest.fixture(scope="module")
def browsers(web: FastAPI) -> Iterator[dict[str, Browser]]:
    opened = {}
    for number, name in enumerate(USERS):
        browser = Browser(web, address=f"198.51.100.{number + 1}")
        assert browser.sign_in(name, PASSWORDS[name]).status_code == 303
        opened[name] = browser
    yield opened
    for browser in opened.values():
        browser.close()


def refusals(core: App, actor: str) -> list[dict[str, Any]]:
    lines = core.settings.audit_log.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    return [r for r in records if r["actor"] == actor and r["outcome"] == "denied"]


@pytest.mark.parametrize("page", sorted(SEES))
@pytest.mark.parametrize("user", sorted(USERS))
def test_each_page_shows_to_its_roles_only(browsers: dict[str, Browser], site_app: App, user: str, page: str) -> None:
    before = len(refusals(site_app, user))
    response = browsers[user].get(f"/p/P001/{page}", follow_redirects=False)
    if user in SEES[page]:
        assert response.status_code == 200, response.text[:300]
        assert "P001" in response.text
    else:
        assert response.status_code == 403
        assert len(refusals(site_app, user)) == before + 1
        assert "P002" not in response.text


@pytest.mark.parametrize("page", sorted(SEES))
@pytest.mark.parametrize("user", sorted(USERS))
def test_the_api_answers_each_page_to_the_same_roles(
    browsers: dict[str, Browser], site_app: App, user: str, page: str
) -> None:
    response = browsers[user].get(f"/api/v1/practices/P001/pages/{page}")
    if user in SEES[page]:
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        assert body["practice_id"] == "P001" and body["page"] == page
    else:
        assert response.status_code == 403
        assert response.json()["detail"] in ("your role does not show this page", "you hold no role in this practice")
        assert "tiles" not in response.text


@pytest.mark.parametrize("user", sorted(USERS))
def test_administration_is_for_managers_and_the_audit_log_for_the_platform_admin(
    browsers: dict[str, Browser], user: str
) -> None:
    users_page = browsers[user].get("/p/P001/admin/users", follow_redirects=False)
    assert users_page.status_code == (200 if user in ADMIN_USERS else 403)
    audit_page = browsers[user].get("/admin/audit", follow_redirects=False)
    assert audit_page.status_code == (200 if user in AUDIT_READERS else 403)


def test_a_bearer_token_reads_what_its_owner_may(site_app: App, web: FastAPI) -> None:
    _, secret = site_app.create_token("ac.billing", days=1)
    with_token = {"Authorization": f"Bearer {secret}"}
    client = Browser(web, address="198.51.100.77")
    try:
        assert client.get("/api/v1/practices/P001/pages/revenue", headers=with_token).status_code == 200
        assert client.get("/api/v1/practices/P001/pages/access", headers=with_token).status_code == 403
        assert client.get("/api/v1/practices/P002/pages/revenue", headers=with_token).status_code == 403
        assert client.get("/api/v1/me", headers=with_token).json()["name"] == "ac.billing"
        # A token is for the API only: a page refuses it and asks for a sign-in.
        page = client.get("/p/P001/revenue", headers=with_token, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")
        assert client.get("/api/v1/me", headers={"Authorization": "Bearer plk_0000000000000000_" + "x" * 43}
                          ).status_code == 401  # fmt: skip
    finally:
        client.close()


TAMPERED = [
    "/p/P002/overview",
    "/p/P002/revenue?period=year_to_date",
    "/p/P002/rows/access_daily",
    "/p/P002/rows/access_daily.csv",
    "/p/P002/access/charts/volume.csv",
    "/p/P002/admin/users",
    "/api/v1/practices/P002/pages/overview",
    "/api/v1/practices/P002/rows/revenue_service_month",
]


@pytest.mark.parametrize("path", TAMPERED)
def test_another_practices_id_in_the_path_is_refused_and_recorded(
    browsers: dict[str, Browser], site_app: App, path: str
) -> None:
    before = len(refusals(site_app, "ac.owner"))
    response = browsers["ac.owner"].get(path, follow_redirects=False)
    assert response.status_code == 403
    assert len(refusals(site_app, "ac.owner")) == before + 1
    assert "P002" not in response.text.replace("/p/P002", "")


def _other_practice_ids(browsers: dict[str, Browser], kind: str) -> list[str]:
    theirs = browsers["ac.other"].get("/api/v1/practices/P002/pages/revenue").json()["choices"][kind]
    ours = browsers["ac.owner"].get("/api/v1/practices/P001/pages/revenue").json()["choices"][kind]
    return [value for value in theirs if value not in ours] or ["PRV9999"]


@pytest.mark.parametrize("kind", ["provider", "payer"])
def test_an_id_of_another_practice_in_the_query_string_is_not_found(
    browsers: dict[str, Browser], site_app: App, kind: str
) -> None:
    foreign = _other_practice_ids(browsers, kind)[0]
    before = len(refusals(site_app, "ac.owner"))
    for path in (f"/p/P001/revenue?{kind}={foreign}", f"/api/v1/practices/P001/pages/revenue?{kind}={foreign}"):
        response = browsers["ac.owner"].get(path)
        assert response.status_code == 404, path
    assert len(refusals(site_app, "ac.owner")) == before + 2


@pytest.mark.parametrize(
    "query",
    [
        "period=custom&start=2026-05-01&end=2026-04-01",
        "period=custom&start=2026-05-01",
        "period=custom&start=1800-01-01&end=1800-02-01",
        "period=decade",
        "start=2026-01-01&end=2026-02-01",
        "provider=%27%20or%201%3D1%20--",
        "payer=" + "A" * 500,
        "basis=cash",
        "practice_id=P002",
    ],
)
def test_a_period_or_filter_that_cannot_be_applied_is_a_clear_400(browsers: dict[str, Browser], query: str) -> None:
    for path in (f"/p/P001/access?{query}", f"/api/v1/practices/P001/pages/access?{query}"):
        response = browsers["ac.owner"].get(path)
        assert response.status_code in (400, 422), (path, response.status_code)
        assert "P002" not in response.text


@pytest.mark.parametrize(
    "practice", ["P999", "..%2FP002", "P001%27", "%2A", "*", "p001", "P001%00", "P00%31"]
)  # fmt: skip
def test_no_practice_id_trick_reaches_data(browsers: dict[str, Browser], practice: str) -> None:
    response = browsers["ac.owner"].get(f"/p/{practice}/overview", follow_redirects=False)
    if practice == "P00%31":  # the URL's own escape of "P001": the same page
        assert response.status_code == 200
        return
    assert response.status_code in (403, 404), practice
    assert "P002" not in response.text


def test_rows_beneath_a_figure_are_of_visible_relations_and_the_practice_only(browsers: dict[str, Browser]) -> None:
    staff = browsers["ac.staff"]
    assert staff.get("/p/P001/rows/revenue_service_month").status_code == 404
    assert staff.get("/p/P001/rows/ops.raw_files").status_code == 404
    assert staff.get("/api/v1/practices/P001/rows/benchmark_access_monthly").status_code == 404
    rows = browsers["ac.owner"].get("/api/v1/practices/P001/rows/access_daily?period=last_12_months&limit=500")
    assert rows.status_code == 200
    body = rows.json()
    assert body["rows"], "the owner sees the practice's rows"
    practice_at = [c["key"] for c in body["columns"]].index("practice_id")
    assert {row[practice_at] for row in body["rows"]} == {"P001"}
    assert browsers["ac.owner"].get("/api/v1/practices/P001/rows/access_daily?limit=501").status_code == 422
    page = browsers["ac.owner"].get("/p/P001/rows/access_daily?period=last_12_months")
    heading = re.search(r'<h1 class="page-header__title">([^<]*)</h1>', page.text)
    assert heading is not None and heading.group(1) == "Access by provider, location and day"
    assert body["description"].startswith("Access by provider, location and day: appointments scheduled")


def test_staff_get_no_money_from_the_rows_beneath_their_figures(browsers: dict[str, Browser]) -> None:
    rows = browsers["ac.staff"].get("/api/v1/practices/P001/rows/access_daily?period=last_12_months").json()
    assert rows["rows"]
    assert all(column["unit"] != "money" for column in rows["columns"])


def test_a_disabled_users_session_and_token_stop_at_once(site_app: App, web: FastAPI) -> None:
    password = new_password()
    site_app.add_user("ac.leaver", password)
    site_app.grant("ac.leaver", "practice_owner", "P001")
    _, secret = site_app.create_token("ac.leaver", days=1)
    browser = Browser(web, address="198.51.100.99")
    try:
        assert browser.sign_in("ac.leaver", password).status_code == 303
        assert browser.get("/p/P001/access").status_code == 200
        site_app.disable_user("ac.leaver")
        page = browser.get("/p/P001/access", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")
        assert browser.get("/api/v1/me").status_code == 401
        assert browser.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    finally:
        browser.close()


def test_a_manager_manages_users_of_their_own_practice_only(browsers: dict[str, Browser], site_app: App) -> None:
    manager = browsers["ac.manager"]
    token = manager.form_token("/p/P001/admin/users")
    added = manager.post(
        "/p/P001/admin/users",
        data={"name": "ac.newhire", "password": new_password(), "role": "staff", "csrf_token": token},
        follow_redirects=False,
    )
    assert added.status_code == 303
    held = {u.name: u for u in site_app.users.list_users()}["ac.newhire"]
    assert [(g.practice_id, g.role) for g in held.grants] == [("P001", "staff")]
    before = len(refusals(site_app, "ac.manager"))
    attempts = [
        ("/p/P002/admin/users", {"name": "ac.intruder", "password": new_password(), "role": "staff"}),
        ("/p/P001/admin/users", {"name": "ac.root", "password": new_password(), "role": "platform_admin"}),
        ("/p/P001/admin/users/ac.other/disable", {}),
        ("/p/P001/admin/users/ac.other/grant", {"role": "staff"}),
        ("/p/P001/admin/users/ac.newhire/grant", {"role": "analyst"}),
    ]
    for path, fields in attempts:
        response = manager.post(path, data=fields | {"csrf_token": token}, follow_redirects=False)
        assert response.status_code in (403, 404), path
    assert len(refusals(site_app, "ac.manager")) == before + len(attempts)
    names = {u.name for u in site_app.users.list_users()}
    assert "ac.intruder" not in names and "ac.root" not in names
    assert not {u.name: u for u in site_app.users.list_users()}["ac.other"].disabled


def test_a_change_without_the_csrf_token_is_refused(browsers: dict[str, Browser], site_app: App) -> None:
    response = browsers["ac.manager"].post(
        "/p/P001/admin/users", data={"name": "ac.forged", "password": new_password(), "role": "staff"}
    )
    assert response.status_code == 403
    assert "ac.forged" not in {u.name for u in site_app.users.list_users()}


def test_the_platform_admin_reads_the_audit_log_but_no_kpi(browsers: dict[str, Browser]) -> None:
    admin = browsers["ac.admin"]
    audit = admin.get("/admin/audit?outcome=denied")
    assert audit.status_code == 200
    assert "intact" in audit.text
    assert admin.get("/p/P001/overview").status_code == 403
    assert admin.get("/api/v1/practices/P001/rows/access_daily").status_code == 404
    assert admin.get("/admin/audit?kind=everything").status_code == 400


def test_practices_side_by_side_are_the_users_own_and_their_pages_figures(
    site_app: App, web: FastAPI, browsers: dict[str, Browser]
) -> None:
    password = new_password()
    if "ac.multi" not in {user.name for user in site_app.users.list_users()}:
        site_app.add_user("ac.multi", password)
        for practice in ("P001", "P003"):
            site_app.grant("ac.multi", "practice_owner", practice)
    else:
        site_app.reset_password("ac.multi", password)
    multi = Browser(web, address="198.51.100.120")
    try:
        assert multi.sign_in("ac.multi", password).status_code == 303
        page = multi.get("/compare?period=last_12_months")
        assert page.status_code == 200
        names = {p: site_app.settings.practices[p].name for p in ("P001", "P002", "P003")}
        assert names["P001"] in page.text and names["P003"] in page.text
        assert names["P002"] not in page.text
        overview = multi.get("/api/v1/practices/P003/pages/overview?period=last_12_months").json()
        visits = next(t for t in overview["tiles"] if t["unit"] == "count")
        assert f"{visits['value']:,.0f}" in page.text
        assert multi.get("/compare?practice=P002").status_code == 400
    finally:
        multi.close()
    single = browsers["ac.owner"].get("/compare")
    assert single.status_code == 200 and site_app.settings.practices["P002"].name not in single.text
    assert "None of your practices" in browsers["ac.analyst"].get("/compare").text
