"""Each dashboard page's data through the full read path, beside the same queries in plain
DuckDB over Parquet.

A page's data is what a request for it computes (web.views.page_view): the filter bar's
choices and the page's builder, as a practice owner, through App.reader (scoped, guarded,
audited, in the query processes). Every (sql, parameters) the builders issue is recorded;
the floor replays exactly those queries, with the same parameters, in one plain DuckDB
connection over views on the curated zone exported to Parquet, so that each build has its
floor: the same queries, with nothing of the read path around them. A query whose floor
returns another number of rows than the read path did is counted (it would mean the floor
did other work).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from practicelake.access.principals import Principal
from practicelake.app import App
from practicelake.dashboard import choices
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.filters import Filters, resolve
from practicelake.dashboard.pages import Page, build
from practicelake.query import guard
from practicelake.query.reader import Reader
from practicelake.settings import Settings
from practicelake.web.views import Stamps
from web_site import PERIODS, bench_today, measured_pages, owner_of, percentiles, spread

PRACTICES = 4
REPEATS = 2


@dataclass(frozen=True)
class Issued:
    sql: str
    parameters: dict[str, object]
    rows: int


@dataclass
class Build:
    page: str
    seconds: float
    issued: list[Issued] = field(default_factory=list)
    again: bool = False
    """A repeat of a build made before (the same page, practice and period), which the query
    service may answer from the answers it kept."""


class RecordingReader(Reader):
    """The App's read path, keeping every query it answered (and how many rows)."""

    def __init__(self, app: App) -> None:
        super().__init__(app.query_service, app.audit_log.append)
        self.issued: list[Issued] = []

    def read(self, principal: Principal, sql: str, parameters: Mapping[str, object] | None = None) -> pa.Table:
        table = super().read(principal, sql, parameters)
        self.issued.append(Issued(sql, dict(parameters or {}), table.num_rows))
        return table


def page_data(reader: RecordingReader, ctx: PageContext, page: Page) -> Build:
    """One request's page data, timed: the filter choices and the page's builder."""
    reader.issued = []
    start = time.perf_counter()
    choices.choices(ctx)
    build(page, ctx)
    return Build(page.key, time.perf_counter() - start, reader.issued)


def contexts(app: App, reader: Reader, practices: list[str], today: date) -> list[tuple[str, PageContext]]:
    stamps = Stamps(app)
    made = []
    for practice_id in practices:
        for period in PERIODS:
            filters = Filters(period=period)
            ctx = PageContext(reader=reader, principal=owner_of(practice_id), practice_id=practice_id,
                              practice=app.settings.practices[practice_id], filters=filters,
                              period=resolve(filters, today), today=today, stamp=stamps)  # fmt: skip
            made.append((f"{practice_id} {period}", ctx))
    return made


def read_path(app: App, pages: list[Page], options: Mapping[str, Any]) -> tuple[list[Build], dict[str, Any]]:
    """Every page for each practice and period, `repeats` times, after one cold pass."""
    reader = RecordingReader(app)
    today = bench_today(app)
    practices = spread(sorted(app.settings.practices), int(options.get("practices", PRACTICES)))
    made = contexts(app, reader, practices, today)
    failed: dict[str, str] = {}
    cold: dict[str, float] = {}
    builds: list[Build] = []
    passes = [[made[0]]] + [made] * int(options.get("repeats", REPEATS))
    for index, chosen in enumerate(passes):  # first: the first read of each table at its snapshot
        for _, ctx in chosen:
            for page in pages:
                if page.key in failed:
                    continue
                try:
                    built = page_data(reader, ctx, page)
                except Exception as exc:  # a page that fails is noted with its error; the others go on
                    failed[page.key] = f"{type(exc).__name__}: {str(exc)[:160]}"
                    continue
                if index == 0:
                    cold[page.key] = built.seconds
                else:
                    builds.append(Build(built.page, built.seconds, built.issued, again=index > 1 or ctx is made[0][1]))
    builds = [b for b in builds if b.page not in failed]
    return builds, {"today": today.isoformat(), "practices": practices, "cold": cold, "failed": failed}


def floor(app: App, work: Path, builds: list[Build]) -> tuple[list[float], int]:
    """Each build's queries in plain DuckDB over the Parquet export: seconds per build, and the
    number of queries whose row count differed from the read path's."""
    folder = Path(tempfile.mkdtemp(prefix="web-floor-", dir=work)) / "parquet"
    app.export(folder, "parquet")
    con = duckdb.connect()
    for file in sorted(folder.glob("*.parquet")):
        con.read_parquet(str(file)).create_view(file.stem)
    relations = {file.stem for file in folder.glob("*.parquet")}
    bound: dict[str, list[str]] = {}
    for build_ in builds:  # which $names each query binds, read once, outside the timing
        for query in build_.issued:
            if query.sql not in bound:
                bound[query.sql] = sorted(guard.verdict(query.sql, relations).placeholders)
    seconds: list[float] = []
    differing = 0
    for build_ in builds:
        start = time.perf_counter()
        counts = [
            con.execute(q.sql, {name: q.parameters[name] for name in bound[q.sql]}).to_arrow_table().num_rows
            for q in build_.issued
        ]
        seconds.append(time.perf_counter() - start)
        differing += sum(1 for q, rows in zip(build_.issued, counts, strict=True) if rows != q.rows)
    con.close()
    return seconds, differing


def measure(work: Path, settings: Settings, options: Mapping[str, Any]) -> dict[str, Any]:
    pages, notes = measured_pages(operations=False)
    with App(settings) as app:
        start = time.perf_counter()
        builds, about = read_path(app, pages, options)
        ours_seconds = time.perf_counter() - start
        plain, differing = floor(app, work, builds)
    per_page: dict[str, Any] = {}
    for page in pages:
        if page.key in about["failed"]:
            continue
        mine = [(b, s) for b, s in zip(builds, plain, strict=True) if b.page == page.key]
        per_page[page.key] = {
            "builds": len(mine),
            "queries": sum(len(b.issued) for b, _ in mine) / max(len(mine), 1),
            "cold_ms": about["cold"][page.key] * 1000,
            "ours": percentiles([b.seconds for b, _ in mine]),
            "floor": percentiles([s for _, s in mine]),
        }
    return {
        "seconds": ours_seconds,
        "pages": per_page,
        "all": {
            "ours": percentiles([b.seconds for b in builds]),
            "first": percentiles([b.seconds for b in builds if not b.again]),
            "again": percentiles([b.seconds for b in builds if b.again]),
            "floor": percentiles(plain),
            "floor_first": percentiles([s for b, s in zip(builds, plain, strict=True) if not b.again]),
            "floor_again": percentiles([s for b, s in zip(builds, plain, strict=True) if b.again]),
        },
        "differing_queries": differing,
        "queries": sum(len(b.issued) for b in builds),
        "notes": notes + [f"page {key}: failed ({why}), not measured" for key, why in about["failed"].items()],
        "practices": about["practices"],
        "periods": list(PERIODS),
        "today": about["today"],
    }
