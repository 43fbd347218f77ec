"""`practicelake mapping check` through typer's CliRunner: counts by rule and column from the
real contract checks, and never an identifier or a value of the file."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

from typer.testing import CliRunner

from practicelake.cli.mapping import mapping_app

SAMPLE = Path(__file__).parents[2] / "fixtures" / "formats" / "mapping" / "synthea"


def unzipped(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.csv"
    path.write_bytes(gzip.decompress((SAMPLE / f"{name}.csv.gz").read_bytes()))
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(mapping_app, ["check", *args])
    return result.exit_code, result.output


def test_counts_by_rule_and_column(tmp_path: Path) -> None:
    path = unzipped(tmp_path, "claims_transactions")
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    fields = list(rows[0])
    charges = [i for i, r in enumerate(rows) if r["TYPE"] == "CHARGE"]
    for i in charges[:3]:
        rows[i]["AMOUNT"] = "-1.00"  # below the contract's minimum
    for i in charges[3:5]:
        rows[i]["PATIENTID"] = ""  # a required value
    rows[charges[5]]["FROMDATE"] = "05/06/2014"  # none of the mapping's formats
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    code, output = run("synthea", str(path))
    assert code == 0, output
    assert f"file 'claims_transactions.csv': {len(rows):,} records, 1,902 for no dataset" in output
    assert "unmapped source columns: none" in output
    assert "charges: 1,579 rows read, 1,573 accepted, 6 quarantined" in output
    lines = [" ".join(line.split()) for line in output.splitlines()]
    assert "minimum amount 3" in lines and "required patient_id 2" in lines and "date_format FROMDATE 1" in lines
    assert "payments: 2,086 rows read, 2,086 accepted, 0 quarantined" in output


def test_no_identifier_or_value_is_printed(tmp_path: Path) -> None:
    path = unzipped(tmp_path, "patients")
    people = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    text = path.read_text(encoding="utf-8").replace(people[0]["BIRTHDATE"], "not a date", 1)
    path.write_text(text, encoding="utf-8")
    code, output = run("synthea", str(path), "--time-zone", "Europe/Berlin", "--currency", "eur")
    assert code == 0, output
    assert "patients: 11 rows read, 10 accepted, 1 quarantined" in output
    assert "date_format BIRTHDATE 1" in [" ".join(line.split()) for line in output.splitlines()]
    for person in people:
        for value in (person["Id"], person["FIRST"], person["LAST"], person["SSN"], person["ADDRESS"], person["ZIP"]):
            assert value not in output
        assert person["BIRTHDATE"] not in output


def test_unmapped_columns_are_reported(tmp_path: Path) -> None:
    mapping = tmp_path / "mini.toml"
    mapping.write_text(
        'name = "mini"\nsystem = "Mini"\n[[files]]\nmatch = "payers.csv"\n'
        '[files.datasets.payers.columns]\npayer_id = "Id"\nname = "NAME"\n',
        encoding="utf-8",
    )
    code, output = run(str(mapping), str(unzipped(tmp_path, "payers")))
    assert code == 0, output
    assert "unmapped source columns: OWNERSHIP, ADDRESS, CITY" in output
    assert "required payer_type 10" in [" ".join(line.split()) for line in output.splitlines()]
    assert "contract columns the mapping leaves empty: payer_type" in output


def test_errors_are_one_line(tmp_path: Path) -> None:
    code, output = run("synthea", str(tmp_path / "missing.csv"))
    assert code == 1 and "cannot read" in output
    wrong = tmp_path / "visits.csv"
    wrong.write_text("a,b\n1,2\n", encoding="utf-8")
    code, output = run("synthea", str(wrong))
    assert code == 1 and "no file of the mapping synthea is named like 'visits.csv'" in output
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "Bad Name"\n', encoding="utf-8")
    code, output = run(str(bad), str(wrong))
    assert code == 1 and output.startswith("error: bad.toml: name: String should match pattern")
