"""Practices never share anything: a practice id has one strict form, stands as it is in
object keys, and two ids that a normaliser or a case-insensitive file system would merge
cannot both be configured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lakes import config_file, local_settings
from practicelake.crypto.keystore import open_keys
from practicelake.errors import IntegrityError, PracticelakeError, SettingsError, UnknownPracticeError
from practicelake.pipeline import Lakehouse
from practicelake.pipeline.offboard import offboard
from practicelake.settings import PRACTICE_ID_RULE

ZONE = {"time_zone": "Europe/London", "currency": "GBP"}
INVALID = ["P 1", "../../etc", "", ".", "P1/x", "A" * 65, "\u0420001", "P1\n", "-P1", "_P1", "P1\x1b[2J"]


@pytest.mark.parametrize("practice_id", INVALID)
def test_an_id_outside_the_pattern_is_refused_in_the_settings(tmp_path: Path, practice_id: str) -> None:
    with pytest.raises(SettingsError) as refused:
        local_settings(tmp_path, practices={"P001": ZONE, practice_id: ZONE})
    message = str(refused.value)
    assert message.startswith("invalid settings: practices: practice id ") and PRACTICE_ID_RULE in message
    assert "\n" not in message and "\x1b" not in message and len(message) < 200


def test_ids_that_differ_only_in_case_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="practice ids 'P1' and 'p1' differ only in letter case"):
        local_settings(tmp_path, practices={"P1": ZONE, "p1": ZONE})


def test_an_id_asked_for_is_checked_then_looked_up(tmp_path: Path) -> None:
    settings = local_settings(tmp_path)
    with pytest.raises(
        UnknownPracticeError, match=r"practice id '\.\./\.\./etc' is not valid: a practice id is 1 to 64"
    ):
        settings.practice("../../etc")
    with pytest.raises(UnknownPracticeError, match=r"practice 'p001' is not configured \(did you mean 'P001'\?\)"):
        settings.practice("p001")
    with pytest.raises(UnknownPracticeError, match="practice 'P009' is not configured: add"):
        settings.practice("P009")


def test_the_command_line_refuses_an_invalid_id_in_one_line(tmp_path: Path) -> None:
    config = config_file(tmp_path / "practicelake.toml", local_settings(tmp_path))
    export = tmp_path / "payers.csv"
    export.write_bytes(b"practice_id,payer_id,name,payer_type\n")
    result = subprocess.run(
        [sys.executable, "-m", "practicelake", "ingest", "-p", "../P001", "--config", str(config), str(export)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: practice id '../P001' is not valid: a practice id is {PRACTICE_ID_RULE}"


def test_ids_an_old_normaliser_merged_keep_apart_and_offboard_apart(tmp_path: Path) -> None:
    """'P1' and 'P1_' were one folder and one data key once ('P1_' normalised to 'P1')."""
    settings = local_settings(tmp_path, practices={"P1": ZONE, "P1_": ZONE})
    lakehouse = Lakehouse.open(settings)
    export = tmp_path / "2024-01" / "payers.csv"
    export.parent.mkdir()
    export.write_bytes(b"practice_id,payer_id,name,payer_type\nP1,PAY1,X,insurer\n")
    staying = lakehouse.ingest("P1", [export]).entries[0]
    leaving = lakehouse.ingest("P1_", [export]).entries[0]
    assert staying.object_key.startswith("raw/practice_id=P1/")
    assert leaving.object_key.startswith("raw/practice_id=P1_/")
    keys = open_keys(settings)
    assert keys.data_key("P1") != keys.data_key("P1_")
    report = offboard(settings, lakehouse.catalog, lakehouse.store, "P1_")
    assert report.raw_objects == 1
    assert lakehouse.raw.read(staying.object_key, staying.sha256) == export.read_bytes()
    with pytest.raises(IntegrityError):
        Lakehouse.open(settings).raw.read(leaving.object_key, leaving.sha256)


@pytest.mark.parametrize("source", ["PMS", "p m s", "../pms", "", "pms\n"])
def test_a_source_is_refused_unless_it_is_already_a_safe_segment(tmp_path: Path, source: str) -> None:
    lakehouse = Lakehouse.open(local_settings(tmp_path))
    export = tmp_path / "payers.csv"
    export.write_bytes(b"practice_id,payer_id,name,payer_type\n")
    with pytest.raises(PracticelakeError, match="is not valid: a source is 1 to 64 lower-case"):
        lakehouse.ingest("P001", [export], source=source)
    assert list(lakehouse.store.list("raw/")) == []
