"""A query's result written out: a table on the terminal, CSV, JSON or Parquet."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def write(result: pa.Table, output_format: OutputFormat, output: Path | None, console: Console) -> None:
    """`result` to `output`, or to standard output (`console` for tables) when it is None."""
    if output_format is OutputFormat.parquet:
        if output is None:
            raise ValueError("parquet needs an output file")
        pq.write_table(result, output)
    elif output_format is OutputFormat.table:
        if output is None:
            _print_table(result, console)
        else:
            with output.open("w", encoding="utf-8") as file:
                _print_table(result, Console(file=file, width=200, color_system=None))
    else:
        text = to_csv(result) if output_format is OutputFormat.csv else to_json(result)
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")


def render(result: pa.Table) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for field in result.schema:
        numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type) or pa.types.is_decimal(field.type)
        table.add_column(field.name, justify="right" if numeric else "left", no_wrap=True)
    for row in result.to_pylist():
        table.add_row(*("[dim]null[/dim]" if value is None else escape(str(value)) for value in row.values()))
    return table


def _print_table(result: pa.Table, console: Console) -> None:
    console.print(render(result))
    console.print(f"[dim]({result.num_rows:,} row{'' if result.num_rows == 1 else 's'})[/dim]", highlight=False)


def to_csv(result: pa.Table) -> str:
    """RFC 4180 with a header, quoting only where needed; null is an empty field."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(result.column_names)
    for batch in result.to_batches():
        writer.writerows(("" if value is None else value for value in row.values()) for row in batch.to_pylist())
    return text.getvalue()


def to_json(result: pa.Table) -> str:
    """An array of objects, one per row: dates and times as ISO 8601, decimals as numbers."""
    return json.dumps(result.to_pylist(), default=_json_value, indent=2, ensure_ascii=False) + "\n"


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
