"""Forgetting a table's history, so that no file of the warehouse still holds what was deleted.

Deleting rows is not enough for that. An Iceberg delete writes a snapshot whose manifests
keep an entry for every file it removed (with the file's row count and the lower and upper
bounds of its columns) and whose summary counts the rows removed; the earlier snapshots,
the metadata files that listed them, and the catalog's previous location still lead to the
removed files. So, table by table:

- settle: the current snapshot's manifests keep no entry of a deleted file (a fast append
  of nothing carries over only the manifests that still hold live files);
- forget: the table's metadata keeps the current snapshot only, with no snapshot log and
  no log of earlier metadata files (lakehouse.catalog.drop_history);
- sweep: every file under the warehouse's tables that no table's metadata references any
  longer is removed: the data, manifests, manifest lists and metadata files of the history,
  what failed commits left, and what dropped tables left.

The manifest (ops.raw_files) is appended by ingests, which take no writer lock: a file under
its folder that its metadata does not reference may be an ingest's commit in progress. So
the files only its history references are removed before that history is forgotten (the one
moment they are known), and the sweep removes there only the offboarded practice's partition
and metadata files no newer than the current one, never another file it cannot place.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from practicelake.errors import StorageError
from practicelake.lakehouse.catalog import drop_history, metadata_version
from practicelake.storage import ObjectStore

ATTEMPTS = 5  # forgetting a table's history starts again when an ingest commits in the meantime


def name_of(table: Table) -> str:
    return ".".join(table.name()[-2:])


def settle(table: Table) -> Table:
    """The table, its current snapshot's manifests holding no entry of a deleted file."""
    if not _deleted_entries(table):
        return table
    with table.transaction() as transaction, transaction.update_snapshot().fast_append():
        pass  # no file added: the commit keeps only the manifests that hold live files
    table.refresh()
    if _deleted_entries(table):
        raise StorageError(f"{name_of(table)} keeps manifest entries of deleted files that no commit drops")
    return table


def _deleted_entries(table: Table) -> bool:
    snapshot = table.current_snapshot()
    return snapshot is not None and any((m.deleted_files_count or 0) > 0 for m in snapshot.manifests(table.io))


def forget(catalog: Catalog, table: Table, check: Callable[[], None]) -> Table:
    """The table with its current snapshot only (settle first); `check` runs before each
    catalog change (the writer lock's lease)."""
    for _ in range(ATTEMPTS):
        check()
        forgotten = drop_history(catalog, table)
        if forgotten is not None:
            return forgotten
        table = settle(catalog.load_table(table.name()))
    raise StorageError(f"{name_of(table)} kept changing while its history was forgotten: run offboarding again")


def referenced(table: Table, *, history: bool = True) -> set[str]:
    """Every file the table's metadata leads to: its metadata file, and the manifest list,
    manifests and data files of its current snapshot (entries of deleted files included); with
    `history`, those of every snapshot and the earlier metadata files too. A file of the history
    already removed (by an offboarding that stopped part-way) is skipped."""
    files = {table.metadata_location}
    snapshots = table.snapshots() if history else [s for s in (table.current_snapshot(),) if s is not None]
    if history:
        files |= {entry.metadata_file for entry in table.metadata.metadata_log}
    read: set[str] = set()
    for snapshot in snapshots:
        files.add(snapshot.manifest_list)
        try:
            manifests = snapshot.manifests(table.io)
        except FileNotFoundError:
            continue
        for manifest in manifests:
            files.add(manifest.manifest_path)
            if manifest.manifest_path in read:
                continue
            read.add(manifest.manifest_path)
            try:
                entries = manifest.fetch_manifest_entry(table.io, discard_deleted=False)
            except FileNotFoundError:
                continue
            files.update(entry.data_file.file_path for entry in entries)
    return files


def remove_history_files(store: ObjectStore, table: Table) -> int:
    """Remove the files only the table's history references (not its current snapshot); how many."""
    files = referenced(table) - referenced(table, history=False)
    for uri in sorted(files):
        store.delete(_key(store, uri))
    return len(files)


def sweep(
    store: ObjectStore,
    warehouse: str,
    tables: Collection[Table],
    *,
    practice_id: str,
    unlocked: Collection[str] = (),
) -> int:
    """Remove every file under `warehouse` (the catalog's warehouse URI) that none of `tables`
    references; how many. Under the tables named in `unlocked` (written without the writer
    lock), only the files of the practice's partition and metadata files no newer than the
    table's current one."""
    live = set().union(*(referenced(table) for table in tables))
    guarded = {table.location().rstrip("/") + "/": table for table in tables if name_of(table) in unlocked}
    partition = f"/practice_id={practice_id}/"
    removed = 0
    for key in store.list(_key(store, warehouse) + "/"):
        uri = store.uri(key)
        if uri in live:
            continue
        owner = next((table for location, table in guarded.items() if uri.startswith(location)), None)
        if owner is not None and not (partition in uri or _older_metadata(uri, owner)):
            continue
        store.delete(key)
        removed += 1
    return removed


def _older_metadata(uri: str, table: Table) -> bool:
    """A metadata file no newer than the table's current one: a failed commit's, never one in progress."""
    return uri.endswith(".metadata.json") and metadata_version(uri) <= metadata_version(table.metadata_location)


def _key(store: ObjectStore, uri: str) -> str:
    root = store.uri("").rstrip("/")
    if not uri.startswith(root + "/"):
        raise StorageError(f"{uri} is not inside the warehouse {root}")
    return uri.removeprefix(root + "/").rstrip("/")
