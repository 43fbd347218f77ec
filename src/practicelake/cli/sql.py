"""`practicelake sql`: read-only SQL over the curated tables, one query or a prompt."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from practicelake.access.principals import Principal, PrincipalStore
from practicelake.audit.log import AuditLog
from practicelake.cli.output import OutputFormat, write
from practicelake.crypto.keystore import open_keys
from practicelake.errors import PracticelakeError
from practicelake.lakehouse.catalog import open_catalog
from practicelake.query.identity import identify
from practicelake.query.reader import Reader
from practicelake.query.service import QueryService
from practicelake.settings import load_settings

QUIT = "\\q"


def sql_command(
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
        Path | None, typer.Option("--output", "-o", help="Write the result to this file (required for parquet).")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", "-u", help="Who is reading (the password is asked); or PRACTICELAKE_TOKEN.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Settings file (default: ./practicelake.toml if present).")
    ] = None,
) -> None:
    """Run a read-only SQL query (DuckDB dialect) over the curated tables your role shows, named plainly."""
    interactive = query is None and sys.stdin.isatty()
    if output_format is OutputFormat.parquet and output is None:
        raise typer.BadParameter("parquet is binary: give --output FILE", param_hint="--format")
    if interactive and output is not None:
        raise typer.BadParameter("--output needs a QUERY (the prompt prints its results)", param_hint="--output")
    settings = load_settings(config)
    audit = AuditLog.open(settings, open_keys(settings).audit_key).append
    token = settings.token.get_secret_value() if settings.token else None
    password = None
    if user is not None and token is None:
        password = typer.prompt(f"password for {user}", hide_input=True, err=True)
    principal = identify(PrincipalStore(settings.users_db), audit, user=user, password=password, token=token)
    console = Console(width=None if sys.stdout.isatty() else 200)
    with QueryService(open_catalog(settings)) as service:
        reader = Reader(service, audit)
        if interactive:
            import readline  # noqa: F401  (line editing and history for the prompt)

            prompt(reader, principal, output_format, console)
            return
        if query is None:
            query = sys.stdin.read()
        write(reader.read(principal, query), output_format, output, console)


def prompt(
    reader: Reader,
    principal: Principal,
    output_format: OutputFormat,
    console: Console,
    read: Callable[[str], str] = input,
) -> None:
    """Read a query (it ends with ';' or an empty line), run it, print it; until \\q or end of input."""
    errors = Console(stderr=True)
    tables = ", ".join(reader.relations(principal)) or "none you may read"
    errors.print(f"Tables: {tables}. End a query with ; or an empty line, {QUIT} to quit.", highlight=False)
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
            errors.print(f"[red]error[/red]: {exc}", highlight=False)


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
