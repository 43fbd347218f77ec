"""The adapter's rules on hand-written Synthea rows, including what the shared sample lacks
(an ADJUSTMENT transaction)."""

from __future__ import annotations

from practicelake.adapters.synthea import Clock, appointments, billing

CLOCK = Clock("America/New_York")
VISIT = {"Id": "E1", "PAYER": "MEDICARE"}
CLAIM = {
    "Id": "C1",
    "APPOINTMENTID": "E1",
    "PATIENTID": "PT1",
    "PROVIDERID": "DR1",
    "PRIMARYPATIENTINSURANCEID": "MEDICARE",
    "SECONDARYPATIENTINSURANCEID": "BCBS",
    "STATUS1": "CLOSED",
    "LASTBILLEDDATE1": "2023-03-01T15:15:00Z",
    "LASTBILLEDDATE2": "",
    "LASTBILLEDDATEP": "2023-03-01T15:15:00Z",
}


def transaction(number: int, kind: str, **values: str) -> dict[str, str]:
    row = dict.fromkeys(("AMOUNT", "METHOD", "TRANSFERTYPE", "PAYMENTS", "ADJUSTMENTS", "MODIFIER1"), "")
    return row | {
        "ID": f"T{number}",
        "CLAIMID": "C1",
        "CHARGEID": str(number),
        "TYPE": kind,
        "FROMDATE": "2023-03-01T15:00:00Z",
        "APPOINTMENTID": "E1",
        "PATIENTID": "PT1",
        "PROVIDERID": "DR1",
        "UNITS": "1",
        **values,
    }


def test_one_line_settled_by_copay_adjustment_two_payers_and_the_patient() -> None:
    # As Synthea writes a line: charge, copay, adjustment, primary, secondary, patient.
    lines = [
        transaction(9, "PAYMENT", METHOD="CC", PAYMENTS="5.00"),
        transaction(1, "CHARGE", AMOUNT="100.00"),
        transaction(2, "PAYMENT", METHOD="COPAY", PAYMENTS="10.00"),
        transaction(3, "ADJUSTMENT", METHOD="SYSTEM", ADJUSTMENTS="20.00"),
        transaction(4, "PAYMENT", METHOD="ECHECK", PAYMENTS="50.00"),
        transaction(5, "TRANSFEROUT"),
        transaction(6, "TRANSFERIN", AMOUNT="20.00", TRANSFERTYPE="2"),
        transaction(7, "PAYMENT", METHOD="ECHECK", PAYMENTS="15.00"),
        transaction(8, "TRANSFERIN", AMOUNT="5.00", TRANSFERTYPE="p"),
    ]
    out = billing([CLAIM], lines, [VISIT], CLOCK)
    assert [(c["charge_id"], c["amount"], c["service_date"], c["posted_date"]) for c in out["charges"]] == [
        ("T1", "100.00", "2023-03-01", "2023-03-01")
    ]
    assert [
        (p["payment_id"], p["payer_id"], p["payment_source"], p["paid_at"], p["method"], p["at_point_of_service"])
        for p in out["payments"]
    ] == [
        ("T2", "", "patient", "2023-03-01 10:00:00", "", "true"),
        ("T4", "MEDICARE", "payer", "2023-03-01 10:15:00", "eft", ""),
        ("T7", "BCBS", "payer", "2023-03-01 10:15:00", "eft", ""),
        ("T9", "", "patient", "2023-03-01 10:15:00", "card", "false"),
    ]
    assert [
        (a["charge_id"], a["payer_id"], a["group_code"], a["carc_code"], a["amount"]) for a in out["adjustments"]
    ] == [("T1", "MEDICARE", "CO", "45", "20.00")]
    [claim] = out["claims"]
    assert (claim["billed_amount"], claim["claim_status"], claim["first_pass_outcome"]) == (
        "100.00",
        "partially_paid",
        "partially_paid",
    )


def test_an_uninsured_claim_is_billed_to_the_visits_payer_and_paid_when_payers_paid_it_all() -> None:
    uninsured = CLAIM | {"PRIMARYPATIENTINSURANCEID": "", "SECONDARYPATIENTINSURANCEID": ""}
    [claim] = billing([uninsured], [transaction(1, "CHARGE", AMOUNT="80.00")], [VISIT], CLOCK)["claims"]
    assert claim["payer_id"] == "MEDICARE"
    paid = [transaction(1, "CHARGE", AMOUNT="80.00"), transaction(2, "PAYMENT", METHOD="ECHECK", PAYMENTS="80.00")]
    [claim] = billing([CLAIM], paid, [VISIT], CLOCK)["claims"]
    assert (claim["claim_status"], claim["first_adjudicated_at"]) == ("paid", "2023-03-01 10:15:00")
    [claim] = billing([CLAIM | {"STATUS1": "BILLED"}], paid, [VISIT], CLOCK)["claims"]
    assert (claim["claim_status"], claim["first_adjudicated_at"], claim["first_pass_outcome"]) == ("submitted", "", "")


def test_a_visit_is_new_after_three_years_unseen_and_walk_ins_are_not_appointments() -> None:
    def visit(number: int, start: str, kind: str = "wellness") -> dict[str, str]:
        return {
            "Id": f"E{number}",
            "START": start,
            "STOP": start.replace(":00:00Z", ":20:00Z"),
            "PATIENT": "PT1",
            "PROVIDER": "DR1",
            "ORGANIZATION": "ORG1",
            "ENCOUNTERCLASS": kind,
        }

    encounters = [
        visit(1, "2015-01-05T15:00:00Z"),
        visit(2, "2016-01-05T15:00:00Z"),
        visit(3, "2018-06-01T15:00:00Z", "emergency"),
        visit(4, "2021-01-05T15:00:00Z", "ambulatory"),
        visit(5, "2025-01-06T15:00:00Z", "outpatient"),
    ]
    rows = appointments(encounters, CLOCK)
    assert [(a["appointment_id"], a["appointment_type"], a["duration_minutes"]) for a in rows] == [
        ("E1", "new", "20"),
        ("E2", "follow-up", "20"),
        ("E4", "follow-up", "20"),  # seen in the emergency room 2.6 years before
        ("E5", "new", "20"),
    ]
    assert rows[0]["start_at"] == "2015-01-05 10:00:00" and rows[0]["booked_at"] == ""
