"""The command line: parses, calls the App, prints. No logic of its own."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from practicelake.cli import render as reports
from practicelake.cli.audit import audit_app
from practicelake.cli.context import ConfigOption, err, labelled, opened, out
from practicelake.cli.mapping import mapping_app
from practicelake.cli.practice import init_command, practice_app
from practicelake.cli.serve import serve_command
from practicelake.cli.sql import sql_command
from practicelake.cli.users import permissions, tokens_app, users_app
from practicelake.curate.runner import CurateReport
from practicelake.errors import PracticelakeError, describe_failure, one_line
from practicelake.formats.registry import FORMATS


class Engine(StrEnum):
    """The engines curate.build runs the models on (its ENGINES; a test holds them equal)."""

    duckdb = "duckdb"
    spark = "spark"


app = typer.Typer(
    help="practicelake: an analytics lakehouse for independent medical practices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def settings_file(config: ConfigOption = None) -> None:
    """practicelake: an analytics lakehouse for independent medical practices."""


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # piped: no bar, and no blank line where it was
    )


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the exports to.")],
    practices: Annotated[int, typer.Option(min=1, max=999, help="Number of practices.")] = 3,
    years: Annotated[int, typer.Option(min=1, max=20, help="Years of history, ending at --end-date.")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same bytes.")] = 42,
    dirty_rate: Annotated[float, typer.Option(min=0.0, max=0.5, help="Share of rows given a realistic error.")] = 0.0,
    appointments: Annotated[int | None, typer.Option(min=1, help="Approximate total appointments.")] = None,
) -> None:
    """Write synthetic practice-management exports: OUT/<practice>/<batch>/<dataset>.csv."""
    from practicelake.synth import generate as run_generator

    report = run_generator(
        out_dir, practices=practices, years=years, seed=seed, dirty_rate=dirty_rate, appointments=appointments
    )
    out.print(reports.generation(report, out_dir))


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Export files, or folders of exports.")],
    practice: Annotated[str, typer.Option("--practice", "-p", help="The practice these exports come from.")],
    source: Annotated[str, typer.Option(help="The system that wrote the exports.")] = "pms",
    batch: Annotated[str | None, typer.Option(help="Export batch label (default: each file's folder name).")] = None,
    source_format: Annotated[
        str | None,
        typer.Option(
            "--format", help=f"Read every file as this format ({', '.join(FORMATS)}); default: from its content."
        ),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(help="Read every file as a CSV export described by this mapping (TOML; docs/mappings.md)."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Store exports in the raw zone, byte for byte, and record them in the manifest: practicelake
    CSV, X12 835/837P, FHIR R4 (JSON, Bundle, NDJSON) or HL7 v2, each file's format told from
    its content unless --format or --mapping names it."""
    lakehouse = opened(ctx).lakehouse
    with _progress() as progress:
        task = progress.add_task("ingesting", total=None)
        report = lakehouse.ingest(
            practice, paths, source=source, batch=batch, source_format=source_format, mapping=mapping,
            on_file=lambda e: progress.advance(task),
        )  # fmt: skip
    for label, message in report.problems():  # one line each: a file named, and its problem
        err.print(labelled(label, message))
    out.print(reports.ingest(report))
    if report.failures or report.unreadable:
        raise typer.Exit(1)


@app.command()
def transform(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Load every newly ingested file into the cleaned zone (Iceberg), quarantining bad rows."""
    lakehouse = opened(ctx).lakehouse
    with _progress() as progress:
        task = progress.add_task("transforming", total=None)
        report = lakehouse.transform(on_step=lambda step: progress.update(task, description=step, advance=1))
    out.print(reports.transform(report))
    if report.ledger and report.ledger.failed:
        raise typer.Exit(1)


@app.command()
def curate(
    ctx: typer.Context,
    engine: Annotated[
        Engine,
        typer.Option(
            help="Where the per-practice models run: DuckDB here, or Spark (a cluster's session, or a local one)."
        ),
    ] = Engine.duckdb,
    config: ConfigOption = None,
) -> None:
    """Rebuild the curated KPI tables of every practice whose cleaned rows changed."""
    lakehouse = opened(ctx).lakehouse
    with _progress() as progress:
        task = progress.add_task(f"curating on {engine.value}", total=None)
        report = lakehouse.curate(
            on_step=lambda step: progress.update(task, description=step, advance=1), engine=engine.value
        )
    _curate_problems(report)
    out.print(reports.curate(report))
    if report.failed:
        raise typer.Exit(1)


@app.command()
def run(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help="Folders of exports, one subfolder per practice (<practice_id>/<batch>/<dataset>.csv)."),
    ],
    practice: Annotated[
        str | None, typer.Option("--practice", "-p", help="The paths are this one practice's exports.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Ingest, transform and curate, in one go."""
    lakehouse = opened(ctx).lakehouse
    found = _by_practice(paths, practice)
    for practice_id, _ in found:  # every practice refused before anything is stored
        lakehouse.settings.practice(practice_id)
    failed = False
    for practice_id, practice_paths in found:
        report = lakehouse.ingest(practice_id, practice_paths)
        for label, message in report.problems():
            err.print(labelled(label, message))
        failed |= bool(report.failures or report.unreadable)
        out.print(reports.ingest(report))
    with _progress() as progress:
        task = progress.add_task("transforming", total=None)
        transformed = lakehouse.transform(on_step=lambda step: progress.update(task, description=step, advance=1))
        out.print(reports.transform(transformed))
        progress.update(task, description="curating")
        curated = lakehouse.curate(on_step=lambda step: progress.update(task, description=step, advance=1))
    out.print(reports.curate(curated))
    _curate_problems(curated)
    if failed or (transformed.ledger and transformed.ledger.failed) or curated.failed:
        raise typer.Exit(1)


def _curate_problems(report: CurateReport) -> None:
    for practice_id, reason in sorted(report.failed.items()):
        err.print(labelled("error", f"practice {practice_id} not curated: {reason}"))
    for practice_id, reason in sorted(report.left_out.items()):
        message = f"practice {practice_id} left out of the benchmarks this time: {reason}"
        err.print(labelled("warning", message, "yellow"))


def _by_practice(paths: list[Path], practice: str | None) -> list[tuple[str, list[Path]]]:
    if practice is not None:
        return [(practice, paths)]
    found: list[tuple[str, list[Path]]] = []
    for path in paths:
        if not path.is_dir():
            raise PracticelakeError(f"{path}: not a folder of practice exports (or name the practice with --practice)")
        # A practice folder is named by its practice id; hidden folders (.git) are none.
        found += [(sub.name, [sub]) for sub in sorted(path.iterdir()) if sub.is_dir() and not sub.name.startswith(".")]
    if not found:
        raise PracticelakeError("no practice folders found in " + ", ".join(map(str, paths)))
    return found


@app.command()
def status(
    ctx: typer.Context,
    practice: Annotated[str | None, typer.Option("--practice", "-p", help="Only this practice.")] = None,
    files: Annotated[bool, typer.Option("--files/--no-files", help="List every file.")] = True,
    config: ConfigOption = None,
) -> None:
    """Reconcile every raw file (read = cleaned + quarantined + duplicates), show quarantined rows
    by rule, the last runs, and any run that did not finish."""
    found = opened(ctx).status(practice)
    out.print(reports.status(found, files=files))
    if not found.balanced:
        raise typer.Exit(1)


@app.command()
def contracts(
    entity: Annotated[str | None, typer.Argument(help="One entity (default: all).")] = None,
) -> None:
    """Print the contracts of the cleaned zone as Markdown."""
    from practicelake.lakehouse.docs import render_markdown

    typer.echo(render_markdown(entity))


@app.command()
def export(
    ctx: typer.Context,
    out_path: Annotated[Path, typer.Argument(help="The file (duckdb) or folder (parquet) to create.")],
    fmt: Annotated[
        str, typer.Option("--format", help="duckdb: one database file; parquet: a file per table.")
    ] = "duckdb",
    practice: Annotated[list[str] | None, typer.Option("--practice", "-p", help="Only these practices.")] = None,
    config: ConfigOption = None,
) -> None:
    """Copy the curated tables for a BI tool: a DuckDB file or Parquet files, owner-only (see README)."""
    if fmt not in ("duckdb", "parquet"):
        raise PracticelakeError(f"--format must be duckdb or parquet, not {fmt!r}")
    counts = opened(ctx).export(out_path, fmt, practice)  # type: ignore[arg-type]
    out.print(Text(f"wrote {out_path}: " + ", ".join(f"{name} ({rows:,} rows)" for name, rows in counts.items())))


@app.command()
def metrics() -> None:
    """Print the curated tables and the definition of every KPI, as Markdown."""
    from practicelake.curate.docs import render_markdown

    typer.echo(render_markdown(), nl=False)


@app.command()
def demo(
    folder: Annotated[Path, typer.Option("--dir", help="Where the demo keeps its exports and lakehouse.")] = Path(
        "demo"
    ),
    practices: Annotated[
        int, typer.Option(min=1, max=20, help="Practices (5 or more: the benchmarks have peers).")
    ] = 5,
    years: Annotated[int, typer.Option(min=1, max=5)] = 1,
    dirty_rate: Annotated[float, typer.Option(min=0.0, max=0.5)] = 0.02,
    serve: Annotated[
        bool, typer.Option(help="End by serving the dashboard (on a terminal) or checking that it answers.")
    ] = True,
) -> None:
    """Generate a few synthetic practices, ingest, transform and curate them on the local default,
    then serve the dashboard with a sign-in per role (printed once)."""
    from practicelake.cli.demo import run_demo

    run_demo(out, folder, practices=practices, years=years, dirty_rate=dirty_rate, serve=serve)


app.command("sql")(sql_command)
app.command("serve")(serve_command)
app.command("init")(init_command)
app.command("permissions")(permissions)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")
app.add_typer(practice_app, name="practice")
app.add_typer(mapping_app, name="mapping")


def main(args: list[str] | None = None) -> None:
    """Entry point: user errors are one line on stderr and exit code 1, never a traceback."""
    try:
        app(args=args)
    except Exception as exc:
        # A full disk or a read-only mount (OSError, DuckDB, SQLite) is the user's to fix too.
        message = describe_failure(exc)
        if message is None:
            raise
        err.print(labelled("error", one_line(message)))
        sys.exit(1)


__all__ = ["app", "main"]
