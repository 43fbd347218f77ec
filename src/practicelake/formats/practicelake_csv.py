"""practicelake's own CSV export: one file per dataset, named after it (`appointments.csv`),
with the contract's columns. Raw bytes -> an all-text Arrow table with the line each row came from.

The rows read are counted from the bytes themselves (physical records: one a line), apart
from the parser that loads them, so that a parser that merges records cannot make rows
disappear. A quoted field that does not close on its own line would swallow the records
after it into one value; such a line is quarantined alone and the lines after it are read
as the records they are.
"""

from __future__ import annotations

import io
from collections.abc import Collection
from dataclasses import replace
from pathlib import PurePath

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from practicelake.contracts import Contract
from practicelake.errors import MalformedFileError
from practicelake.formats.base import BadRow, Inspection, ParsedFile, Source
from practicelake.formats.csv_export import BOM, check_header, contract_for, header_of, validate
from practicelake.formats.csv_records import UNCLOSED_DETAIL, by_line
from practicelake.formats.mapping import apply_values, shipped

FIELD_COUNT = "field_count"
UNCLOSED_QUOTE = "unclosed_quote"


def _read(data: bytes, names: list[str], read: list[str], threads: bool, bad_rows: list[BadRow]) -> pa.Table:
    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_rows.append(
            BadRow(line=row.number or 0, detail=f"row has {row.actual_columns} fields, expected {row.expected_columns}")
        )
        return "skip"

    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=threads, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(read, pa.string()),
            include_columns=read,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _header_line(data: bytes) -> bytes:
    end = data.find(b"\n")
    end = len(data) if end < 0 else end
    cr = data.find(b"\r", 0, end)
    return data[: cr if cr >= 0 else end]


def physical_records(data: bytes) -> int:
    """The lines after the header, counted from the bytes by their LF ends. A file whose
    parser count differs (a record across lines, a blank line, a line ending in CR alone) is
    read line by line instead, where every line end counts."""
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1) - 1


def _lines(data: bytes) -> tuple[list[BadRow], bytes, np.ndarray]:
    """Line by line (csv_records.by_line): the lines whose quotes do not close as bad rows."""
    unclosed, body, numbers = by_line(data)
    bad = [BadRow(line=number, detail=UNCLOSED_DETAIL, rule=UNCLOSED_QUOTE) for number, _ in unclosed]
    return bad, body, np.array(numbers, dtype=np.int64)


def parse(contract: Contract, data: bytes, columns: Collection[str] | None = None) -> ParsedFile:
    """Every well-formed row as text, in contract column order; the others are returned apart
    with their line and what is wrong. Lines are physical lines of the file, the header being
    line 1. Only `columns` are converted (None: all), so that columns the transform does not
    read (names, contact details) never leave raw."""
    data = data.removeprefix(BOM)
    header = header_of(_header_line(data).decode("utf-8", errors="replace"))
    check_header(contract, header)
    read = [name for name in contract.column_names if columns is None or name in columns]
    expected = physical_records(data)
    bad_rows: list[BadRow] = []
    try:
        table: pa.Table | None = _read(data, header, read, True, bad_rows)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        table = None
    if table is not None and table.num_rows + len(bad_rows) == expected:
        if bad_rows:  # only a single-threaded read numbers the bad rows
            bad_rows = []
            table = _read(data, header, read, False, bad_rows)
        lines = np.arange(2, expected + 2, dtype=np.int64)
        if bad_rows:
            lines = lines[~np.isin(lines, [b.line for b in bad_rows])]
    else:
        # A record runs across lines, or the file has blank lines: read it line by line.
        unclosed, body, numbers = _lines(data)
        bad_rows = []
        try:
            table = _read(body, header, read, False, bad_rows)
        except (pa.ArrowInvalid, UnicodeDecodeError):  # its message would quote the file
            raise MalformedFileError("cannot parse as CSV, even line by line") from None
        if table.num_rows + len(bad_rows) != len(numbers):
            raise MalformedFileError("the records of the file cannot be told apart line by line")
        bad_rows = [BadRow(int(numbers[b.line - 2]), b.detail, b.rule) for b in bad_rows] + unclosed
        lines = numbers
        if bad_rows:
            lines = numbers[~np.isin(numbers, [b.line for b in bad_rows])]
    table = table.select(read).append_column("raw_line", pa.array(lines))
    return ParsedFile(rows=table, bad_rows=bad_rows)


class PracticelakeCsv:
    """The format of `practicelake`'s own export (docs/contracts.md): what a file is read as
    when no other format claims it."""

    name = "practicelake-csv"
    unit = "line"
    description = "practicelake CSV: one file per dataset, named after it, with the contract's columns"

    def sniff(self, source: Source) -> bool:
        return False  # the format of last resort (formats.registry.detect)

    def inspect(self, source: Source) -> Inspection:
        dataset = source.datasets[0] if source.datasets else PurePath(source.name).stem.lower()
        validate(dataset, source.data)
        return Inspection((dataset,))

    def read(self, data: bytes, dataset: str, columns: Collection[str] | None = None) -> ParsedFile:
        """The file's rows, its synonyms (a status "checked out", a sex "F") made the contract's
        values by the value maps of formats/mappings/practicelake.toml."""
        parsed = parse(contract_for(dataset), data, columns)
        return replace(parsed, rows=apply_values(shipped("practicelake"), dataset, parsed.rows))


FORMAT = PracticelakeCsv()
