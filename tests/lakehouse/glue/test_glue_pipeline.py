"""The whole pipeline on the Glue catalog and S3, each zone in a bucket of its own (moto on
127.0.0.1): ingest, transform, curate, a read through the query service, status, a killed
curate rolled back by the next, and offboarding. Every request the server answers is
recorded, so each command is shown to read and write only the zones docs/storage.md gives it,
and each zone's objects to be only in its bucket."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from glue_lake import RecordingMotoServer, Request, bucket_of, glue_client, objects, zoned_settings

from clean.generated import batches, small_export
from lakes import TEST_KEY
from practicelake.clean.reconcile import lake_status
from practicelake.contracts import CONTRACTS
from practicelake.crypto.keystore import ShreddedError
from practicelake.curate.project import load_models
from practicelake.curate.snapshots import pinned
from practicelake.errors import IntegrityError, LockedError
from practicelake.lakehouse.catalog import NAMESPACES, current_snapshot_id
from practicelake.lakehouse.journal import Journal
from practicelake.pipeline import Lakehouse
from practicelake.pipeline.offboard import offboard
from practicelake.query import QueryService, Scope
from practicelake.storage import ZonedStore

pytestmark = [pytest.mark.s3, pytest.mark.slow, pytest.mark.xdist_group("glue-lake")]  # one lake, one worker

LEAVING = "P001"
RUNNER = Path(__file__).parents[2] / "curate" / "curate_until.py"
# The table a killed curate dies before committing: the last a practice's models write.
LAST = [m.name for m in load_models() if not m.contract.cross_practice and m.contract.materialized == "table"][-1]

BOOKED = "select count(*) as days, sum(scheduled_appointments) as booked from access_daily"
CLEANED_OPS = {"ops.file_loads", "ops.quarantine", "ops.duplicates"}
CURATED_OPS = {"ops.curate_state", "ops.curated_snapshots"}
# What each command may read and write (docs/storage.md); every command reads the Glue databases.
ACCESS = {
    "ingest": {"reads": {"raw"}, "writes": {"raw"}},
    "transform": {"reads": {"raw", "cleaned", "ops"}, "writes": {"cleaned", "ops"}},
    "curate": {"reads": {"cleaned", "curated", "ops"}, "writes": {"curated", "ops"}},
    "status": {"reads": {"raw", "cleaned", "ops"}, "writes": set()},
    "read": {"reads": {"curated"}, "writes": set()},
}


def glue_changes(step: str) -> Callable[[str], bool]:
    """Whether `step` may change the Glue entry of a table."""
    allowed: dict[str, Callable[[str], bool]] = {
        "ingest": lambda t: t == "ops.raw_files",
        "transform": lambda t: t.startswith("cleaned.") or t in CLEANED_OPS | {"ops.runs"},
        "curate": lambda t: t.startswith("curated.") or t in CURATED_OPS | {"ops.runs"},
    }
    return allowed.get(step, lambda t: False)


def zone_of_bucket(lake: dict[str, Any]) -> dict[str, str]:
    settings = lake["settings"]
    found = {bucket_of(uri): zone for zone, uri in settings.zone_uris.items()}
    return found | {bucket_of(settings.warehouse_uri): "warehouse"}


def rows_by_practice(lakehouse: Lakehouse) -> dict[str, set[str]]:
    """Per table with a practice_id column: the practices it holds rows of."""
    found: dict[str, set[str]] = {}
    for namespace in NAMESPACES:
        for identifier in lakehouse.catalog.list_tables(namespace):
            table = lakehouse.catalog.load_table(identifier)
            if "practice_id" in table.schema().column_names:
                rows = table.scan(selected_fields=("practice_id",)).to_arrow()
                found[".".join(identifier)] = set(rows["practice_id"].to_pylist())
    return found


@pytest.fixture(scope="module")
def lake(moto_server: RecordingMotoServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two practices through every command, P002's last batch held back; each command's requests."""
    root = tmp_path_factory.mktemp("glue")
    truth = small_export(root / "exports", practices=2, appointments=240, seed=7)
    settings = zoned_settings(root, moto_server.endpoint)
    lakehouse = Lakehouse.open(settings)
    second = Lakehouse.open(settings.model_copy(update={"state_dir": root / "second-state"}))
    recorder = moto_server.recorder
    seen: dict[str, list[Request]] = {}
    refusals: list[str] = []
    locked_in: list[str] = []
    ops = bucket_of(str(settings.ops_uri))

    def meanwhile(step: str) -> None:  # the first transform holds the writer lock here
        if not refusals:
            locked_in.extend(objects(moto_server.endpoint, [ops])[ops])
            for run in (second.transform, second.curate):
                with pytest.raises(LockedError) as refused:
                    run()
                refusals.append(str(refused.value))

    with recorder.watching() as seen["ingest"]:
        for practice in truth.practice_ids:
            folders = batches(root / "exports", practice)
            lakehouse.ingest(practice, folders[:-1] if practice == "P002" else folders)
    with recorder.watching() as seen["transform"]:
        lakehouse.transform(on_step=meanwhile)
    with recorder.watching() as seen["curate"]:
        curated = lakehouse.curate()
    with recorder.watching() as seen["status"]:
        status = lake_status(lakehouse.catalog, lakehouse.store, "P002")
    with recorder.watching() as seen["read"], QueryService(lakehouse.catalog, freshness_seconds=0) as service:
        read = service.run(BOOKED, Scope.of(["P002"])).to_pylist()
    return {
        "root": root,
        "truth": truth,
        "settings": settings,
        "lakehouse": lakehouse,
        "seen": seen,
        "refusals": refusals,
        "locked_in": locked_in,
        "curated": curated,
        "status": status,
        "read": read,
        "endpoint": moto_server.endpoint,
    }


def test_the_lakehouse_routes_its_keys_to_the_zones(lake: dict[str, Any]) -> None:
    store = lake["lakehouse"].store
    settings = lake["settings"]
    assert isinstance(store, ZonedStore)
    assert store.uri("raw/x") == f"{settings.raw_uri}/raw/x"
    assert store.uri("runs/x") == f"{settings.ops_uri}/runs/x" and store.uri("locks/x") == f"{settings.ops_uri}/locks/x"


@pytest.mark.parametrize("step", list(ACCESS))
def test_each_command_reads_and_writes_only_its_zones(lake: dict[str, Any], step: str) -> None:
    zones = zone_of_bucket(lake)
    requests = [r for r in lake["seen"][step] if r.service == "s3"]
    assert requests, step
    touched = {zones.get(r.bucket, r.bucket) for r in requests}
    written = {zones.get(r.bucket, r.bucket) for r in requests if r.changes}
    assert written == ACCESS[step]["writes"], (step, written)
    assert touched <= ACCESS[step]["reads"] | ACCESS[step]["writes"], (step, touched)
    changed = {r.table for r in lake["seen"][step] if r.service == "glue" and r.changes}
    assert all(glue_changes(step)(table) for table in changed), (step, sorted(changed))
    assert bool(changed) == (step in ("ingest", "transform", "curate"))
    if step == "status":  # the manifest at most: never a received file
        raw = bucket_of(lake["settings"].raw_uri)
        assert all(r.key.startswith("raw/iceberg/") for r in requests if r.bucket == raw and r.key), step


def test_each_zones_objects_are_in_its_bucket_only(lake: dict[str, Any]) -> None:
    settings = lake["settings"]
    found = objects(lake["endpoint"], zone_of_bucket(lake))
    expected = {
        "raw": ("raw/raw/practice_id=", "raw/iceberg/ops/raw_files/"),
        "cleaned": ("cleaned/iceberg/cleaned/", *(f"cleaned/iceberg/{t.replace('.', '/')}/" for t in CLEANED_OPS)),
        "curated": ("curated/iceberg/curated/", *(f"curated/iceberg/{t.replace('.', '/')}/" for t in CURATED_OPS)),
        "ops": ("ops/runs/", "ops/iceberg/ops/runs/"),
    }
    assert found[bucket_of(settings.warehouse_uri)] == []
    for zone, prefixes in expected.items():
        keys = found[bucket_of(settings.zone_uris[zone])]
        assert keys, zone
        assert [k for k in keys if not k.startswith(prefixes)] == [], zone
        assert all(any(k.startswith(p) for k in keys) for p in prefixes), zone
    curated = found[bucket_of(settings.curated_uri)]
    assert not any("quarantine" in key or "/cleaned/" in key for key in curated)  # source values stay apart


def test_glue_databases_and_tables_are_at_their_zones(lake: dict[str, Any]) -> None:
    settings = lake["settings"]
    glue = glue_client(settings)
    homes = {"cleaned": "cleaned", "curated": "curated", "ops": "ops"}
    for namespace, zone in homes.items():
        database = glue.get_database(Name=namespace)["Database"]
        assert database["LocationUri"] == f"{settings.zone_uris[zone]}/iceberg/{namespace}"
        for entry in glue.get_tables(DatabaseName=namespace)["TableList"]:
            name = f"{namespace}.{entry['Name']}"
            home = "raw" if name == "ops.raw_files" else "cleaned" if name in CLEANED_OPS else homes[namespace]
            home = "curated" if name in CURATED_OPS else home
            location = f"{settings.zone_uris[home]}/iceberg/{namespace}/{entry['Name']}"
            assert entry["StorageDescriptor"]["Location"] == location, name
            assert entry["Parameters"]["metadata_location"].startswith(location + "/metadata/"), name


def test_a_second_writer_was_refused_while_the_lock_was_in_the_ops_bucket(lake: dict[str, Any]) -> None:
    assert len(lake["refusals"]) == 2
    assert all(r.startswith("the warehouse is locked by transform on ") for r in lake["refusals"])
    assert "ops/locks/writer.json" in lake["locked_in"]
    ops = objects(lake["endpoint"], [bucket_of(lake["settings"].ops_uri)])
    assert "ops/locks/writer.json" not in next(iter(ops.values()))  # released at the end


def test_status_and_the_read_path_see_the_lake(lake: dict[str, Any]) -> None:
    status = lake["status"]
    assert status.files and status.balanced and status.unfinished == []
    assert {row["practice_id"] for row in status.files} == {"P002"}
    assert [run["command"] for run in status.runs] == ["curate", "transform"]
    assert lake["curated"].practices == ["P001", "P002"]
    table = lake["lakehouse"].catalog.load_table("curated.access_daily")
    rows = table.scan(row_filter="practice_id == 'P002'").to_arrow()
    assert lake["read"] == [{"days": rows.num_rows, "booked": sum(rows["scheduled_appointments"].to_pylist())}]
    assert rows.num_rows > 0


def test_a_killed_curate_is_rolled_back_by_the_next(lake: dict[str, Any]) -> None:
    lakehouse: Lakehouse = lake["lakehouse"]
    lakehouse.ingest("P002", batches(lake["root"] / "exports", "P002")[-1:])
    lakehouse.transform()
    names = [f"curated.{name}" for name in pinned(lakehouse.catalog)]
    before = {name: current_snapshot_id(lakehouse.catalog.load_table(name)) for name in names}
    config = lake["root"] / "settings.json"
    values = json.loads(lake["settings"].model_dump_json())
    values |= {"s3_access_key_id": TEST_KEY, "s3_secret_access_key": TEST_KEY}  # dumped masked
    config.write_text(json.dumps(values), encoding="utf-8")
    killed = subprocess.run([sys.executable, str(RUNNER), str(config), LAST], capture_output=True, text=True)
    assert killed.returncode == 137, killed.stderr[-2000:]
    dead = Journal(lakehouse.store).unfinished()
    assert len(dead) == 1
    moved = [n for n in names if current_snapshot_id(lakehouse.catalog.load_table(n)) != before[n]]
    assert moved and f"curated.{LAST}" not in moved  # some tables committed, then the run died
    assert lake_status(lakehouse.catalog, lakehouse.store).unfinished[0].run_id == dead[0]["run_id"]

    restored: list[dict[str, int | None]] = []

    def first_step(step: str) -> None:  # by then the dead run is rolled back
        if not restored:
            restored.append({n: current_snapshot_id(lakehouse.catalog.load_table(n)) for n in moved})

    report = Lakehouse.open(lake["settings"]).curate(on_step=first_step)
    assert report.rolled_back == [dead[0]["run_id"]] and report.run_id is not None
    assert restored == [{n: before[n] for n in moved}]
    assert Journal(lakehouse.store).unfinished() == []
    pins = pinned(lakehouse.catalog)
    assert all(
        current_snapshot_id(lakehouse.catalog.load_table(f"curated.{n}")) == p.snapshot_id for n, p in pins.items()
    )


@pytest.fixture(scope="module")
def offboarded(lake: dict[str, Any]) -> dict[str, Any]:
    lakehouse: Lakehouse = lake["lakehouse"]
    raw_files = lakehouse.catalog.load_table("ops.raw_files").scan().to_arrow().to_pylist()
    before = rows_by_practice(lakehouse)
    report = offboard(lakehouse.settings, lakehouse.catalog, lakehouse.store, LEAVING)
    return {"report": report, "raw_files": raw_files, "before": before}


def test_offboarding_leaves_no_row_of_the_practice(lake: dict[str, Any], offboarded: dict[str, Any]) -> None:
    report = offboarded["report"]
    assert report.keys_destroyed and report.files_removed > 0 and report.raw_objects > 0
    assert any(LEAVING in practices for practices in offboarded["before"].values())
    after = rows_by_practice(lake["lakehouse"])
    assert after and all(LEAVING not in practices and "*" not in practices for practices in after.values()), after
    assert {p for practices in after.values() for p in practices} == {"P002"}


def test_offboarding_leaves_no_history_in_glue_or_the_tables(lake: dict[str, Any], offboarded: dict[str, Any]) -> None:
    lakehouse: Lakehouse = lake["lakehouse"]
    glue = glue_client(lake["settings"])
    for namespace in NAMESPACES:
        for entry in glue.get_tables(DatabaseName=namespace)["TableList"]:
            name = f"{namespace}.{entry['Name']}"
            assert "previous_metadata_location" not in entry["Parameters"], name
            versions = glue.get_table_versions(DatabaseName=namespace, TableName=entry["Name"])["TableVersions"]
            assert [v["VersionId"] for v in versions] == [entry["VersionId"]], name
            table = lakehouse.catalog.load_table(name)
            assert len(table.snapshots()) <= 1 and table.metadata.metadata_log == [], name
            if "practice_id" in table.schema().column_names:
                for snapshot in table.snapshots():
                    rows = table.scan(snapshot_id=snapshot.snapshot_id, selected_fields=("practice_id",)).to_arrow()
                    assert LEAVING not in rows["practice_id"].to_pylist(), name


def test_offboarding_leaves_no_file_of_the_practice_in_any_bucket(
    lake: dict[str, Any], offboarded: dict[str, Any]
) -> None:
    settings = lake["settings"]
    found = objects(lake["endpoint"], zone_of_bucket(lake))
    raw = bucket_of(settings.raw_uri)
    left = [k for b, keys in found.items() for k in keys if f"practice_id={LEAVING}" in k and b != raw]
    assert all(k.endswith("/") for k in left), left  # empty folder markers at most
    # The raw zone keeps its ciphertext, which no longer decrypts.
    stored = [f for f in offboarded["raw_files"] if f["practice_id"] == LEAVING and f["status"] != "already_ingested"]
    assert stored and all(f"raw/{f['object_key']}" in found[raw] for f in stored)
    with pytest.raises((IntegrityError, ShreddedError)):
        lake["lakehouse"].raw.read(stored[0]["object_key"], stored[0]["sha256"])
    iceberg = [k for keys in found.values() for k in keys if "/iceberg/" in k and LEAVING in k]
    assert all(k.endswith("/") for k in iceberg), iceberg


def test_the_cleaned_tables_are_all_there(lake: dict[str, Any]) -> None:
    tables = {".".join(t) for t in lake["lakehouse"].catalog.list_tables("cleaned")}
    assert {f"cleaned.{c.entity}" for c in CONTRACTS} <= tables
