"""Synthea's CSV export through synthea.toml: the figures of its rows, to the cent, against a
computation in plain Python over the same CSVs, and against the code adapter's figures where
the mapping follows the same rule (tests/adapters/synthea_figures.py)."""

from __future__ import annotations

import csv
import gzip
import io
import sys
from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from practicelake.formats.base import ParsedFile, Source
from practicelake.formats.mapping import MappedCsv, shipped
from practicelake.pipeline.mapping_check import check_file

SAMPLE = Path(__file__).parents[2] / "fixtures" / "formats" / "mapping" / "synthea"
ZONE = ZoneInfo("America/New_York")
CENT = Decimal("0.00")


@cache
def data(name: str) -> bytes:
    return gzip.decompress((SAMPLE / f"{name}.csv.gz").read_bytes())


def source_rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data(name).decode("utf-8"))))


def read(name: str, dataset: str) -> ParsedFile:
    return MappedCsv(shipped("synthea")).read(data(name), dataset)


def local_month(stamp: str) -> str:
    return f"{datetime.fromisoformat(stamp).astimezone(ZONE):%Y-%m}"


def by_month(rows: list[dict[str, object]], stamp: str, amount: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(lambda: CENT)
    for row in rows:
        text = str(row[stamp])
        moment = datetime.fromisoformat(text) if len(text) > 10 else datetime.fromisoformat(text + "T00:00:00")
        month = f"{moment.astimezone(ZONE) if moment.tzinfo else moment:%Y-%m}"
        totals[month] += Decimal(str(row[amount]))
    return dict(totals)


def test_every_file_is_read_whole() -> None:
    reader = MappedCsv(shipped("synthea"))
    for name in ("organizations", "providers", "payers", "patients", "encounters", "claims_transactions"):
        inspection = reader.inspect(Source(data(name), f"{name}.csv"))
        assert inspection.warnings == (), name  # every column mapped or ignored
        records = len(source_rows(name))
        taken = sum(reader.read(data(name), d).rows_read for d in inspection.datasets)
        transfers = sum(r.get("TYPE", "") in ("TRANSFERIN", "TRANSFEROUT") for r in source_rows(name))
        assert taken + transfers == records, name


def test_charges_to_the_cent() -> None:
    lines = [t for t in source_rows("claims_transactions") if t["TYPE"] == "CHARGE"]
    parsed = read("claims_transactions", "charges")
    assert parsed.bad_rows == [] and parsed.rows.num_rows == len(lines) == 1579
    rows = parsed.rows.to_pylist()
    assert sum((Decimal(r["amount"]) for r in rows), CENT) == sum((Decimal(t["AMOUNT"]) for t in lines), CENT)
    expected: dict[str, Decimal] = defaultdict(lambda: CENT)
    for t in lines:
        expected[local_month(t["FROMDATE"])] += Decimal(t["AMOUNT"])
    assert by_month(rows, "service_date", "amount") == expected
    assert {r["procedure_code"] for r in rows} == {"0000"}
    assert Counter(r["units"] for r in rows) == Counter(t["UNITS"] for t in lines)


def test_payments_to_the_cent_by_month_and_by_source() -> None:
    lines = [t for t in source_rows("claims_transactions") if t["TYPE"] == "PAYMENT"]
    rows = read("claims_transactions", "payments").rows.to_pylist()
    assert len(rows) == len(lines) == 2086
    source = {t["ID"]: "payer" if t["METHOD"] == "ECHECK" else "patient" for t in lines}
    assert {r["payment_id"]: r["payment_source"] for r in rows} == source
    by_source: dict[str, Decimal] = defaultdict(lambda: CENT)
    for t in lines:
        by_source[source[t["ID"]]] += Decimal(t["PAYMENTS"])
    found: dict[str, Decimal] = defaultdict(lambda: CENT)
    for r in rows:
        found[r["payment_source"]] += Decimal(r["amount"])
    assert found == by_source
    expected: dict[str, Decimal] = defaultdict(lambda: CENT)
    for t in lines:
        expected[local_month(t["FROMDATE"])] += Decimal(t["PAYMENTS"])
    assert by_month(rows, "paid_at", "amount") == expected
    assert Counter(r["at_point_of_service"] for r in rows) == Counter(
        {"true": 126, "false": 181 + 164 + 145, None: 1470}
    )


def test_figures_equal_the_code_adapters_where_the_rule_is_the_same(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parents[2] / "adapters"))
    from synthea_figures import Synthea  # type: ignore[import-not-found]

    folder = Path(__file__).parents[2] / "adapters" / "synthea-sample"
    if not folder.exists():
        return
    for gz in folder.glob("*.csv.gz"):
        (tmp_path / gz.name.removesuffix(".gz")).write_bytes(gzip.decompress(gz.read_bytes()))
    adapter = Synthea(tmp_path)
    charges = read("claims_transactions", "charges").rows.to_pylist()
    payments = read("claims_transactions", "payments").rows.to_pylist()
    # The adapter quarantines the one line whose service day is after its claim's billing
    # day (posted_after_service); the mapping posts a line on its service day and keeps it.
    dropped = sum((Decimal(t["AMOUNT"]) for t in adapter.billed_before_done), CENT)
    assert sum((Decimal(r["amount"]) for r in charges), CENT) == adapter.total_charges() + dropped
    assert sum((Decimal(r["amount"]) for r in payments), CENT) == adapter.total_payments()
    found: dict[str, Decimal] = defaultdict(lambda: CENT)
    for r in payments:
        found[r["payment_source"]] += Decimal(r["amount"])
    assert found == adapter.payments_by_source()


def test_encounters_payers_patients() -> None:
    visits = source_rows("encounters")
    rows = read("encounters", "encounters").rows.to_pylist()
    assert Counter(r["encounter_date"][:7] for r in rows) == Counter(local_month(e["START"]) for e in visits)
    assert Counter(r["place_of_service"] for r in rows)["11"] == sum(
        e["ENCOUNTERCLASS"] in ("ambulatory", "wellness") for e in visits
    )
    payers = {r["payer_id"]: r["payer_type"] for r in read("payers", "payers").rows.to_pylist()}
    kinds = {"GOVERNMENT": "government", "PRIVATE": "insurer", "NO_INSURANCE": "self_pay"}
    assert payers == {p["Id"]: kinds[p["OWNERSHIP"]] for p in source_rows("payers")}
    sexes = Counter(r["sex"] for r in read("patients", "patients").rows.to_pylist())
    assert sexes == Counter({"M": "male", "F": "female"}[p["GENDER"]] for p in source_rows("patients"))


def test_the_contracts_accept_every_row() -> None:
    found = check_file(shipped("synthea"), data("claims_transactions"), "claims_transactions.csv")
    assert {d.dataset: (d.rows_read, d.accepted) for d in found.datasets} == {
        "charges": (1579, 1579),
        "payments": (2086, 2086),
        "adjustments": (0, 0),
    }
    assert found.for_no_dataset == 951 * 2 and found.unmapped == ()
