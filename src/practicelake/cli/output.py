"""A query's result written out: a table on the terminal, CSV, JSON or Parquet.

Safe to open:
- CSV: a text cell that a spreadsheet would run as a formula (it starts with `=`, `+`, `-`,
  `@`, a tab or a carriage return) is written with a single quote before it, and quoted, as
  OWASP's CSV injection guidance says; numbers, negative ones too, are written as numbers.
  Null is an empty field.
- JSON: NaN and infinities, which JSON has no numbers for, are written as null.
- Parquet keeps every value as it is (typed columns: no cell is read as a formula there, but a
  tool that copies text cells into a spreadsheet should neutralise them itself).
- A file (`--output`) is created owner-only (0600), whole or not at all: the result goes to a
  hidden file beside it first. It never replaces an existing file unless asked to
  (`--replace`). Whether it can be written is settled by `OutputFile.prepare` before the
  query is read or audited.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from practicelake.errors import PracticelakeError, disk_problem
from practicelake.query.formats import to_csv, to_json


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


@dataclass
class OutputFile:
    """The file a result goes to, and the owner-only file beside it that takes it first."""

    path: Path
    partial: Path
    replace: bool

    @classmethod
    @contextmanager
    def prepare(cls, path: Path, *, replace: bool = False) -> Iterator[OutputFile]:
        """Check that `path` can be written, and open its partial file; on leaving the block
        without an error the result takes its place, else it is removed."""
        if path.is_dir():
            raise PracticelakeError(f"{path} is a folder: --output names a file")
        if path.exists() or path.is_symlink():
            if not replace:
                raise PracticelakeError(f"{path} exists: give --replace to replace it")
            if not os.access(path, os.W_OK):
                raise PracticelakeError(f"{path} is not writable")
        folder = path.parent
        if not folder.is_dir():
            raise PracticelakeError(f"{folder}: no such folder (--output does not create folders)")
        try:
            fd, partial = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".partial")  # 0600
        except OSError as exc:
            raise PracticelakeError(f"{disk_problem(exc)}: cannot write in {folder}") from None
        os.close(fd)
        target = cls(path, Path(partial), replace)
        try:
            yield target
            target._commit()
        finally:
            target.partial.unlink(missing_ok=True)

    def _commit(self) -> None:
        if self.replace:
            os.replace(self.partial, self.path)
            return
        try:
            os.link(self.partial, self.path)  # create-only: a file that appeared meanwhile stays
        except FileExistsError:
            raise PracticelakeError(f"{self.path} exists: give --replace to replace it") from None


def write(result: pa.Table, output_format: OutputFormat, output: OutputFile | None, console: Console) -> None:
    """`result` to `output`, or to standard output (`console` for tables) when it is None."""
    if output_format is OutputFormat.parquet:
        if output is None:
            raise ValueError("parquet needs an output file")
        pq.write_table(result, output.partial)
    elif output_format is OutputFormat.table:
        if output is None:
            _print_table(result, console)
        else:
            with output.partial.open("w", encoding="utf-8") as file:
                _print_table(result, Console(file=file, width=200, color_system=None, markup=False, emoji=False))
    else:
        text = to_csv(result) if output_format is OutputFormat.csv else to_json(result)
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.partial.write_text(text, encoding="utf-8")


def render(result: pa.Table) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for field in result.schema:
        numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type) or pa.types.is_decimal(field.type)
        table.add_column(Text(field.name), justify="right" if numeric else "left", no_wrap=True)
    for row in result.to_pylist():
        table.add_row(*(Text("null", style="dim") if value is None else Text(str(value)) for value in row.values()))
    return table


def _print_table(result: pa.Table, console: Console) -> None:
    console.print(render(result))
    console.print(Text(f"({result.num_rows:,} row{'' if result.num_rows == 1 else 's'})", style="dim"))
