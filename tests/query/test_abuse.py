"""A reader who wants to hurt the others, at the one query service they all share: queries
that build huge values, explode through cross joins, spin the CPU, nest past the parser, or
are megabytes long; a query process killed under a query; attacks while others read.

Each attack must be refused, leave a denied record in the real audit log whose reason is the
fixed vocabulary only, and leave the same service answering another reader, correctly, right
after. Everything that could exhaust memory runs in a child process whose address space is
capped (RLIMIT_AS, inherited by the query processes it starts), so that a read path that
fails to hold fails this test, not the machine that runs it.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from curated_lake import VISITS, write_table

from lakes import local_settings
from practicelake.access.principals import Principal
from practicelake.audit.log import AuditLog
from practicelake.errors import PracticelakeError
from practicelake.lakehouse.catalog import open_catalog
from practicelake.query import Limits, QueryService, Scope
from practicelake.query.errors import QueryError, QueryFailed, QueryRefused, Reason
from practicelake.query.reader import Reader
from practicelake.query.zygote import zygote
from practicelake.settings import Settings, load_settings

AUDIT_KEY = bytes(range(32))  # a test key for a throwaway log
CHILD_ADDRESS_SPACE = 3 * 1024**3  # the serving process; its query processes get LIMITS.address_space
LIMITS = Limits(seconds=2.0, memory="512MB", address_space=2 * 1024**3)
WITHIN = LIMITS.seconds + 2.0 + 2.0  # the time limit, the kill's grace, and a loaded machine's slack
SERVING_BUDGET_MIB = 1024

ATTACKER = Principal("mallory", "user", {"P001": "practice_owner"})
VICTIM = Principal("vera", "user", {"P002": "practice_owner"})
VICTIM_SQL = "select practice_id, cast(sum(visits) as bigint) as visits, count(*) as n from access_daily group by 1"
ROWS = 64
VICTIM_ROWS = [{"practice_id": "P002", "visits": ROWS * 1000 + sum(range(ROWS)), "n": ROWS}]

SPIN = (
    "select sum(a.visits * b.visits + c.visits - d.visits) "
    "from access_daily a, access_daily b, access_daily c, access_daily d, access_daily e"
)
SIZE = {Reason.SIZE_ARGUMENT}
EXHAUSTED = {Reason.MEMORY, Reason.TIME, Reason.STOPPED}
ATTACKS: dict[str, tuple[str, type[QueryError], set[Reason]]] = {
    "huge range": ("select len(range(10000000000))", QueryRefused, SIZE),
    "huge range, unnested": ("select count(*) from (select unnest(range(1000000000)) as n)", QueryRefused, SIZE),
    "range of a computed size": (
        "select len(range((select max(visits) from access_daily) * 1000000000))",
        QueryRefused,
        SIZE,
    ),
    "huge repeat": ("select length(repeat('x', 1000000000))", QueryRefused, SIZE),
    "huge lpad": ("select length(lpad('x', 2000000000, 'y'))", QueryRefused, SIZE),
    "rpad to a computed width": (
        "select length(rpad(practice_id, visits * 100000000, 'y')) from access_daily",
        QueryRefused,
        SIZE,
    ),
    "huge list_resize": ("select len(list_resize([1], 1000000000))", QueryRefused, SIZE),
    "huge printf width": ("select length(printf('%01000000000d', 1))", QueryRefused, SIZE),
    "format width from an argument": ("select length(format('{:>{}}', 'x', 1000000000))", QueryRefused, SIZE),
    "repeats multiplied": ("select length(repeat(repeat(repeat('x', 10000), 10000), 10000))", QueryRefused, SIZE),
    "ranges multiplied in a lambda": (
        "select len(flatten(list_transform(range(10000), x -> range(10000))))",
        QueryRefused,
        SIZE,
    ),
    "a function rendered as a range": (
        "select length(randstr(1000000000, 1))",
        QueryRefused,
        {Reason.TABLE_FUNCTION},
    ),
    "string_agg over cross joins": (
        "select length(string_agg(repeat(a.practice_id, 10000), ',')) "
        "from access_daily a, access_daily b, access_daily c",
        QueryRefused,
        EXHAUSTED,
    ),
    "strings doubled through CTEs": (
        "with a as (select repeat('x', 10000) as s), "
        "b as (select s||s||s||s||s||s||s||s||s||s as s from a), "
        "c as (select s||s||s||s||s||s||s||s||s||s as s from b), "
        "d as (select s||s||s||s||s||s||s||s||s||s as s from c), "
        "e as (select s||s||s||s||s||s||s||s||s||s as s from d), "
        "f as (select s||s||s||s||s||s||s||s||s||s as s from e) "
        "select length(s) from f",
        QueryRefused,
        EXHAUSTED,
    ),
    "strings doubled by recursion": (
        "with recursive r(s) as (select 'xx' union all select s || s from r where length(s) < 4000000000) "
        "select max(length(s)) from r",
        QueryRefused,
        EXHAUSTED,
    ),
    "CPU spin over cross joins": (SPIN, QueryRefused, {Reason.TIME}),
    "5,000 parentheses": ("select " + "(" * 5000 + "1" + ")" * 5000, QueryRefused, {Reason.TOO_DEEP}),
    "2,000 nested subqueries": (
        "select * from " + "(select * from " * 2000 + "access_daily" + ") t" * 2000,
        QueryRefused,
        {Reason.TOO_DEEP},
    ),
    "5,000 NOTs": ("select " + "not " * 5000 + "true", QueryRefused, {Reason.TOO_DEEP}),
    "4 MB IN-list": (
        "select * from access_daily where visits in (" + ",".join(str(n) for n in range(600_000)) + ")",
        QueryRefused,
        {Reason.TOO_LARGE},
    ),
    "80,000 tokens": ("select 1" + "+1" * 40_000, QueryRefused, {Reason.TOO_MANY_TOKENS}),
}


# ---- the child: one serving process, capped, running every attack in turn ----


def attack(settings_json: str, out: str) -> None:
    """Run in the capped child: every attack, then a query process killed under a query, then
    attacks while others read. Writes what happened to `out` as JSON."""
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_ADDRESS_SPACE, CHILD_ADDRESS_SPACE))
    settings = load_settings(**json.loads(settings_json))
    log = AuditLog(Path(out).parent / "audit" / "audit.log", lambda: AUDIT_KEY)
    with QueryService(open_catalog(settings), LIMITS, freshness_seconds=60) as service:
        reader = Reader(service, log.append)
        for principal in (ATTACKER, VICTIM):  # both query processes started, each scope's rows read
            reader.read(principal, VICTIM_SQL)
        found: dict[str, Any] = {"attacks": {}}
        for name, (sql, _, _) in ATTACKS.items():
            found["attacks"][name] = _attempt(reader, log, lambda sql=sql: reader.read(ATTACKER, sql))
        found["killed"] = _attempt(reader, log, lambda: _killed_under(reader))
        found["concurrent"] = _concurrent(reader)
        stats = service.stats()
        found["stats"] = {"started": stats.workers_started, "replaced": stats.workers_replaced}
        found["zygote_alive"] = zygote().alive()
    found["log_intact"] = log.verify().intact
    found["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(out).write_text(json.dumps(found, default=str))


def _attempt(reader: Reader, log: AuditLog, read: Callable[[], object]) -> dict[str, Any]:
    start = time.monotonic()
    outcome: dict[str, Any] = {"error": None}
    try:
        read()
    except QueryError as exc:
        outcome |= {"error": type(exc).__name__, "reason": exc.reason.value, "message": str(exc)}
    except PracticelakeError as exc:
        outcome |= {"error": type(exc).__name__, "message": str(exc)}
    outcome["seconds"] = time.monotonic() - start
    outcome["record"] = _record(log)
    start = time.monotonic()
    outcome["victim"] = reader.read(VICTIM, VICTIM_SQL).to_pylist()
    outcome["victim_seconds"] = time.monotonic() - start
    outcome["victim_record"] = _record(log)
    return outcome


def _record(log: AuditLog) -> dict[str, Any]:
    last = log.show()[-1]
    return {"actor": last.actor, "outcome": last.outcome, "details": dict(last.details)}


def _killed_under(reader: Reader) -> None:
    """The attacker's query runs while its query process is killed from outside."""
    failure: list[BaseException] = []

    def spin() -> None:
        try:
            reader.read(ATTACKER, SPIN)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=spin)
    before = _cpu_seconds()
    thread.start()
    busy = _busy_query_process(before)
    os.kill(busy, signal.SIGKILL)
    thread.join()
    if failure:
        raise failure[0]


def _cpu_seconds() -> dict[int, float]:
    """CPU seconds of each query process, by pid."""
    zygote_pid = zygote().process.pid
    pids = Path(f"/proc/{zygote_pid}/task/{zygote_pid}/children").read_text().split()
    found = {}
    for pid in map(int, pids):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def _busy_query_process(before: dict[int, float]) -> int:
    """The query process that has used a good share of a CPU since `before`: the one running."""
    pause = threading.Event()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for pid, seconds in _cpu_seconds().items():
            if seconds - before.get(pid, 0.0) > 0.3:
                return pid
        pause.wait(0.05)
    raise AssertionError("no query process started running the query")


def _concurrent(reader: Reader) -> dict[str, Any]:
    """Three spinning attacks at once while the victim reads eight times."""
    attackers: list[dict[str, Any]] = []
    victims: list[dict[str, Any]] = []

    def attack_once() -> None:
        try:
            reader.read(ATTACKER, SPIN)
            attackers.append({"error": None})
        except QueryError as exc:
            attackers.append({"error": type(exc).__name__, "reason": exc.reason.value})

    threads = [threading.Thread(target=attack_once) for _ in range(3)]
    for thread in threads:
        thread.start()
    for _ in range(8):
        start = time.monotonic()
        rows = reader.read(VICTIM, VICTIM_SQL).to_pylist()
        victims.append({"rows": rows, "seconds": time.monotonic() - start})
    for thread in threads:
        thread.join()
    return {"attackers": attackers, "victims": victims}


CHILD = "import json, sys; sys.path[:0] = json.loads(sys.argv[1]); import test_abuse; test_abuse.attack(*sys.argv[2:])"


# ---- the parent: the lake, the child's run, what it found ----


@pytest.fixture(scope="module")
def abuse_lake(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = local_settings(tmp_path_factory.mktemp("abuse"))
    rows = [
        {"practice_id": practice, "month": date(2024, 1, 1), "visits": base + n, "charges": Decimal("1.00")}
        for practice, base in (("P001", 0), ("P002", 1000))
        for n in range(ROWS)
    ]
    write_table(open_catalog(settings), "access_daily", VISITS, [row | {"no_show_rate": 0.1} for row in rows])
    return settings


@pytest.fixture(scope="module")
def found(abuse_lake: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("abuse-run") / "found.json"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(sys.path), abuse_lake.model_dump_json(), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def assert_refused_and_audited(outcome: dict[str, Any], error: str, reasons: set[Reason], sql: str) -> None:
    assert outcome["error"] == error, outcome
    assert Reason(outcome["reason"]) in reasons, outcome
    assert outcome["seconds"] < WITHIN, outcome
    record = outcome["record"]
    assert (record["actor"], record["outcome"], record["details"]["rows"]) == ("mallory", "denied", 0)
    kind, phrase = record["details"]["reason"].split(": ", 1)
    assert kind == error and phrase == outcome["reason"]  # the vocabulary, nothing of the query
    assert sql[:200] not in json.dumps(record)
    assert outcome["victim"] == VICTIM_ROWS  # the same service, right after, for someone else
    assert outcome["victim_record"]["actor"] == "vera" and outcome["victim_record"]["outcome"] == "allowed"


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_refused_audited_and_the_service_still_answers(found: dict[str, Any], name: str) -> None:
    sql, error, reasons = ATTACKS[name]
    assert_refused_and_audited(found["attacks"][name], error.__name__, reasons, sql)


def test_guarded_attacks_are_refused_well_within_the_time_limit(found: dict[str, Any]) -> None:
    for name, (_, _, reasons) in ATTACKS.items():
        if not reasons & EXHAUSTED:
            assert found["attacks"][name]["seconds"] < LIMITS.seconds, name


def test_the_message_names_what_was_refused(found: dict[str, Any]) -> None:
    assert "range()" in found["attacks"]["huge range"]["message"]
    assert "lpad()" in found["attacks"]["huge lpad"]["message"]
    assert "100,000 characters" in found["attacks"]["4 MB IN-list"]["message"]
    assert "2 s" in found["attacks"]["CPU spin over cross joins"]["message"]


def test_a_query_process_killed_under_a_query_is_refused_and_replaced(found: dict[str, Any]) -> None:
    assert_refused_and_audited(found["killed"], "QueryRefused", {Reason.STOPPED}, SPIN)
    assert found["stats"]["replaced"] >= 1
    assert found["zygote_alive"]


def test_others_are_answered_while_one_reader_attacks(found: dict[str, Any]) -> None:
    concurrent = found["concurrent"]
    assert len(concurrent["attackers"]) == 3
    for attacker in concurrent["attackers"]:
        assert attacker["error"] in ("QueryRefused", "QueryBusy")
        assert Reason(attacker["reason"]) in {Reason.TIME, Reason.BUSY}
    assert [victim["rows"] for victim in concurrent["victims"]] == [VICTIM_ROWS] * 8
    # One reader's scope holds at most one of the two query processes: no read waits on theirs.
    assert max(victim["seconds"] for victim in concurrent["victims"]) < LIMITS.seconds


def test_the_serving_process_stays_within_its_budget(found: dict[str, Any]) -> None:
    assert found["peak_rss_mib"] < SERVING_BUDGET_MIB
    assert found["stats"]["started"] <= 2 + found["stats"]["replaced"]
    assert found["log_intact"]


# ---- in this process: what any error does to the audit record ----

OWNER = Principal("olive", "user", {"P001": "practice_owner", "P002": "practice_owner"})


@pytest.fixture
def reader(lake: Settings, tmp_path: Path) -> Iterator[tuple[Reader, AuditLog]]:
    catalog = open_catalog(lake)
    write_table(catalog, "access_daily", VISITS, [])
    log = AuditLog(tmp_path / "audit" / "audit.log", lambda: AUDIT_KEY)
    with QueryService(catalog, freshness_seconds=0) as service:
        yield Reader(service, log.append), log


IDENTIFIERS = [
    ('select * from "/etc/passwd"', "no such table: /etc/passwd", Reason.UNKNOWN_RELATION),
    ("select * from secret_schema.patients", "secret_schema.patients", Reason.QUALIFIED_NAME),
    ("select * from read_csv('/etc/shadow')", "read_csv()", Reason.FUNCTION),
    ("select nope_patient_name from access_daily", "nope_patient_name", Reason.ENGINE),
    ("select * from access_daily where visits = $patient_ssn", "$patient_ssn", Reason.PARAMETER),
]


@pytest.mark.parametrize(("sql", "shown", "reason"), IDENTIFIERS)
def test_the_reader_sees_what_they_typed_the_log_does_not(
    reader: tuple[Reader, AuditLog], sql: str, shown: str, reason: Reason
) -> None:
    read, log = reader
    with pytest.raises(QueryError) as refused:
        read.read(OWNER, sql)
    assert shown in str(refused.value)
    record = log.show()[-1]
    assert record.outcome == "denied"
    assert record.details["reason"] == f"{type(refused.value).__name__}: {reason.value}"
    for word in ("/etc", "secret_schema", "patients", "shadow", "nope_patient_name", "patient_ssn"):
        assert word not in json.dumps(record.details)


def raising(error: BaseException) -> Callable[..., pa.Table]:
    def run(*_: object) -> pa.Table:
        raise error

    return run


UNFORESEEN = [
    (
        RecursionError("maximum recursion depth exceeded"),
        QueryRefused,
        "QueryRefused: query nested too deeply (RecursionError)",
    ),
    (MemoryError(), QueryRefused, "QueryRefused: memory limit (MemoryError)"),
    (ValueError("no such table: /etc/passwd"), QueryFailed, "QueryFailed: unexpected error (ValueError)"),
    (OSError("broken pipe to /etc/passwd"), QueryFailed, "QueryFailed: unexpected error (OSError)"),
]


@pytest.mark.parametrize(("error", "raised", "reason"), UNFORESEEN, ids=[type(e).__name__ for e, _, _ in UNFORESEEN])
def test_an_unforeseen_error_is_audited_then_told_as_a_practicelake_error(
    reader: tuple[Reader, AuditLog],
    monkeypatch: pytest.MonkeyPatch,
    error: BaseException,
    raised: type[QueryError],
    reason: str,
) -> None:
    read, log = reader
    monkeypatch.setattr(read.service, "run", raising(error))
    with pytest.raises(raised) as told:
        read.read(OWNER, "select count(*) from access_daily")
    assert "/etc/passwd" not in str(told.value)
    assert told.value.__cause__ is error
    record = log.show()[-1]
    assert (record.outcome, record.details["reason"]) == ("denied", reason)


def test_an_interrupt_is_audited_and_goes_on(reader: tuple[Reader, AuditLog], monkeypatch: pytest.MonkeyPatch) -> None:
    read, log = reader
    monkeypatch.setattr(read.service, "run", raising(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        read.read(OWNER, "select count(*) from access_daily")
    record = log.show()[-1]
    assert (record.outcome, record.details["reason"]) == ("denied", "KeyboardInterrupt: interrupted")


def test_a_scope_that_cannot_be_read_is_audited(
    reader: tuple[Reader, AuditLog], monkeypatch: pytest.MonkeyPatch
) -> None:
    read, log = reader
    monkeypatch.setattr(read.service, "relations", raising(OSError("catalog gone")))
    with pytest.raises(QueryFailed, match="unexpected error"):
        read.read(OWNER, "select count(*) from access_daily")
    record = log.show()[-1]
    assert (record.outcome, record.practices, record.details["relations"]) == ("denied", (), [])


def test_the_zygote_forks_from_one_thread() -> None:
    """A process that runs DuckDB or Arrow threads is never forked."""
    status = Path(f"/proc/{zygote().process.pid}/status").read_text()
    assert "Threads:\t1\n" in status


def test_a_lost_zygote_is_started_again(reader: tuple[Reader, AuditLog]) -> None:
    read, _ = reader
    lost = zygote()
    lost.process.kill()
    lost.process.wait()
    with QueryService(read.service.catalog, freshness_seconds=0) as fresh:
        assert fresh.run("select count(*) as n from access_daily", Scope.of(["P001"])).to_pylist() == [{"n": 0}]
    assert zygote() is not lost and zygote().alive()
