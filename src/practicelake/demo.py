"""The demo: a few synthetic practices, ingested and transformed on the local default."""

from __future__ import annotations

import tomllib
from pathlib import Path

from rich.console import Console

from practicelake import reports
from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings, load_settings
from practicelake.synth import generate


def demo_settings(folder: Path, practices: dict[str, dict[str, str]]) -> Settings:
    folder = folder.absolute()
    return load_settings(
        warehouse_uri=(folder / "lakehouse").as_uri(),
        key_file=folder / "keys" / "keys.json",
        state_dir=folder / "state",
        practices=practices,
    )


def run_demo(console: Console, folder: Path, *, practices: int, years: int, dirty_rate: float) -> None:
    exports = folder / "exports"
    generated = generate(exports, practices=practices, years=years, seed=42, dirty_rate=dirty_rate)
    console.print(reports.generation(generated, exports))
    configured = tomllib.loads((exports / "practices.toml").read_text(encoding="utf-8"))["practices"]
    lakehouse = Lakehouse.open(demo_settings(folder, configured))
    for practice_id in generated.practice_ids:
        console.print(reports.ingest(lakehouse.ingest(practice_id, [exports / practice_id])))
    console.print(reports.transform(lakehouse.transform()))
    reports.status(console, lakehouse.catalog, practice=None, files=False)
    console.print(f"lakehouse in {folder / 'lakehouse'}; run `practicelake demo` again: nothing new is written")
