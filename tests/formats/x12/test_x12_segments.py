"""The X12 tokenizer: the delimiters come from the ISA, the defects real files have are read
past with a warning, a structure that cannot be read is refused with its position."""

from __future__ import annotations

import re

import pytest
from x12_samples import FIXTURES

from practicelake.errors import MalformedFileError
from practicelake.formats.base import Source
from practicelake.formats.x12.claims import FORMAT as CLAIMS
from practicelake.formats.x12.remittance import FORMAT as REMITTANCES
from practicelake.formats.x12.segments import read_document

MANAGED_CARE = (FIXTURES / "linuxforhealth-x12" / "835_005010X221A1" / "managed-care.835").read_bytes()
SIMPLE = (FIXTURES / "pyx12" / "835_simple.txt").read_bytes()


def rows(data: bytes, dataset: str = "adjustments") -> list[dict[str, str | None]]:
    parsed = REMITTANCES.read(data, dataset)
    assert parsed.bad_rows == []
    return [{k: v for k, v in r.items() if k != "raw_line"} for r in parsed.rows.to_pylist()]


def warnings(data: bytes) -> tuple[str, ...]:
    return REMITTANCES.inspect(Source(data, "remit.835")).warnings


def test_the_samples_end_each_segment_with_a_line_break_and_read_without_warning() -> None:
    assert b"~\n" in MANAGED_CARE
    assert warnings(MANAGED_CARE) == ()


def test_a_one_line_file_reads_the_same() -> None:
    one_line = MANAGED_CARE.replace(b"\n", b"")
    assert one_line.count(b"\n") == 0
    assert rows(one_line) == rows(MANAGED_CARE)
    assert warnings(one_line) == ()


def test_crlf_blank_lines_and_wrapped_segments_read_the_same_with_a_warning() -> None:
    blank = MANAGED_CARE.replace(b"~\n", b"~\r\n\r\n")
    assert rows(blank) == rows(MANAGED_CARE)
    assert any("blank line" in w for w in warnings(blank))
    flat = MANAGED_CARE.replace(b"\n", b"")
    wrapped = b"\n".join(flat[i : i + 80] for i in range(0, len(flat), 80))
    assert rows(wrapped) == rows(MANAGED_CARE)


def test_empty_segments_are_skipped_with_a_warning() -> None:
    doubled = MANAGED_CARE.replace(b"CAS*PR*1*300.00~", b"CAS*PR*1*300.00~~")
    assert rows(doubled) == rows(MANAGED_CARE)
    assert any("empty segment" in w for w in warnings(doubled))


def test_other_delimiters_are_read_from_the_isa() -> None:
    text = MANAGED_CARE.decode()
    other = text.replace("*", "|").replace("~\n", "\n").replace(":", "}")
    assert other[3] == "|" and other[104:106] == "}\n"
    assert rows(other.encode()) == [{**r} for r in rows(MANAGED_CARE)]


def test_a_wrong_se_count_is_a_warning() -> None:
    data = MANAGED_CARE.replace(b"SE*26*112233", b"SE*25*112233")
    assert rows(data) == rows(MANAGED_CARE)
    assert warnings(data) == ("SE at segment 28 counts 25 segments; the transaction set has 26",)


def test_wrong_ge_and_iea_counts_and_control_numbers_are_warnings() -> None:
    data = MANAGED_CARE.replace(b"GE*1*1~", b"GE*2*1~").replace(b"IEA*1*000000907", b"IEA*1*000000908")
    assert rows(data) == rows(MANAGED_CARE)
    found = warnings(data)
    assert len(found) == 2 and found[0].startswith("GE at segment 29") and found[1].startswith("IEA at segment 30")


def test_missing_ge_and_iea_are_warnings() -> None:
    data = MANAGED_CARE.split(b"GE*1*1~")[0]
    assert rows(data) == rows(MANAGED_CARE)
    assert warnings(data) == (
        "the functional group at segment 2 has no GE",
        "the interchange at segment 1 has no IEA",
    )


def test_several_interchanges_in_one_file_are_all_read() -> None:
    data = MANAGED_CARE + SIMPLE
    assert len(read_document(data).transactions) == 2
    outcomes = REMITTANCES.read(data, "claim_outcomes").rows.to_pylist()
    assert len(outcomes) == 5
    assert outcomes[2]["raw_line"] == len(read_document(MANAGED_CARE).segments) + 14


def test_a_byte_order_mark_and_leading_space_are_read_past() -> None:
    assert rows(b"\xef\xbb\xbf\r\n  " + MANAGED_CARE) == rows(MANAGED_CARE)


def test_a_file_not_in_utf8_is_read_as_latin1_with_a_warning() -> None:
    data = MANAGED_CARE.replace(b"RUSHMORE LIFE", "RUSHMÖRE LIFE".encode("latin-1"))
    assert "the file is not UTF-8: read as Latin-1" in warnings(data)
    assert rows(data, "claim_outcomes")[0]["payer_id"] == "name:RUSHM-RE-LIFE"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"claim_id,amount\nC1,10\n", r"segment 1 \(unreadable\) comes before any ISA header"),
        (MANAGED_CARE[107:], r"segment 1 \(GS\) comes before any ISA header"),
        (MANAGED_CARE[:60], "the ISA header at segment 1 is cut short"),
        (b"ISA", "the ISA header at segment 1 is cut short"),
        (
            MANAGED_CARE.split(b"SE*26")[0],
            r"the transaction set at segment 3 \(ST\) has no SE: the file ends inside it",
        ),
        (
            MANAGED_CARE.replace(b"SE*26*112233~\n", b""),
            r"the transaction set at segment 3 \(ST\) has no SE: GE comes at segment 28",
        ),
        (MANAGED_CARE.replace(b"SE*26*112233~", b"SE*26*112233~LX*9~"), r"segment 29 \(LX\) is outside any"),
        (MANAGED_CARE + b"garbage", r"segment 31 \(unreadable\) comes after the IEA"),
        (MANAGED_CARE.replace(b"ST*835*112233~", b""), r"segment 3 \(BPR\) is outside any transaction set"),
    ],
    ids=["empty", "csv", "gs-first", "isa-cut", "isa-only", "no-se", "ge-in-set", "after-se", "after-iea", "no-st"],
)
def test_a_structure_that_cannot_be_read_is_refused_with_its_position(data: bytes, message: str) -> None:
    with pytest.raises(MalformedFileError, match=message):
        REMITTANCES.inspect(Source(data, "remit.835"))
    with pytest.raises(MalformedFileError, match=message):
        REMITTANCES.read(data, "claim_outcomes")


def test_a_transaction_of_another_kind_is_refused() -> None:
    claims = (FIXTURES / "pyx12" / "simple_837p.txt").read_bytes()
    with pytest.raises(MalformedFileError, match="segment 3 is a '837' transaction set, not an 835"):
        REMITTANCES.read(claims, "payments")
    with pytest.raises(MalformedFileError, match="segment 3 is a '835' transaction set, not an 837"):
        CLAIMS.read(MANAGED_CARE, "claims")
    mixed = MANAGED_CARE + claims
    with pytest.raises(MalformedFileError, match=f"segment {len(read_document(MANAGED_CARE).segments) + 3} is a '837'"):
        REMITTANCES.inspect(Source(mixed, "mixed.835"))


def test_messages_never_quote_the_file() -> None:
    data = MANAGED_CARE.replace(b"SE*26*112233~", b"SE*26*112233~BUDDWILLIAM*33344555510~")
    with pytest.raises(MalformedFileError) as raised:
        REMITTANCES.read(data, "claim_outcomes")
    assert not re.search("BUDD|3334", str(raised.value))
