"""One small interface for object storage; one file per backend, chosen by URI scheme."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator


class ObjectStore(ABC):
    """Objects under a root URI, addressed by '/'-separated keys relative to it."""

    root: str

    @abstractmethod
    def put_new(self, key: str, data: bytes) -> bool:
        """Create `key` holding `data`, atomically and only if it does not exist.

        Returns False, writing nothing, when the object already exists. A reader never
        sees a partly written object.
        """

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The object's bytes; StorageError if it is missing."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str) -> Iterator[str]:
        """Keys under `prefix`, in lexical order."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove `key`; no error if it is already gone."""

    @abstractmethod
    def get_versioned(self, key: str) -> tuple[bytes, str] | None:
        """The object's bytes and a version that changes with every write; None if missing."""

    @abstractmethod
    def replace_version(self, key: str, data: bytes, version: str) -> str | None:
        """Replace `key` with `data`, atomically and only if it is still at `version`
        (compare-and-swap); returns the new version. None, writing nothing, if it changed
        or is gone."""

    @abstractmethod
    def delete_version(self, key: str, version: str) -> bool:
        """Remove `key` only if it is still at `version`; False if it changed or is gone."""

    def remove_abandoned_writes(self, older_than_seconds: float) -> int:
        """Remove what interrupted writes left behind, if untouched for `older_than_seconds`;
        returns how many. A store whose writes are single requests leaves nothing."""
        return 0

    def uri(self, key: str) -> str:
        return f"{self.root}/{key}"
