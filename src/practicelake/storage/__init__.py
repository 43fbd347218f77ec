"""Object storage by URI: `file://` (a local folder, the default) or `s3://`.

Opening a store makes the process's files owner-only from then on (storage.private).
The lakehouse's store is the warehouse's; when zones have locations of their own, a store
that routes each key to its zone's location (storage.zones).
"""

from collections.abc import Callable

from practicelake.settings import Settings
from practicelake.storage.base import ObjectStore
from practicelake.storage.local import LocalStore
from practicelake.storage.private import restrict_umask
from practicelake.storage.s3 import S3Store
from practicelake.storage.zones import FOLDER_ZONES, ZonedStore, store_holding

BACKENDS: dict[str, Callable[[str, Settings], ObjectStore]] = {
    "file": lambda uri, settings: LocalStore(uri),
    "s3": S3Store,
}


def open_store(settings: Settings, root: str | None = None) -> ObjectStore:
    """The store at `root`, chosen by its URI scheme; without `root`, the lakehouse's: the
    warehouse, its keys routed to the zones' locations when they have their own."""
    restrict_umask()  # what pyiceberg and pyarrow write into it takes its mode from the umask
    if root is None and settings.zones_apart:
        opened: dict[str, ObjectStore] = {}
        for uri in {settings.warehouse_uri, *settings.zone_uris.values()}:
            opened[uri] = open_store(settings, uri)
        zones = {zone: opened[uri] for zone, uri in settings.zone_uris.items()}
        return ZonedStore(opened[settings.warehouse_uri], zones)
    uri = (root or settings.warehouse_uri).rstrip("/")
    backend = BACKENDS.get(uri.partition("://")[0])
    if backend is None:
        raise ValueError(f"no object store for {uri!r}: use one of {', '.join(s + '://' for s in BACKENDS)}")
    return backend(uri, settings)


__all__ = ["FOLDER_ZONES", "ObjectStore", "ZonedStore", "open_store", "store_holding"]
