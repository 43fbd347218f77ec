"""What every command shares: the `--config` option, the one App a run opens, the consoles.

`--config FILE` is accepted before the command (`practicelake --config F status`) and after
it (`practicelake status --config F`); the one after the command wins. The App is opened from
it once per run, on the first command that needs it, and closed when the run ends. A program
that embeds the commands can hand over its own App as the context object
(`app(obj=App(...))`): it is used as it is.

The consoles never read text as markup: what they print (an error, a query, a file name) is
shown as it is, `[/x]` and `[practices.P001]` included; colour comes only from `Text` styles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from practicelake.app import App

CONFIG = "practicelake.config"
OPENED = "practicelake.app"


def _remember(ctx: typer.Context, value: Path | None) -> Path | None:
    if value is not None:
        ctx.meta[CONFIG] = value  # meta is shared by the run's contexts, from the root down
    return value


# Named by the root callback and by every command that opens the App (`config: ConfigOption`),
# so that it is accepted in either place; its value reaches `opened` through the context.
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="Settings file (default: ./practicelake.toml if present).", callback=_remember, dir_okay=False
    ),
]


def opened(ctx: typer.Context) -> App:
    """The run's App: the one handed over as the context object, else opened from `--config`."""
    if isinstance(ctx.obj, App):
        return ctx.obj
    found = ctx.meta.get(OPENED)
    if not isinstance(found, App):
        found = App.open(ctx.meta.get(CONFIG))
        ctx.meta[OPENED] = found
        ctx.find_root().call_on_close(found.close)
    return found


# Piped output is not cut to 80 columns: tables stay whole in logs and files.
out = Console(width=None if Console().is_terminal else 160, markup=False, emoji=False)
# Errors are one line whatever the terminal's width, piped or not: never wrapped, no emoji codes.
err = Console(stderr=True, soft_wrap=True, markup=False, emoji=False, highlight=False)


def labelled(label: str, message: str, style: str = "red") -> Text:
    """`label: message`, the label in `style`, the message as it is."""
    return Text.assemble((label, style), ": ", message)
