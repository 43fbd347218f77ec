"""The permission matrix, from the side of a reader who wants more than their role gives:
money as staff, another practice's rows, per-practice rows as an analyst, tables nobody
listed."""

from __future__ import annotations

from pathlib import Path

import pytest
from principals_helper import principal

from practicelake.access import permissions
from practicelake.access.permissions import access_for, allows, curated_tables, money_columns, render_markdown
from practicelake.curate.contract import DATASETS
from practicelake.curate.project import ModelError, load_models

ROOT = Path(__file__).resolve().parents[2]
# What a catalog might hold beside the curated tables: intermediate models, stale or
# look-alike tables, names that only resemble a benchmark.
STRAYS = [
    "stg_appointment",
    "stg_billing_ledger",
    "access_capacity",
    "ar_visit_balance",
    "access_daily_backup",
    "revenue_all_practices",
    "Access_Daily",
    "patients",
    "Benchmark_access_monthly",
    "benchmarks",
    "xbenchmark_access_monthly",
]
TABLES = sorted(name for name, model in curated_tables().items() if not model.contract.cross_practice)
BENCHMARKS = sorted(name for name, model in curated_tables().items() if model.contract.cross_practice)
EVERYTHING = [*TABLES, *BENCHMARKS, *STRAYS]


# Ratios of money (no decimal type gives them away) that the contracts must mark as money.
RATIOS_OF_MONEY = {
    *("charge_share", "net_collection_rate", "gross_collection_rate", "denial_write_off_rate"),
    *("initial_denial_rate_by_amount", "point_of_service_collection_rate", "ar_over_90_share", "days_in_ar"),
}
# Decimals that are not money: full-time equivalents.
NOT_MONEY = {"fte"}


def decimals(relation: str) -> set[str]:
    model = curated_tables()[relation]
    return {name for name, spec in model.contract.columns.items() if spec.type.startswith("decimal")} - NOT_MONEY


def test_the_curated_zone_has_money_to_hide() -> None:
    assert sum(len(decimals(name)) for name in TABLES) >= 30


def test_staff_see_no_decimal_column_of_any_curated_table() -> None:
    access = access_for(principal({"P001": "staff"}), EVERYTHING)
    assert access.relations, "staff see their scheduling tables"
    for relation, seen in access.relations.items():
        assert relation.startswith(("access_", "flow_")), relation
        assert decimals(relation) <= seen.hidden_columns, relation
        assert seen.practices == frozenset({"P001"})


def test_staff_would_see_no_money_even_if_shown_every_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    """The money is kept from staff by the contracts' marks, not by which datasets they see."""
    monkeypatch.setitem(permissions.MATRIX, "staff", frozenset(DATASETS))
    access = access_for(principal({"P001": "staff"}), EVERYTHING)
    assert set(TABLES) <= set(access.relations)
    for relation in TABLES:
        hidden = access.hidden_columns(relation)
        assert decimals(relation) <= hidden
        assert RATIOS_OF_MONEY & set(curated_tables()[relation].contract.columns) <= hidden


def test_the_contracts_mark_every_amount_and_every_ratio_of_amounts_as_money() -> None:
    for model in load_models():
        for name, spec in model.contract.columns.items():
            if (spec.type.startswith("decimal") and name not in NOT_MONEY) or name in RATIOS_OF_MONEY:
                assert spec.money, f"{model.name}.{name} is money but not marked money = true"
            if name in NOT_MONEY:
                assert spec.money is False


def _model_folder(tmp_path: Path, toml: str) -> Path:
    (tmp_path / "access_x.sql").write_text("select practice_id from cleaned.appointment", encoding="utf-8")
    (tmp_path / "access_x.toml").write_text(toml, encoding="utf-8")
    return tmp_path


CONTRACT = """description = "x"
grain = "one row per practice"
{dataset}
[columns]
practice_id = {{ type = "string", description = "The practice." }}
{column}
[tests]
unique = ["practice_id"]
"""


def test_a_model_without_a_dataset_does_not_load_and_says_so(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path, CONTRACT.format(dataset="", column=""))
    with pytest.raises(ModelError, match=r"access_x\.toml names no dataset: add dataset = one of \"access\""):
        load_models(folder)


@pytest.mark.parametrize(
    ("dataset", "column", "message"),
    [
        ('dataset = "secrets"', "", "dataset"),
        ('dataset = "access"', 'fee = { type = "decimal(18,2)", description = "x" }', "must declare money"),
        ('dataset = "access"\ncross_practice = true', "", "cross-practice model belongs to the benchmark"),
        ('dataset = "benchmark"', "", "cross-practice model belongs to the benchmark"),
    ],
)
def test_a_contract_that_hides_who_may_see_it_does_not_load(
    tmp_path: Path, dataset: str, column: str, message: str
) -> None:
    folder = _model_folder(tmp_path, CONTRACT.format(dataset=dataset, column=column))
    with pytest.raises(ModelError, match=message):
        load_models(folder)


def test_every_curated_table_belongs_to_a_dataset() -> None:
    tables = curated_tables()
    assert {
        name: permissions.dataset_of(name, tables) for name in tables if not permissions.dataset_of(name, tables)
    } == {}


def test_the_analyst_sees_only_benchmarks() -> None:
    access = access_for(principal({"*": "analyst"}), EVERYTHING)
    assert set(access.relations) == set(BENCHMARKS)
    assert all(seen.hidden_columns == frozenset() for seen in access.relations.values())


@pytest.mark.parametrize("role", ["staff", "billing", "platform_admin"])
def test_no_other_practice_role_sees_a_benchmark_or_a_stray(role: str) -> None:
    practice = "*" if role == "platform_admin" else "P001"
    visible = set(access_for(principal({practice: role}), EVERYTHING).relations)
    assert not visible & {*BENCHMARKS, *STRAYS}


@pytest.mark.parametrize("role", ["practice_owner", "practice_manager"])
def test_owners_and_managers_see_the_benchmarks_beside_their_own_rows(role: str) -> None:
    access = access_for(principal({"P001": role}), EVERYTHING)
    assert set(access.relations) == set(TABLES) | set(BENCHMARKS)
    assert not set(access.relations) & set(STRAYS)
    # The benchmarks' rows belong to no practice (practice_id '*'); every other relation shows P001's only.
    assert all(access.relations[name].practices is None for name in BENCHMARKS)
    assert all(access.relations[name].practices == frozenset({"P001"}) for name in TABLES)


def test_a_practice_manager_of_p1_sees_no_other_practice() -> None:
    access = access_for(principal({"P001": "practice_manager"}), EVERYTHING)
    own = {name: seen for name, seen in access.relations.items() if name not in BENCHMARKS}
    assert set(own) == set(TABLES)
    assert all(seen.practices == frozenset({"P001"}) for seen in own.values())
    assert all(seen.hidden_columns == frozenset() for seen in access.relations.values())


def test_billing_sees_the_revenue_cycle_only() -> None:
    visible = set(access_for(principal({"P001": "billing"}), EVERYTHING).relations)
    assert visible and all(name.startswith(("revenue_", "ar_", "denial")) for name in visible)


def test_platform_admin_runs_every_practice_but_reads_kpis_only_where_granted_a_practice_role() -> None:
    admin = principal({"*": "platform_admin"})
    assert access_for(admin, EVERYTHING).relations == {}
    assert all(
        allows(admin, duty, practice) for duty in ("operations", "audit", "users") for practice in ("P001", "P009")
    )
    owner_too = principal({"*": "platform_admin", "P001": "practice_owner"})
    access = access_for(owner_too, EVERYTHING)
    assert set(access.relations) == set(TABLES) | set(BENCHMARKS)
    assert all(access.relations[name].practices == frozenset({"P001"}) for name in TABLES)


def test_a_grant_on_every_practice_sees_every_practice() -> None:
    access = access_for(principal({"*": "practice_owner"}), TABLES)
    assert set(access.relations) == set(TABLES)
    assert access.practices is None


def test_roles_in_different_practices_combine_relation_by_relation() -> None:
    access = access_for(principal({"P001": "practice_owner", "P002": "staff"}), EVERYTHING)
    assert access.relations["access_daily"].practices == frozenset({"P001", "P002"})
    assert access.relations["revenue_service_month"].practices == frozenset({"P001"})
    assert access.relations["productivity_provider_month"].practices == frozenset({"P001"})
    assert access.relations["revenue_service_month"].hidden_columns == frozenset()


def test_where_a_money_hiding_role_shares_a_relation_the_money_is_hidden_for_all_its_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(permissions.MATRIX, "staff", frozenset({"access", "productivity"}))
    seen = access_for(principal({"P001": "practice_owner", "P002": "staff"}), EVERYTHING).relations
    assert seen["productivity_provider_month"].practices == frozenset({"P001", "P002"})
    assert (
        money_columns(curated_tables()["productivity_provider_month"])
        <= seen["productivity_provider_month"].hidden_columns
    )


@pytest.mark.parametrize("roles", [{}, {"P001": "superuser"}, {"P001": ""}, {"*": "PRACTICE_OWNER"}])
def test_no_role_or_an_unknown_role_sees_nothing(roles: dict[str, str]) -> None:
    access = access_for(principal(roles), EVERYTHING)
    assert access.relations == {}
    assert access.practices == frozenset()
    assert not any(allows(principal(roles), duty, "P001") for duty in permissions.DUTIES)


def test_user_management_stays_inside_the_managers_practice() -> None:
    manager = principal({"P001": "practice_manager"})
    assert allows(manager, "users", "P001")
    assert not allows(manager, "users", "P002") and not allows(manager, "users", "*")
    assert not allows(manager, "audit", "P001")
    for role in ("practice_owner", "staff", "billing"):
        assert not any(allows(principal({"P001": role}), duty, "P001") for duty in ("audit", "users"))
    # Data health of their own practice: owners and managers, never staff or billing, never beyond.
    for role in ("practice_owner", "practice_manager"):
        assert allows(principal({"P001": role}), "operations", "P001")
        assert not allows(principal({"P001": role}), "operations", "P002")
    assert not any(allows(principal({"P001": role}), "operations", "P001") for role in ("staff", "billing"))
    assert not allows(principal({"*": "analyst"}), "audit", "P001")


def test_the_matrix_covers_every_role() -> None:
    assert set(permissions.MATRIX) == set(permissions.ROLES)
    assert all(datasets <= set(DATASETS) for datasets in permissions.MATRIX.values())


def test_docs_permissions_is_current() -> None:
    assert (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8") == render_markdown(), (
        "docs/permissions.md is stale: run `practicelake permissions > docs/permissions.md`"
    )
