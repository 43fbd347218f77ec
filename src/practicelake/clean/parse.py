"""Raw bytes -> an all-text Arrow table with the line each row came from."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from practicelake.clean.checks import read_columns
from practicelake.contracts import Contract
from practicelake.errors import MalformedFileError
from practicelake.ingest.validate import BOM, check_header, header_of


@dataclass(frozen=True)
class BadRow:
    line: int
    detail: str


@dataclass(frozen=True)
class ParsedFile:
    rows: pa.Table  # one string column per column the transform reads, plus raw_line
    bad_rows: list[BadRow]

    @property
    def rows_read(self) -> int:
        return int(self.rows.num_rows) + len(self.bad_rows)


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


def parse(contract: Contract, data: bytes) -> ParsedFile:
    """Every well-formed row as text, in contract column order; rows with the wrong number of
    fields are returned apart with their line. Lines count records, the header being line 1.
    Only the columns the transform reads are converted (see checks.read_columns)."""
    data = data.removeprefix(BOM)
    header = header_of(data[: 1 << 16].decode("utf-8", errors="replace"))
    check_header(contract, header)
    read = list(read_columns(contract.entity))
    bad_rows: list[BadRow] = []
    try:
        table = _read(data, header, read, True, bad_rows)
        if bad_rows:  # only a single-threaded read numbers the bad rows
            bad_rows = []
            table = _read(data, header, read, False, bad_rows)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise MalformedFileError(f"cannot parse as CSV: {exc}") from None
    total = table.num_rows + len(bad_rows)
    lines = np.arange(2, total + 2, dtype=np.int64)
    if bad_rows:
        lines = lines[~np.isin(lines, [b.line for b in bad_rows])]
    table = table.select(read).append_column("raw_line", pa.array(lines))
    return ParsedFile(rows=table, bad_rows=bad_rows)
