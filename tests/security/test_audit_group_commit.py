"""Threads that share one audit log and append at once go to disk together: one chain, every
record on disk before its append returns, each thread given its own record, fewer fsyncs
than records, and an entry that cannot be sealed failing alone."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from audit_helper import audit_key, records

from practicelake.audit.log import AuditEntry, AuditLog, AuditLogError, AuditRecord, Verification, access_entry

THREADS = 12
EACH = 25


def entry(actor: str, number: int) -> AuditEntry:
    return access_entry(actor, ["staff"], ["P001"], sql="select 1", relations=["t"], rows=number, allowed=True)


def at_once(work: Callable[[int], None], threads: int = THREADS) -> None:
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def run(n: int) -> None:
        start.wait()
        try:
            work(n)
        except BaseException as exc:  # reported below, with the thread's own traceback
            failures.append(exc)

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert not worker.is_alive(), "an append never returned"
    assert not failures, failures


def test_one_log_shared_by_threads_keeps_one_chain_and_gives_each_its_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(tmp_path / "audit" / "audit.log", audit_key)
    syncs = [0]
    real_fsync = os.fsync

    def counted(fd: int) -> None:
        syncs[0] += 1
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counted)
    returned: dict[str, list[AuditRecord]] = {}

    def append(n: int) -> None:
        actor = f"user{n}"
        for number in range(EACH):
            record = log.append(entry(actor, number))
            on_disk = records(log)[record.seq - 1]  # on disk before append returned
            assert on_disk["hash"] == record.hash and on_disk["actor"] == actor
            returned.setdefault(actor, []).append(record)

    at_once(append)
    assert log.verify() == Verification(records=THREADS * EACH, problems=())
    written = records(log)
    assert [r["seq"] for r in written] == list(range(1, THREADS * EACH + 1))
    for actor, mine in returned.items():
        assert [r.details["rows"] for r in mine] == list(range(EACH))  # each thread's in its order
        assert [written[r.seq - 1]["actor"] for r in mine] == [actor] * EACH
    # Three fsyncs an append would be one per record for the log alone, and two for the anchor.
    assert syncs[0] < 3 * THREADS * EACH


def test_an_entry_that_cannot_be_sealed_fails_alone(tmp_path: Path) -> None:
    lock = threading.Lock()
    calls = [0]

    def clock() -> datetime:  # the 40th record sealed cannot be timed
        with lock:
            calls[0] += 1
            if calls[0] == 40:
                raise RuntimeError("no clock")
        return datetime.now(UTC)

    log = AuditLog(tmp_path / "audit" / "audit.log", audit_key, clock=clock)
    failed: list[str] = []

    def append(n: int) -> None:
        for number in range(10):
            try:
                log.append(entry(f"user{n}", number))
            except RuntimeError as exc:
                failed.append(str(exc))

    at_once(append)
    assert failed == ["no clock"]
    assert log.verify() == Verification(records=THREADS * 10 - 1, problems=())


def test_a_log_that_cannot_be_appended_to_refuses_every_waiting_thread(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit" / "audit.log", audit_key)
    log.append(entry("first", 0))
    log.anchor.unlink()  # a cut: no append may build on it
    refused: list[str] = []

    def append(n: int) -> None:
        for number in range(5):
            with pytest.raises(AuditLogError) as caught:
                log.append(entry(f"user{n}", number))
            refused.append(str(caught.value))

    at_once(append)
    assert len(refused) == THREADS * 5
    assert log.verify().records == 1
