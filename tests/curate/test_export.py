"""The BI copy of the curated zone: whole, only the practices asked for, never over a file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from clean.generated import ingest_all, small_export
from lakes import config_file, local_settings
from practicelake.cli.main import app
from practicelake.curate.export import curated_tables, export
from practicelake.errors import PracticelakeError
from practicelake.pipeline import Lakehouse


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory: pytest.TempPathFactory) -> Lakehouse:
    root = tmp_path_factory.mktemp("export")
    truth = small_export(root / "exports", practices=2, appointments=1500, seed=8)
    lake = Lakehouse.open(local_settings(root))
    ingest_all(lake, root / "exports", truth)
    lake.transform()
    lake.curate()
    return lake


def test_duckdb_file_holds_every_curated_table(lakehouse: Lakehouse, tmp_path: Path) -> None:
    target = tmp_path / "bi.duckdb"
    counts = export(lakehouse.catalog, target, "duckdb")
    assert set(counts) == set(curated_tables(lakehouse.catalog)) and counts
    with duckdb.connect(str(target), read_only=True) as con:
        for name, rows in counts.items():
            found = con.execute("select count(*) from " + duckdb_ident(name)).fetchone()
            assert found is not None and found[0] == rows
            assert rows == lakehouse.catalog.load_table("curated." + name).scan().count()


def test_parquet_for_one_practice(lakehouse: Lakehouse, tmp_path: Path) -> None:
    target = tmp_path / "bi"
    counts = export(lakehouse.catalog, target, "parquet", ["P001"])
    for name in counts:
        practices = set(pq.read_table(target / f"{name}.parquet")["practice_id"].to_pylist())
        assert practices <= {"P001"}
    assert any(counts.values())


def test_never_replaces_what_exists(lakehouse: Lakehouse, tmp_path: Path) -> None:
    target = tmp_path / "bi.duckdb"
    target.write_bytes(b"precious")
    with pytest.raises(PracticelakeError, match="exists"):
        export(lakehouse.catalog, target, "duckdb")
    assert target.read_bytes() == b"precious"


def test_cli_refuses_an_unknown_format(lakehouse: Lakehouse, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export", str(tmp_path / "x"), "--format", "xlsx"])
    assert result.exit_code != 0
    assert "duckdb or parquet" in str(result.exception) or "duckdb or parquet" in result.output


def duckdb_ident(name: str) -> str:
    from sqlglot import exp

    return exp.to_identifier(name, quoted=True).sql("duckdb")


def test_cli_export_is_on_the_audit_record(lakehouse: Lakehouse, tmp_path: Path) -> None:
    from practicelake.audit.log import AuditLog
    from practicelake.crypto.keystore import open_keys

    settings = lakehouse.settings
    config = config_file(tmp_path / "practicelake.toml", settings)
    target = tmp_path / "bi.duckdb"
    result = CliRunner().invoke(app, ["export", str(target), "--practice", "P001", "--config", str(config)])
    assert result.exit_code == 0, result.output
    last = AuditLog.open(settings, open_keys(settings).audit_key).show()[-1]
    assert last.details["action"] == "export" and last.practices == ("P001",)
