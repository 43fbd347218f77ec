"""MappedCsv feature by feature, each on a small export written here, rows compared exactly."""

from __future__ import annotations

import pyarrow as pa
import pytest

from practicelake.errors import MalformedFileError
from practicelake.formats.base import Source
from practicelake.formats.mapping import MappedCsv, apply_values, load_mapping, shipped

ACME = """
name = "acme"
system = "Acme PM"

[source]
{source}

[[files]]
match = "Appt*.csv"
ignore = ["Room"]

[files.datasets.appointments]
{where}

[files.datasets.appointments.columns]
appointment_id = {{ join = ["Site", "No"], separator = ":" }}
patient_id = "MRN"
provider_id = {{ constant = "DR1" }}
start_at = "Start"
duration_minutes = "Len"

[files.datasets.appointments.columns.status]
from = "Status"
unlisted = "keep"
values = {{ "Checked Out" = "fulfilled", DNA = "noshow", "" = "pending" }}

[files.datasets.appointments.columns.appointment_type]
from = "Kind"
default = "follow-up"
values = {{ NP = "new", "?" = "" }}
"""
HEADER = "Site,No,MRN,Start,Len,Status,Kind,Room,Extra\n"


def reader(source: str = "", where: str = "") -> MappedCsv:
    return MappedCsv(load_mapping(ACME.format(source=source, where=where)))


def rows(data: str, source: str = "", where: str = "") -> list[dict[str, object]]:
    parsed = reader(source, where).read(data.encode(), "appointments")
    return list(parsed.rows.to_pylist())


def test_name_sniff_and_inspect() -> None:
    csv = reader()
    assert csv.name == "csv:acme" and csv.unit == "line"
    source = Source((HEADER + "A,1,M1,2024-03-05 10:00,15,DNA,NP,3,x\n").encode(), "APPTS_0412.CSV")
    assert not csv.sniff(source)
    inspection = csv.inspect(source)
    assert inspection.datasets == ("appointments",)
    assert inspection.warnings == ("columns neither mapped nor ignored: Extra",)  # the unmapped report


def test_values_defaults_joins_constants() -> None:
    data = HEADER + "A,1,M1,2024-03-05 10:00,15,dna,NP,3,x\nB,2,M2,2024-03-05 11:00,20,Checked Out,FU,,\n"
    data += "C,,M3,2024-03-05 12:00,20,,?,,\nD,4,M4,2024-03-05 12:00,20,Mystery,,,\n"
    found = rows(data)
    assert [r["appointment_id"] for r in found] == ["A:1", "B:2", None, "D:4"]  # a join with an empty part is empty
    assert [r["provider_id"] for r in found] == ["DR1"] * 4
    assert [r["status"] for r in found] == ["noshow", "fulfilled", "pending", "Mystery"]  # "" listed; kept as written
    assert [r["appointment_type"] for r in found] == ["new", "follow-up", None, None]  # default; mapped to empty; empty
    assert [r["raw_line"] for r in found] == [2, 3, 4, 5]
    assert "Room" not in found[0] and "notes" not in found[0]


def test_the_header_must_hold_the_mapped_columns() -> None:
    with pytest.raises(MalformedFileError, match=r"line 1: the header lacks columns the mapping reads: 'MRN', 'Len'"):
        reader().inspect(Source(b"Site,No,Start,Status,Kind\n", "appt.csv"))
    with pytest.raises(MalformedFileError, match="columns named twice in the header: 'mrn'"):
        reader().read((HEADER.strip() + ",mrn\n").encode(), "appointments")
    with pytest.raises(MalformedFileError, match=r"no file of the mapping acme is named like 'visits\.csv'"):
        reader().inspect(Source(HEADER.encode(), "visits.csv"))
    with pytest.raises(MalformedFileError, match="line 1: no header"):
        reader().read(b"", "appointments")


def test_header_names_match_trimmed_and_case_insensitive() -> None:
    data = " site ,NO,mrn,START,len,status,KIND,room,extra\nA,1,M1,2024-03-05 10:00,15,DNA,NP,,\n"
    assert rows(data)[0]["appointment_id"] == "A:1"


def test_date_formats_tried_in_order_date_only_included() -> None:
    source = 'formats = ["%m/%d/%Y %I:%M %p", "%m/%d/%Y"]'
    data = (
        HEADER + "A,1,M,03/05/2024 02:30 PM,15,DNA,NP,,\nA,2,M,03/05/2024,15,DNA,NP,,\nA,3,M,2024-03-05,15,DNA,NP,,\n"
    )
    parsed = reader(source).read(data.encode(), "appointments")
    assert parsed.rows["start_at"].to_pylist() == ["2024-03-05 14:30:00", "2024-03-05"]  # a date alone stays one
    assert [(b.line, b.rule) for b in parsed.bad_rows] == [(4, "date_format")]
    assert parsed.bad_rows[0].detail == "Start: matches none of the mapping's date and time formats"
    assert parsed.rows_read == 3


def test_a_source_in_utc_gives_instants_with_their_offset() -> None:
    source = 'time_zone = "UTC"\nformats = ["%Y-%m-%d %H:%M"]'
    assert rows(HEADER + "A,1,M,2024-03-05 15:00,15,DNA,NP,,\n", source)[0]["start_at"] == "2024-03-05 15:00:00+00:00"


def test_an_offset_the_source_gives_is_kept() -> None:
    source = 'formats = ["%Y-%m-%dT%H:%M:%S%z"]'
    found = rows(
        HEADER + "A,1,M,2024-03-05T10:00:00-05:00,15,DNA,NP,,\nA,2,M,2024-03-05T15:00:00Z,15,DNA,NP,,\n", source
    )
    assert [r["start_at"] for r in found] == ["2024-03-05 10:00:00-05:00", "2024-03-05 15:00:00+00:00"]


def test_a_naive_practice_source_stays_wall_time() -> None:
    source = 'formats = ["%d.%m.%Y %H:%M"]'
    assert rows(HEADER + "A,1,M,05.03.2024 10:00,15,DNA,NP,,\n", source)[0]["start_at"] == "2024-03-05 10:00:00"


def test_a_source_zone_across_daylight_saving_changes() -> None:
    source = 'time_zone = "America/Chicago"\nformats = ["%Y-%m-%d %H:%M"]'
    data = HEADER + "".join(
        f"A,{i},M,{stamp},15,DNA,NP,,\n"
        for i, stamp in enumerate(
            ["2024-03-10 01:30", "2024-03-10 02:30", "2024-03-10 03:30", "2024-11-03 01:30", "2024-11-03 02:30"]
        )
    )
    parsed = reader(source).read(data.encode(), "appointments")
    assert parsed.rows["start_at"].to_pylist() == [
        "2024-03-10 01:30:00-06:00",
        "2024-03-10 03:30:00-05:00",
        "2024-11-03 01:30:00-05:00",  # twice that night: the earlier instant
        "2024-11-03 02:30:00-06:00",
    ]
    assert [(b.line, b.rule) for b in parsed.bad_rows] == [(3, "nonexistent_local_time")]  # the clocks skip 02:30


def test_dates_from_instants_take_the_date_zone() -> None:
    mapping = load_mapping(
        """
name = "lab"
system = "Lab"
[source]
time_zone = "UTC"
date_zone = "America/New_York"
formats = ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]
[[files]]
match = "visits.csv"
[files.datasets.encounters.columns]
encounter_id = "Id"
encounter_date = "Start"
"""
    )
    data = b"Id,Start\nE1,2024-03-06T03:00:00Z\nE2,2024-03-06T12:00:00Z\nE3,2024-03-06\n"
    found = MappedCsv(mapping).read(data, "encounters").rows["encounter_date"].to_pylist()
    assert found == ["2024-03-05", "2024-03-06", "2024-03-06"]


def test_decimal_and_thousands_separators() -> None:
    mapping = load_mapping(
        """
name = "euro"
system = "Euro PM"
[source]
decimal = ","
thousands = "."
delimiter = ";"
encoding = "cp1252"
[[files]]
match = "zahlungen.csv"
[files.datasets.payments.columns]
payment_id = "Nr"
amount = "Betrag"
payment_source = { constant = "patient" }
paid_at = "Datum"
"""
    )
    data = "Nr;Betrag;Datum;Notiz\nP1;1.234,50;2024-03-05 10:00;Müller\nP2;-12,5;2024-03-05;\n".encode("cp1252")
    csv = MappedCsv(mapping)
    assert csv.inspect(Source(data, "Zahlungen.csv")).warnings == ("columns neither mapped nor ignored: Notiz",)
    parsed = csv.read(data, "payments")
    assert parsed.rows["amount"].to_pylist() == ["1234.50", "-12.5"]
    assert parsed.rows["payment_source"].to_pylist() == ["patient", "patient"]


ONE_FILE_MANY = """
name = "ledger"
system = "Ledger"
[[files]]
match = "ledger.csv"
ignore = ["Memo"]
[files.datasets.charges]
where = {{ Type = ["CHARGE"] }}
[files.datasets.charges.columns]
charge_id = "Id"
amount = "Amount"
[files.datasets.payments]
where = {{ Type = ["PAYMENT", "REFUND"]{extra} }}
[files.datasets.payments.columns]
payment_id = "Id"
amount = "Amount"
"""


def test_row_filters_split_one_file_into_datasets() -> None:
    csv = MappedCsv(load_mapping(ONE_FILE_MANY.format(extra="")))
    data = b"Id,Type,Amount,Memo\n1,CHARGE,10.00,\n2,payment ,-4.00,\n3,TRANSFER,1.00,\n4,REFUND,2.00,\n5,CHARGE\n"
    assert csv.inspect(Source(data, "ledger.csv")).datasets == ("charges", "payments")
    charges, payments = csv.read(data, "charges"), csv.read(data, "payments")
    assert charges.rows.to_pylist() == [{"charge_id": "1", "amount": "10.00", "raw_line": 2}]
    assert payments.rows["payment_id"].to_pylist() == ["2", "4"]  # trimmed, case-insensitive
    # A line with too few fields whose Type can still be read belongs to the charges alone.
    assert [b.line for b in charges.bad_rows] == [6] and payments.bad_rows == []


def test_a_filter_on_several_columns_needs_all() -> None:
    csv = MappedCsv(load_mapping(ONE_FILE_MANY.format(extra=', Memo = ["x"]').replace('ignore = ["Memo"]\n', "")))
    data = b"Id,Type,Amount,Memo\n2,PAYMENT,4.00,x\n4,REFUND,2.00,y\n"
    assert csv.read(data, "payments").rows["payment_id"].to_pylist() == ["2"]


def test_a_line_that_is_no_record_goes_to_every_dataset_it_may_belong_to() -> None:
    csv = MappedCsv(load_mapping(ONE_FILE_MANY.format(extra="")))
    data = b'Id,Type,Amount,Memo\n1,CHARGE,10.00,\n"2,PAYMENT,1.00,\n3,PAYMENT,1.00,\n'
    charges, payments = csv.read(data, "charges"), csv.read(data, "payments")
    assert [(b.line, b.rule) for b in charges.bad_rows] == [(3, "unclosed_quote")]
    assert [(b.line, b.rule) for b in payments.bad_rows] == [(3, "unclosed_quote")]
    assert payments.rows["raw_line"].to_pylist() == [4]


def test_only_the_columns_asked_for() -> None:
    data = HEADER + "A,1,M1,2024-03-05 10:00,15,DNA,NP,3,x\n"
    parsed = reader().read(data.encode(), "appointments", columns=["status", "patient_id"])
    assert parsed.rows.column_names == ["patient_id", "status", "raw_line"]


def test_apply_values_maps_synonyms_of_practicelake_csv() -> None:
    mapping = shipped("practicelake")
    table = pa.table({"status": ["Checked Out", "DNA", "booked", None, " no show "], "appointment_id": ["a"] * 5})
    mapped = apply_values(mapping, "appointments", table)
    assert mapped["status"].to_pylist() == ["fulfilled", "noshow", "booked", None, "noshow"]
    assert mapped["appointment_id"].to_pylist() == ["a"] * 5
    patients = apply_values(mapping, "patients", pa.table({"sex": ["F", "m", "female", "X"]}))
    assert patients["sex"].to_pylist() == ["female", "male", "female", "X"]  # X: the contract's to judge
    payments = apply_values(mapping, "payments", pa.table({"payment_source": ["Insurance", "patient"]}))
    assert payments["payment_source"].to_pylist() == ["payer", "patient"]


def test_practicelake_mapping_reads_practicelake_csv() -> None:
    data = b"practice_id,payer_id,name,payer_type\np1,PY1,Acme Health,Commercial\np1,PY2,State,medicaid\n"
    parsed = MappedCsv(shipped("practicelake")).read(data, "payers")
    assert parsed.rows.to_pylist() == [
        {"payer_id": "PY1", "name": "Acme Health", "payer_type": "insurer", "raw_line": 2},
        {"payer_id": "PY2", "name": "State", "payer_type": "government", "raw_line": 3},
    ]
