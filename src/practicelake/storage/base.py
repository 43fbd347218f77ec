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

    def uri(self, key: str) -> str:
        return f"{self.root}/{key}"
