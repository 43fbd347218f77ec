"""The audit log: every data access and every administrative action, in a file that shows any
change made to it afterwards.

One record per line (JSON; the fields are in `audit_record`). Three things make it
tamper-evident:
- each record carries the hash of the record before it (`GENESIS` for the first), so records
  cannot be removed, inserted or moved without breaking the chain;
- each record's hash is signed with the audit key (HMAC-SHA256), so that someone who can
  rewrite the whole file, but does not hold the key, cannot make a chain that verifies;
- the anchor, a small file beside the log rewritten (and signed) after each append, holds the
  last record's number and hash, so records cut off the end show too.
`AuditLog.verify` reports every line that is wrong, and what is wrong with it. An append
refuses to go on when the end of the log does not match the anchor: a later record must not
paper over a cut.

Not caught: anyone holding the audit key; the log and its anchor both swapped for an older
copy of the pair, or both deleted. Keeping a copy of the anchor elsewhere catches those.

Who can read or write it: the log is a file in a folder of its own (0700, the files 0600) on
the machine that runs practicelake, outside the warehouse (`AuditLog.open` refuses a path
inside a local warehouse). The query service exposes only the relations it builds from the
curated zone for the reader's scope, with file and table functions, ATTACH and external
access off, so no dashboard-facing role can name, read or write the log. The operator reads
it with `practicelake audit show` and checks it with `practicelake audit verify`.

Appends are serialised across threads and processes by an exclusive `flock` on the log, and
are on disk (fsync) before `append` returns. Readers take a shared lock. The appends that
threads of one process make while another append is being written wait for it, then go to
disk together: one write, one fsync and one anchor for all of them (a group commit), so that
a busy server's readers are not queued behind one fsync each. Each still returns only once
its own record is on disk, and an append that fails fails alone when only its entry is at
fault.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import os
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from practicelake.audit.chain import ChainCheck, Problem, Verification
from practicelake.audit.record import (
    GENESIS,
    AuditDetailsError,
    AuditEntry,
    AuditRecord,
    access_entry,
    admin_entry,
    canonical,
    check_record,
    parse_record,
    seal,
    sign,
    sql_fingerprint,
    utc,
)
from practicelake.errors import PracticelakeError, SettingsError
from practicelake.settings import Settings

AuditKey = Callable[[], bytes]
"""Gives the audit key (at least 32 bytes); asked on every append and verify."""

MIN_KEY_BYTES = 32


class AuditLogError(PracticelakeError):
    """The audit log cannot be appended to or read as it stands: nothing was recorded."""


@dataclass(frozen=True)
class AuditFilter:
    """Which records `AuditLog.show` returns: every condition given must hold."""

    kind: str | None = None
    actor: str | None = None
    practice: str | None = None
    """Records whose practices include this one, or that concern every practice."""
    outcome: str | None = None
    since: datetime | None = None
    """Inclusive; a naive time is UTC."""
    until: datetime | None = None
    """Exclusive; a naive time is UTC."""
    last: int | None = None
    """Only the last N records that match."""

    def matches(self, record: AuditRecord) -> bool:
        return (
            (self.kind is None or record.kind == self.kind)
            and (self.actor is None or record.actor == self.actor)
            and (self.practice is None or record.practices is None or self.practice in record.practices)
            and (self.outcome is None or record.outcome == self.outcome)
            and (self.since is None or record.at >= utc(self.since))
            and (self.until is None or record.at < utc(self.until))
        )


class AuditLog:
    def __init__(
        self,
        path: Path,
        key: AuditKey,
        *,
        anchor: Path | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.path = path
        self.anchor = anchor or path.with_name(path.name + ".anchor")
        self._key_source = key
        self._clock = clock
        self._turn = threading.Condition()  # guards _waiting and _writing
        self._waiting: list[_Pending] = []
        self._writing = False

    @classmethod
    def open(cls, settings: Settings, key: AuditKey) -> AuditLog:
        path = settings.audit_log.absolute()
        for folder in settings.local_folders:
            if path.is_relative_to(folder):
                raise SettingsError(f"audit_log {path} is inside the lakehouse's data: put it outside {folder}")
        return cls(path, key)

    def append(self, entry: AuditEntry) -> AuditRecord:
        """Number, time, chain and sign `entry`, and have it on disk before returning.
        AuditLogError when the end of the log is damaged or does not match its anchor."""
        return self.append_all([entry])[0]

    def append_all(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """`append` for each of `entries`, in their order, in one write: all on disk before it
        returns. When one cannot be written, the others still are, and its error is raised."""
        mine = [_Pending(entry) for entry in entries]
        with self._turn:
            self._waiting.extend(mine)
            while self._writing and not all(p.done for p in mine):
                self._turn.wait()
            leading = not all(p.done for p in mine)
            if leading:  # this thread writes what is waiting, its own entries among them
                self._writing = True
                batch, self._waiting = self._waiting, []
        if leading:
            try:
                self._write(batch)
            finally:
                with self._turn:
                    self._writing = False
                    self._turn.notify_all()
        return [pending.outcome() for pending in mine]

    def _write(self, batch: list[_Pending]) -> None:
        """Seal and write the entries of `batch` in their order, in one write and one fsync,
        and settle each: its record, or what went wrong."""
        try:
            key = self._key()
            self._private_folder()
            fd = _open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # separate opens: excludes other threads too, not only processes
                mode = os.fstat(fd).st_mode & 0o777
                if mode & 0o077:
                    raise SettingsError(f"audit log {self.path} is open to others (mode {mode:o}): chmod 600 it")
                seq, prev = self._tail(fd, key)
                anchor = _read_anchor(self.anchor, _read_if_there(self.anchor), key)
                if (anchor is None and seq > 0) or (anchor is not None and _cut(anchor, seq, prev)):
                    raise AuditLogError(f"{self.path} does not end where its anchor says: run audit verify")
                sealed: list[tuple[_Pending, AuditRecord]] = []
                for pending in batch:
                    try:
                        record = seal(pending.entry, seq + 1, self._clock(), prev, key)
                    except Exception as exc:  # this entry alone is at fault
                        pending.settle(error=exc)
                        continue
                    seq, prev = record.seq, record.hash
                    sealed.append((pending, record))
                if sealed:
                    lines = b"".join((canonical(r.as_dict()) + "\n").encode("utf-8") for _, r in sealed)
                    while lines:
                        lines = lines[os.write(fd, lines) :]
                    os.fsync(fd)
                    self._write_anchor(key, seq, prev)
            finally:
                os.close(fd)
        except BaseException as exc:
            # An interrupt belongs to the thread it came to; the others hear their record is lost.
            lost = exc if isinstance(exc, Exception) else AuditLogError("the append was interrupted: nothing recorded")
            for pending in batch:
                if not pending.done:
                    pending.settle(error=lost)
            raise
        for pending, record in sealed:
            pending.settle(record=record)

    def verify(self) -> Verification:
        """Check every record, the chain and the anchor."""
        key = self._key()
        with self._reading() as (lines, anchor_bytes):
            try:
                anchor, anchor_problems = _read_anchor(self.anchor, anchor_bytes, key), []
            except AuditLogError as exc:
                anchor, anchor_problems = None, [Problem(None, None, str(exc))]
            chain = ChainCheck(key, anchor[0] if anchor else None)
            problems = [problem for number, raw in lines if (problem := chain.check(number, raw))]
        problems += anchor_problems + chain.end(anchor, anchor_bytes is not None)
        return Verification(records=chain.records, problems=tuple(problems))

    def show(self, filters: AuditFilter | None = None) -> list[AuditRecord]:
        """The records that match `filters`, oldest first. Does not verify: see `verify`."""
        filters = filters or AuditFilter()
        found: deque[AuditRecord] = deque(maxlen=filters.last)
        with self._reading() as (lines, _):
            for number, raw in lines:
                try:
                    record = parse_record(raw)
                except ValueError:
                    raise AuditLogError(
                        f"{self.path}: line {number} is not an audit record: run audit verify"
                    ) from None
                if filters.matches(record):
                    found.append(record)
        return list(found)

    def _key(self) -> bytes:
        key = self._key_source()
        if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
            raise SettingsError(f"the audit key must be at least {MIN_KEY_BYTES} bytes")
        return key

    def _private_folder(self) -> None:
        folder = self.path.parent
        if not folder.exists():
            try:
                folder.mkdir(parents=True, mode=0o700)
                os.chmod(folder, 0o700)  # mkdir's mode is cut by the umask
            except FileExistsError:
                pass  # another writer made it first
        mode = folder.stat().st_mode & 0o777
        if mode & 0o077:
            raise SettingsError(f"audit log folder {folder} is open to others (mode {mode:o}): chmod 700 it")

    @contextmanager
    def _reading(self) -> Iterator[tuple[Iterator[tuple[int, bytes]], bytes | None]]:
        """The log's lines and its anchor as they stood at one moment, taken under a shared
        lock (no append is seen half done); the lines are then read without holding up appends."""
        try:
            fd = _open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            yield iter(()), _read_if_there(self.anchor)
            return
        with os.fdopen(fd, "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            size, anchor = os.fstat(fd).st_size, _read_if_there(self.anchor)
            fcntl.flock(handle, fcntl.LOCK_UN)
            yield _lines(handle, size), anchor

    def _tail(self, fd: int, key: bytes) -> tuple[int, str]:
        """The last record's number and hash, once it is known to be whole and signed."""
        size = os.fstat(fd).st_size
        if size == 0:
            return 0, GENESIS
        chunk = 4096
        while True:
            start = max(0, size - chunk)
            data = os.pread(fd, size - start, start)
            cut = data.rfind(b"\n", 0, len(data) - 1)
            if cut >= 0 or start == 0:
                break
            chunk *= 4
        last, problem = check_record(data[cut + 1 :], key)
        if last is None or problem or not data.endswith(b"\n"):
            raise AuditLogError(f"{self.path}: its last line is damaged: run audit verify")
        return int(last["seq"]), str(last["hash"])

    def _write_anchor(self, key: bytes, seq: int, last_hash: str) -> None:
        body = {"seq": seq, "hash": last_hash}
        fd, tmp = tempfile.mkstemp(dir=self.anchor.parent, prefix=".audit-anchor-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(canonical(body | {"mac": sign(key, b"anchor\n", body)}))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.anchor)
        folder = os.open(self.anchor.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)  # the rename itself survives a crash
        finally:
            os.close(folder)


class _Pending:
    """An entry waiting for its turn on disk, then its record or what went wrong."""

    def __init__(self, entry: AuditEntry) -> None:
        self.entry = entry
        self.done = False
        self._record: AuditRecord | None = None
        self._error: BaseException | None = None

    def settle(self, record: AuditRecord | None = None, error: BaseException | None = None) -> None:
        self._record, self._error, self.done = record, error, True

    def outcome(self) -> AuditRecord:
        if self._error is not None:
            raise self._error
        if self._record is None:
            raise AuditLogError("the audit record was not written")
        return self._record


def _cut(anchor: tuple[int, str], seq: int, last_hash: str) -> bool:
    return anchor[0] > seq or (anchor[0] == seq and anchor[1] != last_hash)


def _lines(handle: BinaryIO, size: int) -> Iterator[tuple[int, bytes]]:
    """The lines in the first `size` bytes, numbered from 1."""
    read = 0
    for number, raw in enumerate(handle, start=1):
        if read >= size:
            return
        yield number, raw[: size - read]
        read += len(raw)


def _read_if_there(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _read_anchor(path: Path, content: bytes | None, key: bytes) -> tuple[int, str] | None:
    """The anchor's record number and hash; None when there is no anchor yet."""
    if content is None:
        return None
    try:
        loaded = json.loads(content)
    except ValueError:
        raise AuditLogError(f"anchor {path} is not valid JSON") from None
    if not isinstance(loaded, dict) or loaded.keys() != {"seq", "hash", "mac"} or type(loaded["seq"]) is not int:
        raise AuditLogError(f"anchor {path} is not an anchor")
    body = {"seq": loaded["seq"], "hash": loaded["hash"]}
    if not isinstance(loaded["mac"], str) or not hmac.compare_digest(loaded["mac"], sign(key, b"anchor\n", body)):
        raise AuditLogError(f"anchor {path} was written without the audit key")
    return loaded["seq"], str(loaded["hash"])


def _open(path: Path, flags: int) -> int:
    """Never through a symbolic link: the log cannot be redirected to another file."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if path.is_symlink():
            raise AuditLogError(f"{path} is a symbolic link: the audit log must be a plain file") from exc
        raise


__all__ = [
    "GENESIS",
    "AuditDetailsError",
    "AuditEntry",
    "AuditFilter",
    "AuditKey",
    "AuditLog",
    "AuditLogError",
    "AuditRecord",
    "Problem",
    "Verification",
    "access_entry",
    "admin_entry",
    "sql_fingerprint",
]
