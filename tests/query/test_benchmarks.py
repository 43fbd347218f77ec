"""Benchmarks across practices: published only where enough practices contribute, small
counts withheld, no practice named."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa

from practicelake.query.benchmarks import MIN_PRACTICES, compute
from practicelake.query.session import Limits


def tables(practices_in_march: int) -> dict[str, pa.Table]:
    access, service, activity, ar = [], [], [], []
    for i in range(6):
        practice = f"P{i:03d}"
        months = [date(2024, 2, 1)] + ([date(2024, 3, 1)] if i < practices_in_march else [])
        for month in months:
            access.append({"practice_id": practice, "day": month, "kept_appointments": 1, "no_shows": i % 2,
                           "late_cancellations": 0, "scheduled_appointments": 2})  # fmt: skip
            service.append({"practice_id": practice, "service_month": month, "payments": Decimal("90.00"),
                            "adjusted_charges": Decimal(100 + i)})  # fmt: skip
            activity.append({"practice_id": practice, "month": month, "claims_initially_denied": 1,
                             "claims_adjudicated": 10})  # fmt: skip
            ar.append({"practice_id": practice, "as_of_date": month, "days_in_ar": 30.0 + i, "ar_over_90_share": 0.1})
    return {
        "access_daily": pa.Table.from_pylist(access),
        "revenue_service_month": pa.Table.from_pylist(service),
        "revenue_activity_month": pa.Table.from_pylist(activity),
        "ar_summary": pa.Table.from_pylist(ar),
    }


def test_only_months_with_enough_practices_are_published() -> None:
    out = compute(tables(practices_in_march=MIN_PRACTICES - 1), Limits())
    for name, rows in out.items():
        months = {row.get("month") or row.get("as_of_date") for row in rows.to_pylist()}
        assert months == {date(2024, 2, 1)}, name
        assert "practice_id" not in rows.column_names


def test_small_counts_are_withheld_and_percentiles_are_across_practices() -> None:
    out = compute(tables(practices_in_march=6), Limits())
    access = out["benchmark_access_monthly"].to_pylist()
    assert all(row["kept_visits"] is None for row in access)  # 6 kept visits: 1-10 is withheld
    assert access[0]["no_show_rate_p50"] == 0.25  # rates 0, 0.5 (x3 each): median of 0,0,0,.5,.5,.5
    revenue = out["benchmark_revenue_monthly"].to_pylist()
    assert all(row["claims_adjudicated"] == 60 for row in revenue)  # 60 > 10: published
    ar = out["benchmark_ar_monthly"].to_pylist()
    assert ar[0]["days_in_ar_p50"] == 32.5
