"""One small, complete lakehouse for the dashboard's tests: six synthetic practices (enough
for the benchmarks' five-practice threshold) generated, ingested, transformed and curated by
the real pipeline, built once per test process under a folder of its own."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lakes import local_settings
from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings
from practicelake.synth import generate

# The exports end on TODAY, which the dashboard is told is today: the Today page has
# appointments, and every period preset has data.
TODAY = date(2026, 6, 17)
PRACTICES = 6


@dataclass(frozen=True)
class SiteLake:
    settings: Settings
    exports: Path
    practice_ids: tuple[str, ...]
    today: date = TODAY


def build_site_lake(root: Path) -> SiteLake:
    exports = root / "exports"
    report = generate(exports, practices=PRACTICES, years=2, seed=11, dirty_rate=0.02,
                      appointments=PRACTICES * 2500, end_date=TODAY)  # fmt: skip
    configured = tomllib.loads((exports / "practices.toml").read_text(encoding="utf-8"))["practices"]
    settings = local_settings(root, practices=configured)
    lakehouse = Lakehouse.open(settings)
    for practice_id in report.practice_ids:
        lakehouse.ingest(practice_id, [exports / practice_id])
    lakehouse.transform()
    lakehouse.curate()
    return SiteLake(settings, exports, report.practice_ids)
