"""What the browser tests share: the browser's settings, the accounts per role, and a tab that
collects everything that went wrong on its pages (CSP violations, console errors, uncaught
exceptions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page

from practicelake.access.principals import Principal

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]  # fmt: skip
AXE_FOLDER = Path(__file__).parent / "vendor"
OUTPUT = Path(__file__).resolve().parents[3] / "build" / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
NOW = datetime(2026, 6, 17, 10, 0, tzinfo=UTC)
"""The app's clock: the site lake's exports end on this day (the practices' today)."""
PRACTICE = "P001"
ROLES = ("practice_owner", "practice_manager", "staff", "billing", "analyst", "platform_admin")
CROSS_PRACTICE = frozenset({"analyst", "platform_admin"})
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " blocked " + (event.blockedURI || "inline") +
    " at " + event.sourceFile + ":" + event.lineNumber);
});
"""


@dataclass(frozen=True)
class Account:
    name: str
    password: str
    role: str
    principal: Principal


@dataclass
class Tab:
    """A browser page signed in (or not) as one account, collecting what went wrong."""

    page: Page
    base: str
    problems: list[str] = field(default_factory=list)

    def go(self, path: str) -> int:
        response = self.page.goto(self.base + path, wait_until="load")
        assert response is not None
        return response.status

    def sign_in(self, account: Account) -> None:
        self.go("/sign-in")
        self.page.fill("#user", account.name)
        self.page.fill("#password", account.password)
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")
        assert "/sign-in" not in self.page.url, f"{account.name} could not sign in"

    def faults(self) -> list[str]:
        """Everything that went wrong since the last call (CSP, console, page errors)."""
        violations: list[str] = self.page.evaluate("() => window.__violations || []")
        found = [f"CSP: {v}" for v in violations] + self.problems
        self.page.evaluate("() => { window.__violations = []; }")
        self.problems.clear()
        return found
