"""A lakehouse whose curated access_daily rows are written directly (one row per practice and
month, figures chosen to be told apart), for the cross-practice stage of the real curate to
run over in about a second; and benchmark_access_monthly as readers are served it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from lakes import local_settings
from practicelake.curate.project import load_models
from practicelake.curate.runner import CurateReport, replace
from practicelake.curate.snapshots import open_pinned, pinned
from practicelake.lakehouse.catalog import ensure_table, practice_partition
from practicelake.pipeline import Lakehouse

MODEL = {m.name: m for m in load_models()}["benchmark_access_monthly"]
SOURCE = {m.name: m for m in load_models()}["access_daily"]
JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)
PRACTICES = [f"P00{n}" for n in range(1, 8)]

# Per practice: appointments that should have happened (kept + no-shows) and the no-show rate,
# in January; each later month adds 1 point to the rate. Six practices, told apart.
BASE = {"P001": (1000, 0.06), "P002": (1500, 0.09), "P003": (2000, 0.12),
        "P004": (2500, 0.15), "P005": (3000, 0.18), "P006": (3500, 0.21)}  # fmt: skip
Figures = dict[str, dict[date, tuple[int, int]]]  # practice -> month -> (kept, no-shows)


def merged(*parts: Figures) -> Figures:
    out: Figures = {}
    for part in parts:
        for practice, months in part.items():
            out.setdefault(practice, {}).update(months)
    return out


def figures(practices: Mapping[str, tuple[int, float]], months: list[date]) -> Figures:
    out: Figures = {}
    for practice, (appointments, rate) in practices.items():
        for m, month in enumerate(months):
            no_shows = round(appointments * (rate + m / 100))
            out.setdefault(practice, {})[month] = (appointments - no_shows, no_shows)
    return out


def open_lake(root: Path, **overrides: Any) -> Lakehouse:
    served = {p: {"time_zone": "UTC", "currency": "USD"} for p in PRACTICES}
    return Lakehouse.open(local_settings(root, practices=served, **overrides))


def write(lake: Lakehouse, practices: Figures) -> None:
    """Each practice's access_daily rows become one row per month with these figures."""
    table = ensure_table(lake.catalog, "curated.access_daily", SOURCE.contract.arrow_schema())
    for practice, months in practices.items():
        rows = [
            {"practice_id": practice, "provider_id": "D1", "day": month, "scheduled_appointments": kept + no_shows + 50,
             "kept_appointments": kept, "no_shows": no_shows, "cancellations": 50, "late_cancellations": 10,
             "unresolved_appointments": 0}
            for month, (kept, no_shows) in months.items()
        ]  # fmt: skip
        table_rows = pa.Table.from_pylist(rows, schema=SOURCE.contract.arrow_schema())
        replace(table, table_rows, practice_partition(practice), {})


def served(lake: Lakehouse) -> dict[date, dict[str, Any]]:
    """benchmark_access_monthly as readers are served it (at its pin), by month."""
    pin = pinned(lake.catalog)[MODEL.name]
    if pin.snapshot_id is None:
        return {}
    rows = open_pinned(lake.catalog, pin).scan(snapshot_id=pin.snapshot_id).to_arrow().to_pylist()
    assert {row["practice_id"] for row in rows} == {"*"}
    return {row["month"]: row for row in rows}


def release(lake: Lakehouse) -> dict[date, dict[str, Any]]:
    """Curate, then benchmark_access_monthly as readers are served it, by month."""
    report: CurateReport = lake.curate()
    assert report.left_out == {}
    return served(lake)
