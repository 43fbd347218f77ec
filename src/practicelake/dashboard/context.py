"""What a page builder is given: who is looking, at which practice, with which filters, and
the one way to read data, `PageContext.read` (the audited read path with the practice bound)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from practicelake.access.principals import Principal
from practicelake.clean.reconcile import LakeStatus
from practicelake.dashboard.filters import Filters, Period
from practicelake.dashboard.view import PeriodView
from practicelake.query.reader import Reader
from practicelake.settings import PracticeSettings


@dataclass(frozen=True)
class PageContext:
    reader: Reader
    principal: Principal
    practice_id: str
    practice: PracticeSettings
    filters: Filters
    period: Period
    today: date
    """The practice-local date."""
    stamp: Callable[[str], datetime | None]
    """When the last completed curate recorded the curated relation of that name."""
    operations: Callable[[], LakeStatus] | None = None
    """The pipeline's status of the practice (runs, files, quarantine), for the data-health
    page: operations data, not curated rows; given only to a principal with that duty."""

    def read(self, sql: str, **parameters: object) -> pa.Table:
        """`sql` through the read path as this principal, `$practice_id` bound to the practice
        viewed. Other `$names` come from `parameters`: values are bound, never formatted in."""
        return self.reader.read(self.principal, sql, {"practice_id": self.practice_id, **parameters})

    def rows(self, sql: str, **parameters: object) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.read(sql, **parameters).to_pylist()
        return found

    def period_view(self) -> PeriodView:
        return PeriodView(start=self.period.start, end=self.period.end, label=self.period.label())

    def link(self, path: str, **changes: object) -> str:
        """A path of this practice's dashboard with these filters (and `changes`) in its query."""
        from urllib.parse import urlencode

        query = urlencode(self.filters.query(**changes))
        return f"/p/{self.practice_id}/{path}" + (f"?{query}" if query else "")
