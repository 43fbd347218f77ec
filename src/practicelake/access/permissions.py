"""Who may see what: the permission matrix, written once here and rendered into
docs/permissions.md by `practicelake permissions`.

A curated table belongs to the dataset its model's contract declares (`dataset = ...`); a
role sees whole datasets of the practices it is granted in. Money columns are those the
contracts mark (`money = true`; a decimal column must say either way), so a new money column
is hidden from staff without anyone listing it here. A cross-practice model's rows belong to
no practice: whoever is granted its dataset sees all of them.

Several roles combine relation by relation: a relation shows the rows of every practice
where one of the principal's roles sees its dataset, and hides a column when any of those
roles hides it (for all of the relation's rows: the most restrictive role wins).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from practicelake.access.principals import Principal
from practicelake.access.roles import CROSS_PRACTICE_ROLES, EVERY_PRACTICE, ROLES
from practicelake.curate.contract import DATASETS
from practicelake.curate.project import Model, load_models

PRACTICE_DATASETS = frozenset({"access", "flow", "revenue", "ar", "denials", "productivity"})
MATRIX: Mapping[str, frozenset[str]] = {
    "platform_admin": frozenset(),
    # Owners and managers also see the benchmarks: peers' figures under disclosure control,
    # to set their own beside.
    "practice_owner": PRACTICE_DATASETS | {"benchmark"},
    "practice_manager": PRACTICE_DATASETS | {"benchmark"},
    "staff": frozenset({"access", "flow"}),
    "billing": frozenset({"revenue", "ar", "denials"}),
    "analyst": frozenset({"benchmark"}),
}
# Roles that never see money, in any relation they are shown.
HIDES_MONEY = frozenset({"staff"})
DUTIES: Mapping[str, str] = {
    "operations": "Pipeline status and data quality of the practices in scope.",
    "audit": "Read the audit log.",
    "users": "Add and disable users, grant and revoke roles, in the practices in scope.",
}
ROLE_DUTIES: Mapping[str, frozenset[str]] = {
    "platform_admin": frozenset({"operations", "audit", "users"}),
    "practice_owner": frozenset({"operations"}),
    "practice_manager": frozenset({"operations", "users"}),
}


@dataclass(frozen=True)
class RelationAccess:
    practices: frozenset[str] | None
    """The practices whose rows the relation may show; None: every practice."""
    hidden_columns: frozenset[str]


@dataclass(frozen=True)
class Access:
    """What one principal may read: the visible relations, each with its own practices and
    hidden columns. A relation not in `relations` is not visible."""

    relations: Mapping[str, RelationAccess]

    @property
    def practices(self) -> frozenset[str] | None:
        """Every practice some relation shows rows of (None: every practice). For listing and
        audit: each relation's rows are limited to its own `practices`, not to this union."""
        found: set[str] = set()
        for relation in self.relations.values():
            if relation.practices is None:
                return None
            found |= relation.practices
        return frozenset(found)

    def hidden_columns(self, relation: str) -> frozenset[str]:
        return self.relations[relation].hidden_columns


def curated_tables() -> dict[str, Model]:
    return {m.name: m for m in load_models() if m.contract.materialized == "table"}


def dataset_of(relation: str, tables: Mapping[str, Model]) -> str | None:
    """The dataset the relation's model declares; a relation that is not a curated table of
    the models belongs to no dataset, and nobody sees it."""
    model = tables.get(relation)
    return model.contract.dataset if model else None


def _cross_practice(relation: str, tables: Mapping[str, Model]) -> bool:
    model = tables.get(relation)
    return model.contract.cross_practice if model else False


def money_columns(model: Model) -> frozenset[str]:
    return model.contract.money_columns


def access_for(principal: Principal, relations: Iterable[str]) -> Access:
    tables = curated_tables()
    visible: dict[str, RelationAccess] = {}
    for relation in relations:
        dataset = dataset_of(relation, tables)
        practices: set[str] = set()
        every_practice = False
        hidden: set[str] = set()
        for grant in principal.grants:
            if dataset is None or dataset not in MATRIX.get(grant.role, frozenset()):
                continue
            every_practice |= grant.practice_id == EVERY_PRACTICE or _cross_practice(relation, tables)
            practices.add(grant.practice_id)
            if grant.role in HIDES_MONEY and relation in tables:
                hidden |= money_columns(tables[relation])
        if practices:
            visible[relation] = RelationAccess(None if every_practice else frozenset(practices), frozenset(hidden))
    return Access(MappingProxyType(visible))


def allows(principal: Principal, duty: str, practice: str) -> bool:
    """Whether the principal may do `duty` for `practice` (`*`: for every practice)."""
    return any(
        duty in ROLE_DUTIES.get(grant.role, frozenset()) and grant.practice_id in (EVERY_PRACTICE, practice)
        for grant in principal.grants
    )


HEADER = """# Permissions

Generated by `practicelake permissions` from the roles in `src/practicelake/access/` and
the models' contracts (each names its `dataset` and marks its `money` columns): do not edit
by hand. Every read a person makes goes through the query service, which shows
each relation with only the rows of the practices below and without the hidden columns.

A user holds one role per practice (`practicelake users grant NAME ROLE --practice P`);
`*` grants the role in every practice. platform_admin and analyst are granted with `*` only.
"""


def _table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def render_markdown() -> str:
    tables = curated_tables()
    lines = [HEADER, "## Roles", ""]
    lines += _table(["role", "practices", "who"], ([f"`{r}`", _scope(r), text] for r, text in ROLES.items()))
    lines += ["", "## Role x dataset", ""]
    lines += _table(
        ["role", *DATASETS, *DUTIES],
        (
            [f"`{role}`", *("yes" if d in MATRIX[role] else "-" for d in DATASETS)]
            + ["yes" if d in ROLE_DUTIES.get(role, ()) else "-" for d in DUTIES]
            for role in ROLES
        ),
    )
    lines += ["", "## Datasets", ""]
    for dataset, text in DATASETS.items():
        names = sorted(name for name in tables if dataset_of(name, tables) == dataset)
        members = ", ".join(f"`{n}`" for n in names) if names else "none yet"
        lines.append(f"- **{dataset}**: {text} Tables: {members}.")
    lines += ["", "Duties, beside the data:", ""]
    lines += [f"- **{duty}**: {text}" for duty, text in DUTIES.items()]
    lines += ["", "## Hidden columns", ""]
    lines.append(
        "Money columns are the columns a model's contract marks `money = true`: amounts, and"
        " shares and ratios of amounts (a decimal column must declare either way)."
        f" Roles that never see money: {', '.join(f'`{r}`' for r in sorted(HIDES_MONEY))}."
    )
    lines += [""]
    for role in ROLES:
        if role not in HIDES_MONEY:
            lines.append(f"- `{role}`: none")
            continue
        shown = [(n, money_columns(m)) for n, m in tables.items() if dataset_of(n, tables) in MATRIX[role]]
        found = "; ".join(f"`{n}`: {', '.join(sorted(cols))}" for n, cols in shown if cols)
        lines.append(f"- `{role}`: every money column; " + (found or "the tables it sees have none today"))
    lines += ["", "Money columns of every curated table (hidden wherever a money-hiding role is shown it):", ""]
    lines += _table(
        ["table", "money columns"],
        ([f"`{n}`", ", ".join(sorted(money_columns(m))) or "-"] for n, m in sorted(tables.items())),
    )
    lines += [
        "",
        "## Several roles",
        "",
        "A principal may hold different roles in different practices. Access is combined relation",
        "by relation: a relation shows the rows of each practice where one of the principal's roles",
        "sees its dataset, and hides a column for all of its rows when any of those roles hides it.",
        "A relation no role grants is not there at all. A table whose name names no dataset, and an",
        "intermediate model, are visible to nobody.",
    ]
    return "\n".join(lines) + "\n"


def _scope(role: str) -> str:
    return "every practice" if role in CROSS_PRACTICE_ROLES else "own (or `*`)"
