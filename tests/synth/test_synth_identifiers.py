"""Patient identifiers are distinctive: none equals a value of a non-identifier column anywhere."""

from __future__ import annotations

import re

import duckdb
import pytest
from export_checks import Export, sql
from sqlglot import exp

from practicelake.contracts import Pii
from practicelake.synth.generator import EXPORTED as CONTRACTS

IDENTIFIERS = ("patient_id", "first_name", "last_name", "phone", "email", "address_line", "city", "postal_code",
               "member_number")  # fmt: skip
NAMES = ("first_name", "last_name", "city")


def _distinct(export: Export, dataset: str, columns: list[str]) -> dict[str, set[str]]:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT * FROM read_csv($files, header = true, all_varchar = true)",
        {"files": [str(p) for p in export.files(dataset)]},
    )
    return {c: {v for (v,) in con.execute(_distinct_values(c)).fetchall()} for c in columns}


def _distinct_values(column: str) -> str:
    """SELECT DISTINCT "column" FROM t WHERE "column" IS NOT NULL"""
    value = exp.column(column, quoted=True)
    return sql(exp.select(value).distinct().from_("t").where(exp.not_(value.is_(exp.null()))))


@pytest.fixture(scope="module")
def identifiers(clean_export: Export) -> dict[str, set[str]]:
    return _distinct(clean_export, "patients", list(IDENTIFIERS))


@pytest.fixture(scope="module")
def plain_values(clean_export: Export) -> dict[str, set[str]]:
    """Every value of every non-identifier column, by dataset.column."""
    values: dict[str, set[str]] = {}
    for contract in CONTRACTS:
        plain = [c.name for c in contract.columns if c.pii is Pii.NONE]
        for column, found in _distinct(clean_export, contract.dataset, plain).items():
            values[f"{contract.dataset}.{column}"] = found
    return values


def test_no_identifier_equals_a_non_identifier_value(
    identifiers: dict[str, set[str]], plain_values: dict[str, set[str]]
) -> None:
    everything = set().union(*identifiers.values())
    assert len(everything) > 1_000
    for column, values in plain_values.items():
        clash = values & everything
        assert not clash, f"{column}: {sorted(clash)[:5]}"


def test_patient_names_and_cities_appear_in_no_organisation_text(
    identifiers: dict[str, set[str]], plain_values: dict[str, set[str]]
) -> None:
    words = {word for name in NAMES for value in identifiers[name] for word in value.split()}
    texts = plain_values
    organisation = set().union(
        texts["practices.name"], texts["locations.name"], texts["providers.display_name"], texts["payers.name"],
        texts["providers.specialty"],
    )  # fmt: skip
    for text in organisation:
        assert not set(text.split()) & words, text


def test_identifier_formats_are_distinctive(identifiers: dict[str, set[str]]) -> None:
    assert all(re.fullmatch(r"MRN[0-9]{8}", v) for v in identifiers["patient_id"])
    assert all(re.fullmatch(r"MBR[0-9]{9}", v) for v in identifiers["member_number"])
    assert all("@" in v for v in identifiers["email"])
    phone = r"\+27 [0-9]{2} [0-9]{3} [0-9]{4}|\([0-9]{3}\) [0-9]{3}-[0-9]{4}|\+44 [0-9]{4} [0-9]{6}"
    assert all(re.fullmatch(phone, v) for v in identifiers["phone"])
    assert all(re.fullmatch(r"(Unit [0-9]+, )?[0-9]+ [A-Z][A-Za-z ]+", v) for v in identifiers["address_line"])


def test_notes_sometimes_name_the_patient(clean_export: Export) -> None:
    row = duckdb.execute(
        "SELECT count(*) FROM read_csv($files, header = true, all_varchar = true) WHERE contains(notes, first_name)",
        {"files": [str(p) for p in clean_export.files("patients")]},
    ).fetchone()
    assert row is not None and row[0] > 0
