"""Random and mutated exports through a mapping: rows, positioned bad rows or MalformedFileError,
never another exception, and never a lost record."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from practicelake.errors import MalformedFileError
from practicelake.formats.mapping import MappedCsv, load_mapping

MAPPING = load_mapping(
    """
name = "ledger"
system = "Ledger"
[source]
formats = ["%m/%d/%Y %H:%M", "%m/%d/%Y"]
thousands = ","
[[files]]
match = "ledger.csv"
[files.datasets.charges]
where = { Type = ["CHARGE"] }
[files.datasets.charges.columns]
charge_id = { join = ["Site", "Id"] }
amount = "Amount"
service_date = "When"
[files.datasets.payments]
where = { Type = ["PAYMENT"] }
[files.datasets.payments.columns]
payment_id = "Id"
amount = "Amount"
paid_at = "When"
payment_source = { from = "Who", values = { INS = "payer" }, default = "patient" }
"""
)
PLAIN = load_mapping(
    """
name = "plain"
system = "Plain"
[[files]]
match = "ledger.csv"
[files.datasets.charges.columns]
charge_id = "Id"
amount = "Amount"
"""
)
HEADER = "Site,Id,Type,Amount,When,Who\n"
ROW = st.tuples(
    st.sampled_from(["S1", "S2", ""]),
    st.integers(0, 99).map(str),
    st.sampled_from(["CHARGE", "PAYMENT", "TRANSFER", "charge "]),
    st.sampled_from(["1,234.50", "12", "-3.5", "x"]),
    st.sampled_from(["03/05/2024 10:00", "03/05/2024", "2024-03-05", "13/45/2024", ""]),
    st.sampled_from(["INS", "SELF", ""]),
)


def exported(rows: list[tuple[str, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(rows)
    return (HEADER + out.getvalue()).encode()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(exported(draw(st.lists(ROW, max_size=12))))
    for _ in range(draw(st.integers(0, 4))):
        if len(data) <= len(HEADER):
            break
        at = draw(st.integers(len(HEADER), len(data) - 1))
        action = draw(st.sampled_from(["drop", "duplicate", "change", "cut"]))
        if action == "drop":
            del data[at]
        elif action == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 20))]
        elif action == "change":
            data[at] = draw(st.sampled_from(b',"\n\r a\x00'))
        else:
            del data[at:]
    return bytes(data)


def records(data: bytes) -> list[int]:
    """The non-blank lines after the header: each one record, or one bad row."""
    return [n for n, line in enumerate(data.splitlines()[1:], start=2) if line]


@settings(max_examples=150, deadline=None)
@given(mutated())
def test_no_record_is_lost_without_a_filter(data: bytes) -> None:
    try:
        parsed = MappedCsv(PLAIN).read(data, "charges")
    except MalformedFileError:
        return
    lines = parsed.rows["raw_line"].to_pylist() + [b.line for b in parsed.bad_rows]
    assert sorted(lines) == records(data)
    assert all(b.detail and "\n" not in b.detail for b in parsed.bad_rows)


@settings(max_examples=150, deadline=None)
@given(mutated())
def test_every_record_goes_to_its_dataset_or_none(data: bytes) -> None:
    reader = MappedCsv(MAPPING)
    try:
        charges, payments = reader.read(data, "charges"), reader.read(data, "payments")
    except MalformedFileError:
        return
    seen: set[int] = set()
    for parsed in (charges, payments):
        lines = parsed.rows["raw_line"].to_pylist() + [b.line for b in parsed.bad_rows]
        assert len(lines) == len(set(lines))
        seen |= set(lines)
        for row in parsed.rows.to_pylist():
            assert row["amount"] is None or "," not in row["amount"]
    in_file = records(data)
    assert seen <= set(in_file)
    for line in set(in_file) - seen:  # left out: a record of no dataset's type
        text = data.splitlines()[line - 1].decode("utf-8", errors="replace")
        fields = next(csv.reader([text]))
        assert len(fields) > 2 and fields[2].strip().lower() not in ("charge", "payment")


@settings(max_examples=100, deadline=None)
@given(st.lists(ROW, max_size=20))
def test_well_formed_exports_give_every_row(rows: list[tuple[str, ...]]) -> None:
    data = exported(rows)
    charges = MappedCsv(MAPPING).read(data, "charges")
    expected = [n for n, row in enumerate(rows, start=2) if row[2].strip() == "CHARGE" or row[2] == "charge "]
    lines = sorted(charges.rows["raw_line"].to_pylist() + [b.line for b in charges.bad_rows])
    assert lines == expected
    assert {b.rule for b in charges.bad_rows} <= {"date_format"}
