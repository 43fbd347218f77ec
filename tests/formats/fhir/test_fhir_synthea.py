"""Synthea's FHIR Bundles: figures from the files with plain json equal the rows, and the same
patients in Synthea's CSV export (encounters.csv, claims.csv, patients.csv) give the same ids,
dates and amounts wherever both exports say the same thing."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fhir_samples import HOSPITALS, PATIENT_BUNDLES, PRACTITIONERS, SYNTHEA, cents, data_of, read_all, resources, rows

from practicelake.formats.base import ParsedFile

ZONE = ZoneInfo("America/New_York")  # a Massachusetts run: its FHIR offsets are this zone's


@cache
def table(name: str) -> tuple[dict[str, str], ...]:
    text = gzip.decompress((SYNTHEA / "csv" / f"{name}.csv.gz").read_bytes()).decode("utf-8")
    return tuple(csv.DictReader(io.StringIO(text)))


@cache
def parsed(name: str) -> dict[str, ParsedFile]:
    return read_all(data_of(SYNTHEA / "fhir" / name))


def money_values(value: Any) -> list[Decimal]:
    if isinstance(value, dict):
        found = [Decimal(str(value["value"]))] if "currency" in value and "value" in value else []
        return found + [m for v in value.values() for m in money_values(v)]
    if isinstance(value, list):
        return [m for v in value for m in money_values(v)]
    return []


def exact(amount: Decimal) -> bool:
    return amount == amount.quantize(Decimal("0.01"))


BUNDLES = pytest.mark.parametrize("bundle", [p.name for p in PATIENT_BUNDLES])


@BUNDLES
def test_every_mapped_resource_is_a_row_or_a_bad_row(bundle: str) -> None:
    kinds = Counter(r["resourceType"] for r in resources(SYNTHEA / "fhir" / bundle))
    found = parsed(bundle)
    assert found["encounters"].rows_read == found["encounters"].rows.num_rows == kinds["Encounter"]
    assert found["patients"].rows.num_rows == kinds["Patient"] == 1
    assert found["claims"].rows_read == found["claims"].rows.num_rows == kinds["Claim"]
    assert found["claim_outcomes"].rows_read == kinds["ExplanationOfBenefit"]
    assert set(found) == {"encounters", "patients", "claims", "charges", "claim_outcomes", "payments", "adjustments"}


@BUNDLES
def test_amounts_dates_and_statuses_equal_the_files(bundle: str) -> None:
    source = resources(SYNTHEA / "fhir" / bundle)
    found = parsed(bundle)
    claims = [r for r in source if r["resourceType"] == "Claim"]
    assert sum(Decimal(r["billed_amount"]) for r in rows(found, "claims")) == sum(
        cents(c["total"]["value"]) for c in claims
    )
    nets = [Decimal(str(i["net"]["value"])) for c in claims for i in c["item"] if "net" in i]
    assert sorted(Decimal(r["amount"]) for r in rows(found, "charges")) == sorted(cents(n) for n in nets)
    assert (
        {r["claim_status"] for r in rows(found, "claims")}
        == {"submitted"}
        == {{"active": "submitted"}[c["status"]] for c in claims}
    )
    encounters = {r["id"]: r for r in source if r["resourceType"] == "Encounter"}
    assert {r["encounter_id"]: r["encounter_date"] for r in rows(found, "encounters")} == {
        k: e["period"]["start"][:10] for k, e in encounters.items()
    }


@BUNDLES
def test_explanations_of_benefit_with_sub_cent_amounts_are_bad_rows(bundle: str) -> None:
    """Synthea writes EOB coinsurance and payments as binary floats (527.0060000000001): never
    rounded, each such EOB is a bad row at its entry; the others are rows, amounts exact."""
    entries = [(n, r) for n, r in enumerate(resources(SYNTHEA / "fhir" / bundle), start=1)]
    eobs = [(n, r) for n, r in entries if r["resourceType"] == "ExplanationOfBenefit"]
    inexact = {n for n, r in eobs if not all(exact(m) for m in money_values(r))}
    found = parsed(bundle)["claim_outcomes"]
    assert {b.line for b in found.bad_rows} == inexact and inexact
    assert {b.rule for b in found.bad_rows} == {"fhir_money"}
    payments = parsed(bundle)["payments"]
    unpaid = {n for n, r in eobs if not exact(Decimal(str(r["payment"]["amount"]["value"])))}
    assert {b.line for b in payments.bad_rows} == unpaid
    assert payments.rows.num_rows == len(eobs) - len(unpaid)
    by_id = {r["id"]: r for _, r in eobs}
    for row in rows(parsed(bundle), "payments"):
        assert Decimal(row["amount"]) == Decimal(
            str(by_id[row["payment_id"].removesuffix("-payment")]["payment"]["amount"]["value"])
        )


def utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@BUNDLES
def test_the_same_patients_in_the_csv_export(bundle: str) -> None:
    found = parsed(bundle)
    (patient,) = rows(found, "patients")
    csv_patient = next(p for p in table("patients") if p["Id"] == patient["patient_id"])
    assert patient["date_of_birth"] == csv_patient["BIRTHDATE"]
    assert patient["sex"] == {"F": "female", "M": "male"}[csv_patient["GENDER"]]
    assert patient["postal_code"] == csv_patient["ZIP"]
    assert (patient["first_name"], patient["last_name"]) == (csv_patient["FIRST"], csv_patient["LAST"])

    visits = {e["Id"]: e for e in table("encounters") if e["PATIENT"] == patient["patient_id"]}
    encounters = {r["encounter_id"]: r for r in rows(found, "encounters")}
    assert set(encounters) == set(visits)
    for key, row in encounters.items():
        assert row["patient_id"] == visits[key]["PATIENT"]
        assert row["encounter_date"] == utc(visits[key]["START"]).astimezone(ZONE).date().isoformat()

    bills = {c["Id"]: c for c in table("claims") if c["PATIENTID"] == patient["patient_id"]}
    claims = {r["claim_id"]: r for r in rows(found, "claims")}
    assert set(claims) == set(bills)
    for key, row in claims.items():
        assert row["encounter_id"] == bills[key]["APPOINTMENTID"]
        assert utc(row["submitted_at"].replace(" ", "T")) == utc(bills[key]["LASTBILLEDDATE1"])


def test_claim_amounts_agree_with_the_csv_charges_where_synthea_prices_alike() -> None:
    """Synthea's two exporters price some procedure, lab and immunisation lines differently:
    Claim.total equals the claim's CSV CHARGE lines for 49 of the 62 claims of these patients."""
    charged: dict[str, Decimal] = defaultdict(Decimal)
    for line in table("claims_transactions"):
        if line["TYPE"] == "CHARGE":
            charged[line["CLAIMID"]] += Decimal(line["AMOUNT"])
    agree = differ = 0
    for bundle in PATIENT_BUNDLES:
        for row in rows(parsed(bundle.name), "claims"):
            agree += Decimal(row["billed_amount"]) == charged[row["claim_id"]]
            differ += Decimal(row["billed_amount"]) != charged[row["claim_id"]]
    assert (agree, differ) == (49, 13)


def test_directory_bundles() -> None:
    practitioners = [r for r in resources(PRACTITIONERS) if r["resourceType"] == "Practitioner"]
    providers = rows(read_all(data_of(PRACTITIONERS)), "providers")
    assert [p["provider_id"] for p in providers] == [r["id"] for r in practitioners]
    csv_providers = {p["Id"]: p for p in table("providers")}
    for row in providers:
        assert row["display_name"] == csv_providers[row["provider_id"]]["NAME"]
        assert row["specialty"]  # from the bundle's PractitionerRole, by the practitioner's NPI
    places = [r for r in resources(HOSPITALS) if r["resourceType"] == "Location"]
    locations = rows(read_all(data_of(HOSPITALS)), "locations")
    # Every Organization manages a Location of the file: the sites are the Locations, once each.
    assert [(r["location_id"], r["postal_code"]) for r in locations] == [
        (p["id"], p.get("address", {}).get("postalCode")) for p in places
    ]


def test_one_export_of_all_the_bundles_resolves_practitioners_to_the_csv_ids() -> None:
    """Alone, a patient Bundle names its practitioners by NPI (a conditional reference it cannot
    resolve); in one NDJSON export with the practitioner and hospital Bundles, each resolves to
    the Practitioner's id, which is the CSV's PROVIDER. The CSV's ORGANIZATION is the managing
    Organization of the FHIR Location of the visit."""
    alone = rows(parsed(PATIENT_BUNDLES[0].name), "encounters")
    assert all(len(r["provider_id"]) == 10 and r["provider_id"].isdigit() for r in alone)
    everything = [r for path in [*PATIENT_BUNDLES, PRACTITIONERS, HOSPITALS] for r in resources(path)]
    ndjson = "\n".join(json.dumps(r, default=str) for r in everything).encode()
    found = read_all(ndjson)
    visits = {e["Id"]: e for e in table("encounters")}
    encounters = rows(found, "encounters")
    assert len(encounters) == sum(r["resourceType"] == "Encounter" for r in everything)
    assert all(r["provider_id"] == visits[r["encounter_id"]]["PROVIDER"] for r in encounters)
    managing = {
        r["id"]: r["managingOrganization"]["identifier"]["value"]
        for r in everything
        if r["resourceType"] == "Location" and "managingOrganization" in r
    }
    assert all(managing[r["location_id"]] == visits[r["encounter_id"]]["ORGANIZATION"] for r in encounters)
    # Synthea's Claim.provider is the organisation that bills; claims.csv PROVIDERID is the practitioner.
    bills = {c["Id"]: c for c in table("claims")}
    claims = rows(found, "claims")
    assert all(r["provider_id"] == visits[bills[r["claim_id"]]["APPOINTMENTID"]]["ORGANIZATION"] for r in claims)
