"""`practicelake sql` as a user meets it: every format, a refusal, help, and the prompt."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from curated_lake import PAYER_MIX, PAYER_MIX_ROWS, VISIT_ROWS, VISITS, write_table
from rich.console import Console
from typer.testing import CliRunner

from lakes import config_file
from practicelake.access.principals import Principal, PrincipalStore
from practicelake.cli.main import app
from practicelake.cli.output import OutputFormat
from practicelake.cli.sql import prompt
from practicelake.lakehouse.catalog import open_catalog
from practicelake.query import QueryService
from practicelake.query.reader import Reader
from practicelake.settings import Settings

QUERY = "select practice_id, sum(visits) as visits, sum(charges) as charges from access_daily group by 1 order by 1"


PASSWORD = "a test password, not a secret"


@pytest.fixture
def config(lake: Settings, tmp_path: Path) -> Path:
    """The curated tables under names a practice owner may read, and that owner's token."""
    catalog = open_catalog(lake)
    write_table(catalog, "access_daily", VISITS, VISIT_ROWS)
    write_table(catalog, "revenue_payer_mix", PAYER_MIX, PAYER_MIX_ROWS)
    store = PrincipalStore(lake.users_db)
    store.add_user("olive", PASSWORD)
    for practice in ("P001", "P002"):
        store.grant("olive", "practice_owner", practice)
    path = config_file(tmp_path / "practicelake.toml", lake)
    TOKENS[path] = store.create_token("olive", timedelta(hours=1))[1]
    return path


TOKENS: dict[Path, str] = {}


def sql(config: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    env = {"PRACTICELAKE_TOKEN": TOKENS[config]}
    result = CliRunner().invoke(app, ["sql", *args, "--config", str(config)], input=stdin, env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def practicelake(*args: str, cwd: Path, token: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "practicelake", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(cwd), "PATH": "/usr/bin:/bin", "COLUMNS": "200", **(token or {})},
        stdin=subprocess.DEVNULL,
    )


def test_table_is_the_default(config: Path) -> None:
    code, out = sql(config, QUERY)
    assert code == 0
    lines = [line.split() for line in out.splitlines() if line.strip()]
    assert lines[0] == ["practice_id", "┃", "visits", "┃", "charges"]
    assert ["P001", "│", "30", "│", "4000.50"] in lines
    assert ["P002", "│", "1850", "│", "197000.00"] in lines
    assert ["(2", "rows)"] in lines


def test_csv(config: Path) -> None:
    code, out = sql(config, QUERY, "--format", "csv")
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [
        ["practice_id", "visits", "charges"],
        ["P001", "30", "4000.50"],
        ["P002", "1850", "197000.00"],
    ]


def test_json(config: Path) -> None:
    code, out = sql(config, "select * from access_daily where visits = 20", "--format", "json")
    assert code == 0
    assert json.loads(out) == [
        {"practice_id": "P001", "month": "2024-02-01", "visits": 20, "charges": 2500.5, "no_show_rate": None}
    ]


def test_csv_and_json_to_a_file(config: Path, tmp_path: Path) -> None:
    for output_format in ("csv", "json"):
        target = tmp_path / f"result.{output_format}"
        code, out = sql(config, QUERY, "--format", output_format, "--output", str(target))
        assert (code, out) == (0, "")
        assert "P002" in target.read_text(encoding="utf-8")


def test_parquet_to_a_file(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "result.parquet"
    code, _ = sql(config, QUERY, "--format", "parquet", "--output", str(target))
    assert code == 0
    assert pq.read_table(target).column("visits").to_pylist() == [30, 1850]


def test_parquet_needs_an_output_file(config: Path) -> None:
    result = CliRunner().invoke(app, ["sql", QUERY, "--format", "parquet", "--config", str(config)])
    assert result.exit_code == 2
    assert "parquet is binary: give --output FILE" in result.output


def test_the_query_can_come_from_standard_input(config: Path) -> None:
    code, out = sql(config, "--format", "csv", stdin="select count(*) as n from revenue_payer_mix;\n")
    assert (code, out) == (0, "n\n3\n")


def test_a_refused_query_is_one_line_and_exit_1(config: Path, tmp_path: Path) -> None:
    token = {"PRACTICELAKE_TOKEN": TOKENS[config]}
    result = practicelake(
        "sql", "select * from read_csv('/etc/passwd')", "--config", str(config), cwd=tmp_path, token=token
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "error: function read_csv() is not allowed: it reaches files, settings or the system"
    )
    assert result.stdout == ""


def test_a_write_is_refused_as_not_a_read(config: Path, tmp_path: Path) -> None:
    token = {"PRACTICELAKE_TOKEN": TOKENS[config]}
    result = practicelake("sql", "drop table access_daily", "--config", str(config), cwd=tmp_path, token=token)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: only reads are allowed: send one SELECT query (got DROP)"


def test_help(tmp_path: Path) -> None:
    result = practicelake("sql", "--help", cwd=tmp_path)
    assert result.returncode == 0
    for word in ("Usage", "QUERY", "--format", "table|csv|json|parquet", "--output", "--config", "read-only"):
        assert word in result.stdout
    assert "sql" in practicelake("--help", cwd=tmp_path).stdout


def run_prompt(service: QueryService, *typed: str) -> None:
    """The prompt as a practice owner of both practices, auditing into a list."""
    catalog = service.catalog
    write_table(catalog, "access_daily", VISITS, VISIT_ROWS)
    write_table(catalog, "revenue_payer_mix", PAYER_MIX, PAYER_MIX_ROWS)
    owner = Principal("olive", "user", {"P001": "practice_owner", "P002": "practice_owner"})
    audited: list[object] = []
    typed_lines = iter(typed)

    def read(prompt_text: str) -> str:
        try:
            return next(typed_lines)
        except StopIteration:
            raise EOFError from None

    prompt(Reader(service, audited.append), owner, OutputFormat.csv, Console(file=io.StringIO()), read=read)
    assert audited  # every query, refused or not, left a record


def test_the_prompt_runs_queries_until_quit(service: QueryService, capsys: pytest.CaptureFixture[str]) -> None:
    run_prompt(
        service,
        "select count(*) as n",
        "from access_daily;",
        "select * from read_csv('/etc/passwd');",
        "",
        "select count(*) as m from revenue_payer_mix",
        "",
        "\\q",
        "select 'never run' as x;",
    )
    captured = capsys.readouterr()
    assert captured.out == "n\n4\nm\n3\n"
    assert "error: function read_csv() is not allowed" in captured.err
    assert "never run" not in captured.out


def test_the_prompt_ends_at_end_of_input(service: QueryService, capsys: pytest.CaptureFixture[str]) -> None:
    run_prompt(service, "select 1 as one;")
    assert capsys.readouterr().out == "one\n1\n"


def test_no_identity_no_data(config: Path) -> None:
    result = CliRunner().invoke(app, ["sql", QUERY, "--config", str(config)], env={"PRACTICELAKE_TOKEN": None})
    assert result.exit_code != 0 and "say who you are" in str(result.exception)


def test_a_user_signs_in_with_a_prompted_password(config: Path) -> None:
    args = ["sql", QUERY, "--format", "csv", "--user", "olive", "--config", str(config)]
    result = CliRunner().invoke(app, args, input=PASSWORD + "\n", env={"PRACTICELAKE_TOKEN": None})
    assert result.exit_code == 0 and "P002" in result.stdout
    wrong = CliRunner().invoke(app, args, input="not it\n", env={"PRACTICELAKE_TOKEN": None})
    assert wrong.exit_code != 0 and "unknown user or wrong password" in str(wrong.exception)
