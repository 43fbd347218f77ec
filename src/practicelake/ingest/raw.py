"""The raw zone: every received file, byte for byte, content-addressed and write-once,
encrypted before it reaches the object store.

Each object is sealed with AES-256-GCM (crypto.envelope) under its practice's data key,
with the object key as associated data: the object key names the practice, so an object
moved to another path or practice does not open.

The content address is keyed: the HMAC-SHA-256 of the file as received, under the
practice's file hash secret, checked again after decryption. A plain SHA-256 would let
anyone who can list the bucket, or read the manifest or a row's lineage, confirm that a
file they hold was received; the keyed one tells nothing without the key store, and once
the practice is offboarded (its secret shredded) nothing ties a name to any content. The
same bytes still get the same address within one practice, so receiving a file again is
recognised.
"""

from __future__ import annotations

import hmac
import re
from datetime import date

from practicelake.crypto.envelope import EnvelopeError, seal, unseal
from practicelake.crypto.keystore import KeyStore, ShreddedError
from practicelake.crypto.kms import KeyProviderError
from practicelake.errors import IntegrityError, PracticelakeError
from practicelake.settings import cited, practice_id_problem
from practicelake.storage import ObjectStore
from practicelake.storage.zones import RAW_FOLDER

PREFIX = RAW_FOLDER  # the raw zone's location holds this folder (storage.zones)
EXTENSION = re.compile(r"(\.[a-z0-9]{1,10}){1,2}")
"""A file's extension as an object key keeps it (`.csv`, `.835`, `.ndjson.gz`): else none."""
SOURCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
"""A source stands as it is in object keys: lower case, so that no two sources can share a
folder, even on a case-insensitive file system."""


def path_segment(value: str) -> str:
    """A value made safe to stand in an object key (a dataset named by a file). Two names may
    meet in one segment; the object's content address keeps their bytes apart."""
    return re.sub(r"[^0-9A-Za-z._-]+", "_", value).strip("._") or "_"


def check_source(source: str) -> str:
    """`source` if it can stand as it is in an object key; PracticelakeError otherwise."""
    if not SOURCE.fullmatch(source):
        raise PracticelakeError(
            f"source {cited(source)} is not valid: a source is 1 to 64 lower-case ASCII letters, "
            "digits, '_' or '-', starting with a letter or digit"
        )
    return source


def practice_of(key: str) -> str:
    """The practice an object key is filed under (raw/practice_id=P/...)."""
    parts = key.split("/")
    if len(parts) < 3 or parts[0] != PREFIX or not parts[1].startswith("practice_id="):
        raise PracticelakeError(f"{key!r} is not a raw zone object key")
    return parts[1].removeprefix("practice_id=")


class RawZone:
    def __init__(self, store: ObjectStore, keys: KeyStore) -> None:
        self.store = store
        self.keys = keys

    def address(self, practice_id: str, data: bytes) -> str:
        """The file's content address: HMAC-SHA-256 of its bytes under the practice's file hash
        secret, in hex. ShreddedError once the practice is offboarded."""
        return hmac.digest(self.keys.file_hash_secret(practice_id), data, "sha256").hex()

    @staticmethod
    def object_key(
        practice_id: str, source: str, dataset: str, received: date, address: str, extension: str = ".csv"
    ) -> str:
        problem = practice_id_problem(practice_id)
        if problem:
            raise PracticelakeError(problem)
        return "/".join(
            (
                PREFIX,
                f"practice_id={practice_id}",
                f"source={check_source(source)}",
                f"dataset={path_segment(dataset)}",
                f"ingest_date={received.isoformat()}",
                f"{address}{extension if EXTENSION.fullmatch(extension) else ''}",
            )
        )

    def write(self, key: str, data: bytes) -> bool:
        """Encrypt and store the object once; False when the key was already there."""
        return self.store.put_new(key, seal(self.keys.data_key(practice_of(key)), data, key.encode()))

    def read(self, key: str, address: str) -> bytes:
        """The object's bytes, authenticated, decrypted and checked against the address it was
        stored under; IntegrityError naming the object otherwise, never altered bytes."""
        practice_id = practice_of(key)
        sealed = self.store.get(key)
        try:
            data = unseal(self.keys.data_key(practice_id), sealed, key.encode())
        except ShreddedError as exc:
            raise IntegrityError(f"{self.store.uri(key)} cannot be decrypted: {exc}") from None
        except KeyProviderError as exc:  # the key-encryption key, not this object, is wrong
            raise KeyProviderError(f"{self.store.uri(key)} cannot be decrypted: {exc}") from None
        except EnvelopeError as exc:
            raise IntegrityError(
                f"{self.store.uri(key)} {exc} (practice {practice_id}'s data key): the object cannot be trusted"
            ) from None
        if not hmac.compare_digest(self.address(practice_id, data), address):
            raise IntegrityError(
                f"{self.store.uri(key)} does not match its content address (keyed SHA-256): the object was altered"
            )
        return data
