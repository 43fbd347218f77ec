"""Errors practicelake raises on purpose. Each says whether trying again can help."""

from __future__ import annotations

import errno
import re
import sqlite3


class PracticelakeError(Exception):
    """A problem the user can fix (bad input, bad settings): shown as one line, no traceback."""

    transient = False


class SettingsError(PracticelakeError):
    """The settings are incomplete or contradict each other."""


class StorageError(PracticelakeError):
    """An object could not be read or written."""


class IntegrityError(StorageError):
    """An object's bytes do not match the hash it was stored under."""


class MalformedFileError(PracticelakeError):
    """A raw file cannot be read as the dataset it claims to be."""


class UnknownPracticeError(PracticelakeError):
    """The practice is not configured."""


class LockedError(PracticelakeError):
    """Another writer (transform, curate, offboard) holds the warehouse's writer lock."""

    transient = True


class LockLostError(PracticelakeError):
    """A run's writer lock expired or was taken over: the run stopped before committing more.
    Running it again is safe (the next run rolls back what this one left unfinished)."""

    transient = True


# The errno values a full disk, a quota or a read-only or forbidden mount give.
DISK_PROBLEMS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}
# What SQLite says on a full disk or a read-only or forbidden folder (other errors are defects).
SQLITE_DISK_MESSAGES = ("disk is full", "readonly database", "unable to open database file", "disk I/O error")
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x1f\x7f-\x9f]")


def disk_problem(exc: OSError) -> str:
    """What went wrong, in words: 'no space left on device', 'read-only file system', ..."""
    known = DISK_PROBLEMS.get(exc.errno or 0)
    return known or (exc.strerror or str(exc) or type(exc).__name__).lower()


def disk_error(exc: OSError, action: str, path: object) -> StorageError:
    """A StorageError naming the problem and the path: 'no space left on device writing /lake/x'."""
    return StorageError(f"{disk_problem(exc)} {action} {path}")


def one_line(text: str) -> str:
    """`text` safe to print as one terminal line: line breaks become spaces, control characters
    (a file name may carry an ANSI escape) are removed."""
    return " ".join(_CONTROL.sub(" ", text).split())


def describe_failure(exc: BaseException) -> str | None:
    """One line for an error shown to the user without a traceback, or None for a defect.

    Besides practicelake's own errors: the machine's (a full disk, a read-only mount, a
    folder it may not write) from the OS, pyarrow, DuckDB (its temporary files) and the
    SQLite catalog. When such an error names no path and arose while handling an earlier
    one that does (a write that failed, then the clean-up after it), the earlier one is told.
    """
    message = _described(exc)
    if message is None or _names_a_path(exc):
        return message
    earlier, seen = exc.__cause__ or exc.__context__, 0
    while earlier is not None and seen < 10:
        if _names_a_path(earlier):
            return _described(earlier)
        earlier, seen = earlier.__cause__ or earlier.__context__, seen + 1
    return message


def _names_a_path(exc: BaseException) -> bool:
    return isinstance(exc, PracticelakeError) or (isinstance(exc, OSError) and exc.filename is not None)


def _described(exc: BaseException) -> str | None:
    # Imported here: every module imports this one, and it must stay cheap to import.
    import duckdb
    import sqlalchemy.exc

    if isinstance(exc, PracticelakeError):
        return str(exc)
    if isinstance(exc, OSError):
        if exc.filename is not None:
            return f"{disk_problem(exc)}: {exc.filename}"
        return str(exc) or disk_problem(exc)
    if isinstance(exc, duckdb.IOException | duckdb.OutOfMemoryException):
        return str(exc)
    if isinstance(exc, sqlalchemy.exc.OperationalError) and _is_disk_message(str(exc.orig)):
        return f"catalog database: {exc.orig}"
    if isinstance(exc, sqlite3.OperationalError) and _is_disk_message(str(exc)):
        return f"database: {exc}"
    return None


def _is_disk_message(message: str) -> bool:
    return any(text in message for text in SQLITE_DISK_MESSAGES)
