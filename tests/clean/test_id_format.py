"""Ids from an export are ids: a value a spreadsheet would run as a formula (a leading `=`,
`+`, `-`, `@`, tab or carriage return, OWASP's CSV injection) never reaches the cleaned
zone, whichever id column carries it."""

from __future__ import annotations

from pathlib import Path

import pytest

from clean.lake import export, quarantine_rules, rows
from practicelake.contracts import BY_DATASET
from practicelake.contracts.model import Kind
from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings

HEADER = ",".join(BY_DATASET["appointments"].column_names)
FORMULAS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://x.example")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\tDR1",
    "DR1|x",
    "DR<1>",
]


def line(n: int, provider: str) -> str:
    fields = ["P002", f"A{n}", f"MRN{n:08d}", provider, "L1", "2024-03-01 08:00", "2024-03-05 10:00", "15", "new"]
    fields += ["completed", "", "", "", "", ""]
    return ",".join('"' + field.replace('"', '""') + '"' for field in fields)


@pytest.mark.parametrize("column", ["provider_id", "appointment_id", "location_id"])
def test_a_formula_in_an_id_is_quarantined_and_a_plain_id_is_kept(local: Settings, tmp_path: Path, column: str) -> None:
    lines = [line(1, "DR-1/a.b_c#2"), line(2, "dr 7:x")]
    for n, formula in enumerate(FORMULAS, start=10):
        row = line(n, "DR1")
        if column == "provider_id":
            row = line(n, formula)
        elif column == "appointment_id":
            row = row.replace(f'"A{n}"', '"' + formula.replace('"', '""') + '"', 1)
        else:
            row = row.replace('"L1"', '"' + formula.replace('"', '""') + '"', 1)
        lines.append(row)
    path = export(tmp_path, "P002", "2024-03", "appointments", HEADER, *lines)
    lakehouse = Lakehouse.open(local)
    lakehouse.ingest("P002", [path])
    lakehouse.transform()
    kept = rows(lakehouse, "cleaned.appointment")
    assert sorted(r["provider_id"] for r in kept) == ["DR-1/a.b_c#2", "dr 7:x"]  # case and punctuation kept
    assert sorted(quarantine_rules(lakehouse).values()) == [("id_format", column)] * len(FORMULAS)


def test_every_id_column_of_every_contract_has_the_id_pattern_or_its_own() -> None:
    for contract in BY_DATASET.values():
        for column in contract.columns:
            if column.kind is Kind.STRING and column.name.endswith("_id"):
                assert column.id_pattern or column.pattern or column.reference or column.allowed, column.name
