"""The ingest task's entry point (infra/aws/image/arrival.py): an arrived object's key is
checked against the landing layout `<practice_id>/<batch>/<file>` before anything is fetched,
the practice and batch come from that key alone, and a fitting object is ingested by
`practicelake ingest` into the lakehouse its settings name; run here against a local folder
laid out like the bucket, with a local lakehouse (no AWS)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conftest import INFRA, Synthesized
from lakes import PRACTICES, local_settings
from practicelake.ingest.manifest import read_manifest
from practicelake.pipeline import Lakehouse

SCRIPT = INFRA / "image" / "arrival.py"
PAYERS = b"practice_id,payer_id,name,payer_type\nP001,PAY1,Discovery Health,insurer\n"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("arrival", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["arrival"] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


arrival = load()


def test_a_key_that_fits_gives_its_practice_batch_and_file() -> None:
    found = arrival.arrival("P001/2024-06/PAYERS export (1).CSV")
    assert (found.practice_id, found.batch, found.file_name) == ("P001", "2024-06", "PAYERS export (1).CSV")


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("P001/payers.csv", "does not fit <practice_id>/<batch>/<file>: it has 2 parts"),
        ("P001/2024-06/extra/payers.csv", "it has 4 parts"),
        ("payers.csv", "it has 1 parts"),
        ("/P001/2024-06/payers.csv", "it has 4 parts"),
        ("../2024-06/payers.csv", "practice id '..' is not valid"),
        ("P 001/2024-06/payers.csv", "practice id 'P 001' is not valid"),
        ("P001/../payers.csv", "batch '..' is not valid"),
        ("P001//payers.csv", "batch '' is not valid"),
        ("P001/.hidden/payers.csv", "batch '.hidden' is not valid"),
        ("P001/2024-06/.payers.csv", "file name '.payers.csv' is not valid"),
        ("P001/2024-06/..", "file name '..' is not valid"),
        ("P001/2024-06/pay\nrs.csv", "file name 'pay\\nrs.csv' is not valid"),
        ("P001/2024-06/pay\\ers.csv", "is not valid"),
        (f"{'P' * 65}/2024-06/payers.csv", "is not valid: a practice id is 1 to 64"),
    ],
)
def test_a_key_that_does_not_fit_is_refused_naming_it(key: str, says: str) -> None:
    with pytest.raises(arrival.LayoutError) as caught:
        arrival.arrival(key)
    assert str(caught.value).startswith(f"object key {key!r}"), caught.value
    assert says in str(caught.value)


def test_a_folder_marker_is_no_export() -> None:
    assert arrival.arrival("P001/2024-06/") is None


def run(key: str, landing: Path, root: Path) -> subprocess.CompletedProcess[str]:
    settings = local_settings(root)
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(root),
        "PRACTICELAKE_WAREHOUSE_URI": settings.warehouse_uri,
        "PRACTICELAKE_KEY_FILE": str(settings.key_file),
        "PRACTICELAKE_STATE_DIR": str(settings.state_dir),
        "PRACTICELAKE_PRACTICES": json.dumps(PRACTICES),
        "PRACTICELAKE_DEV_MODE": "true",
    }
    command = [sys.executable, str(SCRIPT), key, "--version-id", "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", "--landing-dir"]
    return subprocess.run(
        [*command, str(landing)], env=environment, cwd=root, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.slow
def test_an_arrived_export_is_ingested_under_its_keys_practice_and_batch(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "P001" / "2024-06").mkdir(parents=True)
    (landing / "P001" / "2024-06" / "PAYERS.CSV").write_bytes(PAYERS)
    done = run("P001/2024-06/PAYERS.CSV", landing, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    (row,) = read_manifest(Lakehouse.open(local_settings(tmp_path)).catalog).to_pylist()
    assert (row["practice_id"], row["batch"], row["source_name"], row["status"]) == (
        "P001",
        "2024-06",
        "PAYERS.CSV",
        "ingested",
    )


def test_a_refused_key_fetches_nothing_and_exits_2(tmp_path: Path) -> None:
    done = run("P001/payers.csv", tmp_path / "nowhere", tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("arrival: refused: object key 'P001/payers.csv' does not fit"), done.stderr
    assert not (tmp_path / "lakehouse").exists()


def test_a_practice_the_deployment_does_not_serve_is_refused_by_the_ingest(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "P999" / "2024-06").mkdir(parents=True)
    (landing / "P999" / "2024-06" / "PAYERS.CSV").write_bytes(PAYERS)
    done = run("P999/2024-06/PAYERS.CSV", landing, tmp_path)
    assert done.returncode != 0
    assert "P999" in done.stderr


@pytest.mark.xdist_group("cdk")
def test_the_image_puts_the_script_where_the_tasks_run_it_as_their_user(synthesized: Synthesized) -> None:
    from practicelake_aws.state import UID
    from practicelake_aws.tasks import ARRIVAL

    dockerfile = (INFRA / "image" / "Dockerfile").read_text()
    assert re.search(rf"^COPY infra/aws/image/arrival.py {re.escape(ARRIVAL[1])}$", dockerfile, re.M)
    assert re.search(rf"^USER {UID}:{UID}$", dockerfile, re.M)
    assert ARRIVAL[0] == "python" and (INFRA / "image" / "arrival.py").exists()
