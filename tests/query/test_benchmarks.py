"""Benchmarks across practices are curated tables like the others (curate/models/benchmark_*):
published where enough practices contribute, small counts withheld, no practice named; the
read path serves them as any curated table, every row to a scope of every practice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyiceberg.expressions import AlwaysTrue

from curate.inputs import benchmarks
from lakes import local_settings
from practicelake.curate.project import load_models
from practicelake.curate.runner import replace
from practicelake.curate.snapshots import open_pinned, pinned
from practicelake.lakehouse.catalog import ensure_table
from practicelake.pipeline import Lakehouse
from practicelake.query import QueryService, Scope

BENCHMARKS = [m.name for m in load_models() if m.contract.cross_practice]
EVERY_ROW = {
    "benchmark_access_monthly": "select * from benchmark_access_monthly",
    "benchmark_revenue_monthly": "select * from benchmark_revenue_monthly",
    "benchmark_ar_monthly": "select * from benchmark_ar_monthly",
}


def rows(practices_in_march: int) -> dict[str, list[dict[str, Any]]]:
    access, service, activity, ar = [], [], [], []
    for i in range(6):
        practice = f"P{i:03d}"
        months = [date(2024, 2, 1)] + ([date(2024, 3, 1)] if i < practices_in_march else [])
        for month in months:
            access.append({"practice_id": practice, "provider_id": "D1", "day": month, "kept_appointments": 1,
                           "no_shows": i % 2, "late_cancellations": 0, "scheduled_appointments": 2})  # fmt: skip
            service.append({"practice_id": practice, "service_month": month, "payer_id": "A", "provider_id": "D1",
                            "payments": Decimal("90.00"), "adjusted_charges": Decimal(100 + i)})  # fmt: skip
            activity.append({"practice_id": practice, "month": month, "payer_id": "A", "provider_id": "D1",
                             "claims_initially_denied": 1, "claims_adjudicated": 10})  # fmt: skip
            ar.append({"practice_id": practice, "as_of_date": month, "days_in_ar": 30.0 + i, "ar_over_90_share": 0.1})
    return {"access_daily": access, "revenue_service_month": service, "revenue_activity_month": activity,
            "ar_summary": ar}  # fmt: skip


def test_only_months_with_enough_practices_are_published() -> None:
    out = benchmarks(**rows(practices_in_march=4))
    assert sorted(out) == sorted(BENCHMARKS)
    for name, published in out.items():
        months = {row.get("month") or row.get("as_of_date") for row in published}
        assert months == {date(2024, 2, 1)}, name
        assert {row["practice_id"] for row in published} == {"*"}  # no practice named


def test_small_counts_are_withheld_and_quantiles_are_blends_of_perturbed_figures() -> None:
    out = benchmarks(**rows(practices_in_march=6))
    access = out["benchmark_access_monthly"]
    assert all(row["kept_visits"] is None for row in access)  # 6 kept visits: 1-10 is withheld
    # Rates 0 and 0.5, three of each: the median blends 0, 0.5, 0.5, 0 (perturbed) around 0.25.
    assert all(0.25 - 0.045 <= row["no_show_rate_p50"] <= 0.25 + 0.045 for row in access)
    revenue = out["benchmark_revenue_monthly"]
    assert all(row["claims_adjudicated"] % 10 == 0 and 40 <= row["claims_adjudicated"] <= 80 for row in revenue)
    ar = out["benchmark_ar_monthly"]
    assert all(32.5 - 7 <= row["days_in_ar_p50"] <= 32.5 + 7 for row in ar)
    assert all(row["days_in_ar_p50"] != 32.5 for row in ar)  # not the exact median of the practices


def test_the_read_path_serves_the_curated_benchmarks_to_a_scope_of_every_practice(tmp_path: Path) -> None:
    served = {f"P{i:03d}": {"time_zone": "UTC", "currency": "USD"} for i in range(6)}
    lake = Lakehouse.open(local_settings(tmp_path, practices=served))
    models = {m.name: m for m in load_models()}
    everything = AlwaysTrue()
    for name, written in rows(practices_in_march=6).items():
        schema = models[name].contract.arrow_schema()
        table = ensure_table(lake.catalog, "curated." + name, schema)
        replace(
            table, pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in written], schema), everything, {}
        )
    lake.curate()
    with QueryService(lake.catalog, freshness_seconds=0) as service:
        assert sorted(EVERY_ROW) == sorted(BENCHMARKS)
        for name in BENCHMARKS:
            pin = pinned(lake.catalog)[name]
            curated = open_pinned(lake.catalog, pin).scan(snapshot_id=pin.snapshot_id).to_arrow()
            read = service.run(EVERY_ROW[name], Scope.every_practice())
            assert read.num_rows == 2 and sorted(read.to_pylist(), key=str) == sorted(curated.to_pylist(), key=str)
            assert set(read["practice_id"].to_pylist()) == {"*"}
