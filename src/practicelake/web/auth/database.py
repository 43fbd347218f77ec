"""The small SQLite files signing-in keeps under state_dir/web: owner-only (0600 in a 0700
folder), one connection per transaction so that the web server's threads and processes
share them safely, and times as UTC text in one format, so that text order is time order."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from practicelake.errors import PracticelakeError
from practicelake.storage.private import create_private_file


class AuthStoreError(PracticelakeError):
    """A file of the sign-in state cannot be used as it is; the message says how to fix it."""


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class Database:
    """One SQLite file, created owner-only with `schema` on first use."""

    path: Path
    schema: str

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A transaction; a writing one holds the write lock from its first read, so that a
        check and the change it leads to are one step."""
        if not self.path.exists():
            with suppress(FileExistsError):  # created by another worker in the meantime
                os.close(create_private_file(self.path))
        mode = self.path.stat().st_mode & 0o777
        if mode & 0o077:
            raise AuthStoreError(f"{self.path} is readable by others (mode {mode:o}): chmod 600 it")
        with closing(sqlite3.connect(self.path, isolation_level=None, timeout=30)) as con:
            con.executescript(self.schema)
            con.execute("begin immediate" if write else "begin")
            try:
                yield con
            except BaseException:
                con.execute("rollback")
                raise
            con.execute("commit")
