"""The Iceberg catalog, chosen by URI (`sqlite:///...` by default, `glue://` for AWS Glue:
lakehouse.glue), its namespaces, table creation in each table's zone (lakehouse.zones), and
the one change pyiceberg has no commit for: forgetting a table's history in its metadata.

The SQLite file is created 0600 in a 0700 folder, and the process umask is tightened
(storage.private), so that SQLite's journals and pyiceberg's files are owner-only too.

A zone does not move: a namespace or table whose location is not the one its zone's setting
gives is refused (SettingsError) rather than written beside a zone it no longer belongs to.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.catalog.glue import GlueCatalog
from pyiceberg.catalog.sql import IcebergTables, SqlCatalog
from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
from pyiceberg.expressions import BooleanExpression, EqualTo, Reference
from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC, PartitionField, PartitionSpec
from pyiceberg.schema import Schema, assign_fresh_schema_ids
from pyiceberg.serializers import ToOutputFile
from pyiceberg.table import Table
from pyiceberg.transforms import IdentityTransform
from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from practicelake.errors import PracticelakeError, SettingsError
from practicelake.lakehouse.glue import SCHEME as GLUE
from practicelake.lakehouse.glue import forget_versions, glue_properties, swap_metadata
from practicelake.lakehouse.zones import ICEBERG_FOLDER, namespace_location, table_location, zone_properties
from practicelake.settings import CATALOG_FORMS, Settings
from practicelake.storage.private import create_private_file, private_folder, restrict_umask

NAMESPACES = ("cleaned", "curated", "ops")


def file_io_properties(settings: Settings) -> dict[str, str]:
    """pyiceberg FileIO properties for the object stores the tables are in."""
    if not any(uri.startswith("s3://") for uri in (settings.warehouse_uri, *settings.zone_uris.values())):
        return {}
    properties = {"s3.region": settings.s3_region, "s3.force-virtual-addressing": "false"}
    if settings.s3_endpoint_url:
        properties["s3.endpoint"] = settings.s3_endpoint_url
    if settings.s3_access_key_id and settings.s3_secret_access_key:
        properties["s3.access-key-id"] = settings.s3_access_key_id.get_secret_value()
        properties["s3.secret-access-key"] = settings.s3_secret_access_key.get_secret_value()
    return properties


def open_catalog(settings: Settings) -> Catalog:
    uri = settings.resolved_catalog_uri
    properties: dict[str, Any] = {
        "warehouse": f"{settings.warehouse_uri}/{ICEBERG_FOLDER}",
        **file_io_properties(settings),
        **zone_properties(settings),
    }
    catalog: Catalog
    if uri.startswith(GLUE):
        restrict_umask()  # pyiceberg's files on a local warehouse, as with SQLite
        catalog = GlueCatalog("practicelake", **properties, **glue_properties(settings, uri))
    elif uri.startswith("sqlite:///"):
        catalog = _sqlite_catalog(uri, properties)
    else:
        raise SettingsError(f"unsupported catalog_uri: use {CATALOG_FORMS}")
    for namespace in NAMESPACES:
        _ensure_namespace(catalog, namespace)
    return catalog


def _sqlite_catalog(uri: str, properties: dict[str, Any]) -> SqlCatalog:
    restrict_umask()
    database = Path(uri.removeprefix("sqlite:///"))
    private_folder(database.parent)
    if not database.exists():
        os.close(create_private_file(database, exclusive=False))  # an empty file is an empty database
    return SqlCatalog("practicelake", uri=uri, **properties)


def _ensure_namespace(catalog: Catalog, namespace: str) -> None:
    """The namespace, created at its zone's location if missing; SettingsError if it exists
    at another location than its zone's setting says."""
    wanted = namespace_location(catalog, namespace)
    try:
        found = catalog.load_namespace_properties(namespace).get("location")
    except NoSuchNamespaceError:
        catalog.create_namespace_if_not_exists(namespace, {"location": wanted} if wanted else {})
        return
    if (found or "").rstrip("/") != (wanted or ""):
        raise SettingsError(
            f"namespace {namespace} is at {found or 'the warehouse'}, but the zone settings put it at "
            f"{wanted or 'the warehouse'}: a zone cannot move once its tables exist"
        )


def iceberg_schema(schema: pa.Schema) -> Schema:
    return assign_fresh_schema_ids(Catalog._convert_schema_if_needed(schema))


def ensure_table(
    catalog: Catalog,
    identifier: str,
    schema: pa.Schema,
    *,
    partitioned: bool = True,
    properties: dict[str, str] | None = None,
) -> Table:
    """The table, created in one commit (format v2, identity-partitioned by practice_id) if missing.
    A table made before `schema` gained optional columns gets them, in one commit; its rows
    read them as empty."""
    location = table_location(catalog, identifier)
    try:
        table = catalog.load_table(identifier)
    except NoSuchTableError:
        pass
    else:
        if location is not None and table.location().rstrip("/") != location:
            raise SettingsError(
                f"{identifier} is at {table.location()}, but the zone settings put it at {location}: "
                "a zone cannot move once its tables exist"
            )
        return _with_new_columns(table, schema)
    fresh = iceberg_schema(schema)
    spec = UNPARTITIONED_PARTITION_SPEC
    if partitioned:
        source = fresh.find_field("practice_id").field_id
        spec = PartitionSpec(
            PartitionField(source_id=source, field_id=1000, transform=IdentityTransform(), name="practice_id")
        )
    return catalog.create_table_if_not_exists(
        identifier, schema=fresh, location=location, partition_spec=spec, properties=properties or {}
    )


def _with_new_columns(table: Table, schema: pa.Schema) -> Table:
    have = set(table.schema().column_names)
    added = [name for name in schema.names if name not in have]
    if not added:
        return table
    required = [name for name in added if not schema.field(name).nullable]
    if required:
        named = ".".join(table.name())
        raise PracticelakeError(f"{named} lacks the required columns {', '.join(required)}: it cannot be upgraded")
    with table.update_schema() as evolution:
        evolution.union_by_name(iceberg_schema(schema))
    return table


def current_snapshot_id(table: Table) -> int | None:
    snapshot = table.current_snapshot()
    return snapshot.snapshot_id if snapshot else None


def practice_partition(practice_id: str) -> BooleanExpression:
    """The row filter of one practice's partition."""
    return EqualTo(term=Reference("practice_id"), literal=practice_id)  # type: ignore[call-arg]


def metadata_version(metadata_location: str) -> int:
    """The version a metadata file's name starts with (`00012-<uuid>.metadata.json`); -1 if none."""
    version = metadata_location.rsplit("/", 1)[-1].split("-", 1)[0]
    return int(version) if version.isdigit() else -1


def drop_history(catalog: Catalog, table: Table) -> Table | None:
    """The table with its current snapshot only: every other snapshot, the snapshot log and
    the log of earlier metadata files left out of a new metadata file, which the catalog then
    points to with no previous location (and, on Glue, no archived version of its entry). The
    table as it is now (a new Table) if there was history to forget, `table` itself if there
    was none; None, having changed nothing, if another writer committed to the table in the
    meantime.

    pyiceberg's expiry keeps the metadata log, and the catalog keeps the previous location,
    so both would still lead to the files of the forgotten history; the files themselves are
    the caller's to remove. Holding the writer lock is the caller's part too: this is a
    direct compare-and-swap on the catalog's entry, not a pyiceberg commit."""
    if not isinstance(catalog, SqlCatalog | GlueCatalog):
        raise SettingsError("forgetting a table's history needs the SQL or the Glue catalog")
    metadata = table.metadata
    current = table.current_snapshot()
    kept = [current] if current is not None else []
    if len(metadata.snapshots) == len(kept) and not metadata.metadata_log and len(metadata.snapshot_log) <= len(kept):
        if isinstance(catalog, GlueCatalog):
            forget_versions(catalog, table)
        return table
    current_id = current.snapshot_id if current is not None else None
    forgotten = metadata.model_copy(
        update={
            "snapshots": kept,
            "snapshot_log": [e for e in metadata.snapshot_log if e.snapshot_id == current_id][-1:],
            "metadata_log": [],
            "refs": {name: ref for name, ref in metadata.refs.items() if ref.snapshot_id == current_id},
            "statistics": [f for f in metadata.statistics if f.snapshot_id == current_id],
            "partition_statistics": [f for f in metadata.partition_statistics if f.snapshot_id == current_id],
            "last_updated_ms": max(int(time.time() * 1000), metadata.last_updated_ms),
        }
    )
    location = table.location_provider().new_table_metadata_file_location(metadata_version(table.metadata_location) + 1)
    ToOutputFile.table_metadata(forgotten, table.io.new_output(location))
    if isinstance(catalog, GlueCatalog):
        swapped = swap_metadata(catalog, table, location)
    else:
        swapped = _swap_sql(catalog, table, location)
    if not swapped:
        table.io.delete(location)
        return None
    if isinstance(catalog, GlueCatalog):
        forget_versions(catalog, table)
    return catalog.load_table(table.name())


def _swap_sql(catalog: SqlCatalog, table: Table, location: str) -> bool:
    """Point the table's row at `location`, with no previous one, if it still names
    `table.metadata_location`."""
    identifier = table.name()
    with Session(catalog.engine) as session:
        result = session.execute(
            update(IcebergTables)
            .where(
                IcebergTables.catalog_name == catalog.name,
                IcebergTables.table_namespace == Catalog.namespace_to_string(Catalog.namespace_from(identifier)),
                IcebergTables.table_name == Catalog.table_name_from(identifier),
                IcebergTables.metadata_location == table.metadata_location,
            )
            .values(metadata_location=location, previous_metadata_location=None)
        )
        swapped = cast("CursorResult[Any]", result).rowcount
        session.commit()
    return bool(swapped == 1)


def compact_catalog(catalog: Catalog) -> None:
    """Rebuild the catalog's SQLite file: what earlier commits overwrote (table rows, metadata
    locations) stays in a database's free pages until then."""
    if not isinstance(catalog, SqlCatalog):
        return
    with catalog.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("vacuum")
