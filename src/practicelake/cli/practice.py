"""Commands for keys and practices: `practicelake init` and `practicelake practice offboard`."""

from __future__ import annotations

from typing import Annotated

import typer

from practicelake.cli.context import ConfigOption, opened
from practicelake.pipeline.offboard import OffboardReport

practice_app = typer.Typer(help="The practices this deployment serves.", no_args_is_help=True)


def init_command(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Create the key-encryption key (local key provider) or check the KMS key. Replaces nothing."""
    typer.echo(opened(ctx).init_keys())


@practice_app.command("offboard")
def offboard_command(
    ctx: typer.Context,
    practice: Annotated[str, typer.Argument(help="The practice that leaves.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    config: ConfigOption = None,
) -> None:
    """Destroy the practice's keys (its raw data becomes unreadable) and delete its cleaned,
    curated and ops rows, with their history. Cannot be undone."""
    core = opened(ctx)
    core.settings.practice(practice)
    if not yes:
        typer.echo(
            f"This destroys practice {practice}'s keys and deletes its data from every zone. It cannot be undone."
        )
        if typer.prompt(f"Type {practice} to confirm", default="", show_default=False) != practice:
            typer.echo("not confirmed: nothing changed", err=True)
            raise typer.Exit(1)
    typer.echo(describe(core.offboard(practice)))


def describe(report: OffboardReport) -> str:
    lines = [
        f"practice {report.practice_id} offboarded",
        "  keys destroyed" if report.keys_destroyed else "  no keys were left to destroy",
    ]
    lines += [f"  {table}: {rows:,} rows deleted" for table, rows in sorted(report.rows_deleted.items())]
    lines.append(f"  {report.files_removed:,} files of earlier table versions removed")
    lines.append(f"  {report.grants_revoked:,} roles in the practice revoked")
    lines.append(f"  {report.raw_objects:,} raw objects left encrypted under the destroyed key")
    return "\n".join(lines)
