"""Offboarding a practice: crypto-shred its keys, then delete its rows from the lakehouse.

Shredding comes first and is the step that cannot be undone: from then on the practice's raw
objects (ciphertext, kept where the raw zone is write-once) cannot be decrypted, and its
pseudonyms cannot be recomputed. Then its partitions are deleted from every cleaned, curated
and ops table that has a practice_id column, and the history of those tables is forgotten
(older snapshots expired, the data and manifest files only they referenced removed), so that
time travel cannot bring the rows back. Every step is safe to repeat: a run that stops
part-way is finished by running it again.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from practicelake.crypto.keystore import open_keys
from practicelake.curate.snapshots import record_current
from practicelake.ingest.raw import PREFIX
from practicelake.lakehouse.catalog import NAMESPACES, practice_partition
from practicelake.lakehouse.journal import Journal
from practicelake.lakehouse.lock import writer_lock
from practicelake.settings import Settings
from practicelake.storage import ObjectStore


@dataclass
class OffboardReport:
    practice_id: str
    keys_destroyed: bool  # False: the practice had no keys (or they were destroyed before)
    rows_deleted: dict[str, int] = field(default_factory=dict)  # by table, tables that held rows only
    files_removed: int = 0  # data and manifest files of the forgotten history
    raw_objects: int = 0  # left in the raw zone, no longer decryptable


def offboard(
    settings: Settings,
    catalog: Catalog,
    store: ObjectStore,
    practice_id: str,
    *,
    on_done: Callable[[OffboardReport], None] | None = None,
) -> OffboardReport:
    """Crypto-shred the practice and delete its rows; `on_done` receives the report."""
    settings.practice(practice_id)  # only a practice this deployment serves
    with writer_lock(store, kind="offboard", catalog=catalog):
        Journal(store).recover(catalog)  # history is about to go: no dead run may need it
        keys = open_keys(settings)
        report = OffboardReport(practice_id=practice_id, keys_destroyed=keys.shred(practice_id))
        emptied = []
        for table in practice_tables(catalog):
            deleted = delete_practice(table, practice_id)
            if deleted:
                report.rows_deleted[".".join(table.name()[-2:])] = deleted
                emptied.append(table)
        if any(name.startswith("curated.") for name in report.rows_deleted):
            # Readers see the curated zone without the practice before its history goes.
            record_current(catalog, f"offboard-{secrets.token_hex(4)}")
        for table in emptied:
            report.files_removed += forget_history(table)
        # A practice id stands as it is in object keys (settings.PRACTICE_ID): this folder is its own.
        report.raw_objects = sum(1 for _ in store.list(f"{PREFIX}/practice_id={practice_id}/"))
    if on_done is not None:
        on_done(report)  # AUDIT: the offboarding record (who, practice, this report) is appended here
    return report


def practice_tables(catalog: Catalog) -> list[Table]:
    """Every table of the lakehouse that holds rows per practice."""
    tables = []
    for namespace in NAMESPACES:
        for identifier in catalog.list_tables(namespace):
            table = catalog.load_table(identifier)
            if "practice_id" in table.schema().column_names:
                tables.append(table)
    return tables


def delete_practice(table: Table, practice_id: str) -> int:
    """Delete the practice's rows; how many there were."""
    rows = table.scan(row_filter=practice_partition(practice_id), selected_fields=("practice_id",)).to_arrow()
    if rows.num_rows:
        table.delete(practice_partition(practice_id), snapshot_properties={"practicelake.offboarded": practice_id})
    return int(rows.num_rows)


def forget_history(table: Table) -> int:
    """Expire every snapshot but the current one and remove the files only they referenced;
    how many files were removed."""
    table.refresh()
    current = table.current_snapshot()
    before = _files(table)
    older = [s.snapshot_id for s in table.snapshots() if current is None or s.snapshot_id != current.snapshot_id]
    if older:
        table.maintenance.expire_snapshots().by_ids(older).commit()
    table.refresh()
    unreferenced = before - _files(table)
    for path in sorted(unreferenced):
        table.io.delete(path)
    return len(unreferenced)


def _files(table: Table) -> set[str]:
    """The data, delete, manifest and manifest-list files the table's snapshots reference."""
    if table.current_snapshot() is None:
        return set()
    files = set(table.inspect.all_files()["file_path"].to_pylist())
    files |= set(table.inspect.all_manifests()["path"].to_pylist())
    files |= {s.manifest_list for s in table.snapshots()}
    return files
