"""The web app: the dashboard's pages and the JSON API over one App.

Every byte of data it shows comes through the App's `Reader` (audited, scoped by role and
practice). Signing in, sessions, CSRF and throttling are web.auth; the security headers of
every response are web.headers. Nothing here reads the catalog for data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from practicelake.access.permissions import curated_tables
from practicelake.app import App
from practicelake.web import auth, headers
from practicelake.web.routes import admin, api, compare, errors, health, pages
from practicelake.web.templating import STATIC_DIR

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(core: App, *, clock: Clock | None = None, extra_static: Path | None = None) -> FastAPI:
    """The web app over `core`. `clock` gives the time (UTC) for sessions, lockouts and the
    practices' today; `extra_static` serves one more folder under /static/extra (the browser
    tests' accessibility checker: it must come from this origin under the CSP)."""
    app = FastAPI(
        title="practicelake",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.core = core
    curated_tables()  # the models are parsed once, now, not by the first requests all at once
    app.state.clock = clock or utc_now
    app.state.ready = threading.Event()  # cleared by a server that warms up first (web.server)
    app.state.ready.set()
    headers.install(app)
    auth.install(app)
    errors.install(app)
    if extra_static is not None:
        app.mount("/static/extra", StaticFiles(directory=extra_static), name="extra")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(health.router)
    app.include_router(api.router, prefix="/api/v1")
    app.include_router(admin.router)
    app.include_router(compare.router)
    app.include_router(pages.router)
    return app
