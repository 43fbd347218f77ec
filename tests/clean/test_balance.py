"""The balance cannot lie: rows read are the file's own lines, counted apart from the parser,
and a broken quote cannot make records disappear or carry an identifier into cleaned."""

from __future__ import annotations

from pathlib import Path

from clean.lake import export, quarantine_rules, rows
from practicelake.clean.reconcile import reconcile
from practicelake.contracts import BY_DATASET
from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings

PAYMENT_HEADER = ",".join(BY_DATASET["payments"].column_names)
APPOINTMENT_HEADER = ",".join(BY_DATASET["appointments"].column_names)


def payment(n: int, reference: str | None = None) -> str:
    ref = f"R{n}" if reference is None else reference
    return f"P001,PAY{n},CL{n},E{n},MRN{n:08d},PAYER1,payer,2024-03-0{1 + n % 9} 10:00:00,{n}.50,eft,false,{ref}"


def load(local: Settings, path: Path) -> Lakehouse:
    lakehouse = Lakehouse.open(local)
    lakehouse.ingest("P001", [path])
    lakehouse.transform()
    return lakehouse


def every_value(lakehouse: Lakehouse) -> str:
    """Every cell of every cleaned and ops table, as one text to search."""
    cells = []
    for namespace in ("cleaned", "ops"):
        for _, name in lakehouse.catalog.list_tables(namespace):
            for row in lakehouse.catalog.load_table(f"{namespace}.{name}").scan().to_arrow().to_pylist():
                cells += [str(value) for value in row.values()]
    return "\n".join(cells)


def only_file(lakehouse: Lakehouse) -> dict[str, object]:
    (file,) = reconcile(lakehouse.catalog).to_pylist()
    return file


def test_an_unclosed_quote_loses_its_own_line_only(local: Settings, tmp_path: Path) -> None:
    lines = [payment(n) for n in range(36)]
    lines[5] = payment(5, '"R5')  # opens a quoted field that never closes
    lakehouse = load(local, export(tmp_path, "P001", "2024-03", "payments", PAYMENT_HEADER, *lines))
    file = only_file(lakehouse)
    assert (file["rows_read"], file["rows_cleaned"], file["rows_quarantined"], file["balanced"]) == (36, 35, 1, True)
    assert quarantine_rules(lakehouse) == {7: ("unclosed_quote", None)}
    cleaned = {r["payment_id"]: r for r in rows(lakehouse, "cleaned.payment")}
    assert "PAY5" not in cleaned and {"PAY4", "PAY6", "PAY35"} <= set(cleaned)
    assert cleaned["PAY6"]["remittance_ref"] == "R6" and cleaned["PAY6"]["raw_line"] == 8


def test_no_identifier_rides_into_cleaned_inside_a_broken_field(local: Settings, tmp_path: Path) -> None:
    """A kept, unchecked text field (the remittance reference) opens a quote; the lines after
    it carry medical record numbers, names and a member number where a parser that honours
    the quote would read them as part of the reference."""
    smuggled = [
        "MRN99990001,Nomvula Dlamini,MBR555000111",
        "P001,PAY91,CL91,E91,MRN99990002,PAYER1,payer,2024-03-01 10:00:00,1.00,eft,false,R91",
        'MRN99990003 Pieter Botha"',
        "P001,PAY92,CL92,E92,MRN99990004,PAYER1,payer,2024-03-01 10:00:00,1.00,eft,false,",
    ]
    lines = [
        payment(1),
        payment(2, '"R2'),
        *smuggled,
        payment(3, '"R3,MRN99990005'),
        "MRN99990006 Sipho Zulu,x",
        payment(4, 'ab"MRN99990007'),
        payment(5),
    ]
    lakehouse = load(local, export(tmp_path, "P001", "2024-03", "payments", PAYMENT_HEADER, *lines))
    found = every_value(lakehouse)
    for identifier in ("MRN99990001", "Nomvula", "MBR555000111", "MRN99990002", "MRN99990003", "Pieter"):
        assert identifier not in found
    for identifier in ("MRN99990004", "MRN99990005", "MRN99990006", "Sipho"):
        assert identifier not in found
    file = only_file(lakehouse)
    assert file["rows_read"] == len(lines) and file["balanced"] is True
    # The reference with a quote inside it is kept as written; it holds no other record.
    cleaned = {r["payment_id"]: r for r in rows(lakehouse, "cleaned.payment")}
    assert set(cleaned) == {"PAY1", "PAY91", "PAY92", "PAY4", "PAY5"}
    assert cleaned["PAY4"]["remittance_ref"] == 'ab"MRN99990007'  # a value of its own row, in a kept column


def test_a_field_longer_than_its_contract_allows_is_quarantined(local: Settings, tmp_path: Path) -> None:
    long_reference = "R" + "x" * 300
    lines = [payment(1), payment(2, long_reference), payment(3, "é" * 255)]
    lakehouse = load(local, export(tmp_path, "P001", "2024-03", "payments", PAYMENT_HEADER, *lines))
    assert quarantine_rules(lakehouse) == {3: ("too_long", "remittance_ref")}
    (detail,) = [q["detail"] for q in rows(lakehouse, "ops.quarantine")]
    assert detail == "longer than 255 characters" and "xxx" not in detail
    assert {r["payment_id"] for r in rows(lakehouse, "cleaned.payment")} == {"PAY1", "PAY3"}  # 255 characters fit


def test_a_multi_line_field_is_quarantined_line_by_line(local: Settings, tmp_path: Path) -> None:
    good = "P001,A{n},MRN00000001,DR1,L1,2024-02-20 10:00:00,2024-03-01 09:00:00,15,new,completed,,,,,"
    lines = [
        good.format(n=1),
        'P001,A2,MRN00000002,DR1,L1,2024-02-20 10:00:00,2024-03-01 09:00:00,15,new,completed,,,,,"first line',
        'second line of the note"',
        good.format(n=3),
    ]
    path = export(tmp_path, "P001", "2024-03", "appointments", APPOINTMENT_HEADER, *lines)
    lakehouse = load(local, path)
    assert quarantine_rules(lakehouse) == {3: ("unclosed_quote", None), 4: ("field_count", None)}
    assert {r["appointment_id"] for r in rows(lakehouse, "cleaned.appointment")} == {"A1", "A3"}
    assert only_file(lakehouse)["balanced"] is True


def test_blank_lines_and_crlf_keep_line_numbers(local: Settings, tmp_path: Path) -> None:
    path = tmp_path / "exports" / "P001" / "2024-03" / "payments.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(f"{PAYMENT_HEADER}\r\n{payment(1)}\r\n\r\n{payment(2)}\r\n{payment(3)}\r\n".encode())
    lakehouse = load(local, path)
    lines = {r["payment_id"]: r["raw_line"] for r in rows(lakehouse, "cleaned.payment")}
    assert lines == {"PAY1": 2, "PAY2": 4, "PAY3": 5}
    file = only_file(lakehouse)
    assert (file["rows_read"], file["balanced"]) == (3, True)
