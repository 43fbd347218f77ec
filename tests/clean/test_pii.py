"""An attacker's look at the cleaned and curated zones and at the read path: does any
identifier the exports held come out?

Every identifier value the generator wrote (MRN, names, phone, email, address, city, member
number, full postal code, notes) is collected from the raw exports and searched for in every
cell of every table practicelake writes, and of everything the query service returns, whole
and word by word. The curated zone and the read path must not hold even the pseudonyms.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from sqlglot import exp

from clean.generated import ingest_all, small_export
from practicelake.clean.checks import read_columns
from practicelake.clean.pseudonym import pseudonym
from practicelake.clean.read import read_rows
from practicelake.contracts import BY_DATASET, Pii
from practicelake.crypto.keystore import open_keys
from practicelake.formats import registry
from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings

IDENTIFYING = (Pii.PATIENT_ID, Pii.DIRECT, Pii.FREE_TEXT, Pii.POSTAL_CODE, Pii.BIRTH_DATE)
WORDS = re.compile(r"[\s|]+")
# Names and towns are searched for word by word too (a name inside a longer text is a leak);
# street words ("Lane", "Protea") are not identifying alone, so addresses are matched whole.
WORD_BY_WORD = {"first_name", "last_name", "city"}


def exported_patients(root: Path) -> list[dict[str, str]]:
    return [
        row
        for path in sorted(root.glob("*/*/patients.csv"))
        for row in csv.DictReader(path.read_text(encoding="utf-8").splitlines())
    ]


def identifier_values(root: Path) -> set[str]:
    columns = [c.name for c in BY_DATASET["patients"].columns if c.pii in IDENTIFYING and c.pii is not Pii.BIRTH_DATE]
    values: set[str] = set()
    for row in exported_patients(root):
        for column in columns:
            value = (row.get(column) or "").strip()
            if value:
                values.add(value)
                if column in WORD_BY_WORD:
                    values.update(w for w in WORDS.split(value) if len(w) >= 4)
    return values


def every_cell(lakehouse: Lakehouse) -> list[tuple[str, str, str]]:
    cells = []
    for namespace in ("cleaned", "curated", "ops"):
        for _, name in lakehouse.catalog.list_tables(namespace):
            table = lakehouse.catalog.load_table(f"{namespace}.{name}").scan().to_arrow()
            for column in table.column_names:
                for value in table.column(column).to_pylist():
                    if value is None:
                        continue
                    texts = [str(v) for v in value] if isinstance(value, list) else [str(value)]
                    cells.extend((f"{namespace}.{name}", column, text) for text in texts)
    return cells


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Lakehouse, Settings]:
    from lakes import local_settings

    root = tmp_path_factory.mktemp("pii")
    exports = root / "exports"
    truth = small_export(exports, practices=2, appointments=4000, seed=9)
    settings = local_settings(root)
    lakehouse = Lakehouse.open(settings)
    ingest_all(lakehouse, exports, truth)
    lakehouse.transform()
    lakehouse.curate()
    return exports, lakehouse, settings


def leaked(cells: list[tuple[str, str, str]], identifiers: set[str]) -> list[tuple[str, str, str]]:
    return [
        (table, column, text)
        for table, column, text in cells
        if text in identifiers or any(word in identifiers for word in WORDS.split(text))
    ]


def test_no_identifier_reaches_any_table(scanned: tuple[Path, Lakehouse, Settings]) -> None:
    exports, lakehouse, _ = scanned
    identifiers = identifier_values(exports)
    assert len(identifiers) > 1000  # the scan has something to find
    cells = [c for c in every_cell(lakehouse) if c[0] != "ops.raw_files"]  # file names, not row data
    assert {c[0] for c in cells if c[0].startswith("curated.")}, "nothing curated to scan"
    assert leaked(cells, identifiers) == []


def test_no_patient_key_reaches_curated_or_the_read_path(scanned: tuple[Path, Lakehouse, Settings]) -> None:
    from practicelake.query import QueryService, Scope

    exports, lakehouse, _ = scanned
    pseudonyms = set(lakehouse.catalog.load_table("cleaned.patient").scan().to_arrow()["patient_key"].to_pylist())
    identifiers = identifier_values(exports) | pseudonyms
    curated = [c for c in every_cell(lakehouse) if c[0].startswith("curated.")]
    assert curated and leaked(curated, identifiers) == []
    service = QueryService(lakehouse.catalog)
    returned = []
    for name in service.relations():  # everything a reader can be given
        query = exp.select("*").from_(exp.to_identifier(name, quoted=True)).sql("duckdb")
        result = service.run(query, Scope.every_practice())
        for column in result.column_names:
            returned += [(name, column, str(v)) for v in result.column(column).to_pylist() if v is not None]
    assert len(returned) > 10_000 and leaked(returned, identifiers) == []


def test_date_of_birth_is_reduced_to_birth_year(scanned: tuple[Path, Lakehouse, Settings]) -> None:
    exports, lakehouse, settings = scanned
    keys = open_keys(settings)
    cleaned = {
        (r["practice_id"], r["patient_key"]): r
        for r in lakehouse.catalog.load_table("cleaned.patient").scan().to_arrow().to_pylist()
    }
    checked = 0
    for row in exported_patients(exports):
        key = (row["practice_id"], pseudonym(keys.pseudonym_secret(row["practice_id"]), row["patient_id"]))
        patient = cleaned.get(key)
        if patient is None:
            continue  # a quarantined row
        checked += 1
        assert row["date_of_birth"] not in {str(v) for v in patient.values()}
        if patient["age_over_89"]:
            assert patient["birth_year"] is None
        else:
            assert patient["birth_year"] == int(row["date_of_birth"][:4])
        assert patient["postal_prefix"] == row["postal_code"].replace(" ", "").upper()[:3]
    assert checked > 500


def test_cleaned_schemas_have_no_identifier_columns(scanned: tuple[Path, Lakehouse, Settings]) -> None:
    _, lakehouse, _ = scanned
    for contract in BY_DATASET.values():
        dropped = {c.name for c in contract.columns if c.pii in IDENTIFYING}
        columns = set(lakehouse.catalog.load_table(f"cleaned.{contract.entity}").schema().column_names)
        assert not columns & dropped, contract.entity


def test_identifiers_without_a_check_are_never_parsed_out_of_raw(scanned: tuple[Path, Lakehouse, Settings]) -> None:
    root, _, _ = scanned
    contract = BY_DATASET["patients"]
    read = read_columns(contract.entity)
    dropped = {c.name for c in contract.columns if c.pii in (Pii.DIRECT, Pii.FREE_TEXT)}
    assert {"first_name", "last_name", "phone", "email"} <= dropped
    assert not dropped & set(read)
    # Every column the cleaned zone keeps is read.
    assert {c.name for c in contract.columns if c.cleaned_name} <= set(read)
    export = next(root.rglob("patients.csv"))
    parsed = read_rows(registry.get(registry.PRACTICELAKE_CSV), export.read_bytes(), contract, "P001")
    assert parsed.rows.column_names == [*read, "raw_line"]
    names = {row["last_name"] for row in exported_patients(root)}
    assert not names & {v for column in parsed.rows.columns for v in column.to_pylist()}
