"""Object storage in a folder of this machine (`file://`).

An object is written to a temporary file beside it (`.tmp-<pid>-<unix time>-<random>`),
then linked to its name. A write interrupted by a crash leaves that temporary file; the
next writer removes the ones nobody touched for a while (`remove_abandoned_writes`).
A full disk, a read-only mount or a forbidden folder is a StorageError naming the path.

Only the owner can read the store: folders are created 0700 and objects 0400 (read-only,
as write-once objects are), whatever the umask. A folder that a delete leaves empty goes
with its last object, as a prefix does on S3: no folder name outlives what it held.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from practicelake.errors import StorageError, disk_error
from practicelake.storage.base import ObjectStore
from practicelake.storage.private import private_folder

TEMP_PREFIX = ".tmp-"
OBJECT_MODE = 0o400
ATTEMPTS = 3  # a delete may remove the folder a write has just created


class LocalStore(ObjectStore):
    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self._base = Path(self.root.removeprefix("file://"))

    def _path(self, key: str) -> Path:
        path = (self._base / key).resolve()
        if not path.is_relative_to(self._base.resolve()):
            raise StorageError(f"key {key!r} leaves the store")
        return path

    def _write_temp(self, path: Path, data: bytes) -> Path:
        prefix = f"{TEMP_PREFIX}{os.getpid()}-{int(time.time())}-"
        for attempt in range(ATTEMPTS):
            private_folder(path.parent)
            try:
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix)  # 0600
                break
            except FileNotFoundError:
                if attempt == ATTEMPTS - 1:
                    raise
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Path(tmp)

    def put_new(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        try:
            tmp = self._write_temp(path, data)
            try:
                # link() fails if the name exists: create-only and atomic, never a partial object.
                os.link(tmp, path)
            except FileExistsError:
                return False
            finally:
                tmp.unlink()
            path.chmod(OBJECT_MODE)
        except OSError as exc:
            raise disk_error(exc, "writing", path) from exc
        return True

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise StorageError(f"{self.uri(key)} does not exist") from None
        except OSError as exc:
            raise disk_error(exc, "reading", path) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> Iterator[str]:
        base = self._base.resolve()
        start = self._path(prefix) if prefix else base
        folder = start if start.is_dir() or not prefix else start.parent  # a missing root holds nothing
        if not folder.exists():
            return
        try:
            keys = sorted(p.relative_to(base).as_posix() for p in folder.rglob("*") if p.is_file())
        except OSError as exc:
            raise disk_error(exc, "listing", folder) from exc
        yield from (k for k in keys if k.startswith(prefix) and not Path(k).name.startswith(TEMP_PREFIX))

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise disk_error(exc, "deleting", path) from exc
        self._remove_empty_folders(path.parent)

    def _remove_empty_folders(self, folder: Path) -> None:
        """`folder` and its parents, up to the store's root, while they are empty."""
        base = self._base.resolve()
        while folder != base and folder.is_relative_to(base):
            try:
                folder.rmdir()
            except OSError:  # not empty, so neither are its parents
                return
            folder = folder.parent

    def get_versioned(self, key: str) -> tuple[bytes, str] | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise disk_error(exc, "reading", path) from exc
        return data, hashlib.sha256(data).hexdigest()

    def replace_version(self, key: str, data: bytes, version: str) -> str | None:
        path = self._path(key)
        if not path.parent.is_dir():
            return None
        try:
            with _folder_locked(path.parent):
                if self._version_of(path) != version:
                    return None
                tmp = self._write_temp(path, data)
                tmp.chmod(OBJECT_MODE)
                os.replace(tmp, path)  # atomic: a reader sees the old bytes or the new ones
        except OSError as exc:
            raise disk_error(exc, "writing", path) from exc
        return hashlib.sha256(data).hexdigest()

    def delete_version(self, key: str, version: str) -> bool:
        path = self._path(key)
        if not path.parent.is_dir():
            return False
        try:
            with _folder_locked(path.parent):
                if self._version_of(path) != version:
                    return False
                path.unlink()
        except OSError as exc:
            raise disk_error(exc, "deleting", path) from exc
        return True

    @staticmethod
    def _version_of(path: Path) -> str | None:
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest()
        except FileNotFoundError:
            return None

    def remove_abandoned_writes(self, older_than_seconds: float) -> int:
        # By modification time: a write in progress keeps touching its file, a dead one does not.
        cutoff = time.time() - older_than_seconds
        removed = 0
        for tmp in self._base.rglob(TEMP_PREFIX + "*"):
            try:
                if tmp.is_file() and tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # its writer finished in the meantime
            except OSError as exc:
                raise disk_error(exc, "removing", tmp) from exc
        return removed


@contextmanager
def _folder_locked(folder: Path) -> Iterator[None]:
    """Conditional replaces and deletes in `folder` one at a time, across processes. put_new
    needs no lock: link() creates only while the name is free, which a replace never makes it."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)
