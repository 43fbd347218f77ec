"""Object storage by URI: `file://` (a local folder, the default) or `s3://`."""

from practicelake.settings import Settings
from practicelake.storage.base import ObjectStore


def open_store(settings: Settings, root: str | None = None) -> ObjectStore:
    """The store at `root` (default: the warehouse), chosen by its URI scheme."""
    uri = (root or settings.warehouse_uri).rstrip("/")
    scheme = uri.partition("://")[0]
    if scheme == "file":
        from practicelake.storage.local import LocalStore

        return LocalStore(uri)
    if scheme == "s3":
        from practicelake.storage.s3 import S3Store

        return S3Store(uri, settings)
    raise ValueError(f"no object store for {uri!r}: use file:// or s3://")


__all__ = ["ObjectStore", "open_store"]
