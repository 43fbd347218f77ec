"""Object storage by URI: `file://` (a local folder, the default) or `s3://`.

Opening a store makes the process's files owner-only from then on (storage.private).
"""

from collections.abc import Callable

from practicelake.settings import Settings
from practicelake.storage.base import ObjectStore
from practicelake.storage.local import LocalStore
from practicelake.storage.private import restrict_umask
from practicelake.storage.s3 import S3Store

BACKENDS: dict[str, Callable[[str, Settings], ObjectStore]] = {
    "file": lambda uri, settings: LocalStore(uri),
    "s3": S3Store,
}


def open_store(settings: Settings, root: str | None = None) -> ObjectStore:
    """The store at `root` (default: the warehouse), chosen by its URI scheme."""
    restrict_umask()  # what pyiceberg and pyarrow write into it takes its mode from the umask
    uri = (root or settings.warehouse_uri).rstrip("/")
    backend = BACKENDS.get(uri.partition("://")[0])
    if backend is None:
        raise ValueError(f"no object store for {uri!r}: use one of {', '.join(s + '://' for s in BACKENDS)}")
    return backend(uri, settings)


__all__ = ["ObjectStore", "open_store"]
