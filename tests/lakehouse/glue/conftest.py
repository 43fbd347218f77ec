"""One recording moto server (S3 and Glue on 127.0.0.1) for the Glue suite, started and
stopped by it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from glue_lake import RecordingMotoServer


@pytest.fixture(scope="session")
def moto_server() -> Iterator[RecordingMotoServer]:
    server = RecordingMotoServer()
    server.start()
    yield server
    server.stop()
