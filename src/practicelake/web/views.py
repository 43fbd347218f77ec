"""From a request to a page's data, the same for the HTML pages and the API: which practice,
which page, which filters, whether the viewer may see it, and the `PageView` built through
the read path. A refusal is an `Refused` (403 or 404) that is on the audit log before the
viewer hears of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi import Request
from pydantic import ValidationError

from practicelake.access.principals import PRACTICE_ID, Principal
from practicelake.access.roles import EVERY_PRACTICE
from practicelake.app import App
from practicelake.clean.reconcile import LakeStatus
from practicelake.curate.snapshots import recorded_at
from practicelake.dashboard import choices
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.filters import Filters, resolve
from practicelake.dashboard.pages import BY_KEY, Page, build, may_see, visible_pages
from practicelake.dashboard.view import PageView
from practicelake.query.reader import Reader
from practicelake.settings import PracticeSettings

STAMP_SECONDS = 10.0


class Refused(Exception):
    """A request the viewer may not make, or for something that is not there."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Target:
    practice_id: str
    practice: PracticeSettings
    page: Page


def core_of(request: Request) -> App:
    core: App = request.app.state.core
    return core


def refuse(request: Request, principal: Principal, status: int, message: str, *, practice_id: str | None) -> Refused:
    """Put the refusal on the audit log, then return it to raise."""
    core = core_of(request)
    known = practice_id if practice_id and practice_id in core.settings.practices else None
    core.admin.record(
        "web.refused",
        core.admin.name(request.url.path[:200]),
        actor=principal.name,
        practices=[known] if known else None,
        allowed=False,
        reason=f"{status} {message}",
    )
    return Refused(status, message)


def practices_of(core: App, principal: Principal) -> list[str]:
    """The configured practices the principal holds a role in (every one for a `*` grant)."""
    configured = sorted(core.settings.practices)
    granted = {g.practice_id for g in principal.grants}
    if EVERY_PRACTICE in granted:
        return configured
    return [p for p in configured if p in granted]


def practice_target(request: Request, principal: Principal, practice_id: str) -> PracticeSettings:
    core = core_of(request)
    if not PRACTICE_ID.fullmatch(practice_id) or practice_id not in core.settings.practices:
        raise refuse(request, principal, 404, "no such practice", practice_id=None)
    if practice_id not in practices_of(core, principal):
        raise refuse(request, principal, 403, "you hold no role in this practice", practice_id=practice_id)
    return core.settings.practices[practice_id]


def page_target(request: Request, principal: Principal, practice_id: str, page_key: str) -> Target:
    practice = practice_target(request, principal, practice_id)
    page = BY_KEY.get(page_key)
    if page is None or page.module is None:
        raise refuse(request, principal, 404, "no such page", practice_id=practice_id)
    if not may_see(principal, page, practice_id):
        raise refuse(request, principal, 403, "your role does not show this page", practice_id=practice_id)
    return Target(practice_id, practice, page)


def parse_filters(
    request: Request, principal: Principal, query: Mapping[str, str], *, extra: frozenset[str]
) -> Filters:
    """The filters of a query string; `extra` names other parameters the route takes itself."""
    given = {k: v for k, v in query.items() if k not in extra and v != ""}
    try:
        return Filters.model_validate(given)
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors()[:3])
        raise Refused(400, f"bad filter: {problems}") from None


def _problem(error: Mapping[str, object]) -> str:
    location = error.get("loc", ())
    where = (
        ".".join(str(part) for part in location if isinstance(part, str | int)) if isinstance(location, tuple) else ""
    )
    message = str(error.get("msg", "not valid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def practice_today(request: Request, practice: PracticeSettings) -> date:
    now: datetime = request.app.state.clock()
    return now.astimezone(ZoneInfo(practice.time_zone)).date()


class Stamps:
    """When each curated table was last recorded, read again at most every STAMP_SECONDS."""

    def __init__(self, core: App) -> None:
        self.core = core
        self._lock = threading.Lock()
        self._read_at = -STAMP_SECONDS
        self._stamps: dict[str, datetime] = {}

    def __call__(self, relation: str) -> datetime | None:
        with self._lock:
            if time.monotonic() - self._read_at > STAMP_SECONDS:
                self._stamps = recorded_at(self.core.catalog)
                self._read_at = time.monotonic()
            return self._stamps.get(relation)


def stamps_of(request: Request) -> Stamps:
    state = request.app.state
    with _STAMPS_LOCK:
        if not hasattr(state, "stamps"):
            state.stamps = Stamps(state.core)
    stamps: Stamps = state.stamps
    return stamps


_STAMPS_LOCK = threading.Lock()


def context(
    request: Request, principal: Principal, practice_id: str, practice: PracticeSettings, filters: Filters,
    reader: Reader, *, operations: bool = False,
) -> PageContext:  # fmt: skip
    """What a builder is given, reading through `reader` (one of `core.reader.together()`: a
    view's reads are recorded together); `operations`: the practice's pipeline status too
    (data health)."""
    core = core_of(request)
    today = practice_today(request, practice)

    def operations_of_practice() -> LakeStatus:
        # Not a read of curated rows, so not the read path's record: its own, first.
        core.admin.record("status.read", practice_id, actor=principal.name, practices=[practice_id])
        return core.status(practice_id)

    return PageContext(
        reader=reader,
        principal=principal,
        practice_id=practice_id,
        practice=practice,
        filters=filters,
        period=resolve(filters, today),
        today=today,
        stamp=stamps_of(request),
        operations=operations_of_practice if operations else None,
    )


def page_view(request: Request, principal: Principal, practice_id: str, page_key: str, filters: Filters) -> PageView:
    """The page's data as `principal` sees it, or a refusal on record."""
    target = page_target(request, principal, practice_id, page_key)
    with core_of(request).reader.together() as reader:
        operations = target.page.duty == "operations"
        ctx = context(request, principal, practice_id, target.practice, filters, reader, operations=operations)
        offered = choices.choices(ctx)
        for name, chosen in (("provider", filters.provider), ("location", filters.location), ("payer", filters.payer)):
            if chosen is not None and chosen not in offered.get(name, []):
                raise refuse(request, principal, 404, f"no such {name} in this practice", practice_id=practice_id)
        view = build(target.page, ctx)
    return view.model_copy(update={"choices": offered})


def navigation(principal: Principal, practice_id: str, current: str | None) -> list[dict[str, object]]:
    return [
        {"key": p.key, "title": p.title, "href": _page_href(practice_id, p), "current": p.key == current}
        for p in visible_pages(principal, practice_id)
    ]


def _page_href(practice_id: str, page: Page) -> str:
    return f"/p/{practice_id}/admin/users" if page.key == "admin" else f"/p/{practice_id}/{page.key}"


def practice_links(
    core: App, principal: Principal, current: str | None, page_key: str | None
) -> list[dict[str, object]]:
    links = []
    for practice_id in practices_of(core, principal):
        shown = page_key if page_key and page_key in {p.key for p in visible_pages(principal, practice_id)} else None
        pages = visible_pages(principal, practice_id)
        if shown is None and pages:
            shown = pages[0].key
        page = BY_KEY.get(shown or "")
        links.append(
            {
                "id": practice_id,
                "name": core.settings.practices[practice_id].name or practice_id,
                "href": _page_href(practice_id, page) if page else f"/p/{practice_id}/overview",
                "current": practice_id == current,
            }
        )
    return links
