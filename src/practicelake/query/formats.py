"""Query results as text that is safe to open: CSV whose text cells no spreadsheet runs as a
formula (OWASP's CSV injection guidance: a leading `=`, `+`, `-`, `@`, tab or carriage return
gets a single quote, and the cell is quoted; numbers stay numbers; null is an empty field), and
JSON with NaN and infinities as null. The command line and the web app both write with these."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(names: list[str], rows: list[list[Any]]) -> str:
    """RFC 4180 of `rows` under the header `names`."""
    return "".join(csv_row(line) + "\n" for line in [names, *rows])


def to_csv(result: pa.Table) -> str:
    """RFC 4180 with a header, quoting only where needed (and every neutralised cell); null is
    an empty field."""
    lines = [csv_row(result.column_names)]
    for batch in result.to_batches():
        lines += [csv_row(list(row.values())) for row in batch.to_pylist()]
    return "".join(line + "\n" for line in lines)


def csv_row(values: list[Any]) -> str:
    fields = [csv_field(value) for value in values]
    return '""' if fields == [""] else ",".join(fields)  # a lone empty field is no blank line


def csv_field(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        text = "'" + text  # text, not a formula, to a spreadsheet: shown with the quote
    elif not any(char in text for char in ',"\r\n'):
        return text
    return '"' + text.replace('"', '""') + '"'


def to_json(result: pa.Table) -> str:
    """An array of objects, one per row: dates and times as ISO 8601, decimals as numbers,
    NaN and infinities as null."""
    rows = [_finite(row) for row in result.to_pylist()]
    return json.dumps(rows, default=_json_value, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    if isinstance(value, dict):
        return {name: _finite(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
