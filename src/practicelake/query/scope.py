"""What one reader may see. Every read goes through the query service, and the scope is
applied when the session's relations are built: the reader's SQL never filters.

A scope lists the relations the reader may read and, for each, the practices whose rows it
shows and the columns it hides. `Scope.of(practices)` is the simple case: every relation,
those practices, nothing hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import cast


@dataclass(frozen=True)
class View:
    """One relation as a reader sees it."""

    practices: frozenset[str] | None  # None: every practice
    hidden: frozenset[str] = frozenset()  # columns left out of the session


@dataclass(frozen=True)
class Scope:
    practices: frozenset[str] | None
    """For every relation, when `views` is None: the practices whose rows show; None: all."""
    views: tuple[tuple[str, View], ...] | None = None
    """Otherwise only these relations (lower-case names), each its own way."""

    def __post_init__(self) -> None:
        if self.practices is not None:
            object.__setattr__(self, "practices", frozenset(self.practices))
        object.__setattr__(self, "_hash", hash((self.practices, self.views)))

    def __hash__(self) -> int:  # a scope is looked up per query: its hash is worked out once
        return cast(int, self.__dict__["_hash"])

    def __getstate__(self) -> dict[str, object]:  # another process hashes strings its own way
        return {"practices": self.practices, "views": self.views}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    @classmethod
    def of(cls, practices: Iterable[str]) -> Scope:
        return cls(practices=frozenset(practices))

    @classmethod
    def every_practice(cls) -> Scope:
        return cls(practices=None)

    @classmethod
    def per_relation(cls, views: Mapping[str, View]) -> Scope:
        return cls(practices=frozenset(), views=tuple(sorted((name.lower(), v) for name, v in views.items())))

    def view(self, relation: str) -> View | None:
        """How the reader sees `relation`; None: not at all."""
        if self.views is None:
            return View(self.practices)
        return dict(self.views).get(relation.lower())

    def covered(self) -> frozenset[str] | None:
        """Every practice any relation shows (for the audit record); None: all."""
        if self.views is None:
            return self.practices
        practices: set[str] = set()
        for _, view in self.views:
            if view.practices is None:
                return None
            practices |= view.practices
        return frozenset(practices)
