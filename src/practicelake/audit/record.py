"""One audit record: what it holds, how it is written (canonical JSON), hashed and signed.

A record is one JSON object: `seq`, `time` (UTC, ISO 8601), `kind` ("access" or "admin"),
`actor`, `roles`, `practices` (null: every practice), `outcome` ("allowed" or "denied"),
`details`, `prev` (the hash of the record before), `hash` (SHA-256 of the canonical JSON of
every other field but `mac`) and `mac` (HMAC-SHA256 of the same bytes with the audit key).

Nothing secret goes in: the SQL of a data access is kept only as its fingerprint, and details
named like a password, token, secret or key (except the id of one: `token_id`, `key_id`),
named `sql`/`query`/`statement`, or holding bytes are refused. Text shaped like an API token
(`plk_...`, see access.principals.TOKEN) is redacted wherever it stands: in the actor, the
roles, the practices, and any text of the details, names included.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlglot
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import TokenType

GENESIS = "0" * 64
"""The `prev` of the first record."""
KINDS = ("access", "admin")
OUTCOMES = ("allowed", "denied")
FIELDS = frozenset({"seq", "time", "kind", "actor", "roles", "practices", "outcome", "details", "prev", "hash", "mac"})
SECRET_NAME = re.compile(r"passw|pwd|token|secret|key|credential|cookie", re.IGNORECASE)
RAW_SQL_NAMES = frozenset({"sql", "query", "statement"})
LITERALS = frozenset(
    {
        TokenType.STRING,
        TokenType.NUMBER,
        TokenType.HEREDOC_STRING,
        TokenType.NATIONAL_STRING,
        TokenType.RAW_STRING,
        TokenType.BIT_STRING,
        TokenType.HEX_STRING,
        TokenType.BYTE_STRING,
        TokenType.UNICODE_STRING,
    }
)
_HEX64 = re.compile(r"[0-9a-f]{64}")
# An API token is `plk_<16 hex>_<43 url-safe>` (access.principals.TOKEN, a layer above this one).
# Any `plk_` run long enough to be part of one is taken out: a token cut short or mistyped too.
TOKEN_TEXT = re.compile(r"plk_[A-Za-z0-9_-]{8,}")
REDACTED_TOKEN = "plk_[redacted]"  # noqa: S105 - what stands in for a token, not a token


class AuditDetailsError(ValueError):
    """A record's details would carry a secret, raw SQL, or something that is not plain JSON."""


@dataclass(frozen=True)
class AuditEntry:
    """What happened: the log adds the number, the time and the chain."""

    kind: str
    actor: str
    roles: tuple[str, ...]
    practices: tuple[str, ...] | None
    outcome: str
    details: Mapping[str, Any]

    def __post_init__(self) -> None:
        if self.kind not in KINDS or self.outcome not in OUTCOMES:
            raise ValueError(f"kind must be one of {KINDS} and outcome one of {OUTCOMES}")
        if not self.actor:
            raise ValueError("an audit record needs an actor")
        object.__setattr__(self, "actor", redact(self.actor))
        object.__setattr__(self, "roles", tuple(sorted({redact(role) for role in self.roles})))
        if self.practices is not None:
            object.__setattr__(self, "practices", tuple(sorted({redact(p) for p in self.practices})))
        object.__setattr__(self, "details", _plain(self.details, "details"))


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    time: str
    kind: str
    actor: str
    roles: tuple[str, ...]
    practices: tuple[str, ...] | None
    outcome: str
    details: Mapping[str, Any]
    prev: str
    hash: str
    mac: str

    @property
    def at(self) -> datetime:
        return datetime.fromisoformat(self.time)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def redact(text: str) -> str:
    """`text` with anything shaped like an API token replaced by `plk_[redacted]`."""
    return TOKEN_TEXT.sub(REDACTED_TOKEN, text)


FINGERPRINTED = 100_000


# The dashboard sends the same few hundred query texts again and again: their fingerprints are
# kept (texts up to this length only, so the cache stays small whatever a reader sends).
CACHED_UP_TO = 20_000


def sql_fingerprint(sql: str) -> str:
    """SHA-256 of the query's tokens with every literal replaced by `?` and comments dropped:
    the same query with other values has the same fingerprint, and no value can be recovered
    or guessed from it. Only the first FINGERPRINTED characters count, so that fingerprinting
    has a bounded cost (longer text than that is refused by the read path anyway)."""
    return _remembered_fingerprint(sql) if len(sql) <= CACHED_UP_TO else _fingerprint(sql)


@functools.lru_cache(maxsize=2048)
def _remembered_fingerprint(sql: str) -> str:
    return _fingerprint(sql)


def _fingerprint(sql: str) -> str:
    try:
        tokens = sqlglot.tokenize(sql[:FINGERPRINTED], read="duckdb")
        # Unquoted words are case-insensitive (SELECT and select are one query); quoted ones are not.
        text = " ".join(
            "?"
            if token.token_type in LITERALS
            else token.text
            if token.token_type is TokenType.IDENTIFIER
            else token.text.lower()
            for token in tokens
        )
    except SqlglotError:
        # Not even SQL tokens: drop comments, anything quoted (closed or not) and digits.
        text = re.sub(r"--[^\n]*|/\*.*?(\*/|$)|'[^']*'?|\"[^\"]*\"?|\d+", "?", sql, flags=re.DOTALL)
        text = "unlexed " + " ".join(text.lower().split())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def access_entry(
    actor: str,
    roles: Iterable[str],
    practices: Iterable[str] | None,
    *,
    sql: str,
    relations: Iterable[str],
    rows: int,
    allowed: bool,
    reason: str = "",
) -> AuditEntry:
    """A data read: the SQL is kept only as its fingerprint. `reason` (why it was refused)
    must not quote the query's values."""
    details: dict[str, Any] = {"relations": sorted(set(relations)), "sql_fingerprint": sql_fingerprint(sql)}
    details["rows"] = rows
    if reason:
        details["reason"] = reason
    return AuditEntry("access", actor, tuple(roles), _scope(practices), _outcome(allowed), details)


def admin_entry(
    actor: str,
    roles: Iterable[str],
    practices: Iterable[str] | None,
    *,
    action: str,
    target: str,
    details: Mapping[str, Any] | None = None,
    allowed: bool = True,
    reason: str = "",
) -> AuditEntry:
    """An administrative action (`user.add`, `grant`, `key.rotate`, `ingest`, `practice.offboard`,
    ...) on `target` (a user, practice or file); `practices`: the practices it concerns."""
    extra = dict(details or {})
    if {"action", "target", "reason"} & extra.keys():
        raise AuditDetailsError("details may not override action, target or reason")
    body: dict[str, Any] = {"action": action, "target": target, **extra}
    if reason:
        body["reason"] = reason
    return AuditEntry("admin", actor, tuple(roles), _scope(practices), _outcome(allowed), body)


def seal(entry: AuditEntry, seq: int, now: datetime, prev: str, key: bytes) -> AuditRecord:
    """The record `entry` becomes as number `seq` after the record hashed `prev`."""
    body: dict[str, Any] = {
        "seq": seq,
        "time": utc(now).isoformat(timespec="microseconds"),
        "kind": entry.kind,
        "actor": entry.actor,
        "roles": list(entry.roles),
        "practices": None if entry.practices is None else list(entry.practices),
        "outcome": entry.outcome,
        "details": entry.details,
        "prev": prev,
    }
    record_hash = hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()
    return parse_record(canonical(body | {"hash": record_hash, "mac": sign(key, b"record\n", body)}).encode("utf-8"))


def check_record(raw: bytes, key: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The line as a record (None if it is not one), and what is wrong with it, if anything."""
    try:
        loaded = json.loads(raw)
    except ValueError:
        return None, "not valid JSON: the line was damaged or edited"
    shape = _shape_error(loaded)
    if shape:
        return None, f"not an audit record ({shape})"
    body = {name: value for name, value in loaded.items() if name not in ("hash", "mac")}
    if hashlib.sha256(canonical(body).encode("utf-8")).hexdigest() != loaded["hash"]:
        return loaded, "its content does not match its hash: the record was edited"
    if not hmac.compare_digest(sign(key, b"record\n", body), loaded["mac"]):
        return loaded, "its MAC does not match: the record was written or rewritten without the audit key"
    return loaded, None


def parse_record(raw: bytes) -> AuditRecord:
    """The line as a record, unchecked; ValueError if it is not one."""
    loaded = json.loads(raw)
    shape = _shape_error(loaded)
    if shape:
        raise ValueError(f"not an audit record ({shape})")
    practices = loaded["practices"]
    fields = {"roles": tuple(loaded["roles"]), "practices": None if practices is None else tuple(practices)}
    return AuditRecord(**(loaded | fields))


def canonical(value: Any) -> str:
    """The one JSON text of `value`: sorted keys, no spaces, ASCII."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def sign(key: bytes, purpose: bytes, body: Mapping[str, Any]) -> str:
    """HMAC-SHA256 of `body`; `purpose` keeps a record's MAC from passing as an anchor's."""
    return hmac.new(key, purpose + canonical(body).encode("utf-8"), hashlib.sha256).hexdigest()


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive time is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _shape_error(loaded: Any) -> str | None:
    if not isinstance(loaded, dict):
        return "not a JSON object"
    if loaded.keys() != FIELDS:
        return f"missing {sorted(FIELDS - loaded.keys())}, unexpected {sorted(loaded.keys() - FIELDS)}"
    texts = ("time", "actor", "prev", "hash", "mac")
    if type(loaded["seq"]) is not int or not all(isinstance(loaded[name], str) for name in texts):
        return "seq or a text field of the wrong type"
    if not all(_HEX64.fullmatch(loaded[name]) for name in ("prev", "hash", "mac")):
        return "prev, hash or mac is not a SHA-256 in hex"
    if loaded["kind"] not in KINDS or loaded["outcome"] not in OUTCOMES or not isinstance(loaded["details"], dict):
        return "unknown kind or outcome, or details not an object"
    practices = loaded["practices"]
    if not _texts(loaded["roles"]) or not (practices is None or _texts(practices)):
        return "roles or practices not a list of text"
    try:
        zone = datetime.fromisoformat(loaded["time"]).tzinfo
    except ValueError:
        zone = None
    return None if zone is not None else "time is not an ISO 8601 time with its offset"


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _outcome(allowed: bool) -> str:
    return "allowed" if allowed else "denied"


def _scope(practices: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if practices is None else tuple(practices)


def _plain(value: Any, where: str) -> Any:
    """`value` as plain JSON (objects, lists, text, numbers), refusing anything that could carry
    a secret: a name like password/token/secret/key, raw SQL, bytes, or any other type."""
    if isinstance(value, Mapping):
        plain = {}
        for name, item in value.items():
            if not isinstance(name, str):
                raise AuditDetailsError(f"{where}: field names must be text")
            if (SECRET_NAME.search(name) and not name.lower().endswith("_id")) or name.lower() in RAW_SQL_NAMES:
                raise AuditDetailsError(f"{where}.{name}: secrets and raw SQL never go into the audit log")
            plain[redact(name)] = _plain(item, f"{where}.{name}")
        return plain
    if isinstance(value, list | tuple):
        return [_plain(item, where) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise AuditDetailsError(f"{where}: not a finite number")
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, int | float):
        return value
    raise AuditDetailsError(f"{where}: {type(value).__name__} is not plain JSON")
