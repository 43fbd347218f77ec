"""The lakehouse's objects when its zones have locations of their own: one store that sends
each key to the zone it belongs to, by the key's first folder.

The pipeline addresses objects by key (`raw/...`, `runs/...`, `locks/...`) through one store,
as it does when every zone is under the warehouse; here `raw/` goes to the raw zone's
location, the run journal (`runs/`) and the writer lock (`locks/`) to the ops zone's, and any
other key to the warehouse. So each command reaches only the locations its keys name (an
ingest writes only raw objects; a transform also takes the lock and journals its run), which
is what an IAM policy per zone can grant. The Iceberg tables are not reached through here:
pyiceberg writes them where the catalog says (lakehouse.zones).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping

from practicelake.storage.base import ObjectStore

RAW_FOLDER = "raw"
JOURNAL_FOLDER = "runs"
LOCK_FOLDER = "locks"
FOLDER_ZONES = {RAW_FOLDER: "raw", JOURNAL_FOLDER: "ops", LOCK_FOLDER: "ops"}
"""The zone of each top folder of the store's keys; the warehouse holds the others."""


class ZonedStore(ObjectStore):
    """Keys routed by their first folder to the zones' stores (FOLDER_ZONES); `warehouse`
    holds every other key. Keys are the same as in a single store, so nothing that records a
    key (the manifest's object keys, the journal's) depends on where the zones are."""

    def __init__(self, warehouse: ObjectStore, zones: Mapping[str, ObjectStore]) -> None:
        self.root = warehouse.root
        self.warehouse = warehouse
        self.zones = dict(zones)

    def zone(self, name: str) -> ObjectStore:
        """The store at the zone's location (the warehouse's for a zone without one)."""
        return self.zones.get(name, self.warehouse)

    def holding(self, uri: str) -> ObjectStore:
        """The store whose root holds `uri`: the innermost of them."""
        stores = [self.warehouse, *self.zones.values()]
        inside = [s for s in stores if uri == s.root or uri.startswith(s.root.rstrip("/") + "/")]
        return max(inside, key=lambda store: len(store.root), default=self.warehouse)

    def _distinct(self) -> list[ObjectStore]:
        seen: dict[str, ObjectStore] = {}
        for store in (self.warehouse, *self.zones.values()):
            seen.setdefault(store.root, store)
        return list(seen.values())

    def _store(self, key: str) -> ObjectStore:
        folder = FOLDER_ZONES.get(key.split("/", 1)[0])
        return self.zone(folder) if folder else self.warehouse

    def put_new(self, key: str, data: bytes) -> bool:
        return self._store(key).put_new(key, data)

    def get(self, key: str) -> bytes:
        return self._store(key).get(key)

    def exists(self, key: str) -> bool:
        return self._store(key).exists(key)

    def list(self, prefix: str) -> Iterator[str]:
        if "/" in prefix:  # within one top folder: one zone
            yield from self._store(prefix).list(prefix)
            return
        # A prefix of top folders: from each store, the keys routed to it, in one lexical order.
        listings = [self._routed(store, prefix) for store in self._distinct()]
        yield from heapq.merge(*listings)

    def _routed(self, store: ObjectStore, prefix: str) -> Iterator[str]:
        return (key for key in store.list(prefix) if self._store(key).root == store.root)

    def delete(self, key: str) -> None:
        self._store(key).delete(key)

    def get_versioned(self, key: str) -> tuple[bytes, str] | None:
        return self._store(key).get_versioned(key)

    def replace_version(self, key: str, data: bytes, version: str) -> str | None:
        return self._store(key).replace_version(key, data, version)

    def delete_version(self, key: str, version: str) -> bool:
        return self._store(key).delete_version(key, version)

    def remove_abandoned_writes(self, older_than_seconds: float) -> int:
        return sum(store.remove_abandoned_writes(older_than_seconds) for store in self._distinct())

    def uri(self, key: str) -> str:
        return self._store(key).uri(key)


def store_holding(store: ObjectStore, uri: str) -> ObjectStore:
    """The store of `store`'s zones whose root holds `uri`; `store` itself when it has no zones."""
    return store.holding(uri) if isinstance(store, ZonedStore) else store
