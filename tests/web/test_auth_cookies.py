"""The cookies of signing in, as the server sets them: `__Host-` names, Secure, HttpOnly,
SameSite=Strict, Path=/, no Domain, and no life beyond the session's absolute end."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from auth_helper import PRE_SESSION, SESSION, Site, browser, make_site

SESSION_HOURS = 8


@pytest.fixture
def site(tmp_path: Path) -> Site:
    made = make_site(tmp_path, session_hours=SESSION_HOURS)
    made.user("mia")
    return made


def set_cookie(response: httpx.Response, name: str) -> tuple[str, dict[str, str]]:
    """The value and the attributes (lower-case names) of the cookie `name` set by `response`."""
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = (part.strip() for part in header.split(";"))
        cookie_name, _, value = first.partition("=")
        if cookie_name == name:
            pairs = (attribute.partition("=") for attribute in attributes)
            return value, {key.lower(): attribute_value for key, _, attribute_value in pairs}
    raise AssertionError(f"{name} not set")


def assert_host_only_and_strict(attributes: dict[str, str]) -> None:
    assert "secure" in attributes and "httponly" in attributes
    assert attributes["samesite"].lower() == "strict"
    assert attributes["path"] == "/"
    assert "domain" not in attributes


def test_the_session_cookie(site: Site) -> None:
    with browser(site.app) as client:
        response = client.sign_in("mia", site.passwords["mia"])
    value, attributes = set_cookie(response, SESSION)
    assert len(value) >= 43
    assert_host_only_and_strict(attributes)
    assert "expires" not in attributes
    assert 0 < int(attributes["max-age"]) <= SESSION_HOURS * 3600


def test_the_pre_session_cookie_of_the_sign_in_form(site: Site) -> None:
    with browser(site.app) as client:
        page = client.get("/sign-in")
        value, attributes = set_cookie(page, PRE_SESSION)
        assert len(value) >= 43 and value not in page.text  # the form carries an HMAC of it, not it
        assert_host_only_and_strict(attributes)
        signed_in = client.sign_in("mia", site.passwords["mia"])
    _, cleared = set_cookie(signed_in, PRE_SESSION)
    assert cleared["max-age"] == "0"
    assert_host_only_and_strict(cleared)


def test_sign_out_clears_the_session_cookie(site: Site) -> None:
    with browser(site.app) as client:
        client.sign_in("mia", site.passwords["mia"])
        response = client.post("/sign-out", data={"csrf_token": client.form_token("/account/password")})
    value, attributes = set_cookie(response, SESSION)
    assert value in ("", '""') and attributes["max-age"] == "0"
    assert_host_only_and_strict(attributes)
