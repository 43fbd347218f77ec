"""The query pool's queue: requests that wait for a process get it in the order they came."""

from __future__ import annotations

import threading
import time

from pyiceberg.catalog import Catalog

from practicelake.query import worker
from practicelake.query.pool import WorkerPool
from practicelake.query.session import Limits

WAITING = 6


def test_waiting_requests_are_served_in_the_order_they_came(catalog: Catalog) -> None:
    pool = WorkerPool(worker.CatalogSpec.of(catalog), Limits(), 2**20, size=1)
    served: list[int] = []
    try:
        held = pool._acquire("holder", 30.0)  # the only process, busy until released

        def wait_for_it(turn: int) -> None:
            found = pool._acquire(f"reader-{turn}", 30.0)
            served.append(turn)
            pool._release(found, f"reader-{turn}", sound=True)

        threads = []
        for turn in range(WAITING):
            thread = threading.Thread(target=wait_for_it, args=(turn,))
            thread.start()
            threads.append(thread)
            while len(pool._waiting) < turn + 1:  # in line before the next one comes
                time.sleep(0.005)
        pool._release(held, "holder", sound=True)
        for thread in threads:
            thread.join(timeout=60)
        assert served == list(range(WAITING))
    finally:
        pool.close()
