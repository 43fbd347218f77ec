"""`practicelake audit verify` and `practicelake audit show`: the operator's view of the audit
log. Whoever runs them can open the log's folder on this machine; no dashboard-facing role
reaches the log (see `practicelake.audit.log`).

The log and its key are the App's (`App.audit_log`): a caller that keeps the audit key
elsewhere hands over an `App(settings, audit_key=...)` as the typer context object.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from practicelake.audit.log import AuditFilter, AuditRecord
from practicelake.cli.context import ConfigOption, opened

audit_app = typer.Typer(
    help="The audit log of data access and admin actions: check it, read it.",
    no_args_is_help=True,
    add_completion=False,
)

TIME_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


class Kind(StrEnum):
    access = "access"
    admin = "admin"


class Outcome(StrEnum):
    allowed = "allowed"
    denied = "denied"


@audit_app.command()
def verify(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Check that no record was edited, deleted, inserted or moved, and none cut off the end."""
    log = opened(ctx).audit_log
    result = log.verify()
    if result.intact:
        typer.echo(f"{result.records} records, chain intact")
        return
    first, more = result.problems[0], len(result.problems) - 1
    others = f" ({more} more problem{'s' if more > 1 else ''} after it)" if more else ""
    typer.echo(f"audit log {log.path} is broken at {first.location}: {_printable(first.message)}{others}", err=True)
    raise typer.Exit(1)


@audit_app.command()
def show(
    ctx: typer.Context,
    kind: Annotated[Kind | None, typer.Option(help="Only data access or only admin actions.")] = None,
    actor: Annotated[str | None, typer.Option(help="Only this user (or operator).")] = None,
    practice: Annotated[
        str | None, typer.Option("--practice", "-p", help="Only records that concern this practice.")
    ] = None,
    outcome: Annotated[Outcome | None, typer.Option(help="Only allowed or only denied.")] = None,
    since: Annotated[datetime | None, typer.Option(formats=TIME_FORMATS, help="From this UTC time on.")] = None,
    until: Annotated[datetime | None, typer.Option(formats=TIME_FORMATS, help="Before this UTC time.")] = None,
    last: Annotated[int | None, typer.Option(min=1, help="Only the last N records that match.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per record and line.")] = False,
    config: ConfigOption = None,
) -> None:
    """Records of the audit log, oldest first. It does not verify them: run `audit verify`."""
    filters = AuditFilter(
        kind=kind.value if kind else None,
        actor=actor,
        practice=practice,
        outcome=outcome.value if outcome else None,
        since=since,
        until=until,
        last=last,
    )
    records = opened(ctx).audit_log.show(filters)
    if as_json:
        for record in records:
            typer.echo(json.dumps(record.as_dict(), sort_keys=True))
        return
    console = Console(width=None if sys.stdout.isatty() else 200, highlight=False, markup=False, emoji=False)
    console.print(_table(records))


def _table(records: list[AuditRecord]) -> Table:
    table = Table(title=Text("audit log", style="table.title"))
    for header in ("#", "time (UTC)", "kind", "actor", "roles", "practices", "outcome", "what"):
        table.add_column(Text(header))
    for record in records:
        practices = "every" if record.practices is None else ", ".join(record.practices)
        cells = [str(record.seq), record.at.strftime("%Y-%m-%d %H:%M:%S"), record.kind, record.actor]
        cells += [", ".join(record.roles), practices, record.outcome, _what(record)]
        table.add_row(*(Text(_printable(cell)) for cell in cells))  # Text: never read as markup
    return table


def _what(record: AuditRecord) -> str:
    details = dict(record.details)
    if record.kind == "access":
        relations = ", ".join(map(str, details.pop("relations", []))) or "no relation"
        fingerprint = str(details.pop("sql_fingerprint", ""))[:12]
        head = f"read {relations}: {details.pop('rows', '?')} rows, sql {fingerprint}"
    else:
        head = f"{details.pop('action', '?')} {details.pop('target', '')}"
    rest = " ".join(f"{name}={value}" for name, value in sorted(details.items()))
    return f"{head} {rest}".strip()


def _printable(text: str) -> str:
    """Control characters (a terminal escape in a user name, say) shown escaped, not obeyed."""
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)
