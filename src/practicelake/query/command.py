"""`practicelake sql`: read-only SQL over the curated tables, one query or a prompt."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from practicelake.errors import PracticelakeError
from practicelake.lakehouse.catalog import open_catalog
from practicelake.query.output import OutputFormat, write
from practicelake.query.scope import Scope
from practicelake.query.service import QueryService
from practicelake.settings import load_settings

# Readers of the command line have no identity yet: every one of them sees every practice.
CLI_SCOPE = Scope.every_practice()

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
    config: Annotated[
        Path | None, typer.Option("--config", help="Settings file (default: ./practicelake.toml if present).")
    ] = None,
) -> None:
    """Run a read-only SQL query (DuckDB dialect) over the curated tables, named plainly (no curated. prefix)."""
    interactive = query is None and sys.stdin.isatty()
    if output_format is OutputFormat.parquet and output is None:
        raise typer.BadParameter("parquet is binary: give --output FILE", param_hint="--format")
    if interactive and output is not None:
        raise typer.BadParameter("--output needs a QUERY (the prompt prints its results)", param_hint="--output")
    service = QueryService(open_catalog(load_settings(config)))
    console = Console(width=None if sys.stdout.isatty() else 200)
    if interactive:
        import readline  # noqa: F401  (line editing and history for the prompt)

        prompt(service, CLI_SCOPE, output_format, console)
        return
    if query is None:
        query = sys.stdin.read()
    write(service.run(query, CLI_SCOPE), output_format, output, console)


def prompt(
    service: QueryService,
    scope: Scope,
    output_format: OutputFormat,
    console: Console,
    read: Callable[[str], str] = input,
) -> None:
    """Read a query (it ends with ';' or an empty line), run it, print it; until \\q or end of input."""
    errors = Console(stderr=True)
    tables = ", ".join(service.relations()) or "none yet"
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
            write(service.run(query, scope), output_format, None, console)
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
