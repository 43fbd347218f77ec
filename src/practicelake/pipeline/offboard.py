"""Offboarding a practice: crypto-shred its keys, then leave nothing of it readable anywhere
in the warehouse, the catalog or the state folder.

Shredding comes first and is the step that cannot be undone: from then on the practice's raw
objects (ciphertext, kept where the raw zone is write-once) cannot be decrypted, its
pseudonyms cannot be recomputed, and the keyed hashes that name its raw objects are tied to
no content. Then:

- its rows go from every cleaned, curated and ops table that has a practice_id column;
  ops.runs loses its name, its files and its share of the counts (pipeline.run_log);
- if it reached the curated zone, so do the rows built from every practice: those whose
  practice_id is '*' (the cross-practice benchmark tables, and their row of
  ops.curate_state, without which the next curate rebuilds them) and those of any curated
  table without a practice_id column;
- every table forgets its history (pipeline.history): no manifest entry, snapshot summary,
  metadata file or catalog entry (a SQLite row, a Glue table and its archived versions) leads
  to a removed file any longer, and the files only the history referenced are removed, in
  the warehouse and in each zone's location; the curated zone readers see is recorded again
  first;
- the catalog's SQLite file is rebuilt (what commits overwrote stays in free pages until
  then), the rows of dead ingests' journals naming the practice are dropped, and every role
  granted in the practice is revoked.

What stays, on purpose: the raw objects (noise under a destroyed key, in folders that name
the practice), the key store's tombstone (the id is never given keys again) and the audit
log's records of what was done on the practice's behalf (who ingested, who read, who
offboarded it), which name it and count its files and rows but hold no patient, no file's
hash and no amount.

Offboarding holds the writer lock, and refuses to start while an ingest runs on this machine.
Every step is safe to repeat: a run that stops part-way is finished by running it again.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysTrue, BooleanExpression
from pyiceberg.table import Table

from practicelake.access.principals import PrincipalStore
from practicelake.access.roles import EVERY_PRACTICE
from practicelake.crypto.keystore import open_keys
from practicelake.curate.snapshots import SNAPSHOTS, pinned, record_current, unchanged
from practicelake.errors import LockedError
from practicelake.ingest import journal as ingest_journal
from practicelake.ingest.manifest import TABLE as MANIFEST
from practicelake.ingest.raw import PREFIX
from practicelake.lakehouse.catalog import NAMESPACES, compact_catalog, practice_partition
from practicelake.lakehouse.journal import Journal
from practicelake.lakehouse.lock import writer_lock
from practicelake.lakehouse.zones import iceberg_roots
from practicelake.pipeline.history import forget, name_of, remove_history_files, settle, sweep
from practicelake.pipeline.run_log import TABLE as RUNS
from practicelake.pipeline.run_log import runs_without
from practicelake.settings import Settings
from practicelake.storage import ObjectStore, store_holding


@dataclass
class OffboardReport:
    practice_id: str
    keys_destroyed: bool  # False: the practice had no keys (or they were destroyed before)
    rows_deleted: dict[str, int] = field(default_factory=dict)  # by table, tables that held rows only
    files_removed: int = 0  # data, manifest and metadata files of the forgotten history
    raw_objects: int = 0  # left in the raw zone, no longer decryptable
    grants_revoked: int = 0  # roles users held in the practice


def offboard(
    settings: Settings,
    catalog: Catalog,
    store: ObjectStore,
    practice_id: str,
    *,
    on_done: Callable[[OffboardReport], None] | None = None,
) -> OffboardReport:
    """Crypto-shred the practice and delete everything of it; `on_done` receives the report."""
    settings.practice(practice_id)  # only a practice this deployment serves
    with writer_lock(store, kind="offboard", catalog=catalog) as lease:
        if ingest_journal.running(settings.state_dir):
            raise LockedError(
                f"an ingest is running (its journal is in {settings.state_dir / ingest_journal.FOLDER}): "
                "offboard once it has finished; nothing changed"
            )
        Journal(store).recover(catalog)  # history is about to go: no dead run may need it
        report = OffboardReport(practice_id=practice_id, keys_destroyed=open_keys(settings).shred(practice_id))
        ingest_journal.forget_practice(settings.state_dir, practice_id)
        report.rows_deleted = erase(catalog, practice_id)
        tables = [settle(table) for table in every_table(catalog)]
        for table in tables:
            if name_of(table) == MANIFEST:  # appended by ingests: its dead files are known only now
                report.files_removed += remove_history_files(store_holding(store, table.location()), table)
        tables = [forget(catalog, table, lease.check) for table in tables]
        curated = {table.name()[-1]: table for table in tables if name_of(table).startswith("curated.")}
        if curated and not unchanged(pinned(catalog), curated):
            # Readers see the curated zone without the practice before the files of its history go.
            record_current(catalog, f"offboard-{secrets.token_hex(4)}")
            tables = [t for t in tables if name_of(t) != SNAPSHOTS]
            tables.append(forget(catalog, settle(catalog.load_table(SNAPSHOTS)), lease.check))
        lease.check()  # what follows changes no table, but no other writer may be at work
        for root in iceberg_roots(settings):  # the warehouse's tables, and each zone's
            held = store_holding(store, root)
            report.files_removed += sweep(held, root, tables, practice_id=practice_id, unlocked={MANIFEST})
        compact_catalog(catalog)
        if settings.users_db.exists():
            report.grants_revoked = PrincipalStore(settings.users_db).revoke_practice(practice_id)
        # A practice id stands as it is in object keys (settings.PRACTICE_ID): this folder is its own.
        report.raw_objects = sum(1 for _ in store.list(f"{PREFIX}/practice_id={practice_id}/"))
    if on_done is not None:
        on_done(report)  # the results, added to the record written before offboarding began
    return report


def every_table(catalog: Catalog) -> list[Table]:
    return [catalog.load_table(identifier) for namespace in NAMESPACES for identifier in catalog.list_tables(namespace)]


def erase(catalog: Catalog, practice_id: str) -> dict[str, int]:
    """Delete the practice's rows, and the rows built from every practice if it was curated;
    rows deleted by table, tables that held rows only."""
    deleted = Counter({RUNS: runs_without(catalog, practice_id)})  # first: it needs the practice's file loads
    tables = every_table(catalog)
    own = practice_partition(practice_id)
    curated = [t for t in tables if name_of(t).startswith("curated.") and "practice_id" in t.schema().column_names]
    if any(table.scan(row_filter=own).count() for table in curated):
        # Before its own rows: offboarding again after a stop finds them, and so does this again.
        for table in tables:
            if "practice_id" in table.schema().column_names:
                deleted[name_of(table)] += delete_rows(table, practice_partition(EVERY_PRACTICE))
            elif name_of(table).startswith("curated."):
                deleted[name_of(table)] += delete_rows(table, AlwaysTrue())
    for table in tables:
        if "practice_id" in table.schema().column_names:
            deleted[name_of(table)] += delete_rows(table, own)
    return {name: rows for name, rows in sorted(deleted.items()) if rows}


def delete_rows(table: Table, where: BooleanExpression) -> int:
    """Delete the rows matching `where`; how many there were."""
    rows = table.scan(row_filter=where).count()
    if rows:
        table.delete(where)
    return rows
