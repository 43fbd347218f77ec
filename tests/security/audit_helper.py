"""Audit logs for tests, and the tools of someone who can write the log's files but does not
hold the audit key."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from practicelake.audit.log import AuditLog, access_entry, admin_entry

TEST_KEY = bytes(range(32))  # a fixed key for tests only
OTHER_KEY = bytes(range(100, 132))  # the key someone rewriting the log would have to use
START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
SECRET_SQL = "select * from visit_counts where provider = 'Dr Smith' and year = 1962"


def audit_key() -> bytes:
    return TEST_KEY


class Clock:
    """A clock that moves one hour forward each time it is read."""

    def __init__(self) -> None:
        self.now = START - timedelta(hours=1)

    def __call__(self) -> datetime:
        self.now += timedelta(hours=1)
        return self.now


def new_log(folder: Path) -> AuditLog:
    return AuditLog(folder / "audit" / "audit.log", audit_key, clock=Clock())


def fill(log: AuditLog) -> None:
    """Five records: seq 1-5, at 08:00-12:00 UTC on 2025-03-01."""
    log.append(admin_entry("os:operator", [], ["P001"], action="role.grant", target="alice", details={"role": "staff"}))
    log.append(
        access_entry("alice", ["staff"], ["P001"], sql=SECRET_SQL, relations=["visit_counts"], rows=12, allowed=True)
    )
    log.append(
        access_entry("bob", ["billing"], ["P002"], sql="select 1", relations=[], rows=0, allowed=False, reason="no")
    )
    log.append(access_entry("carol", ["analyst"], None, sql="select 2", relations=["bench"], rows=3, allowed=True))
    log.append(admin_entry("os:operator", [], ["P002"], action="practice.offboard", target="P002"))


def lines(log: AuditLog) -> list[bytes]:
    return log.path.read_bytes().splitlines(keepends=True)


def records(log: AuditLog) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines(log)]


def write(log: AuditLog, new_lines: list[bytes]) -> None:
    log.path.write_bytes(b"".join(new_lines))


def encode(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()


def rehash(record: dict[str, Any], key: bytes = OTHER_KEY) -> dict[str, Any]:
    """`record` with a correct SHA-256 for its content, signed with `key` (not the audit key)."""
    body = {name: value for name, value in record.items() if name not in ("hash", "mac")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return body | {
        "hash": hashlib.sha256(text).hexdigest(),
        "mac": hmac.new(key, b"record\n" + text, "sha256").hexdigest(),
    }


def forge_anchor(log: AuditLog, seq: int, last_hash: str, key: bytes = OTHER_KEY) -> None:
    body = json.dumps({"hash": last_hash, "seq": seq}, sort_keys=True, separators=(",", ":")).encode()
    mac = hmac.new(key, b"anchor\n" + body, "sha256").hexdigest()
    log.anchor.write_text(json.dumps({"seq": seq, "hash": last_hash, "mac": mac}))


def append_many(path: Path, actor: str, count: int, start: Any) -> None:
    """Run in another process: wait for the others, then append `count` records."""
    log = AuditLog(path, audit_key)
    start.wait()
    for number in range(count):
        log.append(access_entry(actor, ["staff"], ["P001"], sql="select 1", relations=["t"], rows=number, allowed=True))
