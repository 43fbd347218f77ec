"""What practicelake writes is safe to open: CSV cells a spreadsheet would run are neutralised
(numbers stay numbers), JSON holds no NaN, a file is never replaced unasked and is its owner's
only, a path that cannot be written is refused before anything is read or audited, and text
from queries, ids and errors is shown as it is, never read as markup."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from curated_lake import VISIT_ROWS, VISITS, write_table
from typer.testing import CliRunner, Result

from lakes import config_file
from practicelake.access.principals import PrincipalStore
from practicelake.app import App
from practicelake.cli.main import app
from practicelake.errors import PracticelakeError
from practicelake.lakehouse.catalog import open_catalog
from practicelake.query.formats import to_csv, to_json
from practicelake.settings import Settings

PAYERS = pa.schema(
    [
        pa.field("practice_id", pa.string(), nullable=False),
        pa.field("payer_type", pa.string(), nullable=False),
        pa.field("share", pa.float64()),
    ]
)
FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tindent", "\rreturn"]
PAYER_ROWS = [{"practice_id": "P001", "payer_type": text, "share": -0.5} for text in FORMULAS]
PAYER_ROWS.append({"practice_id": "P001", "payer_type": "plain, with a comma", "share": 0.25})


@pytest.fixture
def config(lake: Settings, tmp_path: Path) -> Path:
    catalog = open_catalog(lake)
    write_table(catalog, "access_daily", VISITS, VISIT_ROWS)
    write_table(catalog, "revenue_payer_mix", PAYERS, PAYER_ROWS)
    store = PrincipalStore(lake.users_db)
    store.add_user("olive", "a test password, not a secret")
    store.grant("olive", "practice_owner", "P001")
    path = config_file(tmp_path / "practicelake.toml", lake)
    TOKENS[path] = store.create_token("olive", timedelta(hours=1))[1]
    return path


TOKENS: dict[Path, str] = {}


def sql(config: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["sql", *args, "--config", str(config)], env={"PRACTICELAKE_TOKEN": TOKENS[config]})


def audit_records(config: Path, lake: Settings) -> int:
    return len(App(lake).audit_log.show()) if lake.audit_log.exists() else 0


# CSV


def test_csv_neutralises_formulas_and_keeps_numbers(config: Path) -> None:
    result = sql(config, "select payer_type, share from revenue_payer_mix order by share, payer_type", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert rows[0] == ["payer_type", "share"]
    assert sorted(row[0] for row in rows[1:-1]) == sorted("'" + text for text in FORMULAS)
    assert all(row[1] == "-0.5" for row in rows[1:-1])  # a negative number is no formula
    assert rows[-1] == ["plain, with a comma", "0.25"]
    for text in FORMULAS:  # every neutralised cell is quoted as well
        quoted = '"' + ("'" + text).replace('"', '""') + '"'
        assert quoted in result.stdout


def test_csv_cells_unit() -> None:
    table = pa.table({"=name": ["=1", "-x", "ok", None, 'say "hi"'], "n": [-1, 2, -3, None, 0]})
    assert to_csv(table) == '"\'=name",n\n"\'=1",-1\n"\'-x",2\nok,-3\n,\n"say ""hi""",0\n'
    assert to_csv(pa.table({"only": [None]})) == 'only\n""\n'  # a lone empty field is not a blank line


# JSON


def test_json_writes_nan_and_infinity_as_null(config: Path) -> None:
    query = "select cast('nan' as double) as a, cast('inf' as double) as b, -cast('inf' as double) as c, 1.5 as d"
    result = sql(config, query, "-f", "json")
    assert result.exit_code == 0, result.output
    assert "NaN" not in result.stdout and "Infinity" not in result.stdout
    assert json.loads(result.stdout) == [{"a": None, "b": None, "c": None, "d": 1.5}]
    nested = pa.table({"x": [[1.0, float("nan")]], "y": [{"z": float("-inf")}]})
    assert json.loads(to_json(nested)) == [{"x": [1.0, None], "y": {"z": None}}]


# --output


def test_output_is_created_owner_only_and_never_replaced_unasked(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "result.csv"
    assert sql(config, "select 1 as one", "-f", "csv", "-o", str(target)).exit_code == 0
    assert target.read_text(encoding="utf-8") == "one\n1\n"
    assert target.stat().st_mode & 0o777 == 0o600
    again = sql(config, "select 2 as two", "-f", "csv", "-o", str(target))
    assert isinstance(again.exception, PracticelakeError) and "exists: give --replace" in str(again.exception)
    assert target.read_text(encoding="utf-8") == "one\n1\n"
    replaced = sql(config, "select 2 as two", "-f", "csv", "-o", str(target), "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert target.read_text(encoding="utf-8") == "two\n2\n" and target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".result")] == []  # no partial file left


@pytest.mark.parametrize("output_format", ["table", "json", "parquet"])
def test_every_format_to_a_file_is_owner_only(config: Path, tmp_path: Path, output_format: str) -> None:
    target = tmp_path / f"result.{output_format}"
    result = sql(config, "select 1 as one", "-f", output_format, "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.stat().st_mode & 0o777 == 0o600
    if output_format == "parquet":
        assert pq.read_table(target).column("one").to_pylist() == [1]


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder nothing can be written in, root included: a read-only file system as root."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
        yield folder
        folder.chmod(0o700)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True)
    assert mounted.returncode == 0, mounted.stderr  # root can mount: this test never skips
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def test_a_path_that_cannot_be_written_is_refused_before_reading(
    config: Path, lake: Settings, tmp_path: Path, read_only_folder: Path
) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    before = audit_records(config, lake)
    for target, problem in [
        (tmp_path / "missing" / "x.csv", "no such folder"),
        (tmp_path / "a-file" / "x.csv", "no such folder"),
        (tmp_path, "is a folder"),
        (read_only_folder / "x.csv", "cannot write in"),
    ]:
        result = sql(config, "select 1 as one", "-f", "csv", "-o", str(target))
        assert isinstance(result.exception, PracticelakeError), (target, result.output)
        assert problem in str(result.exception) and "\n" not in str(result.exception)
        assert result.stdout == ""
    assert audit_records(config, lake) == before  # nothing read, no sign-in, no access record


def test_the_command_line_says_it_in_one_line(config: Path, tmp_path: Path) -> None:
    result = practicelake(config, tmp_path, "sql", "select 1", "-o", str(tmp_path / "nowhere" / "x.csv"))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"error: {tmp_path / 'nowhere'}: no such folder (--output does not create folders)\n"


# markup


def practicelake(config: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "practicelake", *args, "--config", str(config)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(cwd), "PATH": "/usr/bin:/bin", "COLUMNS": "200", "PRACTICELAKE_TOKEN": TOKENS[config]},
        stdin=subprocess.DEVNULL,
    )


def test_text_that_looks_like_markup_is_shown_as_it_is(config: Path, tmp_path: Path) -> None:
    refused = practicelake(config, tmp_path, "sql", 'select * from "[/oops]"')
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("error: no such table: [/oops]"), refused.stderr
    shown = sql(config, 'select 1 as "[/x]", \'[bold]b[/bold]\' as "[red]"')
    assert shown.exit_code == 0, shown.output
    assert "[/x]" in shown.stdout and "[bold]b[/bold]" in shown.stdout and "[red]" in shown.stdout
    export = tmp_path / "payers.csv"
    export.write_text("practice_id,payer_id,name,payer_type\n", encoding="utf-8")
    practice = practicelake(config, tmp_path, "ingest", "--practice", "[/x]", str(export))
    assert practice.returncode == 1 and "Traceback" not in practice.stderr
    assert practice.stderr.strip().endswith("practice id '[/x]' is not valid: a practice id is 1 to 64 ASCII "
                                            "letters, digits, '_' or '-', starting with a letter or digit")  # fmt: skip
    hint = practicelake(config, tmp_path, "ingest", "--practice", "P009", str(export))
    assert "add [practices.P009] with time_zone and currency" in hint.stderr, hint.stderr


def test_a_file_name_that_looks_like_markup_is_named_as_it_is(config: Path, tmp_path: Path) -> None:
    batch = tmp_path / "[bold]2024"
    batch.mkdir()
    (batch / "patients.csv").write_bytes(b"\x00binary")
    result = practicelake(config, tmp_path, "ingest", "-p", "P001", str(batch))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "error: patients.csv ([bold]2024): binary content" in result.stderr, result.stderr


def test_an_empty_user_name_is_refused(config: Path) -> None:
    result = CliRunner().invoke(app, ["sql", "select 1", "--user", "", "--config", str(config)], env={})
    assert result.exit_code == 2
    assert "give a user name" in result.output


# exports


def test_exports_keep_values_as_they_are_and_are_owner_only(config: Path, lake: Settings, tmp_path: Path) -> None:
    database, folder = tmp_path / "bi.duckdb", tmp_path / "bi"
    for target, output_format in [(database, "duckdb"), (folder, "parquet")]:
        result = CliRunner().invoke(app, ["export", str(target), "--format", output_format, "--config", str(config)])
        assert result.exit_code == 0, result.output
    assert database.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in folder.iterdir()} == {0o600}
    # Typed tables, copied as they are (see curate.export): the text is not altered.
    assert set(FORMULAS) <= set(pq.read_table(folder / "revenue_payer_mix.parquet")["payer_type"].to_pylist())
    with duckdb.connect(str(database), read_only=True) as con:
        found = {row[0] for row in con.execute("select payer_type from revenue_payer_mix").fetchall()}
    assert set(FORMULAS) <= found


def test_an_export_into_a_missing_folder_is_refused_before_it_is_recorded(
    config: Path, lake: Settings, tmp_path: Path
) -> None:
    before = audit_records(config, lake)
    result = CliRunner().invoke(app, ["export", str(tmp_path / "missing" / "bi.duckdb"), "--config", str(config)])
    assert isinstance(result.exception, PracticelakeError) and "no such folder" in str(result.exception)
    assert audit_records(config, lake) == before
