"""`audit verify` and `audit show` as the operator runs them, on logs an attacker has touched."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from audit_helper import SECRET_SQL, Clock, audit_key, encode, fill, lines, records, write
from typer.testing import CliRunner, Result

from practicelake.app import App
from practicelake.audit.log import AuditLog, access_entry
from practicelake.cli.main import app
from practicelake.errors import SettingsError
from practicelake.settings import load_settings

Run = Callable[..., Result]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "practicelake.toml"
    path.write_text(
        f'warehouse_uri = "{(tmp_path / "lake").as_uri()}"\n'
        f'key_file = "{tmp_path / "keys.json"}"\n'
        f'state_dir = "{tmp_path / "state"}"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def log(config: Path) -> AuditLog:
    log = AuditLog(load_settings(config).audit_log, audit_key, clock=Clock())
    fill(log)
    return log


@pytest.fixture
def run(config: Path) -> Run:
    def invoke(*args: str) -> Result:
        """The command on an App that keeps its audit key elsewhere (the tests' key)."""
        core = App(load_settings(config), audit_key=audit_key)
        return CliRunner().invoke(app, ["audit", *args], obj=core)

    return invoke


def test_verify_an_intact_log(run: Run, log: AuditLog) -> None:
    result = run("verify")
    assert result.exit_code == 0, result.output
    assert result.stdout == "5 records, chain intact\n"


def test_verify_names_the_first_broken_line(run: Run, log: AuditLog) -> None:
    edited = records(log)
    edited[1]["details"]["rows"] = 0
    write(log, [lines(log)[0], encode(edited[1]), *lines(log)[2:]])
    result = run("verify")
    assert result.exit_code == 1
    assert "broken at line 2 (record 2): its content does not match its hash" in result.stderr
    assert result.stdout == ""


def test_verify_finds_a_cut_end(run: Run, log: AuditLog) -> None:
    write(log, lines(log)[:3])
    result = run("verify")
    assert result.exit_code == 1
    assert "broken at end of log: the log ends at record 3 (line 3) but its anchor holds record 5" in result.stderr


def test_show_as_a_table_without_sql(run: Run, log: AuditLog) -> None:
    result = run("show")
    assert result.exit_code == 0, result.output
    for expected in ("alice", "bob", "carol", "os:operator", "role.grant alice role=staff", "visit_counts: 12 rows"):
        assert expected in result.stdout
    assert "Dr Smith" not in result.stdout and SECRET_SQL not in result.stdout


def test_show_filters_as_json(run: Run, log: AuditLog) -> None:
    def seqs(*options: str) -> list[int]:
        result = run("show", "--json", *options)
        assert result.exit_code == 0, result.output
        return [json.loads(line)["seq"] for line in result.stdout.splitlines()]

    assert seqs() == [1, 2, 3, 4, 5]
    assert seqs("--kind", "admin") == [1, 5]
    assert seqs("--actor", "alice") == [2]
    assert seqs("--practice", "P002") == [3, 4, 5]
    assert seqs("--outcome", "denied") == [3]
    assert seqs("--since", "2025-03-01 10:00:00", "--until", "2025-03-01T12:00:00") == [3, 4]
    assert seqs("--last", "2") == [4, 5]
    assert run("show", "--kind", "everything").exit_code == 2


def test_show_does_not_obey_what_an_actor_name_carries(run: Run, log: AuditLog) -> None:
    for actor in ("eve\x1b[2J\x1b]0;owned\x07", "[bold red]admin[/bold red]"):
        log.append(access_entry(actor, [], ["P001"], sql="select 1", relations=[], rows=0, allowed=False, reason="x"))
    result = run("show", "--last", "2")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "eve\\x1b[2J" in result.stdout
    assert "[bold red]admin[/bold red]" in result.stdout


def test_without_an_audit_key_nothing_is_checked(config: Path, log: AuditLog) -> None:
    result = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert isinstance(result.exception, SettingsError)  # no key store yet, and not in dev mode
    assert "run `practicelake init`" in str(result.exception)
