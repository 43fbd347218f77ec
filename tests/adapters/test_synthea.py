"""A real Synthea export, nobody on the project wrote it: converted by the adapter, ingested,
transformed and curated on the local default, and every total checked against figures
computed straight from the Synthea CSV files (synthea_figures), exact to the cent."""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.synthea_figures import CENT, ZONE, Synthea, month
from clean.lake import rows
from lakes import local_settings
from practicelake.adapters.synthea import convert
from practicelake.clean.reconcile import reconcile
from practicelake.contracts.billing import PROCEDURE_CODE
from practicelake.contracts.scheduling import ENCOUNTER
from practicelake.ingest import IngestReport
from practicelake.pipeline import Lakehouse

# The Synthea files the adapter reads, as the project keeps them (gzip; see SOURCE.txt there).
PACKED = Path(__file__).with_name("synthea-sample")
PRACTICE = "SYN1"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synthea-csv")
    packed = sorted(PACKED.glob("*.csv.gz"))
    assert len(packed) == 8
    for path in packed:
        (folder / path.name.removesuffix(".gz")).write_bytes(gzip.decompress(path.read_bytes()))
    return folder


@dataclass(frozen=True)
class Loaded:
    written: list[Path]
    ingested: IngestReport
    lakehouse: Lakehouse

    def table(self, identifier: str) -> list[dict[str, Any]]:
        return rows(self.lakehouse, identifier)


@pytest.fixture(scope="module")
def synthea(sample: Path) -> Synthea:
    return Synthea(sample)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, sample: Path) -> Loaded:
    root = tmp_path_factory.mktemp("synthea")
    written = convert(sample, root / "exports", PRACTICE, time_zone=ZONE.key)
    settings = local_settings(root, practices={PRACTICE: {"time_zone": ZONE.key, "currency": "USD"}})
    lakehouse = Lakehouse.open(settings)
    ingested = lakehouse.ingest(PRACTICE, [root / "exports" / PRACTICE])
    lakehouse.transform()
    return Loaded(written, ingested, lakehouse)


@pytest.fixture(scope="module")
def curated(loaded: Loaded) -> Loaded:
    assert loaded.lakehouse.curate().run_id is not None
    return loaded


def total(values: Iterable[Decimal]) -> Decimal:
    return sum(values, CENT)


def summed(pairs: Iterable[tuple[Any, Decimal]]) -> dict[Any, Decimal]:
    totals: dict[Any, Decimal] = defaultdict(lambda: CENT)
    for key, amount in pairs:
        totals[key] += amount
    return {k: v for k, v in totals.items() if v}


def summed_counts(pairs: Iterable[tuple[Any, int]]) -> Counter[Any]:
    counts: Counter[Any] = Counter()
    for key, n in pairs:
        counts[key] += n
    return +counts


def local_month(utc: datetime) -> str:
    return month(utc.replace(tzinfo=UTC).astimezone(ZONE).date())


def test_every_file_is_ingested_and_loaded_in_full(loaded: Loaded) -> None:
    assert sorted(e.source_name for e in loaded.ingested.entries) == sorted(p.name for p in loaded.written)
    assert {e.status for e in loaded.ingested.entries} == {"ingested"}
    files = reconcile(loaded.lakehouse.catalog).to_pylist()
    assert all(f["status"] == "loaded" and f["balanced"] for f in files), files
    lines = {p.stem: len(p.read_text(encoding="utf-8").splitlines()) - 1 for p in loaded.written}
    assert {f["dataset"]: f["rows_read"] for f in files} == lines


def test_the_only_row_quarantined_is_a_line_synthea_billed_before_it_was_done(loaded: Loaded, synthea: Synthea) -> None:
    charges_file = next(p for p in loaded.written if p.name == "charges.csv")
    with charges_file.open(newline="", encoding="utf-8") as handle:
        charge_ids = [row["charge_id"] for row in csv.DictReader(handle)]
    quarantined = [(q["entity"], q["rule"], charge_ids[q["raw_line"] - 2]) for q in loaded.table("ops.quarantine")]
    # A screening in a wellness visit timed 00:05 the day after the visit ended and was billed.
    assert len(synthea.billed_before_done) == 1
    assert quarantined == [("charge", "posted_after_service", t["ID"]) for t in synthea.billed_before_done]


def test_synthea_codes_are_of_systems_the_contracts_do_not_take(synthea: Synthea) -> None:
    """Why the adapter writes no procedure or diagnosis codes: Synthea's are SNOMED CT, CVX
    and RxNorm; the contracts take CPT/HCPCS/tariff codes and ICD-10."""
    procedures = {t["PROCEDURECODE"] for t in synthea.charge_lines}
    assert not [c for c in procedures if re.fullmatch(f"(?:{PROCEDURE_CODE})", c)]
    icd10 = ENCOUNTER.column("diagnosis_codes").pattern
    diagnoses = {c[f"DIAGNOSIS{i}"] for c in synthea.claims for i in range(1, 9)} - {""}
    assert diagnoses and not [c for c in diagnoses if re.fullmatch(f"(?:{icd10})", c)]


def test_cleaned_charges_and_payments_match_synthea_to_the_cent(loaded: Loaded, synthea: Synthea) -> None:
    charges = loaded.table("cleaned.charge")
    assert len(charges) == len(synthea.charges)
    assert total(c["amount"] for c in charges) == synthea.total_charges()
    assert summed((month(c["service_date"]), c["amount"]) for c in charges) == synthea.charges_by_month()

    claims = loaded.table("cleaned.claim")
    payer_of_visit = {c["encounter_id"]: c["payer_id"] for c in claims}
    assert len(payer_of_visit) == len({(c["encounter_id"], c["payer_id"]) for c in claims})  # one payer a visit
    assert summed((payer_of_visit[c["encounter_id"]], c["amount"]) for c in charges) == synthea.charges_by_payer()

    payments = loaded.table("cleaned.payment")
    assert len(payments) == len(synthea.payments)
    assert total(p["amount"] for p in payments) == synthea.total_payments()
    assert summed((p["payment_source"], p["amount"]) for p in payments) == synthea.payments_by_source()
    assert summed((local_month(p["paid_at"]), p["amount"]) for p in payments) == synthea.payments_by_month()
    assert loaded.table("cleaned.adjustment") == []  # this run has no ADJUSTMENT transactions


def test_cleaned_visits_match_synthea(loaded: Loaded, synthea: Synthea) -> None:
    appointments = loaded.table("cleaned.appointment")
    assert {a["status"] for a in appointments} == {"fulfilled"}
    assert Counter(local_month(a["start_at"]) for a in appointments) == synthea.kept_appointments_by_month()
    encounters = loaded.table("cleaned.encounter")
    assert Counter(month(e["encounter_date"]) for e in encounters) == synthea.encounters_by_month()
    claims = loaded.table("cleaned.claim")
    assert len(claims) == len(synthea.claims)
    assert {c["payer_id"] for c in claims} <= {r["payer_id"] for r in loaded.table("cleaned.payer")}


def test_curated_revenue_matches_synthea(curated: Loaded, synthea: Synthea) -> None:
    service = curated.table("curated.revenue_service_month")
    assert total(r["gross_charges"] for r in service) == synthea.total_charges()
    assert total(r["payments"] for r in service) == synthea.total_payments()
    assert summed((month(r["service_month"]), r["gross_charges"]) for r in service) == (
        synthea.charges_by_service_month()
    )
    by_source = summed(
        pair
        for r in service
        for pair in (
            ((month(r["service_month"]), "payer"), r["payer_payments"]),
            ((month(r["service_month"]), "patient"), r["patient_payments"]),
        )
    )
    assert by_source == synthea.payments_by_service_month()
    assert all(r["contractual_adjustments"] == r["denial_write_offs"] == CENT for r in service)

    mix = curated.table("curated.revenue_payer_mix")
    assert summed((r["payer_id"], r["charges"]) for r in mix) == synthea.charges_by_payer()
    assert summed_counts((r["payer_id"], r["visits"]) for r in mix) == synthea.visits_by_payer()

    activity = curated.table("curated.revenue_activity_month")
    assert summed((month(r["month"]), r["cash_collected"]) for r in activity) == synthea.payments_by_month()
    assert sum(r["claims_submitted"] for r in activity) == len(synthea.claims)
    assert sum(r["claims_initially_denied"] for r in activity) == 0  # Synthea has no denials


def test_curated_visits_and_productivity_match_synthea(curated: Loaded, synthea: Synthea) -> None:
    access = curated.table("curated.access_daily")
    kept = summed_counts((month(r["day"]), r["kept_appointments"]) for r in access)
    assert kept == synthea.kept_appointments_by_month()
    assert sum(r["no_shows"] + r["cancellations"] for r in access) == 0

    productivity = curated.table("curated.productivity_provider_month")
    visits = summed_counts(((r["provider_id"], month(r["month"])), r["kept_visits"]) for r in productivity)
    assert visits == synthea.encounters_by_provider_month()
    charges = summed(((r["provider_id"], month(r["month"])), r["charges"]) for r in productivity)
    assert charges == synthea.charges_by_provider_service_month()
    collections = summed(((r["provider_id"], month(r["month"])), r["collections"]) for r in productivity)
    assert collections == synthea.payments_by_provider_month()
