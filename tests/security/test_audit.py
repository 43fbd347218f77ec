"""The audit log as an attacker with write access to its files meets it: every edit, deletion,
insertion, move and cut is found and placed; nothing secret is ever written into it."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from audit_helper import (
    OTHER_KEY,
    SECRET_SQL,
    append_many,
    audit_key,
    encode,
    fill,
    forge_anchor,
    lines,
    new_log,
    records,
    rehash,
    write,
)

from lakes import local_settings
from practicelake.audit.log import (
    GENESIS,
    AuditDetailsError,
    AuditFilter,
    AuditLog,
    AuditLogError,
    Verification,
    access_entry,
    admin_entry,
    sql_fingerprint,
)
from practicelake.errors import SettingsError


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    log = new_log(tmp_path)
    fill(log)
    assert log.verify().intact
    return log


def first_problem(log: AuditLog) -> tuple[int | None, int | None, str]:
    result = log.verify()
    assert not result.intact, "tampering went unnoticed"
    problem = result.problems[0]
    return problem.line, problem.seq, problem.message


def test_records_chain_and_are_private(log: AuditLog) -> None:
    written = records(log)
    assert [r["seq"] for r in written] == [1, 2, 3, 4, 5]
    assert written[0]["prev"] == GENESIS
    assert all(r["prev"] == before["hash"] for before, r in itertools.pairwise(written))
    assert json.loads(log.anchor.read_text())["seq"] == 5
    assert log.verify() == Verification(records=5, problems=())
    assert log.path.stat().st_mode & 0o777 == 0o600
    assert log.anchor.stat().st_mode & 0o777 == 0o600
    assert log.path.parent.stat().st_mode & 0o777 == 0o700
    access = written[1]
    assert access["kind"] == "access" and access["actor"] == "alice" and access["roles"] == ["staff"]
    assert access["practices"] == ["P001"] and access["outcome"] == "allowed"
    assert access["details"] == {
        "relations": ["visit_counts"],
        "rows": 12,
        "sql_fingerprint": sql_fingerprint(SECRET_SQL),
    }
    assert datetime.fromisoformat(access["time"]) == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_the_sql_and_its_values_never_reach_the_file(log: AuditLog) -> None:
    content = log.path.read_bytes()
    for fragment in (b"Dr Smith", b"1962", b"select", b"provider"):
        assert fragment not in content


def test_fingerprint_is_the_query_shape_without_values_or_comments() -> None:
    shape = sql_fingerprint("select * from t where name = 'Smith' and born = 1962")
    assert shape == sql_fingerprint("SELECT *\n  FROM T WHERE NAME = 'Jones' AND BORN = 1970 -- who")
    assert shape != sql_fingerprint("select * from t where name = 'Smith' or born = 1962")
    assert sql_fingerprint('select "Name" from t') != sql_fingerprint('select "name" from t')
    # Not SQL at all: still no value survives into what is hashed.
    assert sql_fingerprint("select 'unterminated Smith") == sql_fingerprint("select 'unterminated Jones")


@pytest.mark.parametrize(
    "details",
    [
        {"password": "hunter2"},
        {"new_Password": "hunter2"},
        {"api_token": "tok"},
        {"client_secret": "s"},
        {"private_key": "k"},
        {"KEY": "k"},
        {"credentials": "c"},
        {"user": {"passwd": "hunter2"}},
        {"changes": [{"secret": "s"}]},
        {"sql": SECRET_SQL},
        {"wrapped": b"\x00\x01"},
        {"amount": float("nan")},
        {"action": "user.disable"},
    ],
)
def test_details_that_could_carry_a_secret_are_refused(log: AuditLog, details: dict[str, object]) -> None:
    before = log.path.read_bytes()
    with pytest.raises(AuditDetailsError) as refused:
        log.append(admin_entry("os:operator", [], None, action="user.add", target="alice", details=details))
    assert "hunter2" not in str(refused.value)
    assert log.path.read_bytes() == before


def test_ids_of_tokens_and_keys_are_not_secrets(log: AuditLog) -> None:
    record = log.append(
        admin_entry("os:operator", [], ["P001"], action="key.rotate", target="P001", details={"key_id": "k1"})
    )
    assert record.details == {"action": "key.rotate", "target": "P001", "key_id": "k1"}


def test_an_edited_field_is_found_on_its_line(log: AuditLog) -> None:
    edited = records(log)
    edited[2]["actor"] = "mallory"
    write(log, [*lines(log)[:2], encode(edited[2]), *lines(log)[3:]])
    assert first_problem(log) == (3, 3, "its content does not match its hash: the record was edited")


def test_an_edit_with_a_recomputed_hash_is_caught_by_the_mac(log: AuditLog) -> None:
    edited = records(log)
    edited[2]["outcome"] = "allowed"
    write(log, [*lines(log)[:2], encode(rehash(edited[2])), *lines(log)[3:]])
    line, seq, message = first_problem(log)
    assert (line, seq) == (3, 3) and "MAC does not match" in message


def test_a_deleted_record_is_named(log: AuditLog) -> None:
    write(log, [*lines(log)[:2], *lines(log)[3:]])
    result = log.verify()
    assert [str(p) for p in result.problems] == [
        "line 3 (record 4): sequence number 4, expected 3: record 3 missing here (deleted or moved)"
    ]


def test_a_record_cut_off_the_end_is_caught_by_the_anchor(log: AuditLog) -> None:
    write(log, lines(log)[:-1])
    line, seq, message = first_problem(log)
    assert (line, seq) == (None, 5)
    assert message == "the log ends at record 4 (line 4) but its anchor holds record 5: record 5 cut off"
    # A later append must not paper over the cut.
    with pytest.raises(AuditLogError, match="does not end where its anchor says"):
        log.append(access_entry("alice", ["staff"], ["P001"], sql="select 1", relations=[], rows=0, allowed=True))
    assert len(lines(log)) == 4


def test_an_emptied_log_is_caught_by_the_anchor(log: AuditLog) -> None:
    write(log, [])
    assert first_problem(log)[2] == "the log is empty but its anchor holds record 5: records 1..5 cut off"
    log.path.unlink()
    assert first_problem(log)[1] == 5
    with pytest.raises(AuditLogError, match="does not end where its anchor says"):
        log.append(admin_entry("os:operator", [], None, action="ingest", target="f.csv"))


def test_a_cut_hidden_by_a_rewritten_anchor_needs_the_key(log: AuditLog) -> None:
    kept = lines(log)[:-1]
    write(log, kept)
    forge_anchor(log, 4, json.loads(kept[-1])["hash"])
    line, _, message = first_problem(log)
    assert line is None and "anchor" in message and "without the audit key" in message


def test_a_deleted_anchor_is_reported_and_stops_appends(log: AuditLog) -> None:
    log.anchor.unlink()
    assert first_problem(log) == (None, None, "the anchor file is missing: records may have been cut off the end")
    with pytest.raises(AuditLogError):
        log.append(admin_entry("os:operator", [], None, action="ingest", target="f.csv"))


def test_an_inserted_forged_record_is_found(log: AuditLog) -> None:
    written = records(log)
    forged = rehash(written[2] | {"actor": "mallory", "details": {"note": "harmless"}})
    write(log, [*lines(log)[:2], encode(forged), *lines(log)[2:]])
    line, seq, message = first_problem(log)
    assert (line, seq) == (3, 3) and "MAC does not match" in message


def test_a_forged_insertion_with_the_rest_renumbered_is_found(log: AuditLog) -> None:
    """The forger renumbers and re-chains everything after the insertion, and the anchor."""
    written = records(log)
    chain = [*written[:2], written[2] | {"actor": "mallory"}, *written[2:]]
    for seq in range(3, 7):
        chain[seq - 1] = rehash(chain[seq - 1] | {"seq": seq, "prev": chain[seq - 2]["hash"]})
    write(log, [encode(r) for r in chain])
    forge_anchor(log, 6, chain[-1]["hash"])
    assert first_problem(log)[:2] == (3, 3) and "MAC does not match" in first_problem(log)[2]


def test_a_forged_record_appended_at_the_end_is_found_and_never_built_on(log: AuditLog) -> None:
    last = records(log)[-1]
    forged = rehash(last | {"seq": 6, "prev": last["hash"], "actor": "mallory"})
    write(log, [*lines(log), encode(forged)])
    forge_anchor(log, 6, forged["hash"])
    assert first_problem(log)[:2] == (6, 6)
    with pytest.raises(AuditLogError, match="last line is damaged"):
        log.append(admin_entry("os:operator", [], None, action="ingest", target="f.csv"))


def test_swapped_records_are_found(log: AuditLog) -> None:
    original = lines(log)
    write(log, [original[0], original[2], original[1], *original[3:]])
    assert str(log.verify().problems[0]) == (
        "line 2 (record 3): sequence number 3, expected 2: record 2 missing here (deleted or moved)"
    )
    assert [p.line for p in log.verify().problems] == [2, 3, 4]


def test_a_duplicated_record_is_found(log: AuditLog) -> None:
    original = lines(log)
    write(log, [*original[:3], original[2], *original[3:]])
    line, seq, message = first_problem(log)
    assert (line, seq) == (4, 3) and "a record repeated or moved" in message


def test_a_line_that_is_not_json_is_found(log: AuditLog) -> None:
    original = lines(log)
    write(log, [*original[:2], original[2][:40] + b"\n", *original[3:]])
    assert first_problem(log) == (3, None, "not valid JSON: the line was damaged or edited")
    assert log.verify().records == 4
    with pytest.raises(AuditLogError, match="line 3 is not an audit record"):
        log.show()


def test_a_whole_file_rewritten_without_the_key_fails_from_its_first_line(log: AuditLog) -> None:
    chain: list[dict[str, object]] = []
    for record in records(log):
        prev = chain[-1]["hash"] if chain else GENESIS
        chain.append(rehash(record | {"actor": "mallory", "prev": prev}))
    write(log, [encode(r) for r in chain])
    forge_anchor(log, 5, str(chain[-1]["hash"]))
    result = log.verify()
    assert result.problems[0].line == 1 and "MAC does not match" in result.problems[0].message
    assert {p.line for p in result.problems} == {1, 2, 3, 4, 5, None}


def test_the_wrong_key_verifies_nothing(log: AuditLog) -> None:
    assert not AuditLog(log.path, lambda: OTHER_KEY).verify().intact
    with pytest.raises(SettingsError, match="at least 32 bytes"):
        AuditLog(log.path, lambda: b"short").verify()


def test_an_incomplete_last_line_stops_appends(log: AuditLog) -> None:
    with log.path.open("ab") as handle:
        handle.write(b'{"seq":6,')
    assert first_problem(log)[0] == 6
    with pytest.raises(AuditLogError, match="last line is damaged"):
        log.append(admin_entry("os:operator", [], None, action="ingest", target="f.csv"))


def test_an_append_cut_short_before_its_anchor_is_not_tampering(log: AuditLog) -> None:
    """A crash between writing the record and the anchor leaves the anchor behind a signed record."""
    earlier_anchor = log.anchor.read_bytes()
    log.append(admin_entry("os:operator", [], None, action="ingest", target="f.csv"))
    log.anchor.write_bytes(earlier_anchor)
    assert log.verify().intact
    assert log.append(admin_entry("os:operator", [], None, action="ingest", target="g.csv")).seq == 7
    assert json.loads(log.anchor.read_text())["seq"] == 7


def test_the_log_is_never_followed_through_a_link(tmp_path: Path, log: AuditLog) -> None:
    elsewhere = tmp_path / "elsewhere.log"
    elsewhere.write_bytes(log.path.read_bytes())
    log.path.unlink()
    log.path.symlink_to(elsewhere)
    with pytest.raises(AuditLogError, match="symbolic link"):
        log.append(admin_entry("os:operator", [], None, action="ingest", target="f.csv"))
    assert elsewhere.read_bytes().count(b"\n") == 5


def test_a_log_open_to_others_is_refused(log: AuditLog) -> None:
    log.path.chmod(0o644)
    with pytest.raises(SettingsError, match="open to others"):
        log.append(admin_entry("os:operator", [], None, action="ingest", target="f.csv"))
    log.path.chmod(0o600)
    log.path.parent.chmod(0o755)
    with pytest.raises(SettingsError, match="open to others"):
        log.append(admin_entry("os:operator", [], None, action="ingest", target="f.csv"))


def test_appends_from_several_processes_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "audit.log"
    context = multiprocessing.get_context("fork")
    start = context.Barrier(4)
    workers = [context.Process(target=append_many, args=(path, f"user{n}", 25, start)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    log = AuditLog(path, audit_key)
    assert log.verify() == Verification(records=100, problems=())
    written = records(log)
    assert [r["seq"] for r in written] == list(range(1, 101))
    for n in range(4):
        assert sorted(r["details"]["rows"] for r in written if r["actor"] == f"user{n}") == list(range(25))


def test_appends_from_several_threads_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "audit.log"
    start = threading.Barrier(8)
    threads = [threading.Thread(target=append_many, args=(path, f"user{n}", 10, start)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert AuditLog(path, audit_key).verify() == Verification(records=80, problems=())


def test_verify_while_others_append_sees_a_whole_log(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "audit.log"
    start = threading.Barrier(2)
    writer = threading.Thread(target=append_many, args=(path, "alice", 60, start))
    writer.start()
    start.wait()
    seen = []
    while writer.is_alive():
        result = AuditLog(path, audit_key).verify()
        assert result.intact, result.problems
        seen.append(result.records)
    writer.join()
    assert seen == sorted(seen) and AuditLog(path, audit_key).verify().records == 60


def test_show_filters(log: AuditLog) -> None:
    def seqs(**conditions: object) -> list[int]:
        return [record.seq for record in log.show(AuditFilter(**conditions))]  # type: ignore[arg-type]

    assert seqs() == [1, 2, 3, 4, 5]
    assert seqs(kind="admin") == [1, 5]
    assert seqs(actor="bob") == [3]
    assert seqs(practice="P001") == [1, 2, 4]  # record 4 concerns every practice
    assert seqs(outcome="denied") == [3]
    assert seqs(since=datetime(2025, 3, 1, 9), until=datetime(2025, 3, 1, 11)) == [2, 3]
    assert seqs(kind="access", last=2) == [3, 4]
    assert log.show(AuditFilter(actor="bob"))[0].details["reason"] == "no"


def test_the_default_log_lives_in_state_and_never_in_the_warehouse(tmp_path: Path) -> None:
    settings = local_settings(tmp_path)
    assert settings.audit_log == tmp_path / "state" / "audit" / "audit.log"
    assert AuditLog.open(settings, audit_key).path == settings.audit_log
    inside = local_settings(tmp_path, audit_log=tmp_path / "lakehouse" / "audit.log")
    with pytest.raises(SettingsError, match="inside the lakehouse's data"):
        AuditLog.open(inside, audit_key)
    raw = tmp_path / "elsewhere" / "raw"
    in_raw = local_settings(tmp_path, raw_uri=raw.as_uri(), audit_log=raw / "audit.log")
    with pytest.raises(SettingsError, match="inside the lakehouse's data"):
        AuditLog.open(in_raw, audit_key)


def test_no_log_yet_verifies_empty(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    assert log.verify() == Verification(records=0, problems=())
    assert log.show() == []
    assert not os.path.exists(log.path)
