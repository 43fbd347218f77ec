"""Dashboard sessions, kept on the server: the browser holds only a random id.

A session id is 256 random bits (OWASP Session Management: at least 64 bits of entropy); the
store keeps only its SHA-256, so a copy of the file lets nobody take over a session. A
session ends when unused for the idle time, at its absolute end however used, at sign-out,
and as soon as its user's credential stamp is no longer the one it was started with (a
password change, a disabled user).

The file also keeps the signing key of sign-in's tokens (CSRF tokens, throttle subjects):
random, made on first use, never shown.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from practicelake.web.auth.database import Database, from_utc_text, utc_text

SCHEMA = """
create table if not exists sessions (
    id_hash text primary key,
    user text not null,
    credential_stamp text not null,
    created_at text not null,
    last_seen_at text not null,
    expires_at text not null
);
create index if not exists sessions_by_user on sessions (user);
create table if not exists signing_keys (
    name text primary key,
    secret blob not null
);
"""
# A session's last use is written at most once a minute: idle expiry is to the minute, and a
# busy dashboard does not write to the file at every request.
TOUCH_EVERY = timedelta(minutes=1)


def id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class Session:
    id_hash: str
    user: str
    credential_stamp: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class SessionStore:
    database: Database
    idle: timedelta
    lifetime: timedelta

    def signing_key(self) -> bytes:
        """The key of sign-in's HMACs, made on first use and the same for every worker."""
        with self.database.transaction(write=True) as con:
            con.execute(
                "insert or ignore into signing_keys (name, secret) values ('sign-in', ?)", (secrets.token_bytes(32),)
            )
            row = con.execute("select secret from signing_keys where name = 'sign-in'").fetchone()
        return bytes(row[0])

    def start(self, user: str, credential_stamp: str, now: datetime) -> tuple[str, Session]:
        """A new session of `user`: its id (for the cookie only) and what the store keeps."""
        session_id = secrets.token_urlsafe(32)
        session = Session(id_hash(session_id), user, credential_stamp, now, now, now + self.lifetime)
        with self.database.transaction(write=True) as con:
            con.execute("delete from sessions where expires_at <= ? or last_seen_at <= ?", _ended(self, now))
            con.execute(
                "insert into sessions (id_hash, user, credential_stamp, created_at, last_seen_at, expires_at)"
                " values (?, ?, ?, ?, ?, ?)",
                (session.id_hash, user, credential_stamp, utc_text(now), utc_text(now), utc_text(session.expires_at)),
            )
        return session_id, session

    def find(self, session_id: str, now: datetime) -> Session | None:
        """The live session of this id, its last use moved to `now`; None when there is none
        or it has ended (an ended one is deleted). Most requests only read the file."""
        key = id_hash(session_id)
        with self.database.transaction() as con:
            row = con.execute(
                "select user, credential_stamp, created_at, last_seen_at, expires_at from sessions where id_hash = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        user, stamp, created, seen, expires = row
        session = Session(key, user, stamp, from_utc_text(created), from_utc_text(seen), from_utc_text(expires))
        if now >= session.expires_at or now - session.last_seen_at >= self.idle:
            self.end(key)
            return None
        if now - session.last_seen_at >= TOUCH_EVERY:
            with self.database.transaction(write=True) as con:
                # Only ever forward: a slower request that read earlier must not move it back.
                con.execute(
                    "update sessions set last_seen_at = ? where id_hash = ? and last_seen_at < ?",
                    (utc_text(now), key, utc_text(now)),
                )
        return session

    def end(self, session_hash: str) -> None:
        with self.database.transaction(write=True) as con:
            con.execute("delete from sessions where id_hash = ?", (session_hash,))

    def end_all(self, user: str) -> int:
        """End every session of `user`; how many there were."""
        with self.database.transaction(write=True) as con:
            return con.execute("delete from sessions where user = ?", (user,)).rowcount

    def count(self, user: str) -> int:
        with self.database.transaction() as con:
            return int(con.execute("select count(*) from sessions where user = ?", (user,)).fetchone()[0])


def _ended(store: SessionStore, now: datetime) -> tuple[str, str]:
    """Bounds of the sessions that have ended by `now`: (expiry, last use)."""
    return utc_text(now), utc_text(now - store.idle)
