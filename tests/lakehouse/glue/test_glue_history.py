"""Forgetting a table's history on the Glue catalog (moto on 127.0.0.1): the entry points to
a metadata file with the current snapshot only, keeps no previous location and no archived
version; a table another writer committed to meanwhile, or whose entry Glue's version check
refuses to update, is left as it was, and the metadata file written for it is removed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from botocore.awsrequest import AWSResponse
from glue_lake import RecordingMotoServer, bucket_of, glue_client, objects, zoned_settings
from pyiceberg.catalog.glue import GlueCatalog
from pyiceberg.table import Table

from practicelake.lakehouse.catalog import drop_history, ensure_table, open_catalog
from practicelake.settings import Settings

pytestmark = pytest.mark.s3

EVENTS = pa.schema([pa.field("practice_id", pa.string(), nullable=False), pa.field("n", pa.int64())])
NAME = "ops.events"


@pytest.fixture
def settings(moto_server: RecordingMotoServer, tmp_path: Path) -> Settings:
    return zoned_settings(tmp_path, moto_server.endpoint)


def committed(catalog: GlueCatalog, commits: int) -> Table:
    table = ensure_table(catalog, NAME, EVENTS)
    for n in range(commits):
        table.append(pa.Table.from_pylist([{"practice_id": "P001", "n": n}], schema=EVENTS))
    return table


def entry(settings: Settings) -> dict[str, Any]:
    found: dict[str, Any] = glue_client(settings).get_table(DatabaseName="ops", Name="events")["Table"]
    return found


def versions(settings: Settings) -> list[str]:
    listed = glue_client(settings).get_table_versions(DatabaseName="ops", TableName="events")["TableVersions"]
    return [str(v["VersionId"]) for v in listed]


def test_the_catalog_is_glue_without_archived_versions(settings: Settings) -> None:
    catalog = open_catalog(settings)
    assert isinstance(catalog, GlueCatalog)
    assert catalog.properties["glue.skip-archive"] == "true"
    assert catalog.properties["glue.endpoint"] == settings.glue_endpoint_url
    assert catalog.properties["glue.region"] == settings.s3_region


def test_the_history_is_forgotten_in_the_metadata_and_in_glue(settings: Settings) -> None:
    catalog = open_catalog(settings)
    assert isinstance(catalog, GlueCatalog)
    table = committed(catalog, 3)
    assert "previous_metadata_location" in entry(settings)["Parameters"]
    assert len(versions(settings)) > 1  # moto archives every version whatever SkipArchive says
    calls: list[dict[str, Any]] = []
    catalog.glue.meta.events.register(
        "provide-client-params.glue.UpdateTable", lambda params, **_: calls.append(params)
    )
    read_version = entry(settings)["VersionId"]

    forgotten = drop_history(catalog, table)

    assert forgotten is not None and forgotten.metadata_location != table.metadata_location
    assert [(c["VersionId"], c["SkipArchive"]) for c in calls] == [(read_version, True)]  # Glue's version check
    found = entry(settings)
    assert found["Parameters"]["metadata_location"] == forgotten.metadata_location
    assert "previous_metadata_location" not in found["Parameters"]
    assert versions(settings) == [found["VersionId"]]
    assert len(forgotten.snapshots()) == 1 and forgotten.metadata.metadata_log == []
    assert forgotten.metadata.snapshot_log[-1].snapshot_id == forgotten.current_snapshot().snapshot_id  # type: ignore[union-attr]
    assert sorted(forgotten.scan().to_arrow()["n"].to_pylist()) == [0, 1, 2]  # the rows are all there
    forgotten.append(pa.Table.from_pylist([{"practice_id": "P002", "n": 9}], schema=EVENTS))  # and it commits on
    assert open_catalog(settings).load_table(NAME).scan().to_arrow().num_rows == 4


def test_a_table_committed_to_meanwhile_is_left_as_it_is(settings: Settings, moto_server: RecordingMotoServer) -> None:
    catalog = open_catalog(settings)
    assert isinstance(catalog, GlueCatalog)
    stale = committed(catalog, 2)
    other = open_catalog(settings).load_table(NAME)
    other.append(pa.Table.from_pylist([{"practice_id": "P002", "n": 5}], schema=EVENTS))
    before = entry(settings)
    ops = bucket_of(settings.zone_uris["ops"])
    files = objects(moto_server.endpoint, [ops])[ops]

    assert drop_history(catalog, stale) is None

    after = entry(settings)
    assert after["Parameters"] == before["Parameters"] and after["VersionId"] == before["VersionId"]
    left = [key for key in objects(moto_server.endpoint, [ops])[ops] if not key.endswith("/")]  # not folder markers
    assert left == files  # no metadata file left behind


def test_an_update_glue_refuses_changes_nothing(settings: Settings, moto_server: RecordingMotoServer) -> None:
    """Another writer's commit between the read of the entry and its update: Glue refuses the
    update (ConcurrentModificationException), which moto does not check, so the refusal is
    Glue's answer given to the client here."""
    catalog = open_catalog(settings)
    assert isinstance(catalog, GlueCatalog)
    table = committed(catalog, 2)
    before = entry(settings)

    def refused(**_: object) -> tuple[AWSResponse, dict[str, Any]]:
        error = {
            "Code": "ConcurrentModificationException",
            "Message": "Update table failed due to concurrent modifications.",
        }
        return AWSResponse("http://127.0.0.1", 400, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    catalog.glue.meta.events.register("before-call.glue.UpdateTable", refused)
    with moto_server.recorder.watching() as seen:
        assert drop_history(catalog, table) is None
    assert entry(settings)["Parameters"] == before["Parameters"]
    written = [
        r.key for r in seen if r.service == "s3" and r.action in ("PUT", "POST") and r.key.endswith(".metadata.json")
    ]
    deleted = [r.key for r in seen if r.service == "s3" and r.action == "DELETE"]
    assert written and set(written) <= set(deleted)  # the metadata file written for the swap is removed
