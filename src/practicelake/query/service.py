"""The one read path for people: `QueryService.run(sql, scope)`. The scope is applied when each
curated table is loaded into the session (only the scope's practices' rows are read); the
reader's SQL is checked by the guard and runs in a locked session.

Every curated table is read as the last completed curate left it (curate.snapshots), never
at its current snapshot: a query that reads several tables sees them all from one run, even
while a curate commits them one by one, or after one died part-way. A table no completed
curate recorded is not served.

One service is shared by every reader, so no query may harm another. Queries are checked and
run in query processes (query.worker, query.pool), never in the serving process: a query
that needs too much memory or time loses only its own process, which is replaced. Limits,
with the defaults:
- query text: 100,000 characters, 20,000 tokens, 32 levels of nesting (query.guard);
- functions that build values of a given size: sizes up to 10,000, as literals (query.functions);
- per query: 30 s (guard, load and run; the process is killed 2 s after), 100,000 rows and
  128 MiB of result, 1 GB of DuckDB memory (query.session);
- per query process: 4 GiB of address space (RLIMIT_AS), CPU time per query of the time limit
  for each thread plus 5 s (RLIMIT_CPU), 512 MiB of rows held by its sessions (one per
  scope, at most 256);
- two query processes (`workers`), of which one reader's scope holds at most one at a time.
The serving process holds no rows but the results in flight: its budget is about 0.3 GiB plus
those (0.2 GiB at its peak through the abuse tests). Beside it run its zygote (about 0.15 GiB
resident, mostly shared with the query processes it forks) and each query process, within
its address space (about 0.17 GiB resident when idle, plus the rows its sessions hold)."""

from __future__ import annotations

import hashlib
import pickle
import threading
import time
import weakref
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pyarrow as pa
from pyiceberg.catalog import Catalog

from practicelake.curate.snapshots import Pin, pinned
from practicelake.query import guard, worker
from practicelake.query.errors import QueryError, QueryFailed, Reason
from practicelake.query.pool import Reply, WorkerPool
from practicelake.query.scope import Scope
from practicelake.query.session import Limits

ZONE = "curated"
CACHE_BYTES = 512 * 1024 * 1024
WORKERS = 2
CHECKED_QUERIES = 512  # the guard's verdicts kept, by query text and relations
RESULT_BYTES = 64 * 1024 * 1024  # answers kept, in all
LARGEST_KEPT = 1024 * 1024  # an answer larger than this is not kept
HELD_SHARE = 0.75  # of a query process's session budget that warming up may fill
CHECKS = "guard verdicts"  # the owner of requests that only ask the guard

# (the query text's digest, the scope, (relation, pinned snapshot) of what it reads, the digest
# of its parameters): an answer is only ever given again to the same scope.
AnswerKey = tuple[bytes, Scope, tuple[tuple[str, int | None], ...], bytes]

__all__ = ["CACHE_BYTES", "QueryService", "ServiceStats"]


@dataclass(frozen=True)
class ServiceStats:
    """What a service has done since it was made."""

    queries: int
    refused: int
    """Queries refused or failed, for any reason."""
    scanned: Mapping[str, int]
    """How many times each curated table was read from Iceberg (not from a process's cache)."""
    sessions_opened: int
    workers_started: int
    workers_replaced: int
    """Query processes killed or lost (a query past its limits) and started again."""
    answered_again: int = 0
    """Queries answered from an earlier answer: the same text, parameters and scope over the
    same pinned snapshots, without a query process."""


class QueryService:
    """Readers' SQL over the curated zone, each reader within their scope. One instance can be
    shared by threads. Its query processes keep each table's scoped rows per pinned snapshot,
    the guard's verdict per query text and a locked session per scope, so that
    a dashboard's repeated queries cost their execution only; a scope's queries go back to the
    process that served it last when it is free. Answers up to LARGEST_KEPT are kept here (up
    to RESULT_BYTES in all) by query text, parameters, scope and the pinned snapshots the query
    reads: the same question over the same snapshots is answered again without a query process
    (and is still audited by the reader, like any read). It reads the pins again after
    `freshness_seconds`: a completed curate is served at most that much later.

    `cache_bytes` is per query process; `workers` is how many query processes run at most
    (an addition: the other arguments are as they were)."""

    def __init__(
        self,
        catalog: Catalog,
        limits: Limits | None = None,
        cache_bytes: int = CACHE_BYTES,
        freshness_seconds: float = 1.0,
        workers: int = WORKERS,
    ) -> None:
        self.catalog = catalog
        self.limits = limits or Limits()
        self.cache_bytes = cache_bytes
        self.freshness_seconds = freshness_seconds
        self._pool = WorkerPool(worker.CatalogSpec.of(catalog), self.limits, cache_bytes, workers)
        self._verdicts: OrderedDict[tuple[bytes, frozenset[str]], frozenset[str] | None] = OrderedDict()
        self._pins: tuple[float, dict[str, Pin]] = (-1e18, {})
        self._lock = threading.Lock()
        self._queries = self._refused = self._opened = 0
        self._scanned: Counter[str] = Counter()
        self._answers: OrderedDict[AnswerKey, pa.Table] = OrderedDict()
        self._answer_bytes = self._again = 0
        self._closed = False
        # Also at exit: a query process must not outlive the service.
        weakref.finalize(self, self._pool.close)

    def close(self) -> None:
        """Stop the query processes (also done when the service is collected, or at exit) and
        forget the kept answers: a closed service answers nothing."""
        with self._lock:
            self._closed = True
            self._answers.clear()
            self._answer_bytes = 0
        self._pool.close()

    def __enter__(self) -> QueryService:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def relations(self) -> list[str]:
        """The curated tables a query may read, by plain name (`visits`, not `curated.visits`):
        those the last completed curate recorded."""
        return sorted(self._pinned())

    def run(self, sql: str, scope: Scope, parameters: Mapping[str, object] | None = None) -> pa.Table:
        """`sql` over the relations `scope` shows, as it shows them. `parameters` fill `$name`
        placeholders (a dashboard's date range, say): bound by DuckDB, never written into the SQL."""
        with self._lock:
            self._queries += 1
        try:
            guard.check_size(sql)  # before the text is hashed, copied or sent
            names = frozenset(self._visible(scope))
            pins = self._pinned()
            wanted = set(names)
            chosen = {name: pins[name] for name in sorted(wanted) if name in pins}
            request = worker.Run(sql, names, scope, chosen, dict(parameters or {}))
            key = self._answer_key(request)
            kept = self._answer(key)
            if kept is not None:
                return kept
            try:
                reply = self._pool.call(scope, request, self.limits.seconds)
            except BaseException:
                # No verdict came back: `reads` must not ask again (and wait, or spin, again).
                self._remember(sql, names, None)
                raise
            self._account(sql, names, reply)
            error = reply.error()
            if error is not None:
                raise error
            if reply.table is None:
                raise QueryFailed("the query process sent no rows", Reason.STOPPED)
            self._keep(self._answer_key(request) if key is None else key, reply.table)
            return reply.table
        except BaseException:
            with self._lock:
                self._refused += 1
            raise

    def warm(self, queries: Iterable[str] = (), relations: Iterable[Iterable[str]] = ()) -> int:
        """Start the query processes now and have each plan every curated table's files and
        check `queries` over each set of `relations` (what readers are known to send), so that
        the first readers wait for none of it. How many processes it started; the verdicts of
        the texts allowed are kept, as if those queries had been asked. Safe to call from a thread of its own."""
        texts = tuple(dict.fromkeys(queries))
        sets = tuple(dict.fromkeys(frozenset(names) for names in relations))
        for sql in texts:
            guard.check_size(sql)
        replies = self._pool.fill(worker.Warm(self._pinned(), texts, sets))
        for reply in replies[:1]:  # each process checked the same texts
            verdicts = reply.header.get("verdicts")
            if not isinstance(verdicts, list) or len(verdicts) != len(texts) * len(sets):
                continue
            for index, reads in enumerate(verdicts):
                if isinstance(reads, list):  # a refused text is left to be refused when it is sent
                    self._remember(texts[index % len(texts)], sets[index // len(texts)], frozenset(map(str, reads)))
        return len(replies)

    def hold(self, scopes: Iterable[Scope], share: float = HELD_SHARE) -> int:
        """Read each scope's relations that show one practice's rows into a query process's
        session for it, in order, until a process's sessions hold `share` of their budget (so
        that what is held stays held): the first query of each scope then runs over rows already
        read. Relations over several or every practice are left to be read when used. No query
        runs and no row leaves the query processes. How many scopes are held."""
        held = 0
        for scope in dict.fromkeys(scopes):
            pins = self._pinned()
            names = tuple(name for name in self._visible(scope) if name in pins and _one_practice(scope, name))
            if not names:
                continue
            try:
                reply = self._pool.call(scope, worker.Hold(names, scope, pins), self.limits.seconds)
            except QueryError:
                return held
            used, budget = reply.header.get("held"), reply.header.get("budget")
            self._account_scans(reply)
            if reply.header.get("ok") is True:
                held += 1
            if not isinstance(used, int) or not isinstance(budget, int) or used >= share * budget:
                return held
        return held

    def reads(self, sql: str, relations: list[str]) -> list[str]:
        """The relations among `relations` that `sql` reads; none if the guard refuses it (or
        cannot tell)."""
        try:
            guard.check_size(sql)
            names = frozenset(relations)
            known, found = self._remembered(sql, names)
            if not known:
                reply = self._pool.call(CHECKS, worker.Check(sql, names), self.limits.seconds)
                self._account(sql, names, reply)
                known, found = self._remembered(sql, names)
        except Exception:
            return []
        return sorted(name for name in relations if found is not None and name.lower() in found)

    def stats(self) -> ServiceStats:
        with self._lock:
            return ServiceStats(
                queries=self._queries,
                refused=self._refused,
                scanned=dict(self._scanned),
                sessions_opened=self._opened,
                workers_started=self._pool.started,
                workers_replaced=self._pool.replaced,
                answered_again=self._again,
            )

    def _visible(self, scope: Scope) -> list[str]:
        return [name for name in self.relations() if scope.view(name) is not None]

    def _account(self, sql: str, names: frozenset[str], reply: Reply) -> None:
        """Keep the guard's verdict (for `reads`) and what the query process did."""
        reads = reply.header.get("reads")
        self._remember(sql, names, frozenset(str(r) for r in reads) if isinstance(reads, list) else None)
        self._account_scans(reply)

    def _account_scans(self, reply: Reply) -> None:
        with self._lock:
            scanned = reply.header.get("scanned")
            if isinstance(scanned, list):
                self._scanned.update(str(name) for name in scanned)
            opened = reply.header.get("opened")
            self._opened += opened if isinstance(opened, int) else 0

    def _remember(self, sql: str, names: frozenset[str], verdict: frozenset[str] | None) -> None:
        key = (_digest(sql), names)
        with self._lock:
            self._verdicts[key] = verdict
            self._verdicts.move_to_end(key)
            while len(self._verdicts) > CHECKED_QUERIES:
                self._verdicts.popitem(last=False)

    def _remembered(self, sql: str, names: frozenset[str]) -> tuple[bool, frozenset[str] | None]:
        """Whether the guard was asked about `sql`, and the relations it said `sql` reads (None:
        it refused, or no verdict came back)."""
        key = (_digest(sql), names)
        with self._lock:
            if key not in self._verdicts:
                return False, None
            self._verdicts.move_to_end(key)
            return True, self._verdicts[key]

    def _answer_key(self, request: worker.Run) -> AnswerKey | None:
        """What makes an answer the same: the query text, its parameters, the scope, and the
        pinned snapshot of each relation the guard said it reads (None: not yet asked)."""
        known, reads = self._remembered(request.sql, request.relations)
        if not known or reads is None:
            return None
        pins = sorted((name, request.pins[name].snapshot_id) for name in request.pins if name.lower() in reads)
        try:
            values = pickle.dumps(sorted(request.parameters.items()))
        except Exception:
            return None
        return (_digest(request.sql), request.scope, tuple(pins), hashlib.sha256(values).digest())

    def _answer(self, key: AnswerKey | None) -> pa.Table | None:
        with self._lock:
            if key is None or self._closed:
                return None
            table = self._answers.get(key)
            if table is not None:
                self._answers.move_to_end(key)
                self._again += 1
            return table

    def _keep(self, key: AnswerKey | None, table: pa.Table) -> None:
        if key is None or table.nbytes > LARGEST_KEPT:
            return
        with self._lock:
            if key in self._answers or self._closed:
                return
            self._answers[key] = table
            self._answer_bytes += table.nbytes
            while self._answer_bytes > RESULT_BYTES:
                self._answer_bytes -= self._answers.popitem(last=False)[1].nbytes

    def _pinned(self) -> dict[str, Pin]:
        seen_at, pins = self._pins
        if time.monotonic() - seen_at > self.freshness_seconds:
            pins = pinned(self.catalog)
            self._pins = (time.monotonic(), pins)
        return pins


def _one_practice(scope: Scope, name: str) -> bool:
    view = scope.view(name)
    return view is not None and view.practices is not None and len(view.practices) == 1


def _digest(sql: str) -> bytes:
    return hashlib.sha256(sql.encode("utf-8", "surrogatepass")).digest()
