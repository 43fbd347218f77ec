"""Failed sign-ins counted per account and per client address, and the temporary lockouts
they lead to (OWASP Authentication Cheat Sheet, "Protect against automated attacks").

Failures are counted within a window (lockout_minutes); reaching the limit of an account
(sign_in_attempts) or of an address (sign_in_attempts_per_address) locks it for
lockout_minutes, after which it is free again by itself. The per-address limit stops one
client trying a few passwords on each of many accounts, which the per-account limit alone
would let through. Any name typed is counted, a user or not, so a lockout does not tell who
exists. The file keeps the account names and addresses only as HMACs under the signing key,
never as typed (a password typed into the name field must not be written down), and is kept
on disk so that a restart does not reset it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from practicelake.web.auth.database import Database, utc_text

Scope = Literal["account", "address"]

SCHEMA = """
create table if not exists failures (
    scope text not null,
    subject text not null,
    failed_at text not null
);
create index if not exists failures_by_subject on failures (scope, subject, failed_at);
create table if not exists lockouts (
    scope text not null,
    subject text not null,
    until text not null,
    primary key (scope, subject)
);
"""


@dataclass(frozen=True)
class Throttle:
    database: Database
    key: bytes
    account_limit: int
    address_limit: int
    window: timedelta
    """How far back failures count, and how long a lockout lasts."""

    def locked(self, account: str, address: str, now: datetime) -> Scope | None:
        """Which of the two is locked out at `now`, the account first; None when neither is."""
        with self.database.transaction() as con:
            for scope, subject in self._subjects(account, address):
                row = con.execute(
                    "select 1 from lockouts where scope = ? and subject = ? and until > ?",
                    (scope, subject, utc_text(now)),
                ).fetchone()
                if row is not None:
                    return scope
        return None

    def failed(self, account: str, address: str, now: datetime) -> list[Scope]:
        """Count one failure of `account` from `address`; the scopes it has just locked out."""
        locked: list[Scope] = []
        since = utc_text(now - self.window)
        with self.database.transaction(write=True) as con:
            con.execute("delete from failures where failed_at <= ?", (since,))
            con.execute("delete from lockouts where until <= ?", (utc_text(now),))
            for scope, subject in self._subjects(account, address):
                con.execute(
                    "insert into failures (scope, subject, failed_at) values (?, ?, ?)", (scope, subject, utc_text(now))
                )
                failures = con.execute(
                    "select count(*) from failures where scope = ? and subject = ? and failed_at > ?",
                    (scope, subject, since),
                ).fetchone()[0]
                if failures >= (self.account_limit if scope == "account" else self.address_limit):
                    con.execute(
                        "insert or replace into lockouts (scope, subject, until) values (?, ?, ?)",
                        (scope, subject, utc_text(now + self.window)),
                    )
                    # The count starts again once the lockout is over.
                    con.execute("delete from failures where scope = ? and subject = ?", (scope, subject))
                    locked.append(scope)
        return locked

    def succeeded(self, account: str) -> None:
        """A correct password forgets the account's failures. The address's stay: one client
        must not undo its failures on many accounts by signing in to its own."""
        subject = self._subject("account", account)
        with self.database.transaction(write=True) as con:
            con.execute("delete from failures where scope = 'account' and subject = ?", (subject,))

    def _subjects(self, account: str, address: str) -> tuple[tuple[Scope, str], tuple[Scope, str]]:
        return ("account", self._subject("account", account)), ("address", self._subject("address", address))

    def _subject(self, scope: Scope, text: str) -> str:
        message = f"throttle\n{scope}\n".encode() + text.encode("utf-8", "surrogateescape")
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()
