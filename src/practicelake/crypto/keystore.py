"""The key store: per practice, a random 256-bit data key (raw zone encryption), a
pseudonymisation secret and a file hash secret (the keyed hash that names its raw files),
and for the deployment an audit key, kept in one local JSON file (0600) only as wrapped by
the key provider.

A practice's keys are created together on its first use. Shredding a practice replaces its
wrapped keys by a tombstone: its raw objects can no longer be decrypted, its pseudonyms no
longer recomputed, and the names of its raw objects no longer tied to any file's content,
while every other practice's keys stay as they were. A shredded
practice id is never given new keys, so nothing is silently written under a fresh key that
the old objects' readers would mistake for theirs.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from practicelake.crypto.envelope import KEY_BYTES
from practicelake.crypto.kms import KeyProvider, KeyProviderError, LocalKeyProvider, key_provider
from practicelake.errors import PracticelakeError, SettingsError
from practicelake.settings import Settings
from practicelake.storage.private import private_folder

FORMAT = 2
DATA_KEY = "data_key"
AUDIT_KEY = "audit_key"
PSEUDONYM_SECRET = "pseudonym_secret"  # noqa: S105 - the name of a key, not a key
FILE_HASH_SECRET = "file_hash_secret"  # noqa: S105 - the name of a key, not a key
PRACTICE_KEYS = (DATA_KEY, PSEUDONYM_SECRET, FILE_HASH_SECRET)
INIT_CHECK = {"practicelake:purpose": "init-check"}  # a throwaway key wrapped to test the provider
_THREADS = threading.Lock()  # flock excludes other processes, not other threads of this one


class ShreddedError(PracticelakeError):
    """The practice's keys were destroyed when it was offboarded."""


class KeyStore:
    def __init__(self, path: Path, provider: KeyProvider) -> None:
        self.path = path
        self.provider = provider
        self._unwrapped: dict[tuple[str | None, str], tuple[str, bytes]] = {}  # (owner, purpose): (wrapped, key)

    def data_key(self, practice_id: str) -> bytes:
        """The practice's AES-256 data key, created on first use."""
        return self._key(practice_id, DATA_KEY)

    def pseudonym_secret(self, practice_id: str) -> bytes:
        """The practice's pseudonymisation secret, created on first use."""
        return self._key(practice_id, PSEUDONYM_SECRET)

    def file_hash_secret(self, practice_id: str) -> bytes:
        """The practice's secret for the keyed hash (HMAC-SHA-256) of its raw files: what names
        its raw objects and identifies its files in the manifest and in every row's lineage,
        so that nobody without the key can tell from a name which file was received."""
        return self._key(practice_id, FILE_HASH_SECRET)

    def audit_key(self) -> bytes:
        """The deployment's key for signing the audit log, created on first use; offboarding
        a practice leaves it alone."""
        return self._key(None, AUDIT_KEY)

    def shred(self, practice_id: str) -> bool:
        """Destroy the practice's wrapped keys for good; False if it had none. Later requests
        for them raise ShreddedError."""
        with self._exclusive():
            document = self._load()
            had_keys = document["practices"].pop(practice_id, None) is not None
            document["shredded"].setdefault(practice_id, datetime.now(UTC).isoformat(timespec="seconds"))
            self._save(document)
        for purpose in PRACTICE_KEYS:
            self._unwrapped.pop((practice_id, purpose), None)
        return had_keys

    def holds_keys(self) -> bool:
        document = self._load()
        return bool(document["practices"]) or "deployment" in document

    def _key(self, practice_id: str | None, purpose: str) -> bytes:
        """A key of the practice, or of the whole deployment when `practice_id` is None."""
        entry = self._entry(self._load(), practice_id)
        if entry is None:
            with self._exclusive():  # two creators would give the practice two keys
                document = self._load()
                entry = self._entry(document, practice_id)
                if entry is None:
                    entry = self._new_entry(practice_id)
                    if practice_id is None:
                        document["deployment"] = entry
                    else:
                        document["practices"][practice_id] = entry
                    self._save(document)
        owner = "the deployment" if practice_id is None else f"practice {practice_id}"
        if purpose not in entry:
            raise SettingsError(
                f"{owner}'s keys in {self.path} were made by an earlier practicelake, which named raw files by "
                f"their plain SHA-256 and kept no {purpose}: start a new lakehouse (warehouse, catalog and key "
                "store) and ingest the exports again"
            )
        wrapped = str(entry[purpose])
        cached = self._unwrapped.get((practice_id, purpose))
        if cached is not None and cached[0] == wrapped:
            return cached[1]
        try:
            key = self.provider.unwrap(base64.b64decode(wrapped, validate=True), _context(practice_id, purpose))
        except binascii.Error:
            raise KeyProviderError(f"key store {self.path}: {owner}'s {purpose} is damaged") from None
        except KeyProviderError as exc:
            raise KeyProviderError(f"cannot unwrap {owner}'s {purpose}: {exc}") from None
        if len(key) != KEY_BYTES:
            raise KeyProviderError(f"{owner}'s {purpose} did not unwrap to a 256-bit key")
        self._unwrapped[(practice_id, purpose)] = (wrapped, key)
        return key

    def _entry(self, document: dict[str, Any], practice_id: str | None) -> dict[str, str] | None:
        if practice_id is None:
            entry: dict[str, str] | None = document.get("deployment")
        elif practice_id in document["shredded"]:
            raise ShreddedError(
                f"practice {practice_id} was offboarded on {document['shredded'][practice_id]}: "
                "its keys were destroyed, and its id cannot be given new ones"
            )
        else:
            entry = document["practices"].get(practice_id)
        if entry is not None and entry.get("provider") != self.provider.name:
            raise SettingsError(
                f"the keys in {self.path} were wrapped by the {entry.get('provider')} key provider, "
                f"but key_provider is {self.provider.name}"
            )
        return entry

    def _new_entry(self, practice_id: str | None) -> dict[str, str]:
        entry = {"provider": self.provider.name, "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
        for purpose in (AUDIT_KEY,) if practice_id is None else PRACTICE_KEYS:
            wrapped = self.provider.wrap(secrets.token_bytes(KEY_BYTES), _context(practice_id, purpose))
            entry[purpose] = base64.b64encode(wrapped).decode()
        return entry

    def _load(self) -> dict[str, Any]:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return {"format": FORMAT, "practices": {}, "shredded": {}}
        with os.fdopen(fd, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode & 0o777
            if mode & 0o077:
                raise SettingsError(
                    f"key store {self.path} may be read by group or others (mode {mode:o}): chmod 600 it"
                )
            text = handle.read()
        try:
            document: dict[str, Any] = json.loads(text)
        except ValueError:
            raise SettingsError(f"key store {self.path} is damaged (not JSON)") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise SettingsError(
                f"key store {self.path} is not in the current format (unwrapped secrets of an earlier "
                "version?): move it away and re-ingest, or restore the one that belongs to this lakehouse"
            )
        return document

    def _save(self, document: dict[str, Any]) -> None:
        private_folder(self.path.parent)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keys-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            json.dump(document, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)  # the rename itself survives a crash
        finally:
            os.close(folder)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        private_folder(self.path.parent)
        with _THREADS:
            lock = os.open(self.path.with_name(self.path.name + ".lock"), os.O_CREAT | os.O_WRONLY, 0o600)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX)
                yield
            finally:
                os.close(lock)


def _context(practice_id: str | None, purpose: str) -> dict[str, str]:
    if practice_id is None:
        return {"practicelake:purpose": purpose}
    return {"practicelake:practice_id": practice_id, "practicelake:purpose": purpose}


def open_keys(settings: Settings) -> KeyStore:
    """The key store of these settings, its keys wrapped by the configured provider."""
    return KeyStore(settings.key_file, key_provider(settings))


def init_keys(settings: Settings) -> str:
    """Make the key provider ready, replacing nothing: create the local key-encryption key,
    or check that the KMS key wraps and unwraps. Says what it did."""
    provider = key_provider(settings)
    if isinstance(provider, LocalKeyProvider):
        if provider.path.exists():
            provider.unwrap(provider.wrap(bytes(KEY_BYTES), INIT_CHECK), INIT_CHECK)  # readable, private, a key
            return f"the key-encryption key {provider.path} already exists: nothing changed"
        if KeyStore(settings.key_file, provider).holds_keys():
            raise SettingsError(
                f"key store {settings.key_file} holds keys, but their key-encryption key {provider.path} is "
                "missing: restore it from its backup (a new one could not unwrap them)"
            )
        LocalKeyProvider.create_kek(provider.path)
        return f"created the key-encryption key {provider.path} (0600): back it up apart from the warehouse"
    provider.unwrap(provider.wrap(bytes(KEY_BYTES), INIT_CHECK), INIT_CHECK)
    return f"{provider.describe()} wraps and unwraps keys"
