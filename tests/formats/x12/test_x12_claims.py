"""The 837P samples read into claims, charges, encounters and patients, against figures read
from the files apart; the text forms of their dates and times."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from x12_samples import CLAIM_FILES, FIXTURES, of, segments, total

from practicelake.errors import MalformedFileError
from practicelake.formats import registry
from practicelake.formats.base import Source
from practicelake.formats.x12.claims import FORMAT

LFH5 = FIXTURES / "linuxforhealth-x12" / "837P_005010X222A2"
EXAMPLE1 = (LFH5 / "demo.example1.837").read_bytes()
NAMES = [f"{p.parent.name}/{p.name}" for p in CLAIM_FILES]


def read(data: bytes, dataset: str) -> list[dict[str, Any]]:
    parsed = FORMAT.read(data, dataset)
    assert parsed.bad_rows == []
    rows: list[dict[str, Any]] = parsed.rows.to_pylist()
    return rows


def test_there_are_837p_samples_of_both_projects() -> None:
    assert len(CLAIM_FILES) == 27
    assert {p.parent.name for p in CLAIM_FILES} == {"pyx12", "837P_004010X098A1", "837P_005010X222A2", "demo-file"}


@pytest.mark.parametrize("path", CLAIM_FILES, ids=NAMES)
def test_every_claim_and_line_of_the_file_is_read(path: Path) -> None:
    data, found = path.read_bytes(), segments(path.read_bytes())
    clm, sv1 = of(found, "CLM"), of(found, "SV1")
    claims, charges, encounters = read(data, "claims"), read(data, "charges"), read(data, "encounters")
    assert len(claims) == len(encounters) == len(clm)
    assert len(charges) == len(sv1) == len(of(found, "LX"))
    assert sum(Decimal(r["billed_amount"] or "0") for r in claims) == total([s[2] for s in clm])
    assert sum(Decimal(r["amount"] or "0") for r in charges) == total([s[2] for s in sv1])
    assert [r["claim_id"] for r in claims] == [s[1] for s in clm]
    assert [r["raw_line"] for r in charges] == [i + 1 for i, s in enumerate(found) if s[0] == "LX"]
    assert {r["claim_status"] for r in claims} == {"submitted"}
    patients = read(data, "patients")
    assert len(patients) == len({r["patient_id"] for r in claims})
    for row in charges:  # SV104 written 1.00 is the integer 1
        assert row["units"] is not None and row["units"].isdigit()


def test_a_5010_claim_for_a_dependent() -> None:
    (claim,) = read(EXAMPLE1, "claims")
    assert claim["claim_id"] == claim["encounter_id"] == "26463774"
    assert (claim["payer_id"], claim["provider_id"], claim["billed_amount"]) == ("999996666", "1912301953", "100.00")
    assert claim["submitted_at"] == "2006-10-15 10:23:00"  # BHT04 + BHT05, wall time, no offset
    assert claim["patient_id"] is not None and claim["patient_id"].startswith("JS00111223333-")
    charges = read(EXAMPLE1, "charges")
    assert [(c["charge_id"], c["procedure_code"], c["units"], c["amount"], c["service_date"]) for c in charges] == [
        ("26463774:1", "99213", "1", "40.00", "2006-10-03"),
        ("26463774:2", "87070", "1", "15.00", "2006-10-03"),
        ("26463774:3", "99214", "1", "35.00", "2006-10-10"),
        ("26463774:4", "86663", "1", "10.00", "2006-10-10"),
    ]
    assert {c["posted_date"] for c in charges} == {"2006-10-15"}
    assert {c["provider_id"] for c in charges} == {"1912301953"}  # no NM1*82: the billing provider
    (encounter,) = read(EXAMPLE1, "encounters")
    assert (encounter["encounter_date"], encounter["place_of_service"]) == ("2006-10-03", "11")
    (patient,) = read(EXAMPLE1, "patients")
    assert (patient["first_name"], patient["last_name"], patient["date_of_birth"], patient["sex"]) == (
        "TED",
        "SMITH",
        "1973-05-01",
        "male",
    )
    assert (patient["member_number"], patient["primary_payer_id"], patient["postal_code"]) == (
        "JS00111223333",
        "999996666",
        "33413",
    )
    assert patient["patient_id"] == claim["patient_id"]


def test_two_dependents_of_one_subscriber_have_their_own_ids() -> None:
    sister = EXAMPLE1.replace(b"NM1*QC*1*SMITH*TED", b"NM1*QC*1*SMITH*ANN")
    assert read(sister, "claims")[0]["patient_id"] != read(EXAMPLE1, "claims")[0]["patient_id"]
    assert read(EXAMPLE1, "claims")[0]["patient_id"] == read(EXAMPLE1, "claims")[0]["patient_id"]


def test_icd10_diagnoses_come_primary_first_and_icd9_ones_are_left_out_with_a_warning() -> None:
    parsed = FORMAT.read(EXAMPLE1, "encounters")
    assert parsed.rows.to_pylist()[0]["diagnosis_codes"] is None
    assert "2 ICD-9-CM diagnosis code(s) (HI qualifier BK/BF) left out: the column is ICD-10" in parsed.warnings
    icd10 = EXAMPLE1.replace(b"HI*BK:0340*BF:V7389", b"HI*ABF:Z23*ABK:J020*ABF:R05")
    (encounter,) = read(icd10, "encounters")
    assert encounter["diagnosis_codes"] == "J020|Z23|R05"


def test_rendering_providers_of_the_line_then_the_claim() -> None:
    path = FIXTURES / "linuxforhealth-x12" / "837P_004010X098A1" / "patient-is-subscriber.837"
    rendering = [s[9] for s in of(segments(path.read_bytes()), "NM1") if s[1] == "82"]
    charges = read(path.read_bytes(), "charges")
    assert {c["provider_id"] for c in charges} == {rendering[0]}
    line = EXAMPLE1.replace(b"SV1*HC:87070", b"NM1*82*1*X*Y****XX*1234567893~SV1*HC:87070")
    line = line.replace(b"SE*40*", b"SE*41*")
    assert [c["provider_id"] for c in read(line, "charges")][:2] == ["1912301953", "1234567893"]


def test_a_range_of_service_dates_gives_its_first_day() -> None:
    data = EXAMPLE1.replace(b"DTP*472*D8*20061003~\nLX*2", b"DTP*472*RD8*20061001-20061005~\nLX*2")
    assert read(data, "charges")[0]["service_date"] == "2006-10-01"


def test_times_are_wall_times_without_an_offset_and_a_date_alone_stays_a_date() -> None:
    seconds = EXAMPLE1.replace(b"BHT*0019*00*244579*20061015*1023*CH", b"BHT*0019*00*244579*20061015*102359*CH")
    assert read(seconds, "claims")[0]["submitted_at"] == "2006-10-15 10:23:59"
    # 02:30 on the day US clocks spring forward: a wall time the transform's zone check judges.
    gap = EXAMPLE1.replace(b"*20061015*1023*CH", b"*20240310*0230*CH")
    assert read(gap, "claims")[0]["submitted_at"] == "2024-03-10 02:30:00"
    fall = EXAMPLE1.replace(b"*20061015*1023*CH", b"*20241103*0130*CH")
    assert read(fall, "claims")[0]["submitted_at"] == "2024-11-03 01:30:00"
    date_only = EXAMPLE1.replace(b"*20061015*1023*CH", b"*20061015**CH")
    assert read(date_only, "claims")[0]["submitted_at"] == "2006-10-15"


def test_a_component_separator_other_than_isa16_is_read_with_a_warning() -> None:
    data = (LFH5 / "demo.example6.837").read_bytes()
    assert b"SV1*HC>" in data and data[104:105] == b":"
    parsed = FORMAT.read(data, "charges")
    assert parsed.rows.to_pylist()[0]["procedure_code"] is not None
    assert ">" not in (parsed.rows.to_pylist()[0]["procedure_code"] or "")
    assert any("not the ':' ISA16 declares" in w for w in parsed.warnings)


def test_a_claim_whose_lines_do_not_add_up_is_read_with_a_warning() -> None:
    parsed = FORMAT.read((FIXTURES / "pyx12" / "simple_837p.txt").read_bytes(), "claims")
    assert parsed.rows.num_rows == 2
    assert "claim at segment 21: CLM02 21.00 is not the sum of its lines' charges 42.00" in parsed.warnings


def test_the_54_lines_of_pyx12s_loop_counting_sample() -> None:
    charges = read((FIXTURES / "pyx12" / "loop_counting.txt").read_bytes(), "charges")
    assert len(charges) == 54 and len({c["charge_id"] for c in charges}) == 54


def test_a_void_claim_and_a_line_without_sv1() -> None:
    void = EXAMPLE1.replace(b"CLM*26463774*100.00***11:B:1", b"CLM*26463774*100.00***11:B:8")
    assert read(void, "claims")[0]["claim_status"] == "void"
    no_sv1 = EXAMPLE1.replace(b"SV1*HC:87070*15.00*UN*1.00***1~\n", b"")
    parsed = FORMAT.read(no_sv1, "charges")
    assert parsed.rows.num_rows == 3 and [(b.line, b.rule) for b in parsed.bad_rows] == [(33, "no_service_line")]


@pytest.mark.parametrize(
    ("implementation", "kind"), [(b"005010X223A2", "837I"), (b"005010X224A2", "837D"), (b"004010X096A1", "837I")]
)
def test_an_institutional_or_dental_837_is_not_an_837p(implementation: bytes, kind: str) -> None:
    data = EXAMPLE1.replace(b"005010X222A2", implementation)
    assert not FORMAT.sniff(Source(data, "claims.837"))
    with pytest.raises(MalformedFileError, match=f"segment 3 is an {kind} .*, not an 837P professional claim"):
        FORMAT.inspect(Source(data, "claims.837"))


def test_sniff_claims_837ps_only() -> None:
    assert registry.get("x12-837p") is FORMAT
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file() and path.name != "SOURCE.txt":
            assert FORMAT.sniff(Source(path.read_bytes(), path.name)) is (path in CLAIM_FILES), path.name
    inspection = FORMAT.inspect(Source(EXAMPLE1, "claims.837"))
    assert inspection.datasets == ("claims", "charges", "encounters", "patients")


def test_the_columns_asked_for_are_the_only_ones_read() -> None:
    parsed = FORMAT.read(EXAMPLE1, "patients", ["patient_id", "sex"])
    assert parsed.rows.column_names == ["patient_id", "sex", "raw_line"]


def test_inspect_warns_of_a_claim_whose_lines_do_not_add_up() -> None:
    inspection = FORMAT.inspect(Source((FIXTURES / "pyx12" / "simple_837p.txt").read_bytes(), "simple.837"))
    assert any("CLM02 21.00 is not the sum" in w for w in inspection.warnings)
