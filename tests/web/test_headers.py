"""The security headers on every kind of response the web app gives: pages, the API, static
files, redirects, refusals, 404s, 405s, unknown methods and unforeseen errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from auth_helper import Browser, Site, browser, make_site, signed_in

EXPECTED = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


@pytest.fixture
def site(tmp_path: Path) -> Site:
    made = make_site(tmp_path)
    made.user("mia")

    def unforeseen() -> None:
        raise RuntimeError("an error no handler foresaw")

    made.app.add_api_route("/unforeseen", unforeseen)
    return made


@pytest.fixture
def mia(site: Site) -> Iterator[Browser]:
    client = signed_in(site, "mia")
    yield client
    client.close()


def assert_secured(response: httpx.Response, *, cached: bool = False) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get_list(name) == [value], (response.request.url, name)
    if cached:
        assert "no-store" not in response.headers.get("cache-control", "")
    else:
        assert response.headers.get_list("cache-control") == ["no-store"], response.request.url


def test_pages_redirects_and_refusals(site: Site, mia: Browser) -> None:
    with browser(site.app) as stranger:
        for response, status in (
            (stranger.get("/sign-in"), 200),
            (stranger.get("/account/password"), 303),
            (stranger.sign_in("mia", "a wrong password here"), 401),
            (stranger.post("/sign-in", data={}), 403),
            (mia.get("/account/password"), 200),
            (mia.post("/sign-out", data={"csrf_token": "forged"}), 403),
        ):
            assert response.status_code == status
            assert_secured(response)


def test_the_api(site: Site) -> None:
    _, secret = site.core.create_token("mia", days=1)
    with browser(site.app) as client:
        signed_out = client.get("/api/v1/me")
        signed_in_by_token = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        missing = client.get("/api/v1/no-such-thing", headers={"Authorization": f"Bearer {secret}"})
    assert (signed_out.status_code, signed_in_by_token.status_code, missing.status_code) == (401, 200, 404)
    for response in (signed_out, signed_in_by_token, missing):
        assert_secured(response)


def test_static_files_are_secured_and_may_be_cached(site: Site) -> None:
    with browser(site.app) as client:
        style = client.get("/static/css/dashboard.css")
        missing = client.get("/static/css/no-such.css")
    assert style.status_code == 200 and missing.status_code == 404
    assert_secured(style, cached=True)
    assert_secured(missing, cached=True)


def test_not_found_and_method_not_allowed(site: Site) -> None:
    with browser(site.app) as client:
        for method, path, status in (
            ("GET", "/no-such-page", 404),
            ("GET", "/sign-out", 405),
            ("DELETE", "/sign-in", 405),
            ("PUT", "/account/password", 405),
        ):
            response = client.request(method, path)
            assert response.status_code == status, (method, path)
            assert_secured(response)


@pytest.mark.parametrize("method", ["PROPFIND", "FOO", "TRACE", "CONNECT", "PATCH"])
@pytest.mark.parametrize("path", ["/", "/sign-in", "/sign-out", "/api/v1/me", "/static/css/dashboard.css", "/nowhere"])
def test_unknown_methods_are_refused_without_a_server_error(site: Site, method: str, path: str) -> None:
    with browser(site.app) as client:
        response = client.request(method, path)
    assert 400 <= response.status_code < 500, (method, path, response.status_code)
    assert_secured(response, cached=path.startswith("/static/"))


def test_an_unforeseen_error(site: Site) -> None:
    with browser(site.app, raise_errors=False) as client:
        response = client.get("/unforeseen")
    assert response.status_code == 500
    assert "an error no handler foresaw" not in response.text
    assert_secured(response)
