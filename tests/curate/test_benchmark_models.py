"""Cross-practice models, from hand-written curated rows of every practice to exact rows: what
each practice contributes to a cell (the SQL), and the published cells (curate.disclosure),
first with the perturbation set to nothing so every figure can be worked out by hand, then as
published, with a fixed test key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from curate.inputs import TEST_SECRET, benchmark_contributions, benchmarks
from practicelake.curate.contract import ModelContract
from practicelake.curate.disclosure import perturbation, publish, tolerance, window
from practicelake.curate.project import FROM_SETTINGS, Model, ModelError, load_models, ordered, reference_tables

MODELS = {m.name: m for m in load_models()}
REFERENCES = set(reference_tables()) | FROM_SETTINGS
JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)


def day(practice: str, on: date, *, kept: int, no_shows: int, late: int = 0, scheduled: int = 200) -> dict[str, Any]:
    """An access_daily row: `scheduled` appointments, of which the rest were cancelled early."""
    return {
        "practice_id": practice,
        "provider_id": "D1",
        "day": on,
        "scheduled_appointments": scheduled,
        "kept_appointments": kept,
        "no_shows": no_shows,
        "cancellations": scheduled - kept - no_shows,
        "late_cancellations": late,
        "unresolved_appointments": 0,
    }


def unperturbed(name: str) -> ModelContract:
    """The model's contract with every perturbation set to nothing (a copy: not a valid contract)."""
    contract = MODELS[name].contract
    assert contract.disclosure is not None
    measures = {
        key: measure.model_copy(update={"offset": (0.0, 0.0), "jitter": 0.0})
        for key, measure in contract.disclosure.measures.items()
    }
    return contract.model_copy(update={"disclosure": contract.disclosure.model_copy(update={"measures": measures})})


def cells(name: str, contract: ModelContract, **rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = benchmark_contributions(name, **rows)
    table = pa.Table.from_pylist(found, schema=MODELS[name].contract.contributions_schema())
    out: list[dict[str, Any]] = publish(name, contract, table, TEST_SECRET).to_pylist()
    return out


def published(month: date, kept: int, no_show: tuple[float, float, float], late: float) -> dict[str, Any]:
    """A row of benchmark_access_monthly."""
    quartiles = dict(zip(("no_show_rate_p25", "no_show_rate_p50", "no_show_rate_p75"), no_show, strict=True))
    return {"practice_id": "*", "month": month, "kept_visits": kept} | quartiles | {"late_cancellation_rate_p50": late}


# -- what each practice contributes -------------------------------------------------------


def test_a_practice_contributes_its_months_access_figures() -> None:
    rows = [
        day("P001", date(2024, 1, 3), kept=6, no_shows=2, late=1, scheduled=10),
        day("P001", date(2024, 1, 20), kept=4, no_shows=0, scheduled=5),
        day("P001", date(2024, 2, 1), kept=0, no_shows=0, late=2, scheduled=4),
        day("P002", date(2024, 1, 31), kept=0, no_shows=0, scheduled=0),  # nothing scheduled: no figure
    ]
    january = {"kept_visits": 10, "no_show_rate": 2 / 12, "late_cancellation_rate": 1 / 15}
    february = {"kept_visits": 0, "no_show_rate": None, "late_cancellation_rate": 0.5}
    assert benchmark_contributions("benchmark_access_monthly", access_daily=rows) == [
        {"practice_id": "P001", "month": JAN} | january,
        {"practice_id": "P001", "month": FEB} | february,
    ]


def test_a_practice_contributes_to_a_revenue_month_with_collections_or_with_adjudications() -> None:
    service = [
        {"practice_id": "P001", "service_month": JAN, "payer_id": "A", "provider_id": "D1",
         "payments": Decimal("90.00"), "adjusted_charges": Decimal("100.00")},
        {"practice_id": "P001", "service_month": JAN, "payer_id": "B", "provider_id": "D1",
         "payments": Decimal("45.00"), "adjusted_charges": Decimal("50.00")},
        {"practice_id": "P002", "service_month": FEB, "payer_id": "A", "provider_id": "D1",
         "payments": Decimal("0.00"), "adjusted_charges": Decimal("0.00")},
    ]  # fmt: skip
    activity = [
        {"practice_id": "P001", "month": JAN, "payer_id": "A", "provider_id": "D1",
         "claims_adjudicated": 5, "claims_initially_denied": 1},
        {"practice_id": "P001", "month": JAN, "payer_id": "B", "provider_id": "D1",
         "claims_adjudicated": 3, "claims_initially_denied": 1},
        {"practice_id": "P003", "month": JAN, "payer_id": "A", "provider_id": "D1",
         "claims_adjudicated": 0, "claims_initially_denied": 0},
    ]  # fmt: skip
    found = benchmark_contributions(
        "benchmark_revenue_monthly", revenue_service_month=service, revenue_activity_month=activity
    )
    assert found == [
        {"practice_id": "P001", "month": JAN, "claims_adjudicated": 8, "net_collection_rate": 0.9,
         "initial_denial_rate": 0.25},
        {"practice_id": "P002", "month": FEB, "claims_adjudicated": None, "net_collection_rate": None,
         "initial_denial_rate": None},
        {"practice_id": "P003", "month": JAN, "claims_adjudicated": 0, "net_collection_rate": None,
         "initial_denial_rate": None},
    ]  # fmt: skip


def test_a_practice_contributes_its_month_ends_ar_figures() -> None:
    end = date(2024, 1, 31)
    summary = [
        {"practice_id": "P001", "as_of_date": end, "days_in_ar": 41.5, "ar_over_90_share": 0.2},
        {"practice_id": "P002", "as_of_date": end, "days_in_ar": None, "ar_over_90_share": 0.1},
        {"practice_id": "P003", "as_of_date": end, "days_in_ar": None, "ar_over_90_share": None},
    ]
    assert benchmark_contributions("benchmark_ar_monthly", ar_summary=summary) == [
        {"practice_id": "P001", "as_of_date": end, "days_in_ar": 41.5, "ar_over_90_share": 0.2},
        {"practice_id": "P002", "as_of_date": end, "days_in_ar": None, "ar_over_90_share": 0.1},
    ]


# -- the published cells, perturbation set to nothing --------------------------------------


def five_then_four_then_six() -> list[dict[str, Any]]:
    """No-show rates 0.1, 0.2, ... (kept + no-shows = 100), late cancellation rates 0.01, 0.02, ...:
    five practices in January, four in February, six in March."""
    rows = []
    for i, count in enumerate(range(1, 7)):
        practice = f"P00{count}"
        for month, present in ((JAN, count <= 5), (FEB, count <= 4), (MAR, True)):
            if present:
                rows.append(day(practice, month, kept=100 - 10 * count, no_shows=10 * count, late=2 * (i + 1)))
    return rows


def test_cells_are_published_where_enough_practices_contribute_and_quantiles_blend_neighbours() -> None:
    found = cells(
        "benchmark_access_monthly", unperturbed("benchmark_access_monthly"), access_daily=five_then_four_then_six()
    )
    assert [row["month"] for row in found] == [JAN, MAR]  # February: 4 practices, below the threshold
    january, march = found
    # Of five rates the quartiles blend ranks 1-3, 2-4 and 3-5: none is one practice's rate.
    assert january == published(JAN, 350, (0.2, 0.3, 0.4), 0.03)
    # Of six: ranks 1-3, 2-5 (four, centred on the median) and 4-6.
    assert march == published(MAR, 390, (0.2, 0.35, 0.5), 0.035)


@pytest.mark.parametrize(
    ("count", "q", "expected"),
    [
        (5, 0.5, (1, 3)),
        (6, 0.5, (1, 4)),
        (7, 0.25, (0, 4)),
        (30, 0.5, (13, 4)),
        (31, 0.5, (13, 5)),
        (100, 0.75, (70, 10)),
    ],
)
def test_a_quantile_blends_at_least_three_figures_or_a_tenth_of_them(
    count: int, q: float, expected: tuple[int, int]
) -> None:
    rules = MODELS["benchmark_access_monthly"].contract.disclosure
    assert rules is not None
    assert window(rules, count, q) == expected


def test_a_dominated_total_a_small_total_and_a_statistic_with_too_few_figures_are_withheld() -> None:
    rows = []
    for i, kept in enumerate([1000, 20, 20, 20, 20]):  # January: the others are 6 % of the largest
        rows.append(day(f"P00{i + 1}", JAN, kept=kept, no_shows=10, scheduled=2000))
    for i in range(5):  # February: 10 kept visits in all
        rows.append(day(f"P00{i + 1}", FEB, kept=2, no_shows=2))
    for i, kept in enumerate([100, 90, 14, 0, 0]):  # March: after the two largest, 14 < 15 % of 100
        rows.append(day(f"P00{i + 1}", MAR, kept=kept, no_shows=0 if i >= 3 else 1))
    for i, kept in enumerate([100, 90, 15, 0, 0]):  # April: 15, enough
        rows.append(day(f"P00{i + 1}", date(2024, 4, 1), kept=kept, no_shows=0 if i >= 3 else 1))
    found = {
        row["month"]: row
        for row in cells("benchmark_access_monthly", unperturbed("benchmark_access_monthly"), access_daily=rows)
    }
    assert [found[m]["kept_visits"] for m in (JAN, FEB, MAR, date(2024, 4, 1))] == [None, None, None, 200]
    assert found[JAN]["no_show_rate_p50"] is not None  # the rates are not totals: published
    # March and April: two practices have neither kept visits nor no-shows, so only three no-show rates.
    assert found[MAR]["no_show_rate_p50"] is None and found[MAR]["late_cancellation_rate_p50"] == 0.0


# -- as published, with the perturbation --------------------------------------------------


def test_every_practices_figure_is_moved_by_at_least_the_tolerance_by_an_offset_of_its_own() -> None:
    rules = MODELS["benchmark_access_monthly"].contract.disclosure
    assert rules is not None
    rate = rules.measures["no_show_rate"]
    for number in range(200):
        practice = f"P{number:04d}"
        moves = [
            perturbation(
                TEST_SECRET, "benchmark_access_monthly", "no_show_rate", rate, (date(2024, m, 1),), practice, 0.1
            )
            for m in range(1, 13)
        ]
        assert all(rate.offset[0] - rate.jitter <= abs(move) <= rate.offset[1] + rate.jitter for move in moves)
        assert len({move > 0 for move in moves}) == 1  # one sign in every month: a mean over months keeps it
        assert len(set(moves)) == 12  # and a jitter of each cell's own
    assert tolerance(rules, "no_show_rate") == pytest.approx(0.013)
    assert tolerance(rules, "kept_visits") == pytest.approx(0.08)


def test_the_same_rows_give_the_same_cells_whatever_their_order() -> None:
    rows = five_then_four_then_six()
    first = benchmarks(access_daily=rows)
    assert first == benchmarks(access_daily=list(reversed(rows)))
    assert first["benchmark_access_monthly"] != cells(
        "benchmark_access_monthly", unperturbed("benchmark_access_monthly"), access_daily=rows
    )
    assert benchmarks(b"another key of thirty-two bytes.", access_daily=rows) != first
    assert first["benchmark_revenue_monthly"] == [] and first["benchmark_ar_monthly"] == []


# -- the contracts ------------------------------------------------------------------------


def _folder(tmp_path: Any, toml: str) -> Any:
    (tmp_path / "benchmark_x.sql").write_text("select practice_id, day from curated.access_daily", encoding="utf-8")
    (tmp_path / "benchmark_x.toml").write_text(toml, encoding="utf-8")
    return tmp_path


CROSS = """description = "x"
grain = "x"
dataset = "benchmark"
cross_practice = true
[columns]
practice_id = {{ type = "string", description = "x" }}
day = {{ type = "date", description = "x" }}
{columns}
[tests]
unique = ["practice_id", "day"]
{disclosure}
"""
RULES = """[disclosure]
cell = ["day"]
min_contributors = 5
blend = 3
blend_share = 0.1
p_percent = 15
small_counts = 10
[disclosure.measures.visits]
type = "long"
description = "x"
scale = "relative"
offset = [{least}, 0.2]
jitter = 0.02
[disclosure.published]
{published}
"""


@pytest.mark.parametrize(
    ("columns", "disclosure", "message"),
    [
        ("", "", "declares its \\[disclosure\\]"),
        ('visits = { type = "long", description = "x" }',
         RULES.format(least=0.01, published='visits = { of = "visits", statistic = "total", rounding = 10 }'),
         "jitter below least"),
        ('total = { type = "long", description = "x" }',
         RULES.format(least=0.1, published='visits = { of = "visits", statistic = "total", rounding = 10 }'),
         "columns are practice_id, its cell, its published"),
        ('visits = { type = "double", description = "x" }',
         RULES.format(least=0.1, published='visits = { of = "visits", statistic = "quantile", rounding = 1 }'),
         "names its rank q"),
    ],
)  # fmt: skip
def test_a_cross_practice_contract_without_its_rules_does_not_load(
    tmp_path: Any, columns: str, disclosure: str, message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        load_models(_folder(tmp_path, CROSS.format(columns=columns, disclosure=disclosure)))


def test_a_cross_practice_model_reads_per_practice_tables_and_no_model_reads_it() -> None:
    bench = MODELS["benchmark_access_monthly"]
    reader = Model(
        name="access_x",
        sql="select * from curated.benchmark_access_monthly",
        contract=MODELS["access_daily"].contract,
        reads=frozenset({"curated.benchmark_access_monthly"}),
    )
    with pytest.raises(ModelError, match="reads the cross-practice model benchmark_access_monthly"):
        ordered([*MODELS.values(), reader], REFERENCES)
    from_cleaned = Model(bench.name, bench.sql, bench.contract, frozenset({"cleaned.appointment"}))
    others = [m for m in MODELS.values() if m.name != bench.name]
    with pytest.raises(ModelError, match="reads curated tables only"):
        ordered([*others, from_cleaned], REFERENCES)
