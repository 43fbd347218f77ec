"""Which zone each Iceberg table belongs to, and so where its files go when the zones have
locations of their own (settings raw_uri, cleaned_uri, curated_uri, ops_uri).

A table belongs to the zone of the command that writes it, so that each command writes only
its own zones' locations (docs/storage.md):

- raw: ops.raw_files, the ingest manifest: an ingest writes the raw zone and nothing else;
- cleaned: the cleaned tables, and the transform's bookkeeping: ops.file_loads,
  ops.duplicates and ops.quarantine, whose details quote source values (a claim status code,
  an adjustment amount) and so stay with the cleaned rows, never beside the curated ones;
- curated: the curated tables, ops.curate_state and ops.curated_snapshots (what readers are
  pinned to): the web app reads this zone;
- ops: ops.runs, written by every command that takes the writer lock, like the journal and
  the lock themselves (storage.zones).

Each table is created at `<zone>/iceberg/<namespace>/<table>`, and each namespace with the
location `<zone>/iceberg/<namespace>` of its namespace's zone (a Glue database's LocationUri),
where pyiceberg 0.12 puts a table created without a location, with the SQL catalog and Glue
alike. With no zone set apart, nothing is given a location: the catalog's warehouse holds
every table, as it always has.

The zones' locations travel with the catalog, as catalog properties, so that whatever creates
a table through the catalog (the transform, the curate, an ingest) puts it in its zone.
"""

from __future__ import annotations

from pyiceberg.catalog import Catalog

from practicelake.settings import Settings

NAMESPACE_ZONES = {"cleaned": "cleaned", "curated": "curated", "ops": "ops"}
TABLE_ZONES = {
    "ops.raw_files": "raw",
    "ops.file_loads": "cleaned",
    "ops.quarantine": "cleaned",
    "ops.duplicates": "cleaned",
    "ops.curate_state": "curated",
    "ops.curated_snapshots": "curated",
}
"""Tables of another zone than their namespace's; any other table is in its namespace's zone."""
ZONE_PROPERTY = "practicelake.zone."
ICEBERG_FOLDER = "iceberg"


def zone_properties(settings: Settings) -> dict[str, str]:
    """Catalog properties naming each zone's location; none when no zone is set apart."""
    if not settings.zones_apart:
        return {}
    return {ZONE_PROPERTY + zone: uri for zone, uri in settings.zone_uris.items()}


def iceberg_roots(settings: Settings) -> list[str]:
    """Every folder that holds Iceberg tables: the warehouse's and each zone's."""
    return sorted({f"{uri}/{ICEBERG_FOLDER}" for uri in (settings.warehouse_uri, *settings.zone_uris.values())})


def table_zone(identifier: str | tuple[str, ...]) -> str:
    namespace, name = Catalog.identifier_to_tuple(identifier)[-2:]
    return TABLE_ZONES.get(f"{namespace}.{name}") or NAMESPACE_ZONES.get(namespace, "ops")


def _zone_root(catalog: Catalog, zone: str) -> str | None:
    root = catalog.properties.get(ZONE_PROPERTY + zone)
    return str(root) if root else None


def namespace_location(catalog: Catalog, namespace: str) -> str | None:
    """Where the namespace's tables go; None: the catalog's warehouse decides."""
    root = _zone_root(catalog, NAMESPACE_ZONES.get(namespace, "ops"))
    return f"{root}/{ICEBERG_FOLDER}/{namespace}" if root else None


def table_location(catalog: Catalog, identifier: str | tuple[str, ...]) -> str | None:
    """The location a new table is given; None: its namespace's location decides."""
    namespace, name = Catalog.identifier_to_tuple(identifier)[-2:]
    root = _zone_root(catalog, table_zone(identifier))
    return f"{root}/{ICEBERG_FOLDER}/{namespace}/{name}" if root else None
