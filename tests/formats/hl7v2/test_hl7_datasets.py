"""HL7 v2 messages as appointments, charges and patients: the fold of events, each mapping rule."""

from __future__ import annotations

from typing import Any

import pytest
from hl7_messages import PID, adt, dft, ft1, message, segment, siu

from practicelake.formats.base import ParsedFile
from practicelake.formats.hl7v2.reader import FORMAT


def _read(text: str, dataset: str) -> ParsedFile:
    return FORMAT.read(text.encode(), dataset)


def _rows(text: str, dataset: str = "appointments") -> list[dict[str, Any]]:
    parsed = _read(text, dataset)
    assert parsed.bad_rows == []
    rows: list[dict[str, Any]] = parsed.rows.to_pylist()
    return rows


BOOK = siu("S12", "202403011000-0500", start="202403111000-0500")
MOVE = siu("S13", "202403021000-0500", start="202403121400-0500", location="ROOM2")
CANCEL = siu("S15", "202403031000-0500", start="202403121400-0500", location="ROOM2")


@pytest.mark.parametrize("order", [(BOOK, MOVE, CANCEL), (CANCEL, BOOK, MOVE), (MOVE, CANCEL, BOOK)])
def test_book_reschedule_cancel_fold_by_message_time(order: tuple[str, ...]) -> None:
    (row,) = _rows("".join(order))
    assert row["status"] == "cancelled"
    assert row["booked_at"] == "2024-03-01 10:00:00-05:00"
    assert row["cancelled_at"] == "2024-03-03 10:00:00-05:00"
    assert row["start_at"] == "2024-03-12 14:00:00-05:00"
    assert row["location_id"] == "ROOM2"
    assert row["raw_line"] == 1 + 8 * order.index(CANCEL)  # the latest event's MSH


def test_the_latest_event_gives_the_values() -> None:
    back = siu("S14", "202403041000-0500", location="ROOM3")
    (row,) = _rows(back + BOOK + MOVE)
    assert row["location_id"] == "ROOM3"


def test_a_booking_after_its_cancellation_reinstates_it() -> None:
    rebook = siu("S14", "202403041000-0500", start="202403131000-0500")
    (row,) = _rows(BOOK + CANCEL + rebook)
    assert (row["status"], row["cancelled_at"], row["start_at"]) == ("booked", None, "2024-03-13 10:00:00-05:00")


def test_a_repeated_cancellation_keeps_the_first_time() -> None:
    again = siu("S15", "202403051000-0500")
    (row,) = _rows(BOOK + again + CANCEL)
    assert row["cancelled_at"] == "2024-03-03 10:00:00-05:00"


def test_same_time_events_fold_in_file_order() -> None:
    (row,) = _rows(siu("S12", "202403011000") + siu("S26", "202403011000"))
    assert row["status"] == "noshow"
    (row,) = _rows(siu("S26", "202403011000") + siu("S12", "202403011000"))
    assert row["status"] == "booked"


@pytest.mark.parametrize(
    ("event", "status", "expected", "cancelled"),
    [
        ("S12", "", "booked", False),
        ("S12", "Pending", "pending", False),
        ("S14", "Complete", "fulfilled", False),
        ("S14", "Started", "arrived", False),
        ("S14", "Cancelled", "cancelled", True),
        ("S14", "Blocked", "booked", False),
        ("S15", "Booked", "cancelled", True),  # the event says what happened
        ("S16", "Dc", "cancelled", True),
        ("S17", "Deleted", "entered-in-error", False),
        ("S26", "", "noshow", False),
    ],
)
def test_status(event: str, status: str, expected: str, cancelled: bool) -> None:
    (row,) = _rows(siu(event, "202403011000", status=status))
    assert row["status"] == expected
    assert row["cancelled_at"] == ("2024-03-01 10:00:00" if cancelled else None)
    assert row["booked_at"] == ("2024-03-01 10:00:00" if event == "S12" else None)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("20240311", "2024-03-11"),  # a date alone
        ("202403111000-0500", "2024-03-11 10:00:00-05:00"),  # an offset
        ("202403111000", "2024-03-11 10:00:00"),  # naive: the practice's wall time
        ("202403100230", "2024-03-10 02:30:00"),  # in the US spring-forward gap: the contract judges it
        ("202411030130", "2024-11-03 01:30:00"),  # ambiguous at the fall-back: passed as written
        ("202403100130-0500", "2024-03-10 01:30:00-05:00"),
        ("202403100330-0400", "2024-03-10 03:30:00-04:00"),
    ],
)
def test_start_text_forms(start: str, expected: str) -> None:
    (row,) = _rows(siu("S12", "202403011000", start=start))
    assert row["start_at"] == expected


def test_duration_from_the_end_time_across_a_daylight_saving_change() -> None:
    text = message(
        segment("SCH", {2: "A1"}),
        segment("TQ1", {7: "202403100130-0500", 8: "202403100330-0400"}),
        PID,
        segment("AIP", {3: "DR1"}),
    )
    (row,) = _rows(text)
    assert row["duration_minutes"] == "60"


@pytest.mark.parametrize(
    ("fields", "ais", "expected"),
    [
        ({9: "1", 10: "h"}, {}, "60"),
        ({9: "900", 10: "s"}, {}, "15"),
        ({9: "45"}, {}, "45"),  # no units: minutes
        ({9: "90", 10: "s"}, {}, None),  # not whole minutes: left for the contract
        ({9: "30", 10: "fortnight"}, {}, None),
        ({9: "60", 10: "s"}, {7: "50", 8: "min^Minutes^ISO"}, "50"),  # AIS first (the samples' case)
        ({}, {7: "2", 8: "HR"}, "120"),
    ],
)
def test_duration_sources(fields: dict[int, str], ais: dict[int, str], expected: str | None) -> None:
    text = message(
        segment("SCH", {2: "A1", **fields}),
        segment("TQ1", {7: "202403111000"}),
        segment("AIS", {1: "1", 3: "X", **ais}),
        segment("AIP", {3: "DR1"}),
    )
    (row,) = _rows(text)
    assert row["duration_minutes"] == expected


def test_older_layouts_give_the_start_in_sch_11_or_ais_4() -> None:
    v23 = message(segment("SCH", {2: "A1", 11: "^^30^202403111000^202403111030"}), segment("AIP", {3: "DR1"}))
    (row,) = _rows(v23)
    assert (row["start_at"], row["duration_minutes"]) == ("2024-03-11 10:00:00", "30")
    ais = message(segment("SCH", {2: "A2"}), segment("AIS", {3: "X", 4: "202403121000", 7: "20"}))
    (row,) = _rows(ais)
    assert (row["start_at"], row["duration_minutes"]) == ("2024-03-12 10:00:00", "20")


def test_ids_provider_location_and_type() -> None:
    placer_only = message(
        segment("SCH", {1: "P9", 7: "FOLLOWUP"}),
        segment("PV1", {7: "ATT1^JONES"}),
        segment("AIL", {3: "11&X-Ray Room&L"}),
        segment("AIG", {3: "EQ1^Machine"}),
    )
    (row,) = _rows(placer_only)
    assert (row["appointment_id"], row["provider_id"], row["location_id"]) == ("P9", "ATT1", "11")
    assert row["appointment_type"] == "follow-up"
    (row,) = _rows(message(segment("SCH", {2: "A1", 8: "NEW^New patient"}), segment("AIG", {3: "EQ1"})))
    assert (row["provider_id"], row["appointment_type"]) == ("EQ1", "new")
    (row,) = _rows(siu("S12", "202403011000", reason="CHECKUP"))
    assert row["appointment_type"] is None


def test_bad_siu_messages() -> None:
    no_id = message(segment("SCH", {7: "X"}), control="C2")
    two_sch = message(segment("SCH", {2: "A3"}), segment("SCH", {2: "A4"}))
    undated = siu("S14", "soon", filler="A1")
    parsed = _read(BOOK + no_id + two_sch + undated, "appointments")
    assert parsed.rows.num_rows == 1
    assert [(b.line, b.rule) for b in parsed.bad_rows] == [
        (9, "hl7_structure"),
        (11, "hl7_structure"),
        (14, "hl7_time"),
    ]
    assert parsed.rows_read == 4
    assert "SIU message with 2 SCH segments" in parsed.bad_rows[1].detail


def test_other_siu_events_are_named_in_a_warning() -> None:
    parsed = _read(BOOK + siu("S18", "202403011000"), "appointments")
    assert parsed.rows_read == 1
    assert parsed.warnings == ("1 message(s) of types no dataset reads: SIU^S18 x1",)


def test_charges() -> None:
    text = dft(
        ft1("1", charge="", units="3", extended="", unit="25.10", modifier="25"),
        ft1("2", charge="T2", kind="PY", extended="-20"),
        ft1("3", charge="T3", performer="", code="J1100^Dexamethasone^HCPCS", service="202403050930-0500"),
        control="D7",
    )
    parsed = _read(text, "charges")
    assert parsed.bad_rows == []
    assert parsed.warnings == ("1 FT1 segment(s) that are not charges (FT1-6 other than CG) read past",)
    first, third = parsed.rows.to_pylist()
    assert first == {
        "charge_id": "D7-1",
        "encounter_id": "V1",
        "patient_id": "PAT1",
        "provider_id": "DR1",
        "procedure_code": "99213",
        "modifier": "25",
        "units": "3",
        "amount": "75.3",
        "service_date": "2024-03-05",
        "posted_date": "2024-03-06",
        "raw_line": 1,
    }
    assert (third["charge_id"], third["provider_id"], third["procedure_code"]) == ("T3", "ATT1", "J1100")
    assert third["amount"] == "75.50"


def test_bad_charges_name_their_ft1() -> None:
    text = dft(ft1("1", extended="", unit="ten"), segment("FT1", {6: "CG", 11: "5"}), control="")
    parsed = _read(text, "charges")
    assert parsed.rows.num_rows == 0
    assert [b.detail for b in parsed.bad_rows] == [
        "FT1 at segment 5: FT1-11 is empty and FT1-12 x FT1-10 cannot be computed",
        "FT1 at segment 6: FT1-2 is empty, and MSH-10 or FT1-1 too: the charge has no id",
    ]
    assert {b.line for b in parsed.bad_rows} == {1}


def test_procedure_from_the_transaction_code_only_when_it_is_cpt() -> None:
    text = dft(segment("FT1", {1: "1", 2: "T1", 6: "CG", 7: "626.2", 10: "1", 11: "5"}))
    (row,) = _rows(text, "charges")
    assert row["procedure_code"] is None
    text = dft(segment("FT1", {1: "1", 2: "T1", 6: "CG", 7: "99213^Visit^CPT4", 10: "1", 11: "5"}))
    (row,) = _rows(text, "charges")
    assert row["procedure_code"] == "99213"


UPDATED = (
    "PID|1||PAT1^^^GHH^MR||DOE-SMITH^JANE||19800102|X|||9 Oak Rd^^Shelbyville^IL^62565||"
    "555-0199^PRN^PH~^NET^Internet^jane@example.org"
)


@pytest.mark.parametrize("reverse", [False, True])
def test_patients_register_then_update(reverse: bool) -> None:
    messages = [adt("A04", "202401021000"), adt("A08", "202402031000", UPDATED)]
    (row,) = _rows("".join(reversed(messages) if reverse else messages), "patients")
    assert row == {
        "patient_id": "PAT1",
        "first_name": "JANE",
        "last_name": "DOE-SMITH",
        "date_of_birth": "1980-01-02",
        "sex": "other",
        "phone": "555-0199",
        "email": "jane@example.org",
        "address_line": "9 Oak Rd",
        "city": "Shelbyville",
        "postal_code": "62565",
        "registered_on": "2024-01-02",
        "raw_line": 1 if reverse else 4,  # the A08's MSH
    }


def test_patient_fields() -> None:
    (row,) = _rows(adt("A08", "202401021000"), "patients")
    assert row["registered_on"] is None  # an update alone does not say when the patient registered
    assert (row["sex"], row["address_line"], row["city"], row["postal_code"]) == (
        "female",
        "1 Main St, Apt 2",
        "Springfield",
        "62701",
    )
    assert row["patient_id"] == "PAT1"  # the MR identifier, not the SSN repetition
    parsed = _read(adt("A04", "202401021000", "PID|1||^^^GHH^MR") + adt("A01", "202401021000"), "patients")
    assert [b.detail for b in parsed.bad_rows] == ["PID-3 gives no patient identifier"]
    assert parsed.warnings == ("1 message(s) of types no dataset reads: ADT^A01 x1",)
