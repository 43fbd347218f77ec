"""The raw zone: every received file, byte for byte, content-addressed and write-once."""

from __future__ import annotations

import hashlib
import re
from datetime import date

from practicelake.errors import IntegrityError
from practicelake.storage import ObjectStore

PREFIX = "raw"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def path_segment(value: str) -> str:
    """A value made safe to stand in an object key."""
    return re.sub(r"[^0-9A-Za-z._-]+", "_", value).strip("._") or "_"


class RawZone:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    @staticmethod
    def object_key(practice_id: str, source: str, dataset: str, received: date, sha256: str) -> str:
        return "/".join(
            (
                PREFIX,
                f"practice_id={path_segment(practice_id)}",
                f"source={path_segment(source)}",
                f"dataset={path_segment(dataset)}",
                f"ingest_date={received.isoformat()}",
                f"{sha256}.csv",
            )
        )

    def write(self, key: str, data: bytes) -> bool:
        """Store the object once; False when these bytes were already there."""
        return self.store.put_new(key, data)

    def read(self, key: str, sha256: str) -> bytes:
        """The object's bytes, checked against the hash it was stored under."""
        data = self.store.get(key)
        if sha256_hex(data) != sha256:
            raise IntegrityError(f"{self.store.uri(key)} does not match its SHA-256: the object was altered")
        return data
