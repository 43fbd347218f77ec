"""The command line as a user meets it: help everywhere, clear one-line errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakes import config_file, local_settings

COMMANDS = ["generate", "ingest", "transform", "status", "contracts", "demo"]


def practicelake(*args: str, cwd: Path, env_home: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "practicelake", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(env_home or cwd), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_help(tmp_path: Path, command: str | None) -> None:
    result = practicelake(*([command] if command else []), "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    if command is None:
        for name in COMMANDS:
            assert name in result.stdout


def test_unknown_option_is_refused(tmp_path: Path) -> None:
    result = practicelake("transform", "--colour", "blue", cwd=tmp_path)
    assert result.returncode == 2
    assert "No such option" in result.stderr


def write_settings(tmp_path: Path) -> Path:
    return config_file(tmp_path / "practicelake.toml", local_settings(tmp_path))


def test_unknown_practice_is_one_line_without_traceback(tmp_path: Path) -> None:
    write_settings(tmp_path)
    export = tmp_path / "payers.csv"
    export.write_text("practice_id,payer_id,name,payer_type\nP009,PAY1,X,insurer\n", encoding="utf-8")
    result = practicelake("ingest", "--practice", "P009", str(export), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: practice 'P009' is not configured")


def test_missing_path_and_bad_settings_are_clear(tmp_path: Path) -> None:
    write_settings(tmp_path)
    result = practicelake("ingest", "-p", "P001", "nowhere.csv", cwd=tmp_path)
    assert (result.returncode, "Traceback" in result.stderr) == (1, False)
    assert "nowhere.csv: no such file or folder" in result.stderr
    (tmp_path / "practicelake.toml").write_text('warehouse_uri = "ftp://x"\n', encoding="utf-8")
    result = practicelake("status", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "warehouse_uri must start with file:// or s3://" in result.stderr


def test_ingest_failure_names_the_file_and_exits_non_zero(tmp_path: Path) -> None:
    write_settings(tmp_path)
    good = tmp_path / "2024-01" / "payers.csv"
    good.parent.mkdir()
    good.write_text("practice_id,payer_id,name,payer_type\nP001,PAY1,X,insurer\n", encoding="utf-8")
    bad = tmp_path / "2024-01" / "patients.csv"
    bad.write_bytes(b"\x00\x01\x02binary")
    result = practicelake("ingest", "-p", "P001", str(tmp_path / "2024-01"), cwd=tmp_path)
    assert result.returncode == 1
    assert "error: patients.csv (2024-01): binary content (NUL byte at offset 0)" in result.stderr
    assert "1 stored" in result.stdout and "1 failed" in result.stdout
    result = practicelake("transform", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    status = practicelake("status", cwd=tmp_path)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "failed" in status.stdout and "loaded" in status.stdout


def test_contracts_are_printed_from_the_declarations(tmp_path: Path) -> None:
    result = practicelake("contracts", "appointment", cwd=tmp_path)
    assert result.returncode == 0
    assert "| `status` | string | none | status | required; one of `arrived`" in result.stdout
    assert practicelake("contracts", "invoice", cwd=tmp_path).returncode == 1


def test_init_creates_the_key_encryption_key_once_and_is_audited(tmp_path: Path) -> None:
    from practicelake.audit.log import AuditLog
    from practicelake.cli.main import app
    from practicelake.crypto.keystore import open_keys
    from practicelake.settings import load_settings

    config = config_file(tmp_path / "practicelake.toml", local_settings(tmp_path), dev_mode=False)
    first = CliRunner().invoke(app, ["init", "--config", str(config)])
    assert first.exit_code == 0, first.output
    settings = load_settings(config)
    assert settings.kek_file.stat().st_mode & 0o777 == 0o600
    kek = settings.kek_file.read_bytes()
    records = AuditLog.open(settings, open_keys(settings).audit_key).show()
    assert [record.details["action"] for record in records] == ["init"]
    again = CliRunner().invoke(app, ["init", "--config", str(config)])
    assert again.exit_code == 0 and "already exists: nothing changed" in again.output
    assert settings.kek_file.read_bytes() == kek  # never replaced
