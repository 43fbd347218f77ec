"""Readying the read path for the dashboard before its first readers: the query processes
started, every curated table's files planned, and every query text the pages send checked
by the guard for what each practice role sees (query.service `QueryService.warm`); then the
rows each user's scope shows read into a query process's session for it, as far as the
processes' session budget goes (`QueryService.hold`).

A server calls `warm_up` as it starts; without it the first readers wait for all of this
(about a second per query process on a large lakehouse, and a tenth of a second or more for
each practice's first page), and all at once."""

from __future__ import annotations

from importlib import resources
from types import MappingProxyType

from practicelake.access.permissions import curated_tables
from practicelake.access.principals import Principal, PrincipalStore
from practicelake.access.roles import CROSS_PRACTICE_ROLES, EVERY_PRACTICE, ROLES
from practicelake.dashboard import access_queries, billing
from practicelake.dashboard.choices import choices_sql
from practicelake.dashboard.drill import drillable, rows_sql
from practicelake.dashboard.filters import Filters
from practicelake.query.reader import Reader

PRACTICE = "warm-up"  # a practice id no principal holds: only the relations it shows are used


def warm_up(reader: Reader, users: PrincipalStore | None = None) -> int:
    """Warm the reader's query service for the dashboard, and for the enabled `users` who hold a
    role; how many query processes it started."""
    relations = [sorted(reader.relations(_holder(role))) for role in sorted(ROLES)]
    relations = [names for names in relations if names]
    texts = [*_package_queries(), *_rows_queries()]
    texts += [sql for names in relations if (sql := choices_sql(names)) is not None]
    started = reader.service.warm(texts, relations)
    if users is not None:
        reader.service.hold(reader.scope(principal) for principal in _signed_in(users))
    return started


def _signed_in(users: PrincipalStore) -> list[Principal]:
    """Each enabled user with a role as the dashboard will see them when they sign in."""
    found = [Principal(user.name, "user", users.roles(user.name)) for user in users.list_users() if not user.disabled]
    return [principal for principal in found if principal.roles]


def _holder(role: str) -> Principal:
    practice = EVERY_PRACTICE if role in CROSS_PRACTICE_ROLES else PRACTICE
    return Principal("warm-up", "user", MappingProxyType({practice: role}))


def _package_queries() -> list[str]:
    texts: list[str] = []
    for package in (access_queries, billing):
        folder = resources.files(package)
        texts += sorted(item.read_text(encoding="utf-8") for item in folder.iterdir() if item.name.endswith(".sql"))
    return texts


def _rows_queries() -> list[str]:
    tables = curated_tables()
    return [rows_sql(tables[name], Filters())[0] for name in sorted(tables) if drillable(name)]
