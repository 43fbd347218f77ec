"""Reading HL7 v2 files: line ends, batches, encoding characters, escapes, times, sniffing."""

from __future__ import annotations

import pytest
from hl7_messages import PID, adt, dft, ft1, siu

from practicelake.errors import MalformedFileError
from practicelake.formats.base import Source
from practicelake.formats.hl7v2.messages import read_file
from practicelake.formats.hl7v2.reader import FORMAT
from practicelake.formats.hl7v2.segments import DEFAULT, Encoding, Segment, encoding_of, unescape
from practicelake.formats.hl7v2.times import date_text, minutes_between, timestamp_text


def _appointments(text: str) -> list[dict[str, object]]:
    parsed = FORMAT.read(text.encode(), "appointments")
    assert parsed.bad_rows == []
    rows: list[dict[str, object]] = parsed.rows.to_pylist()
    return rows


def test_mixed_line_ends_blank_lines_and_framing() -> None:
    one = siu("S12", "202403051000", filler="A1").replace("\r", "\n")
    two = siu("S12", "202403051100", filler="A2").replace("\r", "\r\n")
    three = siu("S12", "202403051200", filler="A3")
    text = "\ufeff\n\x0b" + one + "\n\n" + two + "\x1c\r" + three
    rows = _appointments(text)
    assert [r["appointment_id"] for r in rows] == ["A1", "A2", "A3"]
    assert [r["raw_line"] for r in rows] == [1, 9, 17]  # 8 segments a message, blank lines not counted


def test_batch_envelopes() -> None:
    body = siu("S12", "202403051000", filler="A1") + siu("S12", "202403051000", filler="A2")
    text = "FHS|^~\\&|PMS\rBHS|^~\\&|PMS\r" + body + "BTS|2\rFTS|1\r"
    assert FORMAT.sniff(Source(text.encode(), "batch.hl7"))
    rows = _appointments(text)
    assert [(r["appointment_id"], r["raw_line"]) for r in rows] == [("A1", 3), ("A2", 11)]
    assert FORMAT.inspect(Source(text.encode(), "batch.hl7")).warnings == ()


def test_custom_encoding_characters() -> None:
    standard = siu("S12", "202403051000", provider="DR\\F\\7")
    custom = standard.replace("|", "#").replace("^", "$").replace("~", "*").replace("&", "%").replace("\\", "!")
    assert custom.startswith("MSH#$*!%#PMS")
    (row,) = _appointments(custom)
    assert row["provider_id"] == "DR#7"  # !F! is the field separator of this file
    assert row["location_id"] == "ROOM1"
    assert row["patient_id"] == "PAT1"


def test_each_message_declares_its_own_encoding() -> None:
    custom = siu("S12", "202403051100", filler="B2").replace("|", "#").replace("^", "$")
    rows = _appointments(siu("S12", "202403051000", filler="B1") + custom)
    assert [(r["appointment_id"], r["location_id"]) for r in rows] == [("B1", "ROOM1"), ("B2", "ROOM1")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A\\F\\B", "A|B"),
        ("A\\S\\B\\T\\C\\R\\D\\E\\", "A^B&C~D\\"),
        ("caf\\XC3A9\\", "café"),
        ("caf\\XE9\\", "café"),  # not UTF-8: Latin-1
        ("\\H\\bold\\N\\", "bold"),
        ("line\\.br\\two", "line\\.br\\two"),
        ("open\\F", "open\\F"),
        ("odd\\X4\\", "odd\\X4\\"),
    ],
)
def test_escapes(text: str, expected: str) -> None:
    assert unescape(text, DEFAULT) == expected


def test_escape_with_another_escape_character() -> None:
    encoding = Encoding("#", "$", "*", "!", "%")
    assert unescape("a!F!b!S!c!E!", encoding) == "a#b$c!"


def test_field_access_and_explicit_null() -> None:
    segment = Segment.parse('PID|1||X1^^^A^PI~M9^^^A^MR||""|', 1, DEFAULT)
    assert segment.value(3) == "X1"
    assert segment.value(3, 1, 1, 2) == "M9"
    assert segment.value(5) is None  # "" is HL7's explicit null
    assert segment.value(40) is None
    assert segment.value(3, 9) is None


@pytest.mark.parametrize(
    "header",
    ["MSH|^~\\&", "MSH|^~\\&#|PMS", "FHS|^~\\&|", "BHS|abcd|", "MSH|^~|", "MSH|^^\\&|", "MSHX^~\\&X", "MSH|^~\\|&|"],
)
def test_encoding_characters_validity(header: str) -> None:
    valid = header in ("MSH|^~\\&", "MSH|^~\\&#|PMS", "FHS|^~\\&|")
    assert (encoding_of(header) is not None) is valid


def test_sniff() -> None:
    good = siu("S12", "202403051000").encode()
    assert FORMAT.sniff(Source(b"\xef\xbb\xbf  \n" + good, "a.hl7"))
    assert FORMAT.sniff(Source(b"BHS|^~\\&|X\r" + good, "a.hl7"))
    assert not FORMAT.sniff(Source(b"PID|1\r" + good, "a.hl7"))
    assert not FORMAT.sniff(Source(b"MSH,a,b\r", "a.csv"))
    assert not FORMAT.sniff(Source(b"MSH|^~|x\r", "a.hl7"))
    assert not FORMAT.sniff(Source(b"appointment_id,patient_id\nMSH,1\n", "a.csv"))


def test_files_that_cannot_be_read() -> None:
    with pytest.raises(MalformedFileError, match="no MSH segment"):
        FORMAT.inspect(Source(b"PID|1|x\rPV1|1\r", "a.hl7"))
    with pytest.raises(MalformedFileError, match="segment 1: no MSH of the file declares valid encoding"):
        FORMAT.inspect(Source(b"MSH|^|x\rSCH|1\r", "a.hl7"))
    with pytest.raises(MalformedFileError, match="no SIU, DFT P03 or ADT A04/A08 message"):
        FORMAT.read(adt("A01", "202403051000").encode(), "patients")


def test_an_unreadable_message_among_readable_ones_is_a_bad_row() -> None:
    broken = siu("S12", "202403051100", filler="A2").replace("MSH|^~\\&|", "MSH|^~|", 1)
    parsed = FORMAT.read((siu("S12", "202403051000") + broken).encode(), "appointments")
    assert parsed.rows.num_rows == 1
    assert [(b.line, b.detail) for b in parsed.bad_rows] == [(9, "its MSH declares no valid encoding characters")]
    assert "MSH segment(s) without valid encoding characters (first at segment 9)" in parsed.warnings[0]


def test_segments_before_the_first_message_are_counted() -> None:
    hl7_file = read_file(b"BHS|^~\\&\rNTE|1||x\r" + siu("S12", "202403051000").encode())
    assert hl7_file.stray == 1
    assert hl7_file.messages[0].position == 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20240305", "2024-03-05"),
        ("2024030510", "2024-03-05 10:00:00"),
        ("202403051030", "2024-03-05 10:30:00"),
        ("20240305103015", "2024-03-05 10:30:15"),
        ("20240305103015.25", "2024-03-05 10:30:15.25"),
        ("202403051030-0500", "2024-03-05 10:30:00-05:00"),
        ("20240305-0500", "2024-03-05"),
        ("202403051030+0000", "2024-03-05 10:30:00+00:00"),
        ("2024", "2024"),  # less than a day: passed on for the contract's date check to name
        ("20240230", "20240230"),
        ("2024-03-05", "2024-03-05"),
        ("yesterday", "yesterday"),
        (None, None),
    ],
)
def test_timestamp_text(value: str | None, expected: str | None) -> None:
    assert timestamp_text(value) == expected


def test_dates_and_durations() -> None:
    assert date_text("202403052330-0500") == "2024-03-05"  # the sender's own day, never shifted
    assert minutes_between("202403100130-0500", "202403100330-0400") == 60  # across the DST change
    assert minutes_between("202403101000", "202403101045") == 45
    assert minutes_between("202403101000-0500", "202403101045") is None
    assert minutes_between("20240310", "20240311") is None


def test_dft_and_adt_messages_in_one_file_feed_each_dataset() -> None:
    text = siu("S12", "202403051000") + dft(ft1()) + adt("A04", "202403051000")
    inspection = FORMAT.inspect(Source(text.encode(), "mixed.hl7"))
    assert inspection.datasets == ("appointments", "charges", "patients")
    assert FORMAT.read(text.encode(), "patients").rows.column("patient_id").to_pylist() == ["PAT1"]
    assert PID.startswith("PID|")


def test_only_the_columns_asked_for_are_given() -> None:
    data = adt("A04", "202403051000").encode()
    parsed = FORMAT.read(data, "patients", ("patient_id", "date_of_birth", "sex"))
    assert parsed.rows.column_names == ["patient_id", "date_of_birth", "sex", "raw_line"]
    assert "first_name" in FORMAT.read(data, "patients").rows.column_names
