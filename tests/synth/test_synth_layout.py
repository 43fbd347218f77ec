"""Layout, format and report of the synthetic exports."""

from __future__ import annotations

import csv
import datetime
import io
import tomllib
from pathlib import Path

import pytest
from export_checks import Export

from practicelake.contracts import BY_DATASET
from practicelake.synth import generate
from practicelake.synth.generator import EXPORTED as CONTRACTS


def _contents(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    options = {"practices": 2, "years": 1, "appointments": 4_000, "dirty_rate": 0.1}
    generate(tmp_path / "a", seed=5, **options)
    generate(tmp_path / "b", seed=5, **options)
    generate(tmp_path / "c", seed=6, **options)
    first, second, other = (_contents(tmp_path / name) for name in "abc")
    assert first == second
    assert first.keys() == other.keys()
    assert any(first[name] != other[name] for name in first)


def test_one_file_per_dataset_practice_and_month(clean_export: Export) -> None:
    report = clean_export.report
    months = [f"{year}-{month:02d}" for year in (2024, 2025, 2026) for month in range(1, 13)][6:30]
    expected = {f"{p}/{m}/{c.dataset}.csv" for p in report.practice_ids for m in months for c in CONTRACTS}
    written = {str(p.relative_to(clean_export.root)) for p in clean_export.root.rglob("*.csv")}
    assert written == expected
    assert report.files_written == len(expected)
    assert set(report.injected) == expected
    assert report.practice_ids == ("P001", "P002", "P003", "P004")


def test_every_header_is_its_contract_column_list(clean_export: Export) -> None:
    for path in clean_export.root.rglob("*.csv"):
        header = path.read_text(encoding="utf-8").split("\n", 1)[0]
        assert header.split(",") == BY_DATASET[path.stem].column_names, path


def test_practices_toml_names_zone_and_currency(clean_export: Export) -> None:
    config = tomllib.loads((clean_export.root / "practices.toml").read_text(encoding="utf-8"))["practices"]
    assert sorted(config) == list(clean_export.report.practice_ids)
    zones = {p["time_zone"] for p in config.values()}
    assert {"Africa/Johannesburg", "America/New_York", "Europe/London", "America/Chicago"} == zones
    assert {p["currency"] for p in config.values()} == {"ZAR", "USD", "GBP"}
    assert all(p["name"] for p in config.values())


def test_utf8_lf_and_quoting_only_where_needed(clean_export: Export) -> None:
    quoted_somewhere = False
    for path in clean_export.root.rglob("*.csv"):
        raw = path.read_bytes()
        assert b"\r" not in raw, path
        text = raw.decode("utf-8")
        assert text.endswith("\n")
        records = list(csv.reader(io.StringIO(text, newline="")))
        lines = text.split("\n")[:-1]
        assert len(records) == len(lines), f"{path}: a field holds a line break"
        for record, line in zip(records, lines, strict=True):
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerow(record)
            assert buffer.getvalue() == line + "\n", f"{path}: {line}"
            quoted_somewhere |= '"' in line
    assert quoted_somewhere, "notes with commas or quotes should be quoted"


def test_report_rows_and_appointments_match_the_files(clean_export: Export) -> None:
    report = clean_export.report
    for contract in CONTRACTS:
        lines = sum(len(p.read_bytes().splitlines()) - 1 for p in clean_export.files(contract.dataset))
        assert report.rows_written[contract.dataset] == lines, contract.dataset
    assert abs(report.appointments - 60_000) <= 6_000
    assert report.seconds > 0
    for truth in report.injected.values():
        assert truth.duplicates == truth.quarantined == 0
        assert truth.clean == truth.rows


def test_default_sizes_are_small_to_medium_practices(tmp_path: Path) -> None:
    report = generate(tmp_path, practices=1, years=1, end_date=datetime.date(2025, 12, 31))
    providers = report.rows_written["providers"] - report.corrections["providers"]
    assert 2 <= providers <= 8
    assert 2_000 * providers <= report.appointments <= 6_000 * providers
    assert (tmp_path / "P001" / "2025-01" / "appointments.csv").exists()
    assert (tmp_path / "P001" / "2025-12" / "appointments.csv").exists()


@pytest.mark.parametrize("options", [{"dirty_rate": 0.6}, {"practices": 0}, {"appointments": 0}])
def test_rejects_impossible_options(tmp_path: Path, options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, **options)  # type: ignore[arg-type]
