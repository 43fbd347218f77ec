"""The official FHIR R4 examples (scheduling and financial), read one file at a time and as one
Bundle: every figure here is computed from the files with plain json, then compared with the rows."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.appointment import Appointment as R5Appointment
from fhir_samples import EXAMPLES, cents, plain, read_all, rows
from pydantic import ValidationError

from practicelake.formats.base import Source
from practicelake.formats.fhir.reader import FORMAT

ALL = sorted(EXAMPLES.glob("*/*.json"))


def of_type(kind: str) -> list[tuple[Path, dict[str, Any]]]:
    return [(path, plain(path)) for path in ALL if path.name.startswith(kind + "-")]


def bundle(resources: list[dict[str, Any]]) -> bytes:
    entries = [{"fullUrl": f"http://example.org/fhir/{r['resourceType']}/{r['id']}", "resource": r} for r in resources]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}, default=str).encode()


def everything() -> dict[str, Any]:
    return read_all(bundle([resource for _, resource in ((p, plain(p)) for p in ALL)]))


def test_every_example_is_claimed_and_read() -> None:
    for path in ALL:
        source = Source(path.read_bytes(), path.name)
        assert FORMAT.sniff(source), path.name
        for dataset, parsed in read_all(path.read_bytes()).items():
            assert parsed.rows_read >= 1 or dataset in ("payers", "payments", "adjustments", "provider_schedules")


def test_appointments_are_the_files_appointments() -> None:
    appointments = of_type("Appointment")
    found = {row["appointment_id"]: row for row in rows(everything(), "appointments")}
    assert len(found) == len(appointments) == 3
    for _, source in appointments:
        row = found[source["id"]]
        assert row["status"] == source["status"]
        if "start" in source:
            assert row["start_at"] == source["start"].replace("T", " ")
            length = datetime.fromisoformat(source["end"]) - datetime.fromisoformat(source["start"])
            assert row["duration_minutes"] == str(int(length.total_seconds() // 60))
        else:
            assert row["start_at"] is None and row["duration_minutes"] == str(source["minutesDuration"])
        assert row["booked_at"] == source.get("created")
        patients = [
            p["actor"]["reference"]
            for p in source["participant"]
            if "Patient/" in p.get("actor", {}).get("reference", "")
        ]
        assert row["patient_id"] == patients[0].split("/")[1]
        kind = source["appointmentType"]["coding"][0]["code"]
        assert row["appointment_type"] == ("follow-up" if kind == "FOLLOWUP" else kind)


def test_the_r4_appointments_are_valid_r4b_and_rejected_by_r5() -> None:
    """Why the R4B models judge: the default (R5) models refuse the R4 examples themselves."""
    for path, source in of_type("Appointment"):
        with pytest.raises(ValidationError):
            R5Appointment.model_validate(source)
        assert FORMAT.read(path.read_bytes(), "appointments").bad_rows == []


def _item_amount(item: dict[str, Any]) -> Decimal:
    if "net" in item:
        return Decimal(str(item["net"]["value"]))
    quantity = Decimal(str(item.get("quantity", {}).get("value", 1)))
    return Decimal(str(item["unitPrice"]["value"])) * quantity * Decimal(str(item.get("factor", 1)))


def test_claims_and_their_items() -> None:
    claims = [c for _, c in of_type("Claim")]
    bills = [c for c in claims if c["use"] == "claim"]
    parsed = everything()
    found = {row["claim_id"]: row for row in rows(parsed, "claims")}
    assert parsed["claims"].rows_read == len(claims) == 17
    assert set(found) == {c["id"] for c in bills}
    assert sorted(b.rule for b in parsed["claims"].bad_rows) == ["not_a_claim"] * (len(claims) - len(bills))
    for claim in bills:
        items = sum((_item_amount(i) for i in claim["item"]), Decimal(0))
        expected = cents(claim["total"]["value"]) if "total" in claim else cents(items)
        assert found[claim["id"]]["billed_amount"] == str(expected)
        assert found[claim["id"]]["submitted_at"] == claim["created"].replace("T", " ")
        assert found[claim["id"]]["claim_status"] == "submitted"
    charges = rows(parsed, "charges")
    assert len(charges) == sum(len(c["item"]) for c in bills)
    assert sum(Decimal(c["amount"]) for c in charges) == sum(_item_amount(i) for c in bills for i in c["item"])
    assert {c["charge_id"] for c in charges} == {f"{c['id']}-{i['sequence']}" for c in bills for i in c["item"]}


def test_claim_payers_resolve_contained_and_named_insurers() -> None:
    found = {row["claim_id"]: row["payer_id"] for row in rows(everything(), "claims")}
    assert found["100150"] == "2"  # Organization/2: not in the file, keeps the id it names
    assert found["100152"] == "org-insurer"  # a contained Organization
    assert found["100154"] == "123456"  # by identifier


def test_claim_responses_and_explanations_of_benefit() -> None:
    decisions = [r for _, r in of_type("ClaimResponse") + of_type("ExplanationOfBenefit")]
    decided = [r for r in decisions if r["use"] == "claim"]
    parsed = everything()
    outcomes = {row["outcome_id"]: row for row in rows(parsed, "claim_outcomes")}
    assert parsed["claim_outcomes"].rows_read == len(decisions) == 7
    assert set(outcomes) == {r["id"] for r in decided}
    for source in decided:
        row = outcomes[source["id"]]
        assert row["status_code"] == source["outcome"]
        assert row["adjudicated_on"] == source["created"]
        submitted = [
            t["amount"]["value"] for t in source.get("total", []) if t["category"]["coding"][0]["code"] == "submitted"
        ]
        assert row["billed_amount"] == (str(cents(submitted[0])) if submitted else None)
        if "payment" in source:
            assert row["paid_amount"] == str(cents(source["payment"]["amount"]["value"]))
    assert outcomes["R3501"]["outcome"] == "denied" and outcomes["R3501"]["paid_amount"] == "0.00"  # error
    assert outcomes["EB3500"]["claim_id"] == "100150" and outcomes["R3501"]["claim_id"] == "100156"
    paid = [r for r in decided if "payment" in r and "amount" in r["payment"]]
    payments = rows(parsed, "payments")
    assert len(payments) == len(paid)
    assert sum(Decimal(p["amount"]) for p in payments) == sum(
        Decimal(str(r["payment"]["amount"]["value"])) for r in paid
    )


def test_adjustments_are_the_patient_shares_of_the_items() -> None:
    decided = [r for _, r in of_type("ClaimResponse") + of_type("ExplanationOfBenefit") if r["use"] == "claim"]
    shares = Counter()
    for response in decided:
        for item in response.get("item", []):
            for adjudication in item.get("adjudication", []):
                code = adjudication["category"]["coding"][0]["code"]
                if code in ("copay", "deductible") and adjudication["amount"]["value"]:
                    shares[code] += Decimal(str(adjudication["amount"]["value"]))
    found = rows(everything(), "adjustments")
    assert sum(Decimal(a["amount"]) for a in found if a["carc_code"] == "3") == shares["copay"] == Decimal("30")
    assert {(a["group_code"], a["carc_code"]) for a in found} == {("PR", "3")}
    assert all(a["charge_id"].startswith(a["claim_id"] + "-") for a in found)


def test_coverages_name_their_payers() -> None:
    coverages = [c for _, c in of_type("Coverage")]
    payors = {p.get("reference", "").split("/")[-1] or p["identifier"]["value"] for c in coverages for p in c["payor"]}
    persons = {
        p["reference"].split("/")[-1] for c in coverages for p in c["payor"] if "Patient/" in p.get("reference", "")
    }
    found = rows(everything(), "payers")
    assert {p["payer_id"] for p in found} == payors - persons == {"2", "123456789"}
    assert {p["payer_type"] for p in found} == {"insurer"}  # EHCPOL: extended healthcare, a private policy


def test_a_patient_gets_member_number_and_payer_from_its_coverage() -> None:
    coverage = plain(EXAMPLES / "financial" / "Coverage-9876B1.json")
    patient = {"resourceType": "Patient", "id": "4", "birthDate": "1970-01-01", "gender": "female"}
    (row,) = rows(read_all(bundle([patient, coverage])), "patients")
    assert row["member_number"] == coverage["identifier"][0]["value"]
    assert row["primary_payer_id"] == "2"


def test_schedule_and_slots_give_a_practitioners_session() -> None:
    schedule = plain(EXAMPLES / "scheduling" / "Schedule-exampleloc1.json")
    slots = [plain(p) for p in sorted((EXAMPLES / "scheduling").glob("Slot-*.json"))]
    for slot in slots:
        slot["schedule"]["reference"] = "Schedule/exampleloc1"
    (row,) = rows(read_all(bundle([schedule, *slots])), "provider_schedules")
    starts = sorted(s["start"] for s in slots)
    ends = sorted(s["end"] for s in slots)
    assert row["provider_id"] == "1" and row["location_id"] == "3"
    assert row["schedule_date"] == starts[0][:10]
    assert (row["start_time"], row["end_time"]) == (starts[0][11:16], ends[-1][11:16]) == ("09:00", "10:00")
    assert row["slot_minutes"] == "15"
    assert row["held_slots"] == str(sum(s["status"] == "busy-unavailable" for s in slots)) == "1"


def test_a_schedule_of_a_location_alone_is_no_providers_time() -> None:
    files = [EXAMPLES / "scheduling" / "Schedule-example.json", *sorted((EXAMPLES / "scheduling").glob("Slot-*.json"))]
    parsed = read_all(bundle([plain(p) for p in files]))
    assert parsed["provider_schedules"].rows_read == 0


def _comparable(parsed: dict[str, Any]) -> dict[str, list[str]]:
    return {d: sorted(json.dumps(r, sort_keys=True) for r in rows(parsed, d)) for d in parsed}


def test_single_resource_bundle_and_ndjson_give_the_same_rows() -> None:
    for path in ALL:
        resource = plain(path)
        line = json.dumps(resource, default=str).encode()
        single, one_entry, ndjson = (read_all(d) for d in (path.read_bytes(), bundle([resource]), line + b"\n\n"))
        assert _comparable(single) == _comparable(one_entry) == _comparable(ndjson), path.name
    resources = [plain(p) for p in ALL]
    lines = b"\n".join(json.dumps(r, default=str).encode() for r in resources)
    as_bundle, as_ndjson = read_all(bundle(resources)), read_all(lines)
    without = {d: [{k: v for k, v in r.items() if k != "raw_line"} for r in rows(as_bundle, d)] for d in as_bundle}
    assert without == {
        d: [{k: v for k, v in r.items() if k != "raw_line"} for r in rows(as_ndjson, d)] for d in as_ndjson
    }
    # Bundle entry i and NDJSON line i are the same resource: the same position.
    assert [r["raw_line"] for r in rows(as_bundle, "charges")] == [r["raw_line"] for r in rows(as_ndjson, "charges")]


def test_a_reference_by_identifier_resolves_within_the_file() -> None:
    alone = rows(read_all((EXAMPLES / "financial" / "ClaimResponse-R3502.json").read_bytes()), "claim_outcomes")
    assert alone[0]["claim_id"] == "6612346"  # the identifier the request names
    together = {r["outcome_id"]: r for r in rows(everything(), "claim_outcomes")}
    assert together["R3502"]["claim_id"] == "660151"  # the Claim of the file that carries that identifier


def test_an_invalid_resource_is_a_bad_row_naming_where_not_what() -> None:
    appointment = copy.deepcopy(plain(EXAMPLES / "scheduling" / "Appointment-example.json"))
    appointment["minutesDuration"] = "Peter James Chalmers"
    parsed = FORMAT.read(bundle([appointment]), "appointments")
    (bad,) = parsed.bad_rows
    assert bad.line == 1 and bad.rule == "fhir_invalid"
    assert "minutesDuration" in bad.detail and "Chalmers" not in bad.detail
