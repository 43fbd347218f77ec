"""The catalog and zone settings: the accepted forms of catalog_uri, Glue's endpoint over TLS
unless on loopback, zones that do not nest, the default (every zone in the warehouse, as
before), and zones of their own on local folders with the SQLite catalog: each zone's files
in its folder, through the whole pipeline and offboarding, and a zone that would move refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clean.generated import ingest_all, small_export
from lakes import local_settings
from practicelake.errors import SettingsError
from practicelake.lakehouse.catalog import ensure_table, open_catalog
from practicelake.lakehouse.schemas import OPS_TABLES
from practicelake.lakehouse.zones import TABLE_ZONES, table_zone
from practicelake.pipeline import Lakehouse
from practicelake.pipeline.offboard import offboard
from practicelake.settings import Settings, load_settings
from practicelake.storage import ZonedStore, open_store

ZONES = ("raw", "cleaned", "curated", "ops")
# Where each ops table belongs (docs/storage.md): with the command that writes it.
HOMES = {
    "ops.raw_files": "raw",
    "ops.file_loads": "cleaned",
    "ops.quarantine": "cleaned",
    "ops.duplicates": "cleaned",
    "ops.runs": "ops",
    "ops.curate_state": "curated",
    "ops.curated_snapshots": "curated",
}


def zoned(root: Path, **overrides: Any) -> Settings:
    zones = {f"{zone}_uri": (root / f"{zone}-zone").as_uri() for zone in ZONES}
    return local_settings(root, **(zones | overrides))


@pytest.mark.parametrize("uri", ["sqlite:////tmp/x/catalog.db", "glue://", "glue://123456789012"])
def test_catalog_uri_forms_accepted(uri: str) -> None:
    assert load_settings(warehouse_uri="s3://b/lake", catalog_uri=uri).catalog_uri == uri


@pytest.mark.parametrize(
    "uri", ["glue", "glue://12345", "glue://my-catalog", "hive://x", "sqlite://rel.db", "rest://x"]
)
def test_other_catalog_uris_are_refused_naming_the_forms(uri: str) -> None:
    with pytest.raises(
        SettingsError, match=r"catalog_uri: .*sqlite:///path, glue:// or glue://<12-digit AWS account id>"
    ):
        load_settings(warehouse_uri="s3://b/lake", catalog_uri=uri)


def test_glue_endpoint_is_tls_unless_a_loopback_test_server() -> None:
    base = {"warehouse_uri": "s3://b/lake", "catalog_uri": "glue://"}
    assert load_settings(**base, glue_endpoint_url="https://glue.example").glue_endpoint_url == "https://glue.example"
    assert load_settings(**base, glue_endpoint_url="http://127.0.0.1:5000", s3_allow_http=True).glue_endpoint_url
    for refused in (
        {"glue_endpoint_url": "http://127.0.0.1:5000"},
        {"glue_endpoint_url": "http://glue.example", "s3_allow_http": True},
        {"glue_endpoint_url": "https://user:pw@glue.example"},
    ):
        with pytest.raises(SettingsError, match=r"(?i)glue"):
            load_settings(**base, **refused)


def test_zones_cannot_nest(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="is inside"):
        load_settings(warehouse_uri="s3://lake/w", raw_uri="s3://lake/w/raw")
    with pytest.raises(SettingsError, match="is inside"):
        load_settings(warehouse_uri="s3://w", raw_uri="s3://lake", cleaned_uri="s3://lake/cleaned")
    with pytest.raises(SettingsError, match="cleaned_uri must start with file:// or s3://"):
        load_settings(warehouse_uri="s3://w", cleaned_uri="gs://lake")


def test_by_default_every_zone_is_the_warehouse_as_before(tmp_path: Path) -> None:
    settings = local_settings(tmp_path)
    assert set(settings.zone_uris.values()) == {settings.warehouse_uri} and not settings.zones_apart
    assert not isinstance(open_store(settings), ZonedStore)
    catalog = open_catalog(settings)
    assert not [key for key in catalog.properties if key.startswith("practicelake.zone.")]
    assert "location" not in catalog.load_namespace_properties("ops")
    table = ensure_table(catalog, "ops.raw_files", OPS_TABLES["ops.raw_files"][0])
    assert table.location() == f"{settings.warehouse_uri}/iceberg/ops/raw_files"


def test_the_zoned_store_sends_each_key_to_its_zone(tmp_path: Path) -> None:
    settings = zoned(tmp_path)
    store = open_store(settings)
    for key in ("raw/a", "runs/b/started.json", "locks/writer.json", "iceberg/c"):
        assert store.put_new(key, b"x")
    assert (tmp_path / "raw-zone" / "raw" / "a").is_file()
    assert (tmp_path / "ops-zone" / "runs" / "b" / "started.json").is_file()
    assert (tmp_path / "ops-zone" / "locks" / "writer.json").is_file()
    assert (tmp_path / "lakehouse" / "iceberg" / "c").is_file()
    assert list(store.list("")) == ["iceberg/c", "locks/writer.json", "raw/a", "runs/b/started.json"]
    assert list(store.list("r")) == ["raw/a", "runs/b/started.json"]
    versioned = store.get_versioned("locks/writer.json")
    assert versioned is not None and store.replace_version("locks/writer.json", b"y", versioned[1])
    assert store.get("locks/writer.json") == b"y" and not store.exists("raw/b")


def test_each_table_is_created_in_its_zone(tmp_path: Path) -> None:
    settings = zoned(tmp_path)
    catalog = open_catalog(settings)
    for namespace, zone in (("cleaned", "cleaned"), ("curated", "curated"), ("ops", "ops")):
        location = catalog.load_namespace_properties(namespace)["location"]
        assert location == f"{settings.zone_uris[zone]}/iceberg/{namespace}"
    assert set(OPS_TABLES) <= set(HOMES)
    for identifier, (schema, partitioned) in OPS_TABLES.items():
        table = ensure_table(catalog, identifier, schema, partitioned=partitioned)
        zone = HOMES[identifier]
        assert table.location() == f"{settings.zone_uris[zone]}/iceberg/{identifier.replace('.', '/')}"


def test_the_zone_map_is_the_documented_one() -> None:
    assert {name: table_zone(name) for name in HOMES} == HOMES
    assert set(TABLE_ZONES) | {"ops.runs"} == set(HOMES)


def test_a_zone_cannot_move_once_its_tables_exist(tmp_path: Path) -> None:
    unzoned = local_settings(tmp_path)
    open_catalog(unzoned)
    with pytest.raises(SettingsError, match=r"namespace cleaned is at the warehouse.*cannot move"):
        open_catalog(zoned(tmp_path))
    other = tmp_path / "other"
    settings = zoned(other)
    ensure_table(open_catalog(settings), "ops.quarantine", OPS_TABLES["ops.quarantine"][0])
    with pytest.raises(SettingsError, match=r"namespace cleaned is at .*cleaned-zone.*cannot move"):
        open_catalog(settings.model_copy(update={"cleaned_uri": (other / "elsewhere").as_uri()}))


@pytest.mark.slow
def test_the_pipeline_and_offboarding_keep_each_zone_in_its_folder(tmp_path: Path) -> None:
    truth = small_export(tmp_path / "exports", practices=2, appointments=150, seed=5)
    settings = zoned(tmp_path)
    lakehouse = Lakehouse.open(settings)
    ingest_all(lakehouse, tmp_path / "exports", truth)
    lakehouse.transform()
    lakehouse.curate()
    files = {zone: [p for p in (tmp_path / f"{zone}-zone").rglob("*") if p.is_file()] for zone in ZONES}
    assert all(files.values()), {zone: len(found) for zone, found in files.items()}
    warehouse = tmp_path / "lakehouse"
    assert [p.name for p in warehouse.rglob("*") if p.is_file()] == ["catalog.db"]
    quarantine = list((tmp_path / "cleaned-zone" / "iceberg" / "ops" / "quarantine").rglob("*.parquet"))
    assert quarantine and not (tmp_path / "curated-zone" / "iceberg" / "ops" / "quarantine").exists()

    report = offboard(settings, lakehouse.catalog, lakehouse.store, "P001")
    assert report.files_removed > 0 and report.raw_objects > 0
    for zone in ("cleaned", "curated", "ops"):
        left = [p for p in (tmp_path / f"{zone}-zone").rglob("*") if "practice_id=P001" in p.as_posix()]
        assert left == [], zone
    manifest = [p for p in (tmp_path / "raw-zone" / "iceberg").rglob("*") if "practice_id=P001" in p.as_posix()]
    assert manifest == []
