"""The chunk reader runs ahead in a thread: its errors reach the caller, and it stops with it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from practicelake.clean.transform import prefetched


def chunks(n: int, fail_at: int | None = None) -> Iterator[Any]:
    for i in range(n):
        if i == fail_at:
            raise OSError(f"cannot read chunk {i}")
        yield [i]


def test_chunks_arrive_in_order() -> None:
    assert list(prefetched(chunks(5))) == [[0], [1], [2], [3], [4]]


def test_a_reader_error_is_raised_in_the_caller() -> None:
    received = []
    with pytest.raises(OSError, match="cannot read chunk 2"):
        for chunk in prefetched(chunks(5, fail_at=2)):
            received.append(chunk)
    assert received == [[0], [1]]


def test_stopping_early_stops_the_reader() -> None:
    consumer = prefetched(chunks(1000))
    assert next(consumer) == [0]
    consumer.close()  # returns only once the reader thread has ended


def test_the_reader_runs_at_most_one_chunk_ahead() -> None:
    produced = []

    def counted(n: int) -> Iterator[Any]:
        for i in range(n):
            produced.append(i)
            yield [i]

    consumer = prefetched(counted(10))
    for taken, chunk in enumerate(consumer, start=1):
        time.sleep(0.02)  # time enough for a reader that is not held back to read on
        assert len(produced) <= taken + 1, (chunk, produced)
    assert produced == list(range(10))
