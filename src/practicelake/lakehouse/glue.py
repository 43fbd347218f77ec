"""The AWS Glue Data Catalog as the Iceberg catalog (`catalog_uri = "glue://"`), and what
forgetting a table's history means there.

Properties. Glue is reached in the settings' region (s3_region), at glue_endpoint_url when
set (a test server on 127.0.0.1), with the s3_access_key_id credentials or else the AWS
SDK's default chain (an instance or task role in production). `glue://<account id>` is
another account's catalog (Glue's catalog id is the account id).

`glue.skip-archive` is always true. Glue otherwise keeps the previous version of a table's
entry at every UpdateTable, one per Iceberg commit, and caps a table at 100,000 versions, so
a lakehouse that commits every run would stop committing one day; and each archived version
names an earlier metadata file, a way back to a history that offboarding must make
unreachable.

Forgetting a table's history (lakehouse.catalog.drop_history) writes a new metadata file
and then points the table's Glue entry at it, as pyiceberg's commits do: `update_table`
with the VersionId of the entry read, which Glue refuses (ConcurrentModificationException)
if another writer updated the entry since; the entry is changed only if it still names the
metadata file the history was forgotten from, so another writer's commit is never lost. The
new entry keeps no `previous_metadata_location`, and versions that Glue archived anyway (a
table written with archiving on, or a server that archives regardless) are deleted.
"""

from __future__ import annotations

from typing import Any

from pyiceberg.catalog import METADATA_LOCATION, PREVIOUS_METADATA_LOCATION
from pyiceberg.catalog.glue import GlueCatalog
from pyiceberg.table import Table

from practicelake.settings import Settings

SCHEME = "glue://"
TABLE_INPUT = ("Name", "Description", "Owner", "Retention", "StorageDescriptor", "PartitionKeys", "TableType")
"""What of a table's Glue entry (GetTable) goes back into UpdateTable's TableInput, besides
its parameters: what pyiceberg itself writes, and what another tool may have added."""


def glue_properties(settings: Settings, uri: str) -> dict[str, str]:
    """GlueCatalog's properties for `uri` (`glue://` or `glue://<account id>`)."""
    properties = {"glue.region": settings.s3_region, "glue.skip-archive": "true"}
    if catalog_id := uri.removeprefix(SCHEME):
        properties["glue.id"] = catalog_id
    if settings.glue_endpoint_url:
        properties["glue.endpoint"] = settings.glue_endpoint_url
    if settings.s3_access_key_id and settings.s3_secret_access_key:
        properties["glue.access-key-id"] = settings.s3_access_key_id.get_secret_value()
        properties["glue.secret-access-key"] = settings.s3_secret_access_key.get_secret_value()
    return properties


def _names(catalog: GlueCatalog, table: Table) -> tuple[str, str]:
    database, name = catalog.identifier_to_database_and_table(table.name())
    return str(database), str(name)


def swap_metadata(catalog: GlueCatalog, table: Table, location: str) -> bool:
    """Point the table's Glue entry at the metadata file `location`, with no previous one,
    if it still names `table.metadata_location`; False, changing nothing, otherwise."""
    database, name = _names(catalog, table)
    glue: Any = catalog.glue
    try:
        entry = glue.get_table(DatabaseName=database, Name=name)["Table"]
    except glue.exceptions.EntityNotFoundException:
        return False
    parameters = dict(entry.get("Parameters", {}))
    if parameters.get(METADATA_LOCATION) != table.metadata_location:
        return False
    parameters[METADATA_LOCATION] = location
    parameters.pop(PREVIOUS_METADATA_LOCATION, None)
    table_input = {key: entry[key] for key in TABLE_INPUT if key in entry} | {"Parameters": parameters}
    try:
        glue.update_table(DatabaseName=database, TableInput=table_input, SkipArchive=True, VersionId=entry["VersionId"])
    except (glue.exceptions.ConcurrentModificationException, glue.exceptions.EntityNotFoundException):
        return False
    return True


def forget_versions(catalog: GlueCatalog, table: Table) -> int:
    """Delete the archived versions of the table's Glue entry, older than its current one;
    how many. A version made after the current one was read (an ingest's commit) is newer,
    and stays."""
    database, name = _names(catalog, table)
    glue: Any = catalog.glue
    pages = glue.get_paginator("get_table_versions").paginate(DatabaseName=database, TableName=name)
    archived = [str(version["VersionId"]) for page in pages for version in page["TableVersions"]]
    current = str(glue.get_table(DatabaseName=database, Name=name)["Table"]["VersionId"])
    older = [v for v in archived if v.isdigit() and current.isdigit() and int(v) < int(current)]
    for version in older:
        glue.delete_table_version(DatabaseName=database, TableName=name, VersionId=version)
    return len(older)
