"""The demo: a few synthetic practices, ingested, transformed and curated on the local default,
and a first look at them as their owner, through the read path `practicelake sql` takes."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from types import MappingProxyType

from rich.console import Console
from rich.text import Text

from practicelake.access.principals import Principal
from practicelake.app import App
from practicelake.audit.admin import operator
from practicelake.cli import render as reports
from practicelake.cli.demo_web import serve_demo
from practicelake.cli.output import render
from practicelake.settings import Settings, load_settings
from practicelake.synth import generate

# A first look at the curated zone, through the same read path as `practicelake sql`.
KPI_SUMMARY = """
with access as (
    select practice_id, sum(kept_appointments) as kept_visits,
        sum(no_shows) / nullif(sum(kept_appointments) + sum(no_shows), 0) as no_show_rate
    from access_daily group by practice_id
), revenue as (
    select practice_id, sum(gross_charges) as gross_charges,
        sum(payments) / nullif(sum(adjusted_charges), 0) as net_collection_rate
    from revenue_service_month group by practice_id
), last_ar as (
    select practice_id, days_in_ar, ar_over_90_share,
        row_number() over (partition by practice_id order by as_of_date desc) as latest
    from ar_summary
)
select a.practice_id, a.kept_visits, round(a.no_show_rate, 3) as no_show_rate, r.gross_charges,
    round(r.net_collection_rate, 3) as net_collection_rate, round(l.days_in_ar, 1) as days_in_ar
from access as a
left join revenue as r on r.practice_id = a.practice_id
left join last_ar as l on l.practice_id = a.practice_id and l.latest = 1
order by a.practice_id
"""


def demo_end_date(folder: Path) -> date:
    """The day the demo's exports end: the day of its first run, kept in the folder, so that a
    later run writes the same exports (and ingests nothing new)."""
    marker = folder / "exports-end-on"
    if marker.exists():
        return date.fromisoformat(marker.read_text(encoding="utf-8").strip())
    folder.mkdir(parents=True, exist_ok=True)
    today = date.today()
    marker.write_text(today.isoformat() + "\n", encoding="utf-8")
    return today


def demo_settings(folder: Path, practices: dict[str, dict[str, str]]) -> Settings:
    folder = folder.absolute()
    return load_settings(
        warehouse_uri=(folder / "lakehouse").as_uri(),
        key_file=folder / "keys" / "keys.json",
        state_dir=folder / "state",
        practices=practices,
        dev_mode=True,
    )


def run_demo(
    console: Console, folder: Path, *, practices: int, years: int, dirty_rate: float, serve: bool = True
) -> None:
    exports = folder / "exports"
    end_date = demo_end_date(folder)
    generated = generate(exports, practices=practices, years=years, seed=42, dirty_rate=dirty_rate, end_date=end_date)
    console.print(reports.generation(generated, exports))
    configured = tomllib.loads((exports / "practices.toml").read_text(encoding="utf-8"))["practices"]
    with App(demo_settings(folder, configured)) as core:
        lakehouse = core.lakehouse
        for practice_id in generated.practice_ids:
            console.print(reports.ingest(lakehouse.ingest(practice_id, [exports / practice_id])))
        console.print(reports.transform(lakehouse.transform()))
        console.print(reports.status(core.status(), files=False))
        console.print(reports.curate(lakehouse.curate()))
        # The operator, as owner of the demo's practices: the read is scoped and audited like any.
        owner = Principal(operator(), "user", MappingProxyType(dict.fromkeys(generated.practice_ids, "practice_owner")))
        console.print(render(core.reader.read(owner, KPI_SUMMARY)))
        again = "run `practicelake demo` again: nothing new is written"
        console.print(Text(f"lakehouse in {folder / 'lakehouse'}; {again}"))
        if serve:
            serve_demo(console, core, generated.practice_ids)
