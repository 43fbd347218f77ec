"""The Iceberg catalog, chosen by URI (`sqlite:///...` by default), and table creation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import BooleanExpression, EqualTo, Reference
from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC, PartitionField, PartitionSpec
from pyiceberg.schema import Schema, assign_fresh_schema_ids
from pyiceberg.table import Table
from pyiceberg.transforms import IdentityTransform

from practicelake.errors import SettingsError
from practicelake.settings import Settings

NAMESPACES = ("cleaned", "curated", "ops")


def file_io_properties(settings: Settings) -> dict[str, str]:
    """pyiceberg FileIO properties for the warehouse's object store."""
    if not settings.warehouse_uri.startswith("s3://"):
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
    if not uri.startswith("sqlite:///"):
        raise SettingsError(f"unsupported catalog_uri {uri!r}: use sqlite:///path")
    Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    properties: dict[str, Any] = {
        "uri": uri,
        "warehouse": f"{settings.warehouse_uri}/iceberg",
        **file_io_properties(settings),
    }
    catalog = SqlCatalog("practicelake", **properties)
    for namespace in NAMESPACES:
        catalog.create_namespace_if_not_exists(namespace)
    return catalog


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
    """The table, created in one commit (format v2, identity-partitioned by practice_id) if missing."""
    try:
        return catalog.load_table(identifier)
    except NoSuchTableError:
        pass
    fresh = iceberg_schema(schema)
    spec = UNPARTITIONED_PARTITION_SPEC
    if partitioned:
        source = fresh.find_field("practice_id").field_id
        spec = PartitionSpec(
            PartitionField(source_id=source, field_id=1000, transform=IdentityTransform(), name="practice_id")
        )
    return catalog.create_table_if_not_exists(
        identifier, schema=fresh, partition_spec=spec, properties=properties or {}
    )


def current_snapshot_id(table: Table) -> int | None:
    snapshot = table.current_snapshot()
    return snapshot.snapshot_id if snapshot else None


def practice_partition(practice_id: str) -> BooleanExpression:
    """The row filter of one practice's partition."""
    return EqualTo(term=Reference("practice_id"), literal=practice_id)  # type: ignore[call-arg]
