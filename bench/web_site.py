"""What the dashboard's benchmarks share: the bench lake's "today", a clock that puts the web
app on it, the pages to measure (those whose builder module exists), the bench's users, and
percentiles.

The synthetic exports end on a fixed day, so the web app is told that day is today (as the
tests' site lake does): every period preset then has data, as a practice's dashboard would.
"""

from __future__ import annotations

import importlib.util
import secrets
import statistics
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from types import MappingProxyType

from practicelake.access.principals import Principal
from practicelake.app import App
from practicelake.dashboard.filters import Preset
from practicelake.dashboard.pages import PAGES, Page
from practicelake.query import Scope

PAGE_PACKAGE = "practicelake.dashboard.pages"
OWNER = "practice_owner"
PERIODS: tuple[Preset, ...] = ("last_month", "this_quarter", "last_12_months")
"""The periods the page data is built for: the default, a part-month run, a long trend."""
DRAWN_AT = time(10, 0)
"""The time of day (UTC) the web app's clock starts at, on the bench's today."""


def bench_today(app: App) -> date:
    """The last day the bench lake's appointments reach (across every practice)."""
    table = app.query_service.run("select max(day) as last from access_daily", Scope.every_practice())
    last: date = table["last"][0].as_py()
    return last


def clock_on(today: date) -> Callable[[], datetime]:
    """A clock that runs at the real pace but starts at DRAWN_AT on `today`: sessions age and
    expire as they would, while the practices' today is the lake's last day."""
    offset = datetime.now(UTC) - datetime.combine(today, DRAWN_AT, tzinfo=UTC)

    def now() -> datetime:
        return datetime.now(UTC) - offset

    return now


def measured_pages(*, operations: bool) -> tuple[list[Page], list[str]]:
    """The pages with a data builder whose module exists (pages are still being added: a
    missing one is noted, not fatal), and the notes. `operations`: include the data-health
    page, whose data is the pipeline's own status rather than curated rows."""
    pages: list[Page] = []
    notes: list[str] = []
    for page in PAGES:
        if page.module is None or (page.duty == "operations" and not operations):
            continue
        if importlib.util.find_spec(f"{PAGE_PACKAGE}.{page.module}") is None:
            notes.append(f"page {page.key}: no builder module ({PAGE_PACKAGE}.{page.module}), not measured")
            continue
        pages.append(page)
    return pages, notes


def owner_of(practice_id: str, name: str = "bench-owner") -> Principal:
    """A practice owner of `practice_id` alone, as the read path sees one."""
    return Principal(name, "user", MappingProxyType({practice_id: OWNER}))


def spread(items: list[str], count: int) -> list[str]:
    """`count` items spread evenly over `items` (all of them when there are fewer)."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def bench_user(app: App, name: str, practice_id: str) -> str:
    """Make (or, on a rerun, reset) the user `name`, practice owner of `practice_id`, through
    the App as an operator would; its new password, which nothing prints or keeps."""
    password = secrets.token_urlsafe(24)
    if any(user.name == name for user in app.users.list_users()):
        app.reset_password(name, password)
    else:
        app.add_user(name, password)
    app.grant(name, OWNER, practice_id)
    return password


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50, p95 and max in milliseconds (nearest rank for p95); zeros for no samples."""
    if not seconds:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "max_ms": 0.0}
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": statistics.median(ordered) * 1000, "p95_ms": p95 * 1000, "max_ms": ordered[-1] * 1000}
