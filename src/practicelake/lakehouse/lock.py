"""One writer per warehouse, wherever it runs: transform, curate and offboard take this lock.

The lock lives in the lakehouse's own object store (the ops zone's location), so two
machines sharing an S3 bucket, or two state folders on one machine, are refused alike.

Protocol. The lock is one object, `locks/writer.json`, present while held: its holder (a
random id, the run's kind, host, pid, acquired_at and expires_at; nothing secret). Every
change is a compare-and-swap on it: `put_new` creates it only if absent (link() in a
folder, `If-None-Match: *` on S3), and `replace_version` / `delete_version` change it only
if it is still the version the writer read (S3: `If-Match: <ETag>`; a folder: a sha256 of
its bytes, compared and replaced under an flock of the folder). Of two processes acting on
the same state, exactly one succeeds; the other reads the lock again.

- acquire: absent -> create it. Present and expired by this machine's clock, or held by a
  process of this machine (same kernel boot and pid namespace) that is no longer running
  -> replace that version with ours: taking over a dead holder's lock, so two runs racing
  for it race on the same version. Otherwise LockedError: who holds it, since when, until.
- renew: a heartbeat thread replaces our version with a later expiry every LEASE/6. If our
  version is gone, another run took the lock: the lease is lost.
- release: delete our version (if it is still ours). A free warehouse holds no lock object.

A holder stops when its lease is lost: the lock is no longer its version, or it could not
be renewed while more than LEASE/3 remained. The catalog's commits are fenced while the lock
is held: each first checks the lease and raises LockLostError instead of committing. Another
run may take the lock only once it expired, LEASE/3 after the holder stopped committing: that
margin is the clock difference between machines the protocol tolerates.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from pyiceberg.catalog import Catalog

from practicelake.errors import LockedError, LockLostError, StorageError
from practicelake.lakehouse.holder import Record, shown
from practicelake.storage import ObjectStore
from practicelake.storage.zones import LOCK_FOLDER

KEY = f"{LOCK_FOLDER}/writer.json"  # in the ops zone's location (storage.zones)
LEASE = timedelta(minutes=3)
ABANDONED_WRITES_AFTER = timedelta(minutes=30)  # a temporary file untouched this long has no writer
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def current(store: ObjectStore) -> tuple[Record, str] | None:
    """Who holds the lock, and the version of its object; None when it is free."""
    found = store.get_versioned(KEY)
    if found is None:
        return None
    return Record(**json.loads(found[0])), found[1]


def _encoded(record: Record) -> bytes:
    return json.dumps(asdict(record)).encode()


class Lease:
    """The lock, held: renewed by a heartbeat until released; `check()` before writing more."""

    def __init__(self, store: ObjectStore, record: Record, version: str, lease: timedelta, clock: Clock) -> None:
        self.store, self.record, self.version = store, record, version
        self._lease, self._clock = lease, clock
        self._mutex = threading.Lock()
        self._lost: LockLostError | None = None
        self._stop = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, daemon=True, name="practicelake-lock")

    def start_heartbeat(self) -> None:
        self._heartbeat.start()

    def _beat(self) -> None:
        while not self._stop.wait(self._lease.total_seconds() / 6):
            try:
                self.renew()
            except LockLostError:
                return
            except Exception:  # noqa: S112 - the store may be back on the next beat; check() sees expiry
                continue

    def _lose(self, why: str) -> LockLostError:
        self._lost = LockLostError(
            f"the writer lock of this {self.record.kind} {why}: it stopped before committing more; run it again"
        )
        return self._lost

    def _taken(self) -> LockLostError:
        taker = current(self.store)
        return self._lose(f"was taken over by {taker[0].describe() if taker else 'another run'}")

    def renew(self) -> None:
        """Replace the lock with a later expiry; LockLostError if it is no longer ours."""
        with self._mutex:
            if self._lost:
                raise self._lost
            renewed = Record(**(asdict(self.record) | {"expires_at": (self._clock() + self._lease).isoformat()}))
            version = self.store.replace_version(KEY, _encoded(renewed), self.version)
            if version is None:
                raise self._taken()
            self.record, self.version = renewed, version

    def check(self) -> None:
        """LockLostError unless the lock is still this holder's, with time to spare."""
        with self._mutex:
            if self._lost:
                raise self._lost
            if datetime.fromisoformat(self.record.expires_at) - self._clock() < self._lease / 3:
                raise self._lose(f"could not be renewed (it expires at {shown(self.record.expires_at)})")
            held = current(self.store)
            if held is None or held[1] != self.version:
                raise self._taken()

    def release(self) -> None:
        self._stop.set()
        if self._heartbeat.is_alive():
            self._heartbeat.join()
        with self._mutex:
            if not self._lost:
                self.store.delete_version(KEY, self.version)
                self._lost = LockLostError(f"the writer lock of this {self.record.kind} was released")


def acquire(store: ObjectStore, kind: str, *, lease: timedelta = LEASE, clock: Clock = _now) -> Lease:
    """Take the lock, or LockedError naming who holds it. Does not start the heartbeat."""
    now = clock()
    mine = Record.new(kind, now, lease)
    held = current(store)
    if held is not None and not held[0].free(now):
        raise _locked(held[0])
    if held is None:
        taken = store.put_new(KEY, _encoded(mine))
    else:
        taken = store.replace_version(KEY, _encoded(mine), held[1]) is not None
    found = current(store)
    if not taken or found is None or found[0] != mine:
        raise _locked(found[0]) if found else LockedError(f"another run took {store.uri(KEY)} first")
    return Lease(store, mine, found[1], lease, clock)


def _locked(holder: Record) -> LockedError:
    return LockedError(
        f"the warehouse is locked by {holder.describe()}; the lock expires at {shown(holder.expires_at)} unless renewed"
    )


@contextmanager
def writer_lock(
    store: ObjectStore,
    *,
    kind: str,
    catalog: Catalog | None = None,
    lease: timedelta = LEASE,
    clock: Clock = _now,
) -> Iterator[Lease]:
    """Hold the warehouse's writer lock for a whole run of `kind` (transform, curate, offboard).

    While held, `catalog`'s commits check the lease first: a run whose lock was lost stops
    with LockLostError rather than commit. Taking the lock also removes temporary files that
    interrupted writes left in the store.
    """
    held = acquire(store, kind, lease=lease, clock=clock)
    held.start_heartbeat()
    try:
        store.remove_abandoned_writes(ABANDONED_WRITES_AFTER.total_seconds())
        with _fenced(catalog, held):
            yield held
    except BaseException:
        with suppress(StorageError):  # the run's own error matters more; the lock expires by itself
            held.release()
        raise
    held.release()


@contextmanager
def _fenced(catalog: Catalog | None, held: Lease) -> Iterator[None]:
    """Every Iceberg commit through `catalog` checks the lease first (pyiceberg commits a
    table through `table.catalog.commit_table`)."""
    if catalog is None:
        yield
        return
    commit = catalog.commit_table

    def fenced_commit(*args: object, **kwargs: object) -> object:
        held.check()
        return commit(*args, **kwargs)  # type: ignore[arg-type]

    outer = vars(catalog).get("commit_table")  # a lock already held on this catalog
    catalog.commit_table = fenced_commit  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        if outer is None:
            del catalog.commit_table
        else:
            catalog.commit_table = outer  # type: ignore[method-assign]
