"""Errors reach stderr as one line whatever their length and the terminal's width, with any
control character a file name carried removed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lakes import config_file, local_settings
from practicelake.errors import one_line


def test_a_long_error_arrives_as_one_line_without_control_characters(tmp_path: Path) -> None:
    config = config_file(tmp_path / "practicelake.toml", local_settings(tmp_path))
    missing = tmp_path / ("x" * 200) / "\x1b[31mred\x1b[0m\x07" / "appointments.csv"
    result = subprocess.run(
        [sys.executable, "-m", "practicelake", "ingest", "--practice", "P001", "--config", str(config), str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    # Off a terminal the progress display ends with an empty line; the error is the one line.
    lines = result.stderr.lstrip("\n").splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "x" * 200 in lines[0] and len(lines[0]) > 250
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in lines[0])


def test_one_line_removes_escapes_and_line_breaks() -> None:
    assert one_line("bad\x1b[31m file\x1b]8;;http://x\x07name\x1b[0m\nsecond\tline\r") == "bad file name second line"
