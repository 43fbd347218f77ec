"""The watchdog that stops queries past their time: each deadline stops its own query, in
the order they fall due, and a deadline taken back stops nothing, even when it was the next."""

from __future__ import annotations

import threading
from functools import partial

from practicelake.query.watchdog import Watchdog


def test_deadlines_stop_in_the_order_they_fall_due_and_a_cancelled_one_never() -> None:
    watchdog = Watchdog()
    stopped: list[str] = []
    done = threading.Event()

    def late() -> None:
        stopped.append("late")
        done.set()

    watchdog.watch(0.3, late)
    cancelled = watchdog.watch(0.05, lambda: stopped.append("cancelled"))
    watchdog.watch(0.1, lambda: stopped.append("early"))
    watchdog.cancel(cancelled)
    assert done.wait(30)
    assert stopped == ["early", "late"]


def test_a_cancel_that_returns_means_no_stop_comes_after() -> None:
    watchdog = Watchdog()
    stopped: list[int] = []
    for number in range(200):
        watchdog.cancel(watchdog.watch(0.0, partial(stopped.append, number)))
    final = len(stopped)
    done = threading.Event()
    watchdog.watch(0.01, done.set)
    assert done.wait(30)  # every deadline before it is past: a stop not cancelled in time has come
    assert len(stopped) == final  # and none came after its cancel returned
