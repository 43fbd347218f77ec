"""The local principal store: users, their role per practice, and API tokens, in one SQLite
file readable by its owner only.

Passwords are kept as argon2id hashes. An API token is 256 random bits shown once at
creation; the store keeps only its SHA-256. A slow hash protects guessable secrets such as
passwords; a 256-bit random token cannot be guessed, so a fast hash is enough for a stolen
store to be useless, and every request can be checked cheaply. A token names its row by a
public id and its secret is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from practicelake.access.roles import CROSS_PRACTICE_ROLES, EVERY_PRACTICE, ROLES, Grant
from practicelake.errors import PracticelakeError

USER_NAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
PRACTICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# NIST SP 800-63B: length is what makes a password strong; the upper bound keeps hashing cheap.
MIN_PASSWORD, MAX_PASSWORD = 12, 1024
MAX_TOKEN_LIFETIME = timedelta(days=366)
# "plk_" lets secret scanners recognise a leaked token; the id is public, the rest is 256 bits.
TOKEN_ID = re.compile(r"[0-9a-f]{16}")  # the public part of a token
TOKEN = re.compile(r"plk_(" + TOKEN_ID.pattern + r")_([A-Za-z0-9_-]{43})")
REFUSED_LOGIN = "unknown user or wrong password"
REFUSED_BEARER = "invalid, expired or revoked token"

SCHEMA = """
create table if not exists users (
    name text primary key,
    password_hash text not null,
    disabled integer not null default 0,
    created_at text not null
);
create table if not exists grants (
    user text not null references users(name),
    practice_id text not null,
    role text not null,
    primary key (user, practice_id)
);
create table if not exists tokens (
    token_id text primary key,
    secret_hash text not null,
    owner text not null references users(name),
    created_at text not null,
    expires_at text not null,
    revoked_at text
);
"""


class AuthenticationError(PracticelakeError):
    """Who the reader is could not be established. The message never says which part was wrong."""


class PrincipalError(PracticelakeError):
    """A user, role or token change that cannot be made; the message says why."""


@dataclass(frozen=True)
class Principal:
    """Someone authenticated: a user by password, or a user's API token."""

    name: str
    kind: Literal["user", "token"]
    roles: Mapping[str, str]
    """Role per practice id; `*` is every practice."""
    token_id: str | None = None

    @property
    def grants(self) -> tuple[Grant, ...]:
        return tuple(Grant(practice_id, role) for practice_id, role in sorted(self.roles.items()))


@dataclass(frozen=True)
class User:
    name: str
    disabled: bool
    created_at: datetime
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    owner: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class PrincipalStore:
    path: Path
    hasher: PasswordHasher = field(default_factory=PasswordHasher)  # argon2id, RFC 9106 low-memory
    now: Callable[[], datetime] = _utc_now
    _decoy: str | None = field(default=None, init=False, repr=False)

    @contextmanager
    def _db(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A transaction on the store, created 0600 on first use. A writing one holds the
        write lock from its first read, so that a check and the change it allows are one step."""
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        mode = self.path.stat().st_mode & 0o777
        if mode & 0o077:
            raise PrincipalError(f"user store {self.path} is readable by others (mode {mode:o}): chmod 600 it")
        with closing(sqlite3.connect(self.path, isolation_level=None)) as con:
            con.execute("pragma foreign_keys = on")
            if not _has_schema(con):
                con.executescript(SCHEMA)
            con.execute("begin immediate" if write else "begin")
            try:
                yield con
            except BaseException:
                con.execute("rollback")
                raise
            con.execute("commit")

    # users

    def add_user(self, name: str, password: str) -> None:
        if not USER_NAME.fullmatch(name):
            raise PrincipalError("a user name is 1-64 of a-z, 0-9, '.', '_', '@', '-', starting with a letter or digit")
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise PrincipalError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
        password_hash = self.hasher.hash(password)
        with self._db(write=True) as con:
            if con.execute("select 1 from users where name = ?", (name,)).fetchone():
                raise PrincipalError(f"user {name!r} exists")
            con.execute(
                "insert into users (name, password_hash, created_at) values (?, ?, ?)",
                (name, password_hash, self.now().isoformat()),
            )

    def list_users(self) -> list[User]:
        with self._db() as con:
            rows = con.execute("select name, disabled, created_at from users order by name").fetchall()
            grants = con.execute("select user, practice_id, role from grants order by practice_id").fetchall()
        return [
            User(
                name,
                bool(disabled),
                datetime.fromisoformat(created),
                tuple(Grant(p, r) for u, p, r in grants if u == name),
            )
            for name, disabled, created in rows
        ]

    def set_password(self, name: str, password: str) -> None:
        """Replace the user's password. Their credential stamp changes with it, so whatever
        holds the old stamp (a signed-in session) knows the password it was given for is gone."""
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise PrincipalError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
        password_hash = self.hasher.hash(password)
        with self._db(write=True) as con:
            self._require_user(con, name)
            con.execute("update users set password_hash = ? where name = ?", (password_hash, name))

    def credential_stamp(self, name: str) -> str | None:
        """A short digest of the user's password hash, which changes whenever the password does
        (each hash has its own salt), and also when a sign-in upgrades the hashing parameters.
        None for an unknown or disabled user: nothing they hold is good any more."""
        with self._db() as con:
            row = con.execute("select password_hash, disabled from users where name = ?", (name,)).fetchone()
        if row is None or row[1]:
            return None
        return hashlib.sha256(b"credential\n" + str(row[0]).encode()).hexdigest()[:32]

    def disable_user(self, name: str) -> None:
        """The user can no longer sign in, nor use any of their tokens."""
        with self._db(write=True) as con:
            if con.execute("update users set disabled = 1 where name = ?", (name,)).rowcount == 0:
                raise PrincipalError(f"no user named {name!r}")

    # roles

    def grant(self, user: str, role: str, practice: str) -> bool:
        """Give `user` `role` in `practice` (`*`: every practice). One role per practice: another
        one held there must be revoked first. False when the user already had it."""
        if role not in ROLES:
            raise PrincipalError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        if role in CROSS_PRACTICE_ROLES and practice != EVERY_PRACTICE:
            raise PrincipalError(f"{role} is granted for every practice only (practice '*')")
        if practice != EVERY_PRACTICE and not PRACTICE_ID.fullmatch(practice):
            raise PrincipalError(f"not a practice id: {practice!r}")
        with self._db(write=True) as con:
            self._require_user(con, user)
            held = con.execute(
                "select role from grants where user = ? and practice_id = ?", (user, practice)
            ).fetchone()
            if held is not None:
                if held[0] == role:
                    return False
                raise PrincipalError(f"{user} is {held[0]} in practice {practice}: revoke that role first")
            con.execute("insert into grants (user, practice_id, role) values (?, ?, ?)", (user, practice, role))
        return True

    def revoke(self, user: str, role: str, practice: str) -> None:
        with self._db(write=True) as con:
            deleted = con.execute(
                "delete from grants where user = ? and practice_id = ? and role = ?", (user, practice, role)
            ).rowcount
        if deleted == 0:
            raise PrincipalError(f"{user} has no role {role} in practice {practice}")

    def revoke_practice(self, practice: str) -> int:
        """Every role anyone holds in `practice` (a practice that leaves), overwritten on disk
        rather than only unlinked; how many there were. Roles granted for every practice stay."""
        with self._db(write=True) as con:
            con.execute("pragma secure_delete = on")
            return con.execute("delete from grants where practice_id = ?", (practice,)).rowcount

    # tokens

    def create_token(self, user: str, expires_in: timedelta) -> tuple[str, str]:
        """A new API token of `user`: (token id, secret). The secret is returned only here."""
        if not timedelta(0) < expires_in <= MAX_TOKEN_LIFETIME:
            raise PrincipalError(f"a token expires within {MAX_TOKEN_LIFETIME.days} days")
        token_id = secrets.token_hex(8)
        secret = f"plk_{token_id}_{secrets.token_urlsafe(32)}"
        created = self.now()
        with self._db(write=True) as con:
            if self._require_user(con, user):
                raise PrincipalError(f"user {user!r} is disabled")
            con.execute(
                "insert into tokens (token_id, secret_hash, owner, created_at, expires_at) values (?, ?, ?, ?, ?)",
                (token_id, _secret_hash(secret), user, created.isoformat(), (created + expires_in).isoformat()),
            )
        return token_id, secret

    def revoke_token(self, token_id: str) -> None:
        with self._db(write=True) as con:
            revoked = con.execute(
                "update tokens set revoked_at = ? where token_id = ? and revoked_at is null",
                (self.now().isoformat(), token_id),
            ).rowcount
        if revoked == 0:
            raise PrincipalError(f"no active token {token_id!r}")

    def list_tokens(self, user: str | None = None) -> list[TokenInfo]:
        with self._db() as con:
            rows = con.execute(
                "select token_id, owner, created_at, expires_at, revoked_at from tokens"
                " where ? is null or owner = ? order by created_at",
                (user, user),
            ).fetchall()
        return [
            TokenInfo(
                token_id,
                owner,
                datetime.fromisoformat(created),
                datetime.fromisoformat(expires),
                datetime.fromisoformat(revoked) if revoked else None,
            )
            for token_id, owner, created, expires, revoked in rows
        ]

    # authentication

    def authenticate_password(self, name: str, password: str) -> Principal:
        with self._db() as con:
            row = con.execute("select password_hash, disabled from users where name = ?", (name,)).fetchone()
        # An unknown user costs a hash check too: the time taken does not tell who exists.
        password_hash, disabled = row if row else (self._decoy_hash(), True)
        try:
            self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            raise AuthenticationError(REFUSED_LOGIN) from None
        if disabled:
            raise AuthenticationError(REFUSED_LOGIN)
        if self.hasher.check_needs_rehash(password_hash):
            with self._db(write=True) as con:
                con.execute("update users set password_hash = ? where name = ?", (self.hasher.hash(password), name))
        return Principal(name=name, kind="user", roles=self._roles(name))

    def authenticate_token(self, secret: str) -> Principal:
        match = TOKEN.fullmatch(secret)
        token_id = match[1] if match else ""
        with self._db() as con:
            row = con.execute(
                "select t.secret_hash, t.owner, t.expires_at, t.revoked_at, u.disabled"
                " from tokens t join users u on u.name = t.owner where t.token_id = ?",
                (token_id,),
            ).fetchone()
        stored, owner, expires, revoked, disabled = row if row else ("", "", "", None, True)
        if not hmac.compare_digest(_secret_hash(secret), stored) or not match:
            raise AuthenticationError(REFUSED_BEARER)
        if revoked is not None or disabled or datetime.fromisoformat(expires) <= self.now():
            raise AuthenticationError(REFUSED_BEARER)
        return Principal(name=owner, kind="token", roles=self._roles(owner), token_id=token_id)

    def roles(self, user: str) -> Mapping[str, str]:
        """The user's role per practice, as held now (one read of one user's grants)."""
        return self._roles(user)

    def _roles(self, user: str) -> Mapping[str, str]:
        with self._db() as con:
            rows = con.execute("select practice_id, role from grants where user = ?", (user,)).fetchall()
        return MappingProxyType(dict(rows))

    def _decoy_hash(self) -> str:
        if self._decoy is None:
            self._decoy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._decoy

    @staticmethod
    def _require_user(con: sqlite3.Connection, name: str) -> bool:
        """Whether the user is disabled; an unknown user is an error."""
        row = con.execute("select disabled from users where name = ?", (name,)).fetchone()
        if row is None:
            raise PrincipalError(f"no user named {name!r}")
        return bool(row[0])


def _has_schema(con: sqlite3.Connection) -> bool:
    return con.execute("select 1 from sqlite_master where name = 'tokens'").fetchone() is not None
