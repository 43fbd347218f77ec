"""Signing in over a real HTTPS server on 127.0.0.1 (uvicorn, the certificate verified): the
Secure cookies flow, the headers arrive, the same-origin check knows the server's own
origin, and signing out ends the session."""

from __future__ import annotations

import ssl
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from auth_helper import HIDDEN_TOKEN, SESSION, make_site

from practicelake.crypto.tls import certificate_files
from practicelake.web.server import running


def form_token(page: httpx.Response) -> str:
    found = HIDDEN_TOKEN.search(page.text)
    assert page.status_code == 200 and found is not None
    return found.group(1)


def test_sign_in_and_out_over_https(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    password = site.user("mia")
    settings = site.core.settings
    trusted = ssl.create_default_context(cafile=str(certificate_files(settings)[0]))
    with running(site.app, settings) as base_url, httpx.Client(base_url=base_url, verify=trusted) as client:
        assert urlsplit(base_url).scheme == "https"
        assert client.get("/api/v1/me").status_code == 401
        page = client.get("/sign-in")
        assert page.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        fields = {"user": "mia", "password": password, "csrf_token": form_token(page), "next": "/account/password"}
        other_origin = f"https://{urlsplit(base_url).hostname}:1"
        assert client.post("/sign-in", data=fields, headers={"Origin": other_origin}).status_code == 403
        signed_in = client.post("/sign-in", data=fields, headers={"Origin": base_url})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/account/password"
        set_cookie = signed_in.headers["set-cookie"]
        assert set_cookie.startswith(f"{SESSION}=") and "Secure" in set_cookie and "HttpOnly" in set_cookie
        me = client.get("/api/v1/me")
        assert me.status_code == 200 and me.json()["name"] == "mia" and me.headers["cache-control"] == "no-store"
        account = client.get("/account/password")
        token = form_token(account)
        assert client.post("/sign-out", data={"csrf_token": token}, headers={"Origin": other_origin}).status_code == 403
        signed_out = client.post("/sign-out", data={"csrf_token": token}, headers={"Origin": base_url})
        assert signed_out.status_code == 303
        assert client.get("/api/v1/me").status_code == 401
