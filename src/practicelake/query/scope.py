"""What one reader may see. Every read goes through `QueryService.run(sql, scope)`, and the
scope is applied when the session's tables are built: the reader's SQL never filters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    practices: frozenset[str] | None
    """The practices whose rows the reader may see; None: every practice."""

    def __post_init__(self) -> None:
        if self.practices is not None:
            object.__setattr__(self, "practices", frozenset(self.practices))

    @classmethod
    def of(cls, practices: Iterable[str]) -> Scope:
        return cls(practices=frozenset(practices))

    @classmethod
    def every_practice(cls) -> Scope:
        return cls(practices=None)
