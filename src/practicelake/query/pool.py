"""The query processes behind one QueryService, seen from the process that serves readers.

At most `size` query processes (query.worker), started on first need by the zygote
(query.zygote), so that no process that runs DuckDB or Arrow threads is ever forked. Each
answers one request at a time.

A request waits at most the query's time limit for a process (then QueryBusy), and one owner
(a reader's scope) holds at most `size - 1` processes at once (all of them when `size` is 1),
so one reader's queries, however many and however slow, leave a process for the others. Its
reply is awaited for the time limit plus GRACE_SECONDS; a process that has not answered by
then is killed. A process that dies, is killed, sends what is not a reply, or retires after
running out of memory is replaced by a fresh one at the next request; its query is refused
(time, memory, or a stopped process) and no other request sees the difference.

The serving process's own memory is its code, the pins and verdicts, and the results in
flight: a reply is read only up to `Limits.result_bytes`."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import select
import signal
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

import pyarrow as pa

from practicelake.query import worker
from practicelake.query.errors import QueryBusy, QueryError, QueryFailed, QueryRefused, Reason
from practicelake.query.session import Limits
from practicelake.query.zygote import zygote

START_SECONDS = 60.0  # a query process that is not ready by then is not coming
GRACE_SECONDS = 2.0  # beyond the time limit, for DuckDB's interrupt to come back
STOP_SECONDS = 5.0
HEADER_BYTES = 1024 * 1024
AFFINITY = 64  # owners a process remembers serving, to send them back to their cached rows
ERRORS: dict[str, type[QueryError]] = {"QueryRefused": QueryRefused, "QueryFailed": QueryFailed}


@dataclass
class Reply:
    """A query process's answer: its header (JSON) and, for rows, the table."""

    header: dict[str, Any]
    table: pa.Table | None = None

    def error(self) -> QueryError | None:
        if self.header.get("ok"):
            return None
        kind = ERRORS.get(str(self.header.get("error")), QueryFailed)
        try:
            reason = Reason(str(self.header.get("reason")))
        except ValueError:
            reason = Reason.FAILED
        return kind(str(self.header.get("message", "the query could not be run")), reason)


@dataclass
class _Process:
    pid: int
    pidfd: int | None
    """Watches and signals this very process, even after its pid is reused; None: it is gone."""
    conn: Connection
    owners: OrderedDict[Hashable, None] = field(default_factory=OrderedDict)


@dataclass
class _Waiting:
    """A request waiting for a process; `turn` is signalled when it may be next."""

    owner: Hashable
    turn: threading.Condition


class Stopped(Exception):
    """The query process is gone or not to be trusted: why, for the reader."""

    def __init__(self, refusal: QueryError) -> None:
        super().__init__(str(refusal))
        self.refusal = refusal


class WorkerPool:
    def __init__(self, catalog: worker.CatalogSpec, limits: Limits, cache_bytes: int, size: int) -> None:
        if size < 1:
            raise ValueError("a query service needs at least one query process")
        self.catalog = catalog
        self.limits = limits
        self.cache_bytes = cache_bytes
        self.size = size
        self.share = max(1, size - 1)
        self.started = 0
        self.replaced = 0
        self._idle: list[_Process] = []
        self._busy: Counter[Hashable] = Counter()
        self._starting = 0
        self._running = 0
        self._closed = False
        self._lock = threading.Lock()
        self._waiting: list[_Waiting] = []  # in the order the requests came
        zygote()  # started now, so that its imports overlap with whatever comes before the first query

    def call(self, owner: Hashable, request: worker.Check | worker.Run | worker.Hold, seconds: float) -> Reply:
        """Send `request` to a query process on behalf of `owner`; its reply within `seconds`
        (plus the grace), else QueryRefused."""
        try:
            message = pickle.dumps(request)
        except Exception:
            raise QueryFailed("the query's parameters cannot be sent to DuckDB", Reason.PARAMETER) from None
        found = self._acquire(owner, seconds)
        sound = False
        try:
            reply = self._exchange(found, message, seconds + GRACE_SECONDS)
            sound = not reply.header.get("retire")
            return reply
        except Stopped as stopped:
            raise stopped.refusal from None
        finally:
            self._release(found, owner, sound)

    def fill(self, warm: worker.Warm) -> list[Reply]:
        """Start every query process not yet running, each given `warm` before any reader's
        request; the replies of those that started. A process that cannot start or warm up is
        left out: the next request starts one as it would have."""
        replies: list[Reply] = []
        message = pickle.dumps(warm)
        while True:
            with self._lock:
                if self._closed or self._running + self._starting >= self.size:
                    return replies
                self._starting += 1
            found: _Process | None = None
            reply: Reply | None = None
            try:
                found = self._start()
                reply = self._exchange(found, message, self.limits.seconds + GRACE_SECONDS)
            except (QueryError, Stopped):
                pass
            warmed = found is not None and reply is not None and reply.header.get("ok") is True
            with self._lock:
                self._starting -= 1
                kept = warmed and not self._closed
                if kept:
                    assert found is not None and reply is not None
                    self._running += 1
                    self._idle.append(found)
                    replies.append(reply)
                self._wake_next()
            if not kept:
                if found is not None:
                    _stop(found, kill=not warmed)
                return replies

    def close(self) -> None:
        """Stop the idle processes now, and each busy one when its request ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            for waiting in self._waiting:
                waiting.turn.notify()
        for found in idle:
            _stop(found, kill=False)

    def _acquire(self, owner: Hashable, seconds: float) -> _Process:
        """A process for `owner`: requests are served in the order they came, each owner within
        its share; only the request next in line is woken (not every waiting one)."""
        deadline = time.monotonic() + seconds
        waiting = _Waiting(owner, threading.Condition(self._lock))
        with self._lock:
            self._waiting.append(waiting)
            try:
                while True:
                    if self._closed:
                        raise QueryFailed("the query service is closed", Reason.UNAVAILABLE)
                    if self._next_in_line() is waiting:
                        taken = self._take(owner)
                        if isinstance(taken, _Process):
                            return taken
                        if taken:
                            break  # room for a new process: started below, outside the lock
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise QueryBusy(
                            f"every query process stayed busy for {seconds:g} s: try again shortly", Reason.BUSY
                        )
                    waiting.turn.wait(left)
            finally:
                self._waiting.remove(waiting)
                self._wake_next()
        try:
            started = self._start()
        except BaseException:
            with self._lock:
                self._starting -= 1
                self._busy[owner] -= 1
                if self._busy[owner] <= 0:
                    del self._busy[owner]
                self._wake_next()
            raise
        with self._lock:
            self._starting -= 1
            self._running += 1
        return started

    def _next_in_line(self) -> _Waiting | None:
        """The first waiting request whose owner may hold another process."""
        return next((w for w in self._waiting if self._busy[w.owner] < self.share), None)

    def _take(self, owner: Hashable) -> _Process | bool:
        """For `owner`: the process that served it last (its rows are held there), else True if
        a new one may start, else the idle one that served the fewest others; False: none."""
        chosen = _affine(self._idle, owner)
        if chosen is None and self._running + self._starting < self.size:
            self._starting += 1
            self._busy[owner] += 1
            return True
        if chosen is None and self._idle:
            chosen = min(self._idle, key=lambda found: len(found.owners))
        if chosen is None:
            return False
        self._idle.remove(chosen)
        self._busy[owner] += 1
        return chosen

    def _wake_next(self) -> None:
        following = self._next_in_line()
        if following is not None:
            following.turn.notify()

    def _release(self, found: _Process, owner: Hashable, sound: bool) -> None:
        with self._lock:
            self._busy[owner] -= 1
            if self._busy[owner] <= 0:
                del self._busy[owner]
            keep = sound and not self._closed
            if keep:
                found.owners[owner] = None
                found.owners.move_to_end(owner)
                while len(found.owners) > AFFINITY:
                    found.owners.popitem(last=False)
                self._idle.append(found)
            else:
                self._running -= 1
                if not sound:
                    self.replaced += 1
            self._wake_next()
        if not keep:
            _stop(found, kill=not sound)

    def _start(self) -> _Process:
        cannot = QueryFailed("a query process could not start", Reason.UNAVAILABLE)
        try:
            pid, sock = zygote().fork()
        except OSError:
            raise cannot from None
        try:
            pidfd: int | None = os.pidfd_open(pid)
        except OSError:
            pidfd = None
        found = _Process(pid, pidfd, Connection(sock.detach()))
        try:
            found.conn.send_bytes(pickle.dumps((self.catalog, self.limits, self.cache_bytes)))
            ready = json.loads(self._receive(found, time.monotonic() + START_SECONDS, HEADER_BYTES))
            if not isinstance(ready, dict) or ready.get("ready") is not True:
                raise ValueError("not ready")
        except (Stopped, EOFError, OSError, ValueError):
            _stop(found, kill=True)
            raise cannot from None
        with self._lock:
            self.started += 1
        return found

    def _exchange(self, found: _Process, message: bytes, seconds: float) -> Reply:
        deadline = time.monotonic() + seconds
        try:
            found.conn.send_bytes(message)
            header = json.loads(self._receive(found, deadline, HEADER_BYTES))
            if not isinstance(header, dict):
                raise ValueError("not a reply")
            size = int(header.get("bytes") or 0)
            if not 0 <= size <= self.limits.result_bytes * 2:
                raise ValueError("a reply larger than a result may be")
            if not size:
                return Reply(header)
            table = pa.ipc.open_stream(pa.py_buffer(self._receive(found, deadline, size))).read_all()
            table.validate(full=True)
            return Reply(header, table)
        except Stopped:
            raise
        except (EOFError, OSError, ValueError, TypeError, pa.ArrowException):
            raise Stopped(_lost()) from None

    def _receive(self, found: _Process, deadline: float, most: int) -> bytes:
        # The socket is the query process's only end: it reads as closed once the process is gone.
        if wait([found.conn], max(0.0, deadline - time.monotonic())):
            return found.conn.recv_bytes(most)
        raise Stopped(QueryRefused(f"the query ran longer than {self.limits.seconds:g} s and was stopped", Reason.TIME))


def _affine(idle: list[_Process], owner: Hashable) -> _Process | None:
    for found in reversed(idle):
        if owner in found.owners:
            return found
    return None


def _lost() -> QueryError:
    return QueryRefused(
        "the query stopped the process that ran it: it needed more memory or time than a query may use",
        Reason.STOPPED,
    )


def _stop(found: _Process, *, kill: bool) -> None:
    """Ask the process to stop (or kill it: one that may be running a query), and wait for it."""
    if not kill:
        with contextlib.suppress(OSError, ValueError):
            found.conn.send_bytes(pickle.dumps(None))
        kill = not _ended(found, STOP_SECONDS)
    if kill and found.pidfd is not None:
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(found.pidfd, signal.SIGKILL)
        _ended(found, STOP_SECONDS)
    found.conn.close()
    if found.pidfd is not None:
        os.close(found.pidfd)
        found.pidfd = None


def _ended(found: _Process, seconds: float) -> bool:
    """Whether the process is gone, waiting up to `seconds` for it."""
    if found.pidfd is None:
        return True
    readable, _, _ = select.select([found.pidfd], [], [], seconds)
    return bool(readable)
