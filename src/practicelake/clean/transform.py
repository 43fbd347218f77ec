"""Raw zone -> cleaned zone, for every ingested file not yet loaded.

Entity by entity, in chunks of about CHUNK_ROWS rows that may span practices: memory
follows the chunk size, not the size of a practice or of the deployment, and a thousand
small practices cost a few commits, not a thousand. Every commit of a run is undone if the
run does not finish (see lakehouse.journal).
"""

from __future__ import annotations

import queue
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from practicelake.clean.allocators import tune_allocators
from practicelake.clean.births import VISIT_DATE, load_births, reject_visits_before_birth
from practicelake.clean.files import RawFile, RunContext, clean_chunk
from practicelake.clean.ledger import Ledger, ingested_files, pending_files
from practicelake.clean.merge import Writer, merge
from practicelake.clean.pseudonym import Pseudonyms
from practicelake.clean.read import FileFormats
from practicelake.contracts import CONTRACTS, Contract
from practicelake.crypto.keystore import open_keys
from practicelake.errors import PracticelakeError
from practicelake.ingest.raw import RawZone
from practicelake.lakehouse.catalog import current_snapshot_id, ensure_table
from practicelake.lakehouse.journal import Journal
from practicelake.lakehouse.lock import writer_lock
from practicelake.lakehouse.schemas import OPS_TABLES, cleaned_schema
from practicelake.lakehouse.scratch import duckdb_session
from practicelake.settings import Settings

CHUNK_ROWS = 400_000
FLUSH_ROWS = 250_000  # quarantined and superseded rows held before they are written


@dataclass
class TransformReport:
    run_id: str | None  # None: nothing new, nothing written
    rolled_back: list[str] = field(default_factory=list)
    ledger: Ledger | None = None


# A column's Parquet dictionary is given up past 256 KiB (Iceberg's default: 2 MiB): an id
# column then stops hashing sooner; codes and statuses stay far below either limit.
CLEANED_PROPERTIES = {"write.parquet.dict-size-bytes": str(256 * 1024)}


def ensure_tables(catalog: Catalog) -> dict[str, Table]:
    tables = {
        f"cleaned.{c.entity}": ensure_table(
            catalog, f"cleaned.{c.entity}", cleaned_schema(c), properties=CLEANED_PROPERTIES
        )
        for c in CONTRACTS
    }
    for identifier, (schema, partitioned) in OPS_TABLES.items():
        tables[identifier] = ensure_table(catalog, identifier, schema, partitioned=partitioned)
    return tables


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def connect(settings: Settings) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    """DuckDB for one run, spilling into its own folder of state_dir/duckdb-tmp (lakehouse.scratch)."""
    return duckdb_session(settings.state_dir / "duckdb-tmp", {"preserve_insertion_order": True, "memory_limit": "1GB"})


def transform(
    settings: Settings,
    catalog: Catalog,
    raw: RawZone,
    *,
    on_step: Callable[[str], None] | None = None,
) -> TransformReport:
    tune_allocators()
    with writer_lock(raw.store, kind="transform", catalog=catalog):
        journal = Journal(raw.store)
        report = TransformReport(run_id=None, rolled_back=journal.recover(catalog))
        ingested = ingested_files(catalog)
        work = pending_files(catalog, ingested)
        if work.num_rows == 0:
            return report
        for practice_id in set(work["practice_id"].to_pylist()):
            settings.practice(practice_id)  # refuse before writing anything, not half-way
            # A missing or wrong key is the deployment's problem, not the files': refuse the run
            # rather than fail every file of the practice for good.
            raw.keys.data_key(practice_id)
        tables = ensure_tables(catalog)
        run_id = new_run_id()
        # The manifest is ingest's, not the transform's: rolling it back would lose an ingest.
        written = {name: table for name, table in tables.items() if name != "ops.raw_files"}
        journal.start(run_id, {name: current_snapshot_id(table) for name, table in written.items()})
        ledger = Ledger(run_id=run_id, started_at=datetime.now(UTC).replace(tzinfo=None))
        context = _context(settings, run_id)
        pending: dict[str, set[str]] = {}
        for sha, dataset in zip(work["sha256"].to_pylist(), work["dataset"].to_pylist(), strict=True):
            pending.setdefault(sha, set()).add(dataset)
        formats = FileFormats(raw, pending)  # a file that feeds several datasets is read once
        with connect(settings) as con:
            for contract in CONTRACTS:
                files = _of_dataset(work, contract.dataset)
                if files.num_rows:
                    if on_step:
                        on_step(contract.entity)
                    order = _of_dataset(ingested, contract.dataset).select(
                        ["practice_id", "sha256", "batch", "received_at"]
                    )
                    _load_entity(con, catalog, formats, contract, context, files.to_pylist(), order, ledger)
        ledger.commit(catalog)
        journal.finish(run_id)
        report.run_id, report.ledger = run_id, ledger
        return report


def _context(settings: Settings, run_id: str) -> RunContext:
    return RunContext(
        run_id=run_id,
        time_zone=lambda practice_id: settings.practice(practice_id).time_zone,
        currency=lambda practice_id: settings.practice(practice_id).currency,
        pseudonyms=Pseudonyms(open_keys(settings).pseudonym_secret),
    )


def _of_dataset(files: pa.Table, dataset: str) -> pa.Table:
    chosen = files.filter(pc.equal(files["dataset"], dataset))
    return chosen.sort_by([(c, "ascending") for c in ("practice_id", "batch", "received_at", "sha256")])


def _chunks(
    formats: FileFormats, contract: Contract, files: list[dict[str, object]], ledger: Ledger
) -> Iterator[list[RawFile]]:
    """Parsed files grouped so that a group holds about CHUNK_ROWS rows: memory follows the
    chunk, not the deployment. Groups end where a practice ends, so that a practice's batches
    are merged together rather than rewriting what an earlier group of the same run wrote;
    only a practice larger than two chunks is cut inside. A file that cannot be read fails
    alone."""
    chunk: list[RawFile] = []
    rows = 0
    for practice_id, entries in groupby(files, key=lambda entry: str(entry["practice_id"])):
        for entry in entries:
            sha = str(entry["sha256"])
            try:
                parsed = formats.rows(entry, contract, practice_id)
            except PracticelakeError as exc:
                ledger.file_failed(practice_id, contract.dataset, sha, str(exc))
                continue
            received = entry["received_at"]
            assert isinstance(received, datetime)
            chunk.append(RawFile(practice_id, sha, received.date(), parsed))
            rows += parsed.rows_read
            if rows >= 2 * CHUNK_ROWS:
                yield chunk
                chunk, rows = [], 0
        if rows >= CHUNK_ROWS:
            yield chunk
            chunk, rows = [], 0
    if chunk:
        yield chunk


def prefetched(chunks: Iterator[list[RawFile]]) -> Iterator[list[RawFile]]:
    """The next chunk is read and parsed (which releases the GIL) while this one is checked
    and written. The reader starts a chunk only once the previous one was taken, so two
    chunks at most are in memory: this one and the next. If the consumer stops early, so
    does the reader."""
    handed: queue.SimpleQueue[list[RawFile] | BaseException | None] = queue.SimpleQueue()
    taken = threading.Semaphore(1)  # the reader may read one chunk that nobody took yet
    stop = threading.Event()

    def produce() -> None:
        try:
            while True:
                taken.acquire()
                if stop.is_set():
                    return
                chunk = next(chunks, None)
                handed.put(chunk)
                if chunk is None:
                    return
        except BaseException as exc:  # raised again in the consumer
            handed.put(exc)

    reader = threading.Thread(target=produce, daemon=True, name="practicelake-parse")
    reader.start()
    try:
        while True:
            item = handed.get()
            taken.release()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        taken.release()
        reader.join()


def _load_entity(
    con: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    formats: FileFormats,
    contract: Contract,
    context: RunContext,
    files: list[dict[str, object]],
    file_order: pa.Table,
    ledger: Ledger,
) -> None:
    table = catalog.load_table(f"cleaned.{contract.entity}")
    schema = cleaned_schema(contract)
    properties = {"practicelake.run_id": context.run_id}
    writer = Writer(table, contract.cleaned_key, properties)
    if contract.entity in VISIT_DATE:
        load_births(con, catalog, sorted({str(f["practice_id"]) for f in files}))
    try:
        for parsed in prefetched(_chunks(formats, contract, files, ledger)):
            chunk = reject_visits_before_birth(con, contract, clean_chunk(con, contract, parsed, context))
            del parsed
            writer.finish()  # the previous chunk is in the table before this one is merged
            incoming = chunk.accepted.select(schema.names).cast(schema)
            merged = merge(con, table, contract.cleaned_key, incoming, file_order)
            writer.start(merged, schema)
            ledger.chunk_loaded(contract, chunk, merged.superseded)
            ledger.flush(catalog, at_least=FLUSH_ROWS)
        writer.finish()
    finally:
        writer.close()
        if contract.entity in VISIT_DATE:
            con.unregister("births")
