"""A principal store on a clock the test moves, test passwords made fresh per run, and a
settings file serving two practices."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

from lakes import config_file, local_settings
from practicelake.access.principals import Principal, PrincipalStore


@dataclass
class Clock:
    at: datetime = field(default_factory=lambda: datetime(2025, 3, 1, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by


def new_password() -> str:
    return secrets.token_urlsafe(18)


def store_at(path: Path, clock: Clock | None = None) -> PrincipalStore:
    return PrincipalStore(path, now=clock or Clock())


def principal(roles: dict[str, str], name: str = "reader") -> Principal:
    return Principal(name=name, kind="user", roles=MappingProxyType(roles))


def write_config(folder: Path) -> Path:
    return config_file(folder / "practicelake.toml", local_settings(folder))
