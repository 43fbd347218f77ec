"""The web app over a test lake with users made through the App, a clock the test moves,
and a browser-like client that keeps cookies: the real app in-process over ASGI (httpx),
driven from plain test functions through an anyio portal."""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from anyio.from_thread import start_blocking_portal
from fastapi import FastAPI

from lakes import local_settings
from practicelake.app import App
from practicelake.web.app import create_app

BASE_URL = "https://testserver"
COOKIE_DOMAIN = "testserver.local"  # how the cookie jar names a host without a dot
SESSION = "__Host-plk_session"
PRE_SESSION = "__Host-plk_pre"
HIDDEN_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass
class Clock:
    at: datetime = field(default_factory=lambda: datetime(2026, 6, 17, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by


def new_password() -> str:
    return secrets.token_urlsafe(18)


@dataclass
class Site:
    """A web app over its own lake: `passwords` of the users made with `user`."""

    core: App
    app: FastAPI
    clock: Clock
    passwords: dict[str, str] = field(default_factory=dict)

    def user(self, name: str, role: str = "practice_owner", practice: str = "P001") -> str:
        password = new_password()
        self.core.add_user(name, password)
        self.core.grant(name, role, practice)
        self.passwords[name] = password
        return password

    def admin_records(self, action_prefix: str = "") -> list[dict[str, Any]]:
        """Every administrative record of the audit log file, as written there."""
        found = []
        for line in self.core.settings.audit_log.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record["kind"] == "admin" and str(record["details"]["action"]).startswith(action_prefix):
                found.append(record)
        return found


def make_site(root: Path, **settings: Any) -> Site:
    clock = Clock()
    core = App(local_settings(root, **settings))
    return Site(core, create_app(core, clock=clock), clock)


class Browser:
    """Requests to `app` from the client address `address`, with a cookie jar."""

    def __init__(self, app: FastAPI, address: str = "203.0.113.10", *, raise_errors: bool = True) -> None:
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal())
        transport = httpx.ASGITransport(app=app, client=(address, 50000), raise_app_exceptions=raise_errors)
        self.client = httpx.AsyncClient(transport=transport, base_url=BASE_URL)

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        return self._portal.call(functools.partial(self.client.request, method, url, **options))

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)

    @property
    def session(self) -> str | None:
        return self.client.cookies.get(SESSION)

    def plant(self, session_id: str) -> None:
        """Put `session_id` in the jar as the server's session cookie (replacing any)."""
        self.client.cookies.set(SESSION, session_id, domain=COOKIE_DOMAIN, path="/")

    def form_token(self, url: str) -> str:
        """The CSRF token of the form on the page at `url`."""
        page = self.get(url)
        assert page.status_code == 200, page.text
        found = HIDDEN_TOKEN.search(page.text)
        assert found is not None, "no csrf_token in the form"
        return found.group(1)

    def sign_in(self, user: str, password: str, next_path: str = "/") -> httpx.Response:
        token = self.form_token("/sign-in")
        fields = {"user": user, "password": password, "csrf_token": token, "next": next_path}
        return self.post("/sign-in", data=fields)

    def close(self) -> None:
        self._portal.call(self.client.aclose)
        self._stack.close()


@contextmanager
def browser(app: FastAPI, address: str = "203.0.113.10", *, raise_errors: bool = True) -> Iterator[Browser]:
    opened = Browser(app, address, raise_errors=raise_errors)
    try:
        yield opened
    finally:
        opened.close()


def signed_in(site: Site, name: str, address: str = "203.0.113.10") -> Browser:
    """A new browser signed in as `name` (close it when done)."""
    opened = Browser(site.app, address)
    response = opened.sign_in(name, site.passwords[name])
    assert response.status_code == 303, response.text
    return opened
