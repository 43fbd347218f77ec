"""A view of several reads (`Reader.together`): each read has its record, allowed or denied,
the records go onto the log in one write when the view is made, and a view whose records
cannot be written ends in the log's error, so that it is never shown."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from practicelake.access.principals import Principal
from practicelake.audit.log import AuditEntry, AuditLog, AuditLogError
from practicelake.lakehouse.catalog import open_catalog
from practicelake.query import QueryService
from practicelake.query.errors import QueryError
from practicelake.query.reader import Reader
from site_lake import SiteLake

OWNER = Principal("olive", "user", {"P001": "practice_owner"})
KEY = bytes(range(32))
READS = ["select count(*) as n from access_daily", "select count(*) as n from revenue_service_month"]


@pytest.fixture(scope="module")
def service(site: SiteLake) -> Iterator[QueryService]:
    with QueryService(open_catalog(site.settings), freshness_seconds=0) as service:
        yield service


class CountingLog:
    """An audit log that counts its writes."""

    def __init__(self, folder: Path) -> None:
        self.log = AuditLog(folder / "audit" / "audit.log", lambda: KEY)
        self.writes: list[int] = []

    def append(self, entry: AuditEntry) -> object:
        self.writes.append(1)
        return self.log.append(entry)

    def append_all(self, entries: Sequence[AuditEntry]) -> object:
        self.writes.append(len(entries))
        return self.log.append_all(entries)


def test_a_views_reads_are_recorded_in_one_write_when_it_is_made(tmp_path: Path, service: QueryService) -> None:
    log = CountingLog(tmp_path)
    reader = Reader(service, log.append, log.append_all)
    with reader.together() as view:
        counts = [view.read(OWNER, sql)["n"][0].as_py() for sql in READS]
        assert log.log.show() == [] and log.writes == []  # nothing shown yet, nothing written
    assert all(n > 0 for n in counts)
    records = log.log.show()
    assert log.writes == [2] and [r.outcome for r in records] == ["allowed", "allowed"]
    assert [r.details["relations"] for r in records] == [["access_daily"], ["revenue_service_month"]]
    assert [(r.actor, r.roles) for r in records] == [("olive", ("practice_owner",))] * 2
    assert log.log.verify().intact


def test_a_refusal_inside_a_view_is_recorded_with_the_reads_before_it(tmp_path: Path, service: QueryService) -> None:
    log = CountingLog(tmp_path)
    reader = Reader(service, log.append, log.append_all)
    with pytest.raises(QueryError), reader.together() as view:
        view.read(OWNER, READS[0])
        view.read(OWNER, "select * from read_csv('/etc/passwd')")
    assert [r.outcome for r in log.log.show()] == ["allowed", "denied"]
    assert log.writes == [2]


def test_a_view_whose_records_cannot_be_written_is_not_made(tmp_path: Path, service: QueryService) -> None:
    log = CountingLog(tmp_path)
    reader = Reader(service, log.append, log.append_all)
    reader.read(OWNER, READS[0])  # a log with a record ...
    log.log.anchor.unlink()  # ... cut: no append may build on it
    with pytest.raises(AuditLogError), reader.together() as view:
        view.read(OWNER, READS[1])
    assert len(log.log.show()) == 1  # the view's read is not on record, and the error says so


def test_the_logs_error_wins_over_the_views_own(tmp_path: Path, service: QueryService) -> None:
    log = CountingLog(tmp_path)
    reader = Reader(service, log.append, log.append_all)
    reader.read(OWNER, READS[0])
    log.log.anchor.unlink()
    with pytest.raises(AuditLogError) as caught, reader.together() as view:
        view.read(OWNER, "select * from read_csv('/etc/passwd')")
    assert isinstance(caught.value.__cause__, QueryError)


def test_a_reader_without_a_batch_sink_appends_one_by_one(tmp_path: Path, service: QueryService) -> None:
    log = CountingLog(tmp_path)
    with Reader(service, log.append).together() as view:
        for sql in READS:
            view.read(OWNER, sql)
    assert log.writes == [1, 1] and len(log.log.show()) == 2
