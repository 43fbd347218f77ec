"""The local key store: per-practice secrets in one JSON file, readable by its owner only.

Each practice gets its own random pseudonymisation secret, so that destroying one
practice's keys (crypto-shredding) leaves the others intact.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from practicelake.errors import SettingsError

SECRET_BYTES = 32
_THREADS = threading.Lock()  # flock excludes other processes, not other threads of this one


class KeyStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        mode = self.path.stat().st_mode & 0o777
        if mode & 0o077:
            raise SettingsError(f"key file {self.path} is readable by others (mode {mode:o}): chmod 600 it")
        loaded: dict[str, dict[str, str]] = json.loads(self.path.read_text(encoding="utf-8"))["practices"]
        return loaded

    def _save(self, practices: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keys-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            json.dump({"practices": practices}, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One writer at a time: two that both create a practice's secret would give its
        patients two pseudonyms."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _THREADS, self.path.with_name(self.path.name + ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def pseudonym_secret(self, practice_id: str) -> bytes:
        """The practice's pseudonymisation secret, created on first use."""
        entry = self._load().get(practice_id)
        if entry is None:
            with self._exclusive():
                practices = self._load()
                entry = practices.get(practice_id)
                if entry is None:
                    entry = {"pseudonym_secret": base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()}
                    practices[practice_id] = entry
                    self._save(practices)
        return base64.b64decode(entry["pseudonym_secret"])
