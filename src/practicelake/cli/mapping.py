"""`practicelake mapping check MAPPING FILE`: what a mapping makes of one export file, before
anything is ingested: per dataset, the rows the contracts would accept and quarantine (by
rule and column), and the source columns the mapping neither maps nor ignores. It prints
counts and column names only, never a value of the file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from practicelake.errors import PracticelakeError, one_line
from practicelake.formats.mapping import Mapping, load_mapping, shipped
from practicelake.pipeline.mapping_check import FileCheck
from practicelake.settings import cited

mapping_app = typer.Typer(
    help="Declarative CSV mappings of practice-management exports: try one on a file.",
    no_args_is_help=True,
    add_completion=False,
)


@mapping_app.callback()
def mapping_commands() -> None:
    """Declarative CSV mappings of practice-management exports: try one on a file."""


def _mapping(name_or_path: str) -> Mapping:
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return load_mapping(path)
    return shipped(name_or_path)


def _name(column: str) -> str:
    return column if column.replace("_", "").isalnum() and len(column) <= 40 else cited(column)


def report(check: FileCheck) -> list[str]:
    lines = [
        f"mapping {check.mapping}, file {cited(check.file)}: {check.records:,} records, "
        f"{check.for_no_dataset:,} for no dataset",
        "unmapped source columns: " + (", ".join(map(_name, check.unmapped)) or "none"),
    ]
    for found in check.datasets:
        lines += [
            "",
            f"{found.dataset}: {found.rows_read:,} rows read, {found.accepted:,} accepted, "
            f"{found.quarantined_rows:,} quarantined",
        ]
        if found.quarantined:
            width = max(len(rule) for rule, _ in found.quarantined)
            lines.append("  quarantined, by rule and column:")
            for (rule, column), rows in sorted(found.quarantined.items(), key=lambda item: (-item[1], item[0])):
                lines.append(f"    {rule.ljust(width)}  {(column or '-').ljust(24)}  {rows:,}")
        if found.not_filled:
            lines.append("  contract columns the mapping leaves empty: " + ", ".join(found.not_filled))
    return lines


@mapping_app.command()
def check(
    mapping: Annotated[str, typer.Argument(help="A mapping file (.toml), or the name of a shipped one (synthea).")],
    file: Annotated[Path, typer.Argument(help="One export file of the system the mapping describes.")],
    time_zone: Annotated[str, typer.Option(help="The practice's time zone.")] = "America/New_York",
    currency: Annotated[str, typer.Option(help="The practice's currency (ISO 4217).")] = "USD",
) -> None:
    """Dry run: how many rows of FILE the contracts would accept and quarantine. Writes nothing."""
    from practicelake.pipeline.mapping_check import check_file

    try:
        data = file.read_bytes()
    except OSError as exc:
        typer.echo(f"error: cannot read {cited(str(file))}: {exc.strerror or type(exc).__name__}", err=True)
        raise typer.Exit(1) from None
    try:
        found = check_file(_mapping(mapping), data, file.name, time_zone=time_zone, currency=currency)
    except PracticelakeError as exc:
        typer.echo(f"error: {one_line(str(exc))}", err=True)
        raise typer.Exit(1) from None
    typer.echo("\n".join(report(found)))
