"""Object storage in a folder of this machine (`file://`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from practicelake.errors import StorageError
from practicelake.storage.base import ObjectStore


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
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return Path(tmp)

    def put_new(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        tmp = self._write_temp(path, data)
        try:
            # link() fails if the name exists: create-only and atomic, never a partial object.
            os.link(tmp, path)
        except FileExistsError:
            return False
        finally:
            tmp.unlink()
        path.chmod(0o444)
        return True

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"{self.uri(key)} does not exist") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> Iterator[str]:
        base = self._base.resolve()
        start = self._path(prefix) if prefix else base
        folder = start if start.is_dir() else start.parent
        if not folder.exists():
            return
        keys = (p.relative_to(base).as_posix() for p in folder.rglob("*") if p.is_file())
        yield from sorted(k for k in keys if k.startswith(prefix) and not Path(k).name.startswith(".tmp-"))

    def delete(self, key: str) -> None:
        path = self._path(key)
        if path.exists():
            path.chmod(0o644)
            path.unlink()
