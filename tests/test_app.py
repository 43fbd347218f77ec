"""The App: everything opened once from one Settings, on first use, shared by threads, closable."""

from __future__ import annotations

import threading
from pathlib import Path

from typer.testing import CliRunner

from lakes import config_file, local_settings
from practicelake.app import App
from practicelake.cli.main import app


def test_each_part_is_opened_once_on_first_use(tmp_path: Path) -> None:
    core = App(local_settings(tmp_path))
    assert not (tmp_path / "lakehouse").exists()  # nothing opened yet
    assert core.reader is core.reader and core.reader.service is core.query_service
    lakehouse = core.lakehouse
    assert lakehouse.catalog is core.catalog and lakehouse.store is core.store and lakehouse.keys is core.keys
    assert lakehouse.admin is core.admin


def test_threads_share_one_query_service(tmp_path: Path) -> None:
    core = App(local_settings(tmp_path))
    start = threading.Barrier(8)
    found: list[object] = []

    def take() -> None:
        start.wait()
        found.append(core.query_service)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and len({id(service) for service in found}) == 1


def test_closing_closes_the_read_path_and_it_opens_again(tmp_path: Path) -> None:
    with App(local_settings(tmp_path)) as core:
        first = core.query_service
    assert core.query_service is not first  # a closed App opens a new one when asked


def test_config_is_taken_before_or_after_the_command(tmp_path: Path) -> None:
    config = config_file(tmp_path / "practicelake.toml", local_settings(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for args in (["--config", str(config), "status"], ["status", "--config", str(config)]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "per practice and dataset" in result.output


def test_an_app_handed_over_is_the_one_the_commands_use(tmp_path: Path) -> None:
    core = App(local_settings(tmp_path))
    core.users.add_user("mia", "a test password, not a secret")
    result = CliRunner().invoke(app, ["users", "list"], obj=core)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("mia\tactive")
