"""A source system's CSV -> its records, all text, each with its line (the header is line 1),
and the lines that are no record: the way clean.parse reads practicelake's own CSV, with the
delimiter and encoding the mapping names.

The records are counted from the bytes (one a line) apart from the parser, so that a parser
that merges lines cannot make records disappear. When the counts differ (a quoted field
across lines, a blank line), the file is read line by line: a line whose quotes do not close
on it is a bad row alone, and the lines after it are read as the records they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from practicelake.errors import MalformedFileError
from practicelake.formats.csv_records import UNCLOSED_DETAIL, by_line
from practicelake.formats.mapping.model import SourceOptions

BOM = b"\xef\xbb\xbf"
FIELD_COUNT = "field_count"
UNCLOSED_QUOTE = "unclosed_quote"


@dataclass(frozen=True)
class Unreadable:
    line: int
    detail: str
    rule: str
    text: str  # the line, kept in memory only to tell which dataset it belongs to


@dataclass(frozen=True)
class Records:
    header: tuple[str, ...]  # the source's column names, trimmed
    table: pa.Table  # the columns asked for, named by their position (`c0`, `c1`, ...), as text
    lines: np.ndarray  # the line of each record
    unreadable: list[Unreadable]


def position_name(index: int) -> str:
    return f"c{index}"


def utf8(data: bytes, encoding: str) -> bytes:
    if encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig"):
        return data.removeprefix(BOM)
    try:
        return data.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedFileError(f"not {encoding}: byte 0x{data[exc.start]:02x} at offset {exc.start}") from None


def header_of(data: bytes, delimiter: str) -> tuple[str, ...]:
    end = data.find(b"\n")
    first = data[: len(data) if end < 0 else end].rstrip(b"\r")
    if not first.strip():
        raise MalformedFileError("line 1: no header (the file is empty or starts with a blank line)")
    try:
        names = next(csv.reader([first.decode("utf-8")], delimiter=delimiter))
    except (csv.Error, UnicodeDecodeError) as exc:
        raise MalformedFileError(f"line 1: the header cannot be read ({type(exc).__name__})") from None
    return tuple(name.strip() for name in names)


def _read(data: bytes, width: int, wanted: list[str], delimiter: str, threads: bool, bad: list[Unreadable]) -> pa.Table:
    def on_invalid(row: pacsv.InvalidRow) -> str:
        detail = f"row has {row.actual_columns} fields, expected {row.expected_columns}"
        bad.append(Unreadable(row.number or 0, detail, FIELD_COUNT, row.text or ""))
        return "skip"

    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(
            column_names=[position_name(i) for i in range(width)], skip_rows=1, use_threads=threads, block_size=1 << 24
        ),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(wanted, pa.string()),
            include_columns=wanted,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _by_line(data: bytes, delimiter: str) -> tuple[list[Unreadable], bytes, np.ndarray]:
    unclosed, body, numbers = by_line(data, delimiter)
    found = [
        Unreadable(n, UNCLOSED_DETAIL, UNCLOSED_QUOTE, line.decode("utf-8", errors="replace")) for n, line in unclosed
    ]
    return found, body, np.array(numbers, dtype=np.int64)


def read_records(data: bytes, options: SourceOptions, wanted: Sequence[int]) -> Records:
    """The columns at positions `wanted` of every record, as text, with their lines."""
    data = utf8(data, options.encoding)
    header = header_of(data, options.delimiter)
    names = [position_name(i) for i in wanted]
    expected = data.count(b"\n") + (0 if data.endswith(b"\n") else 1) - 1
    bad: list[Unreadable] = []
    try:
        table: pa.Table | None = _read(data, len(header), names, options.delimiter, True, bad)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        table = None
    # A CR alone ends a line too (bytes.splitlines): such a file is numbered line by line.
    lone_cr = data.count(b"\r") != data.count(b"\r\n")
    if table is not None and table.num_rows + len(bad) == expected and not lone_cr:
        if bad:  # only a single-threaded read numbers the bad rows
            bad = []
            table = _read(data, len(header), names, options.delimiter, False, bad)
        lines = np.arange(2, expected + 2, dtype=np.int64)
    else:
        unclosed, body, numbers = _by_line(data, options.delimiter)
        bad = []
        try:
            table = _read(body, len(header), names, options.delimiter, False, bad)
        except (pa.ArrowInvalid, UnicodeDecodeError):  # its message would quote the file
            raise MalformedFileError("cannot parse as CSV, even line by line") from None
        if table.num_rows + len(bad) != len(numbers):
            raise MalformedFileError("the records of the file cannot be told apart line by line")
        bad = [Unreadable(int(numbers[b.line - 2]), b.detail, b.rule, b.text) for b in bad] + unclosed
        lines = numbers
    if bad:
        lines = lines[~np.isin(lines, [b.line for b in bad])]
    return Records(header=header, table=table.select(names), lines=lines, unreadable=bad)
