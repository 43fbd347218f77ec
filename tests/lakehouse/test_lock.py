"""The warehouse's writer lock, on a local folder and on S3: refused while held, taken over
once expired or once its holder's process ended, by exactly one of several contenders; a
holder that lost it stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from practicelake.errors import LockedError, LockLostError
from practicelake.lakehouse.holder import Record
from practicelake.lakehouse.lock import KEY, LEASE, Lease, acquire, current, writer_lock
from practicelake.settings import Settings
from practicelake.storage import ObjectStore, open_store

LOCKED = (
    r"^the warehouse is locked by (transform|curate) on \S+ \(pid \d+\) since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC;"
    r" the lock expires at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC unless renewed$"
)


def left_by_a_dead_holder(store: ObjectStore, *, expires_in: timedelta) -> Record:
    """A lock record as a holder on another machine would have left it."""
    now = datetime.now(UTC)
    record = Record(
        holder="0" * 32,
        kind="curate",
        host="elsewhere",
        pid=4242,
        acquired_at=(now - timedelta(hours=1)).isoformat(),
        expires_at=(now + expires_in).isoformat(),
    )
    assert store.put_new(KEY, json.dumps(asdict(record)).encode())
    return record


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(settings: Settings, tmp_path: Path) -> None:
    first = open_store(settings)
    # Another state folder, another store object: only the warehouse is shared.
    elsewhere = open_store(settings.model_copy(update={"state_dir": tmp_path / "other-state"}))
    with writer_lock(first, kind="transform"):
        with pytest.raises(LockedError, match=LOCKED) as refused, writer_lock(elsewhere, kind="curate"):
            pytest.fail("two writers held the lock")
        assert f"(pid {os.getpid()})" in str(refused.value)
    with writer_lock(elsewhere, kind="curate") as lease:
        assert lease.record.kind == "curate"
    assert current(first) is None  # released: a free warehouse holds no lock object


def test_an_expired_lock_is_taken_over(settings: Settings) -> None:
    store = open_store(settings)
    left_by_a_dead_holder(store, expires_in=-timedelta(seconds=1))
    with writer_lock(store, kind="transform") as lease:
        assert current(store) == (lease.record, lease.version)
        assert lease.record.pid == os.getpid()
    assert current(store) is None


def test_an_unexpired_lock_of_another_machine_is_respected(settings: Settings) -> None:
    store = open_store(settings)
    left = left_by_a_dead_holder(store, expires_in=timedelta(minutes=2))
    with pytest.raises(LockedError, match=r"locked by curate on elsewhere \(pid 4242\)"):
        acquire(store, "transform")
    held = current(store)
    assert held is not None and held[0] == left


def test_a_killed_holder_on_this_machine_frees_the_lock_at_once(local: Settings) -> None:
    store = open_store(local)
    holding = (
        "import sys, time\n"
        "from practicelake.lakehouse.lock import acquire\n"
        "from practicelake.storage.local import LocalStore\n"
        "acquire(LocalStore(sys.argv[1]), 'transform')\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", holding, local.warehouse_uri],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None and child.stdout.readline() == "held\n"
            with pytest.raises(LockedError, match=rf"\(pid {child.pid}\)"):
                acquire(store, "curate")
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
    left = current(store)
    assert left is not None and not left[0].expired(datetime.now(UTC))  # its lease has not run out
    lease = acquire(store, "curate")
    assert lease.record.pid == os.getpid()
    lease.release()


def test_of_two_contenders_for_an_expired_lock_exactly_one_wins(settings: Settings) -> None:
    store = open_store(settings)
    left_by_a_dead_holder(store, expires_in=-timedelta(seconds=1))
    contenders = 6
    start = threading.Barrier(contenders)
    outcomes: list[Lease | LockedError] = []

    def contend() -> None:
        start.wait()
        try:
            outcomes.append(acquire(open_store(settings), "transform"))
        except LockedError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=contend) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if isinstance(o, Lease)]
    assert len(outcomes) == contenders and len(winners) == 1
    assert current(store) == (winners[0].record, winners[0].version)
    winners[0].release()


def test_renewal_extends_the_lease(settings: Settings) -> None:
    store = open_store(settings)
    lease = acquire(store, "transform")
    first, version = lease.record, lease.version
    lease.renew()
    assert current(store) == (lease.record, lease.version) and lease.version != version
    assert lease.record.expires_at > first.expires_at
    assert replace(lease.record, expires_at=first.expires_at) == first
    lease.check()
    lease.release()
    assert current(store) is None
    with pytest.raises(LockLostError, match="released"):
        lease.check()


def test_a_holder_whose_lock_was_taken_over_stops(settings: Settings) -> None:
    store = open_store(settings)
    later = datetime.now(UTC) + LEASE + timedelta(minutes=1)  # as a run would see it, had nobody renewed
    with writer_lock(store, kind="transform") as held:
        taker = acquire(open_store(settings), "curate", clock=lambda: later)
        for stopped in (held.check, held.renew):
            with pytest.raises(LockLostError, match=r"was taken over by curate on \S+ \(pid \d+\)"):
                stopped()
    # Leaving the lock it lost did not release the new holder's.
    assert current(store) == (taker.record, taker.version)


def test_a_lease_not_renewed_in_time_stops_its_holder(settings: Settings) -> None:
    now = [datetime.now(UTC)]
    lease = acquire(open_store(settings), "transform", clock=lambda: now[0])
    now[0] += LEASE / 2
    lease.check()  # half the lease left: still held
    now[0] += LEASE / 4
    with pytest.raises(LockLostError, match="could not be renewed"):
        lease.check()


def test_the_heartbeat_renews_a_held_lock(settings: Settings) -> None:
    store = open_store(settings)
    with writer_lock(store, kind="transform", lease=timedelta(seconds=3)) as held:
        first, never = held.version, threading.Event()
        for _ in range(600):  # a beat every half second: looks for one up to a minute, then fails
            if held.version != first:
                break
            never.wait(0.1)
        assert held.version != first and current(store) == (held.record, held.version)
    assert current(store) is None
