"""CSRF protection of every state-changing request made with a session cookie: the session's
own token, in the form or the X-CSRF-Token header, and a browser that says it is on this site."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from auth_helper import Browser, Site, browser, make_site, signed_in


@pytest.fixture
def site(tmp_path: Path) -> Site:
    made = make_site(tmp_path)
    made.user("mia")
    made.user("ben")
    return made


@pytest.fixture
def mia(site: Site) -> Iterator[Browser]:
    client = signed_in(site, "mia")
    yield client
    client.close()


def still_signed_in(client: Browser) -> bool:
    return client.get("/api/v1/me").status_code == 200


def test_sign_out_needs_the_sessions_token(site: Site, mia: Browser) -> None:
    ben = signed_in(site, "ben")
    bens_token = ben.form_token("/account/password")
    ben.close()
    mias_token = mia.form_token("/account/password")
    assert bens_token != mias_token
    for fields in ({}, {"csrf_token": ""}, {"csrf_token": "x" * len(mias_token)}, {"csrf_token": bens_token}):
        refused = mia.post("/sign-out", data=fields)
        assert refused.status_code == 403, fields
        assert still_signed_in(mia)
    assert mia.post("/sign-out", data={"csrf_token": mias_token}).status_code == 303
    assert not still_signed_in(mia)


def test_the_token_may_come_in_the_header(mia: Browser) -> None:
    token = mia.form_token("/account/password")
    assert mia.post("/sign-out", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert mia.post("/sign-out", headers={"X-CSRF-Token": token}).status_code == 303


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver"},  # same host, other scheme: another origin
        {"Origin": "https://testserver:8443"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is not this origin
        {"Origin": "https://testserver", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "null", "Sec-Fetch-Site": "none"},
    ],
)
def test_a_request_from_another_site_is_refused_even_with_the_token(mia: Browser, headers: dict[str, str]) -> None:
    token = mia.form_token("/account/password")
    refused = mia.post("/sign-out", data={"csrf_token": token}, headers=headers)
    assert refused.status_code == 403
    assert still_signed_in(mia)


def test_a_same_origin_browser_with_the_token_is_let_through(mia: Browser) -> None:
    token = mia.form_token("/account/password")
    headers = {"Origin": "https://testserver", "Sec-Fetch-Site": "same-origin"}
    assert mia.post("/sign-out", data={"csrf_token": token}, headers=headers).status_code == 303


def test_a_form_of_this_site_under_no_referrer_is_let_through(mia: Browser) -> None:
    # With Referrer-Policy: no-referrer, Chromium posts a form with `Origin: null`; its
    # Sec-Fetch-Site (which no page can set) says same-origin.
    token = mia.form_token("/account/password")
    headers = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    assert mia.post("/sign-out", data={"csrf_token": token}, headers=headers).status_code == 303


def test_a_password_change_without_the_token_changes_nothing(site: Site, mia: Browser) -> None:
    new = "a password an attacker wants"
    fields = {"current": site.passwords["mia"], "new": new, "confirm": new}
    assert mia.post("/account/password", data=fields).status_code == 403
    assert mia.post("/account/password", data=fields | {"csrf_token": "forged"}).status_code == 403
    assert still_signed_in(mia)
    with browser(site.app) as client:
        assert client.sign_in("mia", new).status_code == 401
        assert client.sign_in("mia", site.passwords["mia"]).status_code == 303


def test_the_token_is_on_the_page_for_scripts_and_forms(mia: Browser) -> None:
    page = mia.get("/account/password")
    token = mia.form_token("/account/password")
    assert f'<meta name="csrf-token" content="{token}">' in page.text
