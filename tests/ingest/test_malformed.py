"""Malformed exports in one ingest: each is kept in raw, marked failed with a one-line reason
that names the problem and never quotes the file, and none stops the files around it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from practicelake.formats.csv_export import column_list
from practicelake.ingest.manifest import read_manifest
from practicelake.pipeline import Lakehouse

HEADER = b"practice_id,payer_id,name,payer_type\n"
ROW = b"P001,PAY1,Discovery Health,insurer\n"
BIG = 140 * 1024  # past the csv module's 128 KiB field limit
WIDE = ",".join(f"c{i}" for i in range(100_000)).encode() + b"\n"

FAILING = {
    "cr only": ((HEADER + ROW * 3).replace(b"\n", b"\r"), "line ends are CR only (old Mac format)"),
    "a cr alone among lf": (HEADER + ROW + ROW.replace(b"\n", b"\r") + ROW, "line 3: a line ends with CR alone"),
    "first line over 128 KiB": (b"practice_id," + b"x" * BIG + b"\n" + ROW, "line 1: the header is 143,372 bytes"),
    "long last row cut short": (HEADER + ROW + b"P001,PAY2," + b"x" * BIG, "the last row (line 3) has 3 of 4 fields"),
    "cut inside the last field": (
        HEADER + ROW + b'P001,PAY2,Gov,"insu',
        "truncated: line 3 ends inside a quoted field",
    ),
    "cut in a quoted multi-line row": (HEADER + b'P001,PAY2,"Gov\nernment"', "last row (line 2) has 3 of 4 fields"),
    "nul past 64 KiB": (HEADER + ROW * 2000 + b"P001,PAY2,\x00,insurer\n", "NUL byte at offset 70047"),
    "100,000 columns": (WIDE + ROW, "line 1: the header is 688,889 bytes long, more than 65,536"),
    "5,000 columns": (WIDE[: WIDE.index(b",c5000")] + b"\n", "unexpected columns: c0, c1, c2, c3, c4 and 4,995 more"),
    "latin-1 after a BOM": (
        b"\xef\xbb\xbf" + HEADER + "P001,PAY1,Caf\u00e9,x\n".encode("latin-1"),
        "0xe9 at offset 53",
    ),
    "utf-16": ((HEADER + ROW).decode().encode("utf-16"), "UTF-16 text"),
}
LOADED = {
    # Its line is quarantined by the transform; the rows after it load (tests/clean/test_balance.py).
    "quote never closes": HEADER + b'P001,"R5,Gov,insurer\n' + ROW * 3,
    "long last row, no final newline": HEADER + ROW + b"P001,PAY2,Gov," + b"x" * BIG,
    "lf and crlf mixed": HEADER + ROW.replace(b"\n", b"\r\n") + ROW,
    "a cr inside a quoted field": HEADER + b'P001,PAY2,"Gov\rernment",insurer\n',
    "a quote inside a field": HEADER + b"P001,PAY2,5'10\" Health,insurer\n",
    "multi-line quoted last row": HEADER + b'P001,PAY2,"Gov\nernment",insurer',
}


def test_every_malformed_file_fails_alone_and_the_others_load(lakehouse: Lakehouse, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    cases = [(name, data) for name, (data, _) in FAILING.items()] + list(LOADED.items())
    for i, (name, data) in enumerate(cases):
        (exports / f"{i:02d} {name}").mkdir(parents=True)
        (exports / f"{i:02d} {name}" / "payers.csv").write_bytes(data)
    report = lakehouse.ingest("P001", [exports])
    by_batch = {entry.batch.split(" ", 1)[1]: entry for entry in report.entries}
    assert set(by_batch) == set(FAILING) | set(LOADED)
    for name, (data, reason) in FAILING.items():
        entry = by_batch[name]
        assert entry.status == "failed" and reason in (entry.reason or ""), (name, entry.reason)
        assert "\n" not in (entry.reason or "") and len(entry.reason or "") < 160, name
        assert lakehouse.raw.read(entry.object_key, entry.sha256) == data  # kept as received
    for name in LOADED:
        assert by_batch[name].status == "ingested", (name, by_batch[name].reason)
    rows = read_manifest(lakehouse.catalog).to_pylist()
    assert len(rows) == len(cases)
    stored = Counter(row["object_key"] for row in rows if row["status"] != "already_ingested")
    assert set(stored) == set(lakehouse.store.list("raw/")) and set(stored.values()) == {1}


def test_reasons_never_carry_a_terminal_escape(lakehouse: Lakehouse, tmp_path: Path) -> None:
    evil = tmp_path / "2024-01" / "\x1b[2J\x1b[31minvoices.csv"
    evil.parent.mkdir()
    evil.write_bytes(b"a,b\n1,2\n")
    (entry,) = lakehouse.ingest("P001", [evil]).entries
    assert entry.status == "failed" and "unknown dataset '\\x1b[2j\\x1b[31minvoices'" in (entry.reason or "")
    assert "\x1b" not in (entry.reason or "")


@pytest.mark.parametrize("name", ["a" * 300, "b\x1b[31m"])
def test_a_long_or_odd_column_name_is_cut_and_escaped(name: str) -> None:
    shown = column_list([name, "c"])
    assert len(shown) < 60 and "\x1b" not in shown and shown.endswith(", c")
