"""Signing in through the form: where it leads, what a refusal says, the sign-in form's own
CSRF protection, and the answer to a request without an identity."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from auth_helper import PRE_SESSION, SESSION, Browser, Site, browser, make_site, new_password, signed_in


@pytest.fixture
def site(tmp_path: Path) -> Site:
    made = make_site(tmp_path)
    made.user("mia")
    return made


def test_signing_in_leads_to_the_page_asked_for(site: Site) -> None:
    with browser(site.app) as client:
        asked = client.get("/account/password?tab=1")
        assert asked.status_code == 303
        location = asked.headers["location"]
        assert urlsplit(location).path == "/sign-in"
        next_path = parse_qs(urlsplit(location).query)["next"][0]
        assert next_path == "/account/password?tab=1"
        page = client.get(location)
        assert f'name="next" value="{next_path}"' in page.text
        response = client.sign_in("mia", site.passwords["mia"], next_path)
        assert response.status_code == 303 and response.headers["location"] == next_path
        assert client.get("/account/password").status_code == 200
        me = client.get("/api/v1/me").json()
        assert me["name"] == "mia" and me["via"] == "session"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
     "/a\r\nLocation: https://evil.example", "evil.example", ""],
)  # fmt: skip
def test_only_a_local_path_is_followed_after_signing_in(site: Site, target: str) -> None:
    with browser(site.app) as client:
        response = client.sign_in("mia", site.passwords["mia"], target)
        assert response.status_code == 303
        assert response.headers["location"] == "/"


def test_a_wrong_password_and_an_unknown_user_get_the_same_refusal(site: Site) -> None:
    with browser(site.app) as client:
        wrong = client.sign_in("mia", new_password())
        unknown = client.sign_in("nobody", new_password())
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.text.replace('value="nobody"', "") == unknown.text.replace('value="nobody"', "")
        assert "Unknown user name or wrong password." in wrong.text
        assert client.session is None
        assert client.get("/account/password").status_code == 303


def test_a_disabled_user_cannot_sign_in(site: Site) -> None:
    site.core.disable_user("mia")
    with browser(site.app) as client:
        response = client.sign_in("mia", site.passwords["mia"])
        assert response.status_code == 401 and client.session is None


def test_the_sign_in_form_needs_its_own_token_and_cookie(site: Site) -> None:
    password = site.passwords["mia"]
    with browser(site.app) as client:
        token = client.form_token("/sign-in")
        pre_session = client.client.cookies.get(PRE_SESSION)
        assert pre_session and token and pre_session != token  # the form's token is not the cookie itself
        for fields in (
            {"user": "mia", "password": password},  # no token
            {"user": "mia", "password": password, "csrf_token": pre_session},  # the cookie copied as the token
            {"user": "mia", "password": password, "csrf_token": token[:-1] + ("B" if token.endswith("A") else "A")},
        ):
            refused = client.post("/sign-in", data=fields)
            assert refused.status_code == 403 and client.session is None
        cross_site = client.post(
            "/sign-in",
            data={"user": "mia", "password": password, "csrf_token": token},
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        )
        assert cross_site.status_code == 403 and client.session is None
        assert (
            client.post("/sign-in", data={"user": "mia", "password": password, "csrf_token": token}).status_code == 303
        )
        assert client.session is not None


def test_a_forged_sign_in_form_without_the_victims_cookie_fails(site: Site) -> None:
    """Login CSRF: the attacker's own token is bound to the attacker's cookie, which the
    victim's browser does not have."""
    with browser(site.app) as attacker:
        token = attacker.form_token("/sign-in")
    with browser(site.app) as victim:
        victim.get("/sign-in")  # the victim has a pre-session cookie of their own
        forged = victim.post("/sign-in", data={"user": "mia", "password": site.passwords["mia"], "csrf_token": token})
        assert forged.status_code == 403 and victim.session is None


def test_without_an_identity_the_api_answers_401_and_a_page_redirects(site: Site) -> None:
    with browser(site.app) as client:
        api = client.get("/api/v1/me")
        assert api.status_code == 401
        assert api.headers["www-authenticate"] == "Bearer"
        assert "detail" in api.json()
        page = client.get("/account/password")
        assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")
        client.plant("not-a-session")
        stale = client.get("/account/password")
        assert stale.status_code == 303
        assert f"{SESSION}=" in stale.headers["set-cookie"] and "Max-Age=0" in stale.headers["set-cookie"]


def test_a_bearer_token_works_on_the_api_only(site: Site) -> None:
    _, secret = site.core.create_token("mia", days=1)
    with browser(site.app) as client:
        bearer = {"Authorization": f"Bearer {secret}"}
        me = client.get("/api/v1/me", headers=bearer)
        assert me.status_code == 200 and me.json()["via"] == "token"
        assert client.get("/account/password", headers=bearer).status_code == 303
        for wrong in (f"Bearer {secret[:-1]}x", f"Basic {secret}", "Bearer", "Bearer plk_0123456789abcdef_x"):
            assert client.get("/api/v1/me", headers={"Authorization": wrong}).status_code == 401


def test_a_sent_token_is_the_identity_even_with_a_session(site: Site) -> None:
    client: Browser = signed_in(site, "mia")
    try:
        refused = client.get("/api/v1/me", headers={"Authorization": "Bearer plk_0123456789abcdef_wrong"})
        assert refused.status_code == 401
        assert client.get("/api/v1/me").status_code == 200
    finally:
        client.close()
