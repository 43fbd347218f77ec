"""Raw zone -> cleaned zone, for every ingested file not yet loaded.

Practice by practice (memory stays flat as practices are added), entity by entity. Every
commit of a run is undone if the run does not finish (see lakehouse.journal).
"""

from __future__ import annotations

import fcntl
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog

from practicelake.clean.files import FileContext, clean_chunk
from practicelake.clean.ledger import Ledger, ingested_files, pending_files
from practicelake.clean.merge import merge, write
from practicelake.clean.parse import ParsedFile, parse
from practicelake.clean.pseudonym import Pseudonyms
from practicelake.contracts import CONTRACTS, Contract
from practicelake.errors import LockedError, PracticelakeError
from practicelake.ingest.raw import RawZone
from practicelake.lakehouse.catalog import current_snapshot_id, ensure_table
from practicelake.lakehouse.journal import Journal
from practicelake.lakehouse.schemas import OPS_TABLES, cleaned_schema
from practicelake.security.keystore import KeyStore
from practicelake.settings import Settings

CHUNK_ROWS = 500_000


@dataclass
class TransformReport:
    run_id: str | None  # None: nothing new, nothing written
    rolled_back: list[str] = field(default_factory=list)
    ledger: Ledger | None = None


@contextmanager
def transform_lock(state_dir: Path) -> Iterator[None]:
    """One transform at a time per deployment; the OS releases the lock if the process dies."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "transform.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError("another transform is running (lock held on " + str(handle.name) + ")") from None
        yield


def ensure_tables(catalog: Catalog) -> dict[str, object]:
    tables: dict[str, object] = {
        f"cleaned.{c.entity}": ensure_table(catalog, f"cleaned.{c.entity}", cleaned_schema(c)) for c in CONTRACTS
    }
    for identifier, (schema, partitioned) in OPS_TABLES.items():
        tables[identifier] = ensure_table(catalog, identifier, schema, partitioned=partitioned)
    return tables


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    scratch = settings.state_dir / "duckdb-tmp"
    scratch.mkdir(parents=True, exist_ok=True, mode=0o700)
    return duckdb.connect(config={"temp_directory": str(scratch), "preserve_insertion_order": True})


def transform(
    settings: Settings,
    catalog: Catalog,
    raw: RawZone,
    *,
    on_step: Callable[[str], None] | None = None,
) -> TransformReport:
    with transform_lock(settings.state_dir):
        journal = Journal(raw.store)
        report = TransformReport(run_id=None, rolled_back=journal.recover(catalog))
        ingested = ingested_files(catalog)
        work = pending_files(catalog, ingested)
        if work.num_rows == 0:
            return report
        tables = ensure_tables(catalog)
        run_id = new_run_id()
        journal.start(run_id, {name: current_snapshot_id(t) for name, t in tables.items()})  # type: ignore[arg-type]
        ledger = Ledger(run_id=run_id, started_at=datetime.now(UTC).replace(tzinfo=None))
        keys = KeyStore(settings.key_file)
        con = connect(settings)
        for practice_id in sorted(set(work.column("practice_id").to_pylist())):
            context = FileContext(
                practice_id=practice_id,
                time_zone=settings.practice(practice_id).time_zone,
                pseudonyms=Pseudonyms(keys.pseudonym_secret(practice_id)),
                run_id=run_id,
                reference_date=ledger.started_at.date(),
            )
            for contract in CONTRACTS:
                files = _rows_of(work, practice_id, contract.dataset).to_pylist()
                if files:
                    if on_step:
                        on_step(f"{practice_id} {contract.entity}")
                    order = _rows_of(ingested, practice_id, contract.dataset)
                    order = order.select(["sha256", "batch", "received_at"])
                    _load_entity(con, catalog, raw, contract, context, files, order, ledger)
        ledger.commit(catalog)
        journal.finish(run_id)
        report.run_id, report.ledger = run_id, ledger
        return report


def _rows_of(files: pa.Table, practice_id: str, dataset: str) -> pa.Table:
    return files.filter(pc.and_(pc.equal(files["practice_id"], practice_id), pc.equal(files["dataset"], dataset)))


def _chunks(
    raw: RawZone, contract: Contract, files: list[dict[str, object]], ledger: Ledger, practice_id: str
) -> Iterator[list[tuple[str, ParsedFile]]]:
    """Parsed files in source order, grouped so that a group holds about CHUNK_ROWS rows:
    memory follows the chunk, not the practice. A file that cannot be read fails alone."""
    chunk: list[tuple[str, ParsedFile]] = []
    rows = 0
    for entry in files:
        sha, key = str(entry["sha256"]), str(entry["object_key"])
        try:
            parsed = parse(contract, raw.read(key, sha))
        except PracticelakeError as exc:
            ledger.file_failed(practice_id, contract.dataset, sha, str(exc))
            continue
        chunk.append((sha, parsed))
        rows += parsed.rows_read
        if rows >= CHUNK_ROWS:
            yield chunk
            chunk, rows = [], 0
    if chunk:
        yield chunk


def _load_entity(
    con: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    raw: RawZone,
    contract: Contract,
    context: FileContext,
    files: list[dict[str, object]],
    file_order: pa.Table,
    ledger: Ledger,
) -> None:
    table = catalog.load_table(f"cleaned.{contract.entity}")
    schema = cleaned_schema(contract)
    properties = {"practicelake.run_id": context.run_id}
    for parsed in _chunks(raw, contract, files, ledger, context.practice_id):
        chunk = clean_chunk(con, contract, parsed, context)
        del parsed
        incoming = chunk.accepted.select(schema.names).cast(schema)
        merged = merge(con, table, contract.cleaned_key, context.practice_id, incoming, file_order)
        write(table, schema, contract.cleaned_key, context.practice_id, merged, properties)
        ledger.chunk_loaded(context.practice_id, contract, chunk, merged.superseded)
