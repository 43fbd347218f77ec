"""The dashboard in a real browser: the web app served over HTTPS on 127.0.0.1 from a complete
six-practice lake built by the real pipeline (tests/site_lake.py), one user per role
made through the App, and Debian's chromium driven by Playwright. Every tab listens for what
must never happen: a Content-Security-Policy violation (reported by an init script, which runs
under the page's CSP), a console error or an uncaught exception."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browsing import (
    AXE_FOLDER,
    CHROMIUM,
    CHROMIUM_ARGS,
    CROSS_PRACTICE,
    DESKTOP,
    NOW,
    PRACTICE,
    ROLES,
    WATCH,
    Account,
    Tab,
)
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Playwright, sync_playwright

from practicelake.app import App
from practicelake.web.app import create_app
from practicelake.web.server import running
from site_lake import TODAY, SiteLake


@pytest.fixture(scope="session")
def core(site_app: App) -> App:
    """The App over the suite's site lake (tests/conftest.py)."""
    return site_app


@pytest.fixture(scope="session")
def accounts(core: App) -> dict[str, Account]:
    """One user per role: practice roles in P001, cross-practice roles in every practice."""
    made: dict[str, Account] = {}
    for index, role in enumerate(ROLES):
        name, password = f"user{index}", f"pw-{index}-long enough to be a passphrase"
        core.add_user(name, password)
        core.grant(name, role, None if role in CROSS_PRACTICE else PRACTICE)
        made[role] = Account(name, password, role, core.users.authenticate_password(name, password))
    return made


@pytest.fixture(scope="session")
def base_url(site: SiteLake, core: App) -> Iterator[str]:
    assert site.today == TODAY == NOW.date()
    app = create_app(core, clock=lambda: NOW, extra_static=AXE_FOLDER)
    with running(app, site.settings) as url:
        yield url


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield launched
    launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(ignore_https_errors=True, viewport=DESKTOP, locale="en-US")  # type: ignore[arg-type]
    opened.add_init_script(WATCH)
    yield opened
    opened.close()


@pytest.fixture
def tab(context: BrowserContext, base_url: str) -> Tab:
    page = context.new_page()
    opened = Tab(page, base_url)

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            opened.problems.append(f"console: {message.text} ({message.location.get('url', '')})")

    def uncaught(error: Any) -> None:
        opened.problems.append(f"page error: {error}")

    page.on("console", console)
    page.on("pageerror", uncaught)
    return opened
