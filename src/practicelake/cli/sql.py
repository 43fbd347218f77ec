"""`practicelake sql`: read-only SQL over the curated tables, one query or a prompt."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from practicelake.access.principals import Principal
from practicelake.cli.context import ConfigOption, labelled, opened
from practicelake.cli.output import OutputFile, OutputFormat, write
from practicelake.errors import PracticelakeError, one_line
from practicelake.query.identity import identify
from practicelake.query.reader import Reader

QUIT = "\\q"


def sql_command(
    ctx: typer.Context,
    query: Annotated[
        str | None,
        typer.Argument(
            metavar="QUERY", help="The query. Without it: read one from standard input, or a prompt on a terminal."
        ),
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="How to write the result.")] = (
        OutputFormat.table
    ),
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the result to this new file, owner-only (required for parquet)."),
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Let --output replace an existing file.")] = False,
    user: Annotated[
        str | None, typer.Option("--user", "-u", help="Who is reading (the password is asked); or PRACTICELAKE_TOKEN.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Run a read-only SQL query (DuckDB dialect) over the curated tables your role shows, named plainly."""
    interactive = query is None and sys.stdin.isatty()
    if output_format is OutputFormat.parquet and output is None:
        raise typer.BadParameter("parquet is binary: give --output FILE", param_hint="--format")
    if interactive and output is not None:
        raise typer.BadParameter("--output needs a QUERY (the prompt prints its results)", param_hint="--output")
    if user is not None and not user.strip():
        raise typer.BadParameter("give a user name", param_hint="--user")
    # Whether the result can be written is known before anything is read or audited.
    with OutputFile.prepare(output, replace=replace) if output is not None else nullcontext() as target:
        core = opened(ctx)
        token = core.settings.token.get_secret_value() if core.settings.token else None
        password = None
        if user is not None and token is None:
            password = typer.prompt("password", hide_input=True, err=True)
        principal = identify(core.users, core.admin, user=user, password=password, token=token)
        console = Console(width=None if sys.stdout.isatty() else 200, markup=False, emoji=False)
        if interactive:
            import readline  # noqa: F401  (line editing and history for the prompt)

            prompt(core.reader, principal, output_format, console)
            return
        if query is None:
            query = sys.stdin.read()
        write(core.reader.read(principal, query), output_format, target, console)


def prompt(
    reader: Reader,
    principal: Principal,
    output_format: OutputFormat,
    console: Console,
    read: Callable[[str], str] = input,
) -> None:
    """Read a query (it ends with ';' or an empty line), run it, print it; until \\q or end of input."""
    errors = Console(stderr=True, markup=False, emoji=False, highlight=False)
    tables = ", ".join(reader.relations(principal)) or "none you may read"
    errors.print(f"Tables: {tables}. End a query with ; or an empty line, {QUIT} to quit.")
    while True:
        try:
            query = _read_query(read)
        except KeyboardInterrupt:
            errors.print()
            continue
        if query is None:
            return
        try:
            write(reader.read(principal, query), output_format, None, console)
        except PracticelakeError as exc:
            errors.print(labelled("error", one_line(str(exc))))


def _read_query(read: Callable[[str], str]) -> str | None:
    lines: list[str] = []
    while True:
        try:
            line = read("sql> " if not lines else "...> ")
        except EOFError:
            return None
        if not lines and line.strip() == QUIT:
            return None
        if not line.strip():
            if lines:
                return "\n".join(lines)
            continue
        lines.append(line)
        if line.rstrip().endswith(";"):
            return "\n".join(lines)
