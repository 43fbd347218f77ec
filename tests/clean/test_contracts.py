"""Each contract rule, checked on hand-written rows through the real transform."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from clean.lake import export, quarantine_rules, rows
from practicelake.contracts import CONTRACTS
from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings

APPOINTMENT_HEADER = (
    "practice_id,appointment_id,patient_id,provider_id,location_id,booked_at,start_at,duration_minutes,"
    "appointment_type,status,cancelled_at,checked_in_at,visit_start_at,visit_end_at,notes"
)
CHARGE_HEADER = (
    "practice_id,charge_id,encounter_id,patient_id,provider_id,procedure_code,modifier,units,amount,"
    "service_date,posted_date"
)


def load(local: Settings, *paths: Path, practice: str = "P001") -> Lakehouse:
    lakehouse = Lakehouse.open(local)
    lakehouse.ingest(practice, list(paths))
    lakehouse.transform()
    return lakehouse


def test_appointment_is_normalised(local: Settings, tmp_path: Path) -> None:
    path = export(
        tmp_path,
        "P001",
        "2024-03",
        "appointments",
        APPOINTMENT_HEADER,
        "P001,A1,MRN00000001,DR1,L1,2024-02-20 10:00:00,2024-03-01 09:00:00,15,New Patient,Completed,,"
        "2024-03-01 08:55:00,2024-03-01 09:10:00,2024-03-01 09:30:00,call before",
        " P001 ,A2,MRN00000002,DR1,L1,2024-02-21 10:00:00,2024-03-01 09:15:00,15,established,No Show,,,,,",
        "P001,A3,MRN00000002,DR1,,2024-02-21 10:00:00,2024-03-02 09:15:00,15,follow-up,Late Cancel,"
        "2024-03-01 18:00:00,,,,",
    )
    lakehouse = load(local, path)
    cleaned = {r["appointment_id"]: r for r in rows(lakehouse, "cleaned.appointment")}
    a1 = cleaned["A1"]
    assert a1["start_at"] == datetime(2024, 3, 1, 7, 0)  # 09:00 in Johannesburg (UTC+2) is 07:00 UTC
    assert a1["visit_end_at"] == datetime(2024, 3, 1, 7, 30)
    assert (a1["status"], a1["appointment_type"], a1["duration_minutes"]) == ("fulfilled", "new", 15)
    assert "notes" not in a1 and "patient_id" not in a1 and len(a1["patient_key"]) == 32
    assert (cleaned["A2"]["status"], cleaned["A2"]["practice_id"]) == ("noshow", "P001")
    assert cleaned["A3"]["status"] == "cancelled" and cleaned["A3"]["location_id"] is None
    assert cleaned["A1"]["patient_key"] != cleaned["A2"]["patient_key"] == cleaned["A3"]["patient_key"]


def test_each_rule_quarantines_with_its_name_and_column(local: Settings, tmp_path: Path) -> None:
    good = "P001,C{n},E1,MRN00000001,DR1,99213,25,1,120.00,2024-03-01,2024-03-02"
    path = export(
        tmp_path,
        "P001",
        "2024-03",
        "charges",
        CHARGE_HEADER,
        good.format(n=1),  # line 2: clean
        "P001,,E1,MRN00000001,DR1,99213,,1,120.00,2024-03-01,2024-03-02",  # 3: missing key
        "P002,C3,E1,MRN00000001,DR1,99213,,1,120.00,2024-03-01,2024-03-02",  # 4: another practice
        "P001,C4,,MRN00000001,DR1,99213,,1,120.00,2024-03-01,2024-03-02",  # 5: required
        'P001,C5,E1,MRN00000001,DR1,99213,,1,"12,50",2024-03-01,2024-03-02',  # 6: money with a comma
        "P001,C6,E1,MRN00000001,DR1,99213,,thirty,120.00,2024-03-01,2024-03-02",  # 7: not an integer
        "P001,C7,E1,MRN00000001,DR1,99213,,1,120.00,2024-02-30,2024-03-02",  # 8: no such date
        "P001,C8,E1,MRN00000001,DR1,99213,,1,120.00,1800-03-01,2024-03-02",  # 9: implausible date
        "P001,C9,E1,MRN00000001,DR1,XYZ12,,1,120.00,2024-03-01,2024-03-02",  # 10: unknown code format
        "P001,C10,E1,MRN00000001,DR1,99213,,0,120.00,2024-03-01,2024-03-02",  # 11: below minimum
        "P001,C11,E1,MRN00000001,DR1,99213,,1,120.00,2024-03-05,2024-03-02",  # 12: posted before service
        "P001,C12,E1,MRN00000001,DR1,99213,,1,120.001,2024-03-01,2024-03-02",  # 13: fractions of a cent
        "P001,C13,E1,MRN00000001",  # 14: too few fields
    )
    lakehouse = load(local, path)
    assert quarantine_rules(lakehouse) == {
        3: ("missing_key", "charge_id"),
        4: ("wrong_practice", "practice_id"),
        5: ("required", "encounter_id"),
        6: ("type", "amount"),
        7: ("type", "units"),
        8: ("type", "service_date"),
        9: ("implausible_date", "service_date"),
        10: ("code_format", "procedure_code"),
        11: ("minimum", "units"),
        12: ("posted_after_service", "posted_date"),
        13: ("type", "amount"),
        14: ("field_count", None),
    }
    (charge,) = rows(lakehouse, "cleaned.charge")
    assert charge["charge_id"] == "C1" and charge["amount"] == Decimal("120.00")


def test_reference_codes_and_code_lists(local: Settings, tmp_path: Path) -> None:
    adjustments = export(
        tmp_path,
        "P001",
        "2024-03",
        "adjustments",
        "practice_id,adjustment_id,claim_id,charge_id,payer_id,group_code,carc_code,rarc_code,amount,adjusted_on",
        "P001,J1,CL1,C1,PAY1,co,45,,30.00,2024-03-10",
        "P001,J2,CL1,C1,PAY1,CO,Z99,,30.00,2024-03-10",
        "P001,J3,CL1,C1,PAY1,XX,45,,30.00,2024-03-10",
    )
    encounters = export(
        tmp_path,
        "P001",
        "2024-03",
        "encounters",
        "practice_id,encounter_id,appointment_id,patient_id,provider_id,location_id,encounter_date,place_of_service,"
        "diagnosis_codes,notes",
        "P001,E1,A1,MRN00000001,DR1,L1,2024-03-01,11,J06.9|i10,",
        "P001,E2,A2,MRN00000001,DR1,L1,2024-03-01,11,J06.9|123.4,",
    )
    lakehouse = load(local, adjustments, encounters)
    rules = {(q["entity"], q["raw_line"]): q["rule"] for q in rows(lakehouse, "ops.quarantine")}
    assert rules == {
        ("adjustment", 3): "unknown_code",
        ("adjustment", 4): "allowed_values",
        ("encounter", 3): "code_format",
    }
    (adjustment,) = rows(lakehouse, "cleaned.adjustment")
    assert (adjustment["group_code"], adjustment["carc_code"]) == ("CO", "45")
    (encounter,) = rows(lakehouse, "cleaned.encounter")
    assert encounter["diagnosis_codes"] == ["J069", "I10"]


PATIENT_HEADER = (
    "practice_id,patient_id,first_name,last_name,date_of_birth,sex,phone,email,address_line,city,postal_code,"
    "member_number,primary_payer_id,registered_on,notes"
)


def test_patient_identifiers_stay_in_raw(local: Settings, tmp_path: Path) -> None:
    path = export(
        tmp_path,
        "P001",
        "2024-03",
        "patients",
        PATIENT_HEADER,
        "P001,MRN00000001,Nomvula,Dlamini,1984-07-09,F,+27 82 555 0101,nd@example.org,3 Jacaranda Rd,Durban,4001,"
        "MBR555000111,PAY1,2019-05-01,Nomvula prefers mornings",
        "P001,MRN00000002,Pieter,Botha,1931-01-01,M,,,,,0083,,PAY1,2021-05-01,",
        "P001,MRN00000003,Sipho,Zulu,2030-01-01,M,,,,,4001,,PAY1,2019-05-01,",
    )
    lakehouse = load(local, path)
    patients = {r["postal_prefix"] + str(r["birth_year"]): r for r in rows(lakehouse, "cleaned.patient")}
    assert set(patients) == {"4001984", "008None"}
    assert patients["008None"]["age_over_89"] is True  # born 1931, 90 when registered: year withheld
    assert set(patients["4001984"]) == {
        "practice_id",
        "patient_key",
        "birth_year",
        "age_over_89",
        "sex",
        "postal_prefix",
        "primary_payer_id",
        "registered_on",
        "raw_file_sha256",
        "raw_line",
        "run_id",
        "recorded_at",
    }
    assert patients["4001984"]["recorded_at"] is None  # a CSV export does not say when it recorded a row
    (quarantined,) = rows(lakehouse, "ops.quarantine")
    assert quarantined["rule"] == "born_before_registration"
    assert "Sipho" not in str(quarantined) and "MRN00000003" not in str(quarantined)


def test_age_is_judged_on_the_date_of_the_record(local: Settings, tmp_path: Path) -> None:
    """Over 89 is judged on the day the record describes, not on the day the transform runs:
    the same export gives the same cleaned rows whenever it is loaded."""
    path = export(
        tmp_path,
        "P001",
        "2016-05",
        "patients",
        PATIENT_HEADER,
        "P001,MRN00000001,,,1930-06-01,F,,,,,4001,,PAY1,2016-04-29,",  # 85 then, 96 today
        "P001,MRN00000002,,,1925-06-01,M,,,,,4001,,PAY1,2016-04-29,",  # 90 then
        "P001,MRN00000003,,,1936-01-01,M,,,,,4001,,PAY1,,",  # no date: judged on the day received
        "P001,MRN00000004,,,2099-01-01,M,,,,,4001,,PAY1,,",  # born after the record
    )
    lakehouse = load(local, path)
    by_line = {r["raw_line"]: r for r in rows(lakehouse, "cleaned.patient")}
    assert quarantine_rules(lakehouse) == {5: ("born_before_record", "date_of_birth")}
    assert (by_line[2]["birth_year"], by_line[2]["age_over_89"]) == (1930, False)
    assert (by_line[3]["birth_year"], by_line[3]["age_over_89"]) == (None, True)
    assert (by_line[4]["birth_year"], by_line[4]["age_over_89"]) == (None, True)  # 90 in 2026


def test_pseudonym_is_stable_across_batches_and_differs_across_practices(local: Settings, tmp_path: Path) -> None:
    row = "{p},MRN00000001,A,B,1984-07-09,F,,,,,4001,,PAY1,2019-05-01,"
    first = export(tmp_path, "P001", "2024-01", "patients", PATIENT_HEADER, row.format(p="P001"))
    lakehouse = load(local, first)
    second = export(tmp_path, "P001", "2024-02", "patients", PATIENT_HEADER, row.format(p="P001") + " ")
    other = export(tmp_path, "P002", "2024-01", "patients", PATIENT_HEADER, row.format(p="P002"))
    lakehouse.ingest("P001", [second])
    lakehouse.ingest("P002", [other])
    lakehouse.transform()
    keys = {r["practice_id"]: r["patient_key"] for r in rows(lakehouse, "cleaned.patient")}
    superseded = rows(lakehouse, "ops.duplicates")
    assert len(superseded) == 1 and superseded[0]["record_key"] == keys["P001"]
    assert keys["P001"] != keys["P002"]


def test_latest_batch_wins_even_when_received_first(local: Settings, tmp_path: Path) -> None:
    header = "practice_id,payer_id,name,payer_type"
    later = export(tmp_path, "P001", "2024-02", "payers", header, "P001,PAY1,Renamed Scheme,medical scheme")
    earlier = export(
        tmp_path,
        "P001",
        "2024-01",
        "payers",
        header,
        "P001,PAY1,Old Scheme,medical scheme",
        "P001,PAY2,Government,government",
    )
    lakehouse = load(local, later)
    lakehouse.ingest("P001", [earlier])
    lakehouse.transform()
    names = {r["payer_id"]: r["name"] for r in rows(lakehouse, "cleaned.payer")}
    assert names == {"PAY1": "Renamed Scheme", "PAY2": "Government"}
    (lost,) = rows(lakehouse, "ops.duplicates")
    assert (lost["record_key"], lost["raw_line"], lost["kept_raw_line"]) == ("PAY1", 2, 2)


def test_each_practice_keeps_its_own_time_zone_in_a_shared_chunk(local: Settings, tmp_path: Path) -> None:
    row = "{p},A1,MRN00000001,DR1,L1,2024-07-01 08:00:00,2024-07-01 09:00:00,15,new,Completed,,,,,"
    lakehouse = Lakehouse.open(local)
    for practice in ("P001", "P002", "P003"):  # Johannesburg, New York, London
        path = export(tmp_path, practice, "2024-07", "appointments", APPOINTMENT_HEADER, row.format(p=practice))
        lakehouse.ingest(practice, [path])
    lakehouse.transform()
    starts = {r["practice_id"]: r["start_at"] for r in rows(lakehouse, "cleaned.appointment")}
    assert starts == {
        "P001": datetime(2024, 7, 1, 7, 0),  # UTC+2
        "P002": datetime(2024, 7, 1, 13, 0),  # EDT, UTC-4
        "P003": datetime(2024, 7, 1, 8, 0),  # BST, UTC+1
    }


ENCOUNTER_HEADER = (
    "practice_id,encounter_id,appointment_id,patient_id,provider_id,location_id,encounter_date,place_of_service,"
    "diagnosis_codes,notes"
)


def test_a_visit_before_the_patients_birth_year_is_quarantined(local: Settings, tmp_path: Path) -> None:
    patients = export(
        tmp_path,
        "P001",
        "2024-03",
        "patients",
        PATIENT_HEADER,
        "P001,MRN00000001,,,2020-06-01,F,,,,,4001,,PAY1,2020-07-01,",
        "P001,MRN00000002,,,1920-06-01,M,,,,,4001,,PAY1,2020-07-01,",  # over 89: no year to check
    )
    encounters = export(
        tmp_path,
        "P001",
        "2024-03",
        "encounters",
        ENCOUNTER_HEADER,
        "P001,E1,,MRN00000001,DR1,,2019-12-31,11,J06.9,",  # the year before the birth
        "P001,E2,,MRN00000001,DR1,,2020-01-02,11,J06.9,",  # the birth year: cannot be told apart
        "P001,E3,,MRN00000001,DR1,,2024-03-01,11,J06.9,",
        "P001,E4,,MRN00000002,DR1,,1900-03-01,11,J06.9,",
        "P001,E5,,MRN00000009,DR1,,2019-03-01,11,J06.9,",  # a patient the lake does not know
    )
    lakehouse = load(local, patients, encounters)
    assert {r["encounter_id"] for r in rows(lakehouse, "cleaned.encounter")} == {"E2", "E3", "E4", "E5"}
    quarantined = [(q["entity"], q["raw_line"], q["rule"]) for q in rows(lakehouse, "ops.quarantine")]
    assert quarantined == [("encounter", 2, "visit_before_birth")]
    from practicelake.clean.reconcile import reconcile

    assert all(file["balanced"] for file in reconcile(lakehouse.catalog).to_pylist())


def test_every_canonical_value_is_itself_allowed() -> None:
    # A format writes the canonical value (formats.base); the checks compare lower(text) with the keys.
    for contract in CONTRACTS:
        for column in contract.columns:
            if column.allowed:
                missing = {v for v in column.allowed.values() if v.lower() not in column.allowed}
                assert not missing, (contract.entity, column.name, missing)
