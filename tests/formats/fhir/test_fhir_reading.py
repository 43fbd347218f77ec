"""How a FHIR file is read: its shapes and positions, what is malformed, references, times and
money as the contract checks read them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fhir_samples import read_all, rows

from practicelake.clean.checks import OFFSET
from practicelake.errors import MalformedFileError
from practicelake.formats import registry
from practicelake.formats.base import Format, Source
from practicelake.formats.fhir.reader import FORMAT


def bundle(*resources: dict[str, Any], urls: bool = True) -> bytes:
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} if urls else {"resource": r} for r in resources]
    return json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries}).encode()


def appointment(**fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": "a1",
        "status": "booked",
        "start": "2024-03-05T10:00:00-05:00",
        "end": "2024-03-05T10:30:00-05:00",
        "participant": [
            {"actor": {"reference": "urn:uuid:p-1"}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/dr-1"}, "status": "accepted"},
            {"actor": {"reference": "Location/site-1"}, "status": "accepted"},
        ],
    } | fields


PATIENT = {
    "resourceType": "Patient",
    "id": "p-1",
    "identifier": [
        {"system": "urn:ssn", "value": "999-00-0000"},
        {
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
            "value": "MRN7",
        },
    ],
    "birthDate": "1980-02-01",
}


def one(dataset: str, data: bytes) -> dict[str, Any]:
    parsed = FORMAT.read(data, dataset)
    assert parsed.bad_rows == []
    (row,) = parsed.rows.to_pylist()
    return row


def test_the_registry_names_the_format() -> None:
    found: Format = registry.get("fhir-r4")
    assert found is FORMAT and (found.name, found.unit) == ("fhir-r4", "entry")


def test_sniff_claims_fhir_and_nothing_else() -> None:
    claimed = [bundle(PATIENT), json.dumps(PATIENT).encode(), b"\n" + json.dumps(PATIENT).encode() + b"\n{broken"]
    others = [b'{"name": "x"}', b"patient_id,name\n1,x\n", b"ISA*00*~", b"MSH|^~\\&|", b"[]", b"", b"\xff\xfe{"]
    assert all(FORMAT.sniff(Source(d, "f")) for d in claimed)
    assert not any(FORMAT.sniff(Source(d, "f")) for d in others)


@pytest.mark.parametrize(
    "data", [b"{not json", b"[1, 2]", b'{"name": "x"}', b"\xff\xfe{", b'{"resourceType": "Bundle", "entry": 3}']
)
def test_a_file_that_is_no_fhir_json_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedFileError) as inspected:
        FORMAT.inspect(Source(data, "f.json"))
    with pytest.raises(MalformedFileError):
        FORMAT.read(data, "appointments")
    assert "\n" not in str(inspected.value)


def test_ndjson_positions_are_lines_and_a_broken_line_is_a_bad_row() -> None:
    lines = [
        json.dumps(appointment(id="a1")),
        "",
        json.dumps(appointment(id="a2"))[:-9],
        json.dumps(appointment(id="a3")),
    ]
    parsed = FORMAT.read("\n".join(lines).encode(), "appointments")
    assert [r["raw_line"] for r in parsed.rows.to_pylist()] == [1, 4]
    (bad,) = parsed.bad_rows
    assert (bad.line, bad.detail) == (3, "the line is not JSON")
    assert parsed.rows_read == 3
    assert FORMAT.read("\n".join(lines).encode(), "patients").rows_read == 0  # the broken line names Appointment


def test_nested_bundles_number_their_entries_in_document_order() -> None:
    inner = json.loads(bundle(appointment(id="a2"), appointment(id="a3")))
    data = bundle(appointment(id="a1"), inner | {"id": "b"}, appointment(id="a4"))
    found = rows(read_all(data), "appointments")
    assert [(r["appointment_id"], r["raw_line"]) for r in found] == [("a1", 1), ("a2", 3), ("a3", 4), ("a4", 5)]


def test_an_entry_that_is_no_resource_is_a_bad_row_of_every_dataset_the_file_feeds() -> None:
    document = json.loads(bundle(appointment(), PATIENT))
    document["entry"].insert(1, {"resource": {"id": "x"}})
    parsed = read_all(json.dumps(document).encode())
    assert set(parsed) == {"appointments", "patients"}
    for dataset in parsed.values():
        assert [(b.line, b.rule) for b in dataset.bad_rows] == [(2, "fhir_entry")]
        assert dataset.rows_read == 2


def test_references_resolve_within_the_bundle_and_keep_the_id_they_name() -> None:
    row = one("appointments", bundle(appointment(), PATIENT))
    assert row["patient_id"] == "MRN7"  # urn:uuid -> the Patient of the file -> its MR identifier
    assert (row["provider_id"], row["location_id"]) == ("dr-1", "site-1")  # not in the file
    alone = appointment()
    assert one("appointments", json.dumps(alone).encode())["patient_id"] is None  # a urn of no known type
    alone["participant"][0]["actor"]["type"] = "Patient"
    assert one("appointments", json.dumps(alone).encode())["patient_id"] == "p-1"  # unresolved: the uuid it names
    patient = one("patients", bundle(PATIENT))
    assert patient["patient_id"] == "MRN7" and patient["date_of_birth"] == "1980-02-01"


def test_an_offset_is_kept_as_the_source_wrote_it() -> None:
    row = one("appointments", bundle(appointment(created="2024-03-01T08:15:00Z")))
    assert row["start_at"] == "2024-03-05 10:00:00-05:00"
    assert row["booked_at"] == "2024-03-01 08:15:00Z"
    assert re.search(OFFSET, row["start_at"]) and re.search(OFFSET, row["booked_at"])
    assert row["duration_minutes"] == "30"


def test_a_date_only_booking_stays_a_date_and_a_date_only_start_is_no_instant() -> None:
    row = one("appointments", bundle(appointment(created="2024-03-01")))
    assert row["booked_at"] == "2024-03-01"
    parsed = FORMAT.read(bundle(appointment(start="2024-03-05", end="2024-03-05")), "appointments")
    (bad,) = parsed.bad_rows
    assert bad.rule == "fhir_invalid" and "start" in bad.detail and "2024" not in bad.detail


def test_a_naive_time_is_the_practices_wall_time_with_a_warning() -> None:
    data = bundle(appointment(start="2024-03-05T10:00:00", end="2024-03-05T10:45:00", created="2024-03-01T09:00"))
    parsed = FORMAT.read(data, "appointments")
    assert parsed.bad_rows == []
    (row,) = parsed.rows.to_pylist()
    assert (row["start_at"], row["booked_at"], row["duration_minutes"]) == (
        "2024-03-05 10:00:00",
        "2024-03-01 09:00:00",
        "45",
    )
    assert re.search(OFFSET, row["start_at"]) is None
    assert parsed.warnings and "without an offset" in parsed.warnings[0]


def test_across_a_daylight_saving_change() -> None:
    # 2024-03-10 02:00 America/New_York springs to 03:00: 01:30 EST to 03:30 EDT is one hour.
    spring = one(
        "appointments", bundle(appointment(start="2024-03-10T01:30:00-05:00", end="2024-03-10T03:30:00-04:00"))
    )
    assert (spring["start_at"], spring["duration_minutes"]) == ("2024-03-10 01:30:00-05:00", "60")
    # 2024-11-03 02:00 EDT falls back to 01:00 EST: 01:30 EDT to 01:30 EST is one hour too.
    fall = one("appointments", bundle(appointment(start="2024-11-03T01:30:00-04:00", end="2024-11-03T01:30:00-05:00")))
    assert (fall["start_at"], fall["duration_minutes"]) == ("2024-11-03 01:30:00-04:00", "60")
    encounter = {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "finished",
        "class": {"code": "AMB"},
        "period": {"start": "2024-11-03T01:30:00-04:00"},
    }
    assert one("encounters", bundle(encounter))["encounter_date"] == "2024-11-03"


def claim(*nets: Any, **fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "Claim",
        "id": "c1",
        "status": "active",
        "type": {"coding": [{"code": "professional"}]},
        "use": "claim",
        "patient": {"reference": "Patient/p-1"},
        "created": "2024-03-05",
        "provider": {"reference": "Organization/o1"},
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/x"}}],
        "item": [
            {"sequence": n, "productOrService": {"coding": [{"code": "99213"}]}, "net": {"value": v, "currency": "USD"}}
            for n, v in enumerate(nets, start=1)
        ],
    } | fields


def test_money_has_two_decimals_exactly_or_is_a_bad_row() -> None:
    # Written as text: 10.000 has three decimals as the source wrote it, all of them zero.
    data = (
        b'{"resourceType": "Claim", "id": "c1", "status": "active", "type": {}, "use": "claim", "patient": {},'
        b' "created": "2024-03-05", "provider": {}, "priority": {}, "insurance": [], "item": ['
        b'{"sequence": 1, "productOrService": {}, "net": {"value": 10.000}},'
        b' {"sequence": 2, "productOrService": {}, "net": {"value": 7}}]}'
    )
    found = FORMAT.read(data, "charges").rows.to_pylist()
    assert [r["amount"] for r in found] == ["10.00", "7.00"]
    assert one("claims", data)["billed_amount"] == "17.00"
    parsed = FORMAT.read(json.dumps(claim(10.005)).encode(), "charges")
    (bad,) = parsed.bad_rows
    assert bad.rule == "fhir_money" and "10.005" not in bad.detail and "more than two decimals" in bad.detail


def test_a_claim_that_bills_nothing_and_a_visit_that_did_not_happen_are_bad_rows() -> None:
    for data, dataset in [
        (json.dumps(claim(5, status="draft")).encode(), "claims"),
        (json.dumps(claim(5, use="predetermination")).encode(), "charges"),
        (
            bundle({"resourceType": "Encounter", "id": "e", "status": "cancelled", "class": {"code": "AMB"}}),
            "encounters",
        ),
    ]:
        (bad,) = FORMAT.read(data, dataset).bad_rows
        assert bad.line == 1 and bad.rule in ("not_a_claim", "not_a_visit")


def test_organizations_are_payers_or_sites() -> None:
    insurer = {
        "resourceType": "Organization",
        "id": "ins",
        "name": "Acme Health",
        "type": [{"coding": [{"code": "ins"}]}],
    }
    clinic = {
        "resourceType": "Organization",
        "id": "org",
        "name": "Main St Clinic",
        "type": [{"coding": [{"code": "prov"}]}],
    }
    parsed = read_all(bundle(insurer, clinic))
    assert rows(parsed, "payers")[0] | {"raw_line": 0} == {
        "payer_id": "ins",
        "name": "Acme Health",
        "payer_type": "insurer",
        "raw_line": 0,
    }
    assert [r["location_id"] for r in rows(parsed, "locations")] == ["org"]
    site = {
        "resourceType": "Location",
        "id": "loc",
        "name": "Main St",
        "managingOrganization": {"reference": "urn:uuid:org"},
    }
    assert [r["location_id"] for r in rows(read_all(bundle(insurer, clinic, site)), "locations")] == ["loc"]
