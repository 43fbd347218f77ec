"""`practicelake status` as an operator meets it: quarantined rows by rule, a run that was
killed named as such (not as files that do not reconcile), and a real imbalance refused."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from pyiceberg.expressions import And, EqualTo
from typer.testing import CliRunner

from clean.generated import batches, contents, small_export
from lakes import config_file, local_settings
from practicelake.clean.reconcile import reconcile
from practicelake.cli.main import app
from practicelake.lakehouse.journal import Journal
from practicelake.pipeline import Lakehouse
from practicelake.synth import GenerationReport

CRASH_RUNNER = Path(__file__).parent / "clean" / "crash_runner.py"
KILL_AT = 7  # the transform's commit after which it dies: older files' rows superseded, not yet accounted


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    root = tmp_path_factory.mktemp("status") / "exports"
    return root, small_export(root, practices=2, appointments=1200, seed=52)


def status(config: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["status", "--no-files", "--config", str(config)], env={"COLUMNS": "240"})
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, " ".join(result.output.split())  # rich may wrap a long line


def loaded_but_last_batch(lakehouse: Lakehouse, exports: tuple[Path, GenerationReport]) -> None:
    root, truth = exports
    for practice in truth.practice_ids:
        lakehouse.ingest(practice, batches(root, practice)[:-1])
    lakehouse.transform()
    for practice in truth.practice_ids:
        lakehouse.ingest(practice, batches(root, practice)[-1:])


def test_quarantined_rows_are_shown_by_practice_entity_and_rule(
    exports: tuple[Path, GenerationReport], tmp_path: Path
) -> None:
    lakehouse = Lakehouse.open(local_settings(tmp_path))
    loaded_but_last_batch(lakehouse, exports)
    code, shown = status(config_file(tmp_path / "practicelake.toml", lakehouse.settings))
    assert code == 0, shown
    assert "quarantined rows by practice, entity and rule" in shown
    counts = Counter((r["practice_id"], r["entity"], r["rule"]) for r in contents(lakehouse, "ops.quarantine"))
    assert counts
    for (practice, entity, rule), rows in counts.items():
        assert f"│ {practice} │ {entity} │ {rule} │ {rows:,} │" in shown, (practice, entity, rule)


@pytest.mark.slow
def test_an_interrupted_transform_is_named_and_not_taken_for_lost_rows(
    exports: tuple[Path, GenerationReport], tmp_path: Path
) -> None:
    lakehouse = Lakehouse.open(local_settings(tmp_path))
    loaded_but_last_batch(lakehouse, exports)
    config = config_file(tmp_path / "practicelake.toml", lakehouse.settings)
    settings_json = tmp_path / "settings.json"
    settings_json.write_text(lakehouse.settings.model_dump_json(), encoding="utf-8")
    killed = subprocess.run(
        [sys.executable, str(CRASH_RUNNER), str(settings_json), str(KILL_AT), "after"], capture_output=True, text=True
    )
    assert killed.returncode == 137, killed.stderr
    current = reconcile(lakehouse.catalog).to_pylist()  # the tables as the dead run left them
    assert any(r["status"] == "loaded" and not r["balanced"] for r in current), "choose another KILL_AT"
    (unfinished,) = Journal(lakehouse.store).unfinished()  # started, never finished
    run_id = unfinished["run_id"]

    code, shown = status(config)
    assert code == 0, shown
    assert f"run {run_id} (transform) started at " in shown
    assert (
        "was interrupted: its partial writes are not visible to readers, not counted here, "
        "and will be rolled back by the next transform or curate"
    ) in shown
    assert "not reconciled" not in shown

    lakehouse.transform()
    code, shown = status(config)
    assert code == 0 and "interrupted" not in shown, shown


def test_a_real_imbalance_still_fails(exports: tuple[Path, GenerationReport], tmp_path: Path) -> None:
    lakehouse = Lakehouse.open(local_settings(tmp_path))
    loaded_but_last_batch(lakehouse, exports)
    lakehouse.transform()
    appointments = lakehouse.catalog.load_table("cleaned.appointment")
    one = appointments.scan(limit=1).to_arrow().to_pylist()[0]
    practice, appointment = EqualTo("practice_id", one["practice_id"]), EqualTo("appointment_id", one["appointment_id"])
    appointments.delete(And(practice, appointment))  # type: ignore[arg-type]
    code, shown = status(config_file(tmp_path / "practicelake.toml", lakehouse.settings))
    assert code == 1
    assert f"not reconciled: {one['practice_id']} appointments {one['raw_file_sha256'][:12]}" in shown


def test_the_status_is_plain_data_apart_from_its_drawing(
    exports: tuple[Path, GenerationReport], tmp_path: Path
) -> None:
    from practicelake.app import App

    core = App(local_settings(tmp_path))
    loaded_but_last_batch(core.lakehouse, exports)
    found = core.status()
    titles = [section.title for section in found.sections(files=True)]
    assert titles == ["raw files", "per practice and dataset", "quarantined rows by practice, entity and rule",
                      "last runs"]  # fmt: skip
    assert [s.title for s in found.sections(files=False)] == titles[1:]
    for section in found.sections():
        assert all(len(row) == len(section.columns) for row in section.rows)
        values = [value for row in section.rows for value in row]
        assert not any(hasattr(v, "__rich_console__") or hasattr(v, "__rich__") for v in values)  # nothing drawn
    assert found.balanced and found.problems == [] and found.notes == []
