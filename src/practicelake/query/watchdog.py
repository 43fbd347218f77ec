"""One thread per process that stops what runs past its time: each query gives it a deadline
and what to call then, and takes the deadline back when it ends (query.session). One thread
for every query, rather than a timer thread started per query."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable


class Watchdog:
    def __init__(self) -> None:
        self._due: list[tuple[float, int]] = []
        self._pending: dict[int, Callable[[], None]] = {}
        self._numbers = itertools.count()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, seconds: float, stop: Callable[[], None]) -> int:
        """Call `stop` in `seconds` unless `cancel` is given the number returned first."""
        number = next(self._numbers)
        with self._changed:
            self._pending[number] = stop
            heapq.heappush(self._due, (time.monotonic() + seconds, number))
            if self._thread is None or not self._thread.is_alive():  # a forked child has none running
                self._thread = threading.Thread(target=self._keep, name="practicelake-watchdog", daemon=True)
                self._thread.start()
            self._changed.notify()
        return number

    def cancel(self, number: int) -> None:
        """Once this returns, `number`'s `stop` is not called, or has been."""
        with self._changed:
            self._pending.pop(number, None)

    def _keep(self) -> None:
        with self._changed:
            while True:
                while self._due and self._due[0][1] not in self._pending:
                    heapq.heappop(self._due)
                if not self._due:
                    self._changed.wait()
                    continue
                left = self._due[0][0] - time.monotonic()
                if left > 0:
                    self._changed.wait(left)
                    continue
                # stopped under the lock: a query that has ended is never stopped after it
                self._pending.pop(heapq.heappop(self._due)[1])()


WATCHDOG = Watchdog()
