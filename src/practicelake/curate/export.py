"""A copy of the curated zone for BI tools that cannot read Iceberg: one DuckDB database file
(Metabase, Superset, DBeaver: open it read-only) or one Parquet file per table (spreadsheets,
Power BI). A copy as of the export, not a live view; it holds the practices asked for.

The copy is its owner's only: the DuckDB file 0600, the Parquet folder 0700 and its files
0600. It is made in a hidden folder beside the target and moved into place whole.

Values are copied as they are, text included. Both formats are typed (no cell is read as a
formula by a tool that opens them as tables), but a text cell that starts with `=`, `+`, `-`
or `@` (a payer's or provider's name as the practice's system exported it) stays so: a tool
that copies cells into a spreadsheet should neutralise them, as `practicelake sql --format
csv` does (cli.output).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysTrue, BooleanExpression, In, Reference
from sqlglot import exp

from practicelake.curate.project import load_models
from practicelake.curate.snapshots import open_pinned, pinned
from practicelake.errors import PracticelakeError

Format = Literal["duckdb", "parquet"]


def curated_tables(catalog: Catalog) -> list[str]:
    """The curated tables a completed curate recorded, in model order."""
    names = [m.name for m in load_models() if m.contract.materialized == "table"]
    recorded = pinned(catalog)
    return [name for name in names if name in recorded]


def check_target(out: Path) -> None:
    """Refuse a target that exists, or whose folder does not or cannot be written."""
    if out.exists() or out.is_symlink():
        raise PracticelakeError(f"{out} exists: export writes a new file or folder, it never replaces one")
    if not out.parent.is_dir():
        raise PracticelakeError(f"{out.parent}: no such folder (export does not create folders)")
    if not os.access(out.parent, os.W_OK):
        raise PracticelakeError(f"cannot write in {out.parent}")


def export(catalog: Catalog, out: Path, fmt: Format, practices: list[str] | None = None) -> dict[str, int]:
    """Write the copy; returns rows per table. Never replaces an existing file or folder."""
    check_target(out)
    names = curated_tables(catalog)
    if not names:
        raise PracticelakeError("the curated zone is empty: run `practicelake curate` first")
    where: BooleanExpression = AlwaysTrue()
    if practices:
        where = In(Reference("practice_id"), practices)  # type: ignore[call-arg,arg-type]
    work = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial"))  # 0700
    try:
        copy = work if fmt == "parquet" else work / out.name
        counts: dict[str, int] = {}
        pins = pinned(catalog)  # every table as one completed curate left it, as readers see them
        with duckdb.connect(str(copy) if fmt == "duckdb" else ":memory:") as con:
            for name in names:
                table = open_pinned(catalog, pins[name])
                rows = table.scan(row_filter=where, snapshot_id=pins[name].snapshot_id).to_arrow()
                counts[name] = rows.num_rows
                if fmt == "parquet":
                    pq.write_table(rows, work / f"{name}.parquet")
                    os.chmod(work / f"{name}.parquet", 0o600)  # in a 0700 folder until then
                else:
                    _copy_into(con, name, rows)
        if fmt == "parquet":
            _move_folder(work, out)
        else:
            os.chmod(copy, 0o600)
            _move_file(copy, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return counts


def _move_file(copy: Path, out: Path) -> None:
    try:
        os.link(copy, out)  # create-only: a file that appeared meanwhile stays
    except FileExistsError:
        raise PracticelakeError(f"{out} exists: export writes a new file or folder, it never replaces one") from None


def _move_folder(copy: Path, out: Path) -> None:
    if out.exists() or out.is_symlink():  # a rename would replace an empty folder
        raise PracticelakeError(f"{out} exists: export writes a new file or folder, it never replaces one")
    copy.rename(out)  # whole or not at all


def _copy_into(con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table) -> None:
    con.register("__rows", rows)
    select = exp.select("*").from_("__rows")
    con.execute(exp.Create(this=exp.to_table(name, quoted=True), kind="TABLE", expression=select).sql("duckdb"))
    con.unregister("__rows")
