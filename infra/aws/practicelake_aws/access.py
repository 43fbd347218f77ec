"""What each component of practicelake reads and writes on AWS, as data: the one place the
least-privilege policies are derived from (roles.py turns it into IAM statements).

The layout is practicelake's own when every zone has a location of its own (settings
raw_uri, cleaned_uri, curated_uri, ops_uri; storage.zones and lakehouse.zones in the
package): each zone is a bucket, its objects under the prefixes below, each Iceberg table at
`iceberg/<namespace>/<table>/` of the bucket of the zone that writes it:

- raw: `raw/` (the received files, encrypted per practice) and ops.raw_files (the manifest);
- cleaned: the cleaned tables, ops.file_loads, ops.quarantine, ops.duplicates;
- curated: the curated tables, ops.curate_state, ops.curated_snapshots (what readers are pinned to);
- ops: the run journal `runs/`, the writer lock `locks/`, ops.runs;
- landing: where a practice's exports arrive, `<practice_id>/<batch>/<file>`; only ingest reads it.

Every command opens the catalog, which checks that the three Glue databases are where the
zones put them (GetDatabase on each): no component is given more of a database than that
unless it reads or writes its tables.

Transform and curate each start by rolling back the other's unfinished run, if any
(lakehouse.journal): with these policies a transform cannot roll back a dead curate's
curated tables. The schedule therefore runs curate after transform even when transform
failed (schedule.py), and each command recovers its own dead runs.

The key store's keys are wrapped by one KMS key, each under an encryption context naming its
purpose (crypto.keystore): a component may wrap or unwrap only the purposes it uses, so the
ingest never holds a pseudonymisation secret and the web app no practice's data key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ICEBERG = "iceberg"
DATABASES = ("cleaned", "curated", "ops")
"""The Glue databases, named as practicelake's namespaces (settings.catalog_uri)."""

DATA_KEY = "data_key"
PSEUDONYM_SECRET = "pseudonym_secret"  # noqa: S105 - the name of a key's purpose, not a key
FILE_HASH_SECRET = "file_hash_secret"  # noqa: S105 - the name of a key's purpose, not a key
AUDIT_KEY = "audit_key"
INIT_CHECK = "init-check"
PRACTICE_KEYS = (DATA_KEY, PSEUDONYM_SECRET, FILE_HASH_SECRET)


def table_prefix(identifier: str) -> str:
    """The key prefix of an Iceberg table (`ops.raw_files`) or of a namespace's tables (`cleaned.*`)."""
    namespace, _, table = identifier.partition(".")
    return f"{ICEBERG}/{namespace}/" if table == "*" else f"{ICEBERG}/{namespace}/{table}/"


@dataclass(frozen=True)
class Objects:
    """Objects of one zone's bucket: under `prefixes` (a prefix ends with '/')."""

    zone: str
    prefixes: tuple[str, ...]


RAW_FILES = Objects("raw", ("raw/",))
MANIFEST = Objects("raw", (table_prefix("ops.raw_files"),))
CLEANED = Objects(
    "cleaned", tuple(map(table_prefix, ("cleaned.*", "ops.file_loads", "ops.quarantine", "ops.duplicates")))
)
CLEANED_FOR_CURATE = Objects("cleaned", tuple(map(table_prefix, ("cleaned.*", "ops.file_loads"))))
CURATED = Objects("curated", tuple(map(table_prefix, ("curated.*", "ops.curate_state", "ops.curated_snapshots"))))
CURATED_FOR_READERS = Objects("curated", tuple(map(table_prefix, ("curated.*", "ops.curated_snapshots"))))
RUN_BOOKKEEPING = Objects("ops", ("runs/", "locks/", table_prefix("ops.runs")))
WRITER_LOCK = Objects("ops", ("locks/",))
EXPORTS = Objects("landing", ("",))

CLEANED_TABLES = ("cleaned.*", "ops.file_loads", "ops.quarantine", "ops.duplicates")
CURATED_TABLES = ("curated.*", "ops.curate_state", "ops.curated_snapshots")


@dataclass(frozen=True)
class Access:
    """What one component may do. Writing objects includes reading them back (pyiceberg reads
    the metadata it commits); a component may list the buckets it reads or writes, because S3
    tells a missing object (404) from a forbidden one (403) only to a principal that may list,
    and practicelake's storage and pyarrow both take 404 to mean "absent"."""

    reads: tuple[Objects, ...] = ()
    writes: tuple[Objects, ...] = ()
    deletes: tuple[Objects, ...] = ()
    tables_read: tuple[str, ...] = ()
    tables_written: tuple[str, ...] = ()
    tables_dropped: tuple[str, ...] = ()
    """Tables it may drop (Glue DeleteTable): curate replaces a model's table whose columns changed."""
    databases_listed: tuple[str, ...] = ()
    wraps: tuple[str, ...] = ()
    """Key-store purposes it may wrap (KMS Encrypt): the keys it may create."""
    unwraps: tuple[str, ...] = ()
    """Key-store purposes it may unwrap (KMS Decrypt)."""
    state: dict[str, bool] = field(default_factory=dict)
    """EFS folders it mounts (state.py), and whether it may write them."""
    reads_exports: bool = False
    """Read the landing bucket (versions included: an arrival names the version it ingests)."""

    @property
    def zones(self) -> set[str]:
        return {objects.zone for objects in (*self.reads, *self.writes, *self.deletes)}


COMPONENTS: dict[str, Access] = {
    # `practicelake ingest`: the exports that arrived, into raw/ and the manifest. It records
    # itself on the audit log first, and keeps its own journal of manifest rows (state).
    "ingest": Access(
        reads=(EXPORTS,),
        writes=(RAW_FILES, MANIFEST),
        tables_written=("ops.raw_files",),
        wraps=(*PRACTICE_KEYS, AUDIT_KEY),  # a new practice's keys are made on its first ingest
        unwraps=(DATA_KEY, FILE_HASH_SECRET, AUDIT_KEY),
        state={"keys": True, "audit": True, "ingest": True},
        reads_exports=True,
    ),
    # `practicelake transform`: raw files listed in the manifest, into the cleaned zone.
    "transform": Access(
        reads=(RAW_FILES, MANIFEST),
        writes=(CLEANED, RUN_BOOKKEEPING),
        deletes=(WRITER_LOCK,),
        tables_read=("ops.raw_files",),
        tables_written=(*CLEANED_TABLES, "ops.runs"),
        unwraps=(DATA_KEY, PSEUDONYM_SECRET, FILE_HASH_SECRET),
        state={"keys": False},
    ),
    # `practicelake curate`: cleaned tables into the curated ones. Its cross-practice
    # perturbation is keyed from the audit key (curate.disclosure), hence that unwrap.
    "curate": Access(
        reads=(CLEANED_FOR_CURATE,),
        writes=(CURATED, RUN_BOOKKEEPING),
        deletes=(WRITER_LOCK,),
        tables_read=("cleaned.*", "ops.file_loads"),
        tables_written=(*CURATED_TABLES, "ops.runs"),
        tables_dropped=("curated.*",),
        databases_listed=("curated",),
        unwraps=(AUDIT_KEY,),
        state={"keys": False},
    ),
    # `practicelake serve`: the dashboard and API read the curated zone at its pinned
    # snapshots (ops.curated_snapshots), sign people in (users, its own session state) and
    # put every read on the audit log. It may create the audit key if it starts first.
    "web": Access(
        reads=(CURATED_FOR_READERS,),
        tables_read=("curated.*", "ops.curated_snapshots"),  # the pins name curated tables it then opens
        wraps=(AUDIT_KEY,),
        unwraps=(AUDIT_KEY,),
        state={"keys": True, "audit": True, "users": True, "web": True},
    ),
    # The operator's console: `practicelake users ...`, `tokens ...`, `audit verify`, `init`,
    # run by hand in a task of its own (ECS Exec). No data at all.
    "console": Access(
        wraps=(AUDIT_KEY, INIT_CHECK),
        unwraps=(AUDIT_KEY, INIT_CHECK),
        state={"keys": True, "audit": True, "users": True},
    ),
}
