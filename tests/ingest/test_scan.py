"""A folder scan takes the CSV exports and names everything else it leaves out, with the
reason; it never opens a FIFO and never follows a link out of the folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from lakes import config_file, local_settings
from practicelake.ingest.manifest import ManifestEntry, read_manifest
from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings

PAYERS = b"practice_id,payer_id,name,payer_type\nP001,PAY1,Discovery Health,insurer\n"


def payers(n: int) -> bytes:
    return PAYERS + f"P001,PAY{n + 1},Payer {n},insurer\n".encode()


def odd_folder(tmp_path: Path) -> Path:
    """An export folder holding one of each thing a scan must leave out, around real exports."""
    batch = tmp_path / "P001" / "2024-01"
    batch.mkdir(parents=True)
    (batch / "payers.csv").write_bytes(payers(1))
    (batch / "PROVIDERS.CSV").write_bytes(b"practice_id,provider_id\n")  # taken: it fails its checks
    (batch / "notes.txt").write_bytes(b"not an export")
    (batch / ".payers.csv.swp").write_bytes(payers(2))
    (batch / "gone.csv").symlink_to(batch / "nowhere.csv")
    os.mkfifo(batch / "pipe.csv")
    outside = tmp_path / "outside.csv"
    outside.write_bytes(payers(3))
    (batch / "outside.csv").symlink_to(outside)
    (batch / "linked").symlink_to(tmp_path / "P001")
    (tmp_path / "P001" / "2024-02").mkdir()
    (tmp_path / "P001" / "2024-02" / "payers.csv").symlink_to(batch / "payers.csv")  # inside: taken
    return tmp_path / "P001"


SKIPPED = {
    ".payers.csv.swp": "hidden",
    "gone.csv": "dangling symbolic link",
    "linked": "symbolic link to a folder: not followed",
    "notes.txt": "not an export",
    "outside.csv": "symbolic link to outside the folder",
    "pipe.csv": "not a regular file (a FIFO)",
}


def test_folder_scan_names_what_it_skips_and_why(lakehouse: Lakehouse, tmp_path: Path) -> None:
    report = lakehouse.ingest("P001", [odd_folder(tmp_path)])
    assert [(e.batch, e.source_name, e.status) for e in report.entries] == [
        ("2024-01", "PROVIDERS.CSV", "failed"),
        ("2024-01", "payers.csv", "ingested"),
        ("2024-02", "payers.csv", "already_ingested"),
    ]
    skipped = {s.path.name: s.reason for s in report.skipped}
    assert set(skipped) == set(SKIPPED)
    for name, reason in SKIPPED.items():
        assert reason in skipped[name], name
    assert not report.unreadable
    assert len(list(lakehouse.store.list("raw/"))) == 2


def test_a_file_that_vanishes_is_named_and_the_others_go_on(local: Settings, tmp_path: Path) -> None:
    batch = tmp_path / "2024-01"
    batch.mkdir()
    for i, name in enumerate(["adjustments.csv", "charges.csv", "payers.csv"]):
        (batch / name).write_bytes(payers(i) if name == "payers.csv" else b"x\n")
    lakehouse = Lakehouse.open(local)

    def delete_the_next(entry: ManifestEntry) -> None:
        if entry.source_name == "adjustments.csv":
            (batch / "charges.csv").unlink()

    report = lakehouse.ingest("P001", [batch], on_file=delete_the_next)
    assert [e.source_name for e in report.entries] == ["adjustments.csv", "payers.csv"]
    (gone,) = report.unreadable
    assert gone.path == batch / "charges.csv" and gone.reason == "cannot be read: No such file or directory"
    assert len(read_manifest(lakehouse.catalog)) == 2


NOBODY = 65534


def ingest_as_nobody(settings: Settings, root: Path, batch: Path) -> dict[str, Any]:
    """The ingest of `batch` in a child process that has given up root (root reads any file):
    the lake under `root` is handed to nobody first, and the modules are loaded beforehand."""
    warm = root / "warm"
    warm.mkdir()
    (warm / "payers.csv").write_bytes(PAYERS)
    Lakehouse.open(settings).ingest("P001", [warm])
    for folder, names, files in os.walk(root):
        for name in [*names, *files]:
            if name != "charges.csv":
                os.chown(os.path.join(folder, name), NOBODY, NOBODY)
    os.chown(root, NOBODY, NOBODY)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            report = Lakehouse.open(settings).ingest("P001", [batch])
            found = {
                "entries": [e.source_name for e in report.entries],
                "unreadable": [[s.path.name, s.reason] for s in report.unreadable],
            }
        except BaseException as exc:  # reported to the test, which fails on it
            found = {"error": repr(exc)}
        os.write(write_end, json.dumps(found).encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    with os.fdopen(read_end, "rb") as answer:
        result: dict[str, Any] = json.loads(answer.read())
    return result


def test_an_unreadable_file_is_named_and_the_others_go_on() -> None:
    root = Path(tempfile.mkdtemp(prefix="practicelake-unreadable-"))  # outside pytest's 0700 folders
    try:
        settings = local_settings(root)
        batch = root / "2024-01"
        batch.mkdir()
        (batch / "charges.csv").write_bytes(b"x\n")
        (batch / "charges.csv").chmod(0)
        (batch / "payers.csv").write_bytes(PAYERS.replace(b"PAY1", b"PAY2"))
        if os.geteuid() == 0:
            found = ingest_as_nobody(settings, root, batch)
        else:
            report = Lakehouse.open(settings).ingest("P001", [batch])
            found = {
                "entries": [e.source_name for e in report.entries],
                "unreadable": [[s.path.name, s.reason] for s in report.unreadable],
            }
        assert found == {
            "entries": ["payers.csv"],
            "unreadable": [["charges.csv", "cannot be read: Permission denied"]],
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_command_line_prints_one_line_per_failure_and_skip(local: Settings, tmp_path: Path) -> None:
    folder = odd_folder(tmp_path / "exports")
    (folder / "2024-01" / "appointments.csv").write_bytes(b"appointment_id\n" + b'"open\n' * 3)
    config = config_file(tmp_path / "practicelake.toml", local)
    result = subprocess.run(
        [sys.executable, "-m", "practicelake", "ingest", "-p", "P001", "--config", str(config), str(folder)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "COLUMNS": "60"},
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line]  # the progress bar leaves a blank one
    errors = [line for line in lines if line.startswith("error: ")]
    skips = [line for line in lines if line.startswith("skipped: ")]
    assert len(lines) == len(errors) + len(skips) == 2 + len(SKIPPED)  # none wrapped at 60 columns
    assert any(line.startswith("error: appointments.csv (2024-01): wrong columns for appointments") for line in errors)
    assert f"skipped: {folder / '2024-01' / 'pipe.csv'}: not a regular file (a FIFO)" in skips
    assert "1 stored" in result.stdout and "2 failed" in result.stdout
