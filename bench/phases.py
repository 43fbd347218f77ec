"""One benchmark phase per process, so that each one's peak memory is its own.

Usage: python bench/phases.py PHASE WORKDIR [APPOINTMENTS PRACTICES | OPTIONS]
Prints one JSON line: {"seconds": ..., "rows": ...}. The dashboard's phases (web_pages,
web_browser, web_load: bench/web.py) take their options as one JSON object.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import duckdb

from practicelake.contracts import CONTRACTS
from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings, load_settings


def settings_for(work: Path) -> Settings:
    practices = tomllib.loads((work / "exports" / "practices.toml").read_text(encoding="utf-8"))["practices"]
    return load_settings(
        warehouse_uri=(work / "lakehouse").as_uri(),
        key_file=work / "keys.json",
        state_dir=work / "state",
        practices=practices,
        dev_mode=True,  # a throwaway lake: its key-encryption key is made on first use
    )


def csv_files(work: Path, dataset: str) -> list[str]:
    return sorted(str(p) for p in (work / "exports").glob(f"*/*/{dataset}.csv"))


def count_rows(work: Path) -> int:
    return sum(sum(1 for _ in Path(f).open("rb")) - 1 for c in CONTRACTS for f in csv_files(work, c.dataset))


def generate(work: Path, appointments: int, practices: int) -> dict[str, float]:
    from practicelake.synth import generate as run

    start = time.perf_counter()
    report = run(work / "exports", practices=practices, years=2, seed=7, appointments=appointments)
    return {"seconds": time.perf_counter() - start, "appointments": report.appointments}


def held_back(work: Path) -> Path:
    """The last monthly batch of the first practice: ingested late, to time an incremental curate."""
    first = sorted(p for p in (work / "exports").iterdir() if p.is_dir())[0]
    return sorted(p for p in first.iterdir() if p.is_dir())[-1]


def ingest(work: Path) -> dict[str, float]:
    lakehouse = Lakehouse.open(settings_for(work))
    late = held_back(work)
    start = time.perf_counter()
    for folder in sorted(p for p in (work / "exports").iterdir() if p.is_dir()):
        batches = [b for b in sorted(folder.iterdir()) if b.is_dir() and b != late]
        lakehouse.ingest(folder.name, batches)
    return {"seconds": time.perf_counter() - start}


def curate(work: Path) -> dict[str, float]:
    lakehouse = Lakehouse.open(settings_for(work))
    start = time.perf_counter()
    report = lakehouse.curate()
    return {"seconds": time.perf_counter() - start, "practices": len(report.practices)}


def dashboard(work: Path) -> dict[str, float]:
    from dashboard import measure  # bench/dashboard.py

    return measure(work, settings_for(work))


def read_memory(work: Path) -> dict[str, float]:
    from read_memory import measure  # bench/read_memory.py

    return measure(work, settings_for(work))


def web(phase: str, work: Path, options: dict[str, Any]) -> dict[str, Any]:
    """One of the dashboard's benchmarks: the phase names its module (bench/web_pages.py,
    web_browser.py, web_load.py), imported only here so that the others need none of it."""
    if phase not in ("web_pages", "web_browser", "web_load"):
        raise SystemExit(f"no phase {phase}")
    measured: dict[str, Any] = importlib.import_module(phase).measure(work, settings_for(work), options)
    return measured


def incremental(work: Path) -> dict[str, float]:
    """One new monthly batch of one practice: ingest and transform it, then time the curate."""
    lakehouse = Lakehouse.open(settings_for(work))
    late = held_back(work)
    lakehouse.ingest(late.parent.name, [late])
    lakehouse.transform()
    start = time.perf_counter()
    report = lakehouse.curate()
    return {"seconds": time.perf_counter() - start, "practices": len(report.practices)}


def transform(work: Path) -> dict[str, float]:
    lakehouse = Lakehouse.open(settings_for(work))
    start = time.perf_counter()
    report = lakehouse.transform()
    return {"seconds": time.perf_counter() - start, "wrote": report.run_id is not None}


def floor(work: Path) -> dict[str, float]:
    """The floor this stack allows: plain DuckDB reading the same CSVs and writing Parquet."""
    out = work / "floor"
    out.mkdir(exist_ok=True)
    con = duckdb.connect()
    start = time.perf_counter()
    for contract in CONTRACTS:
        files = csv_files(work, contract.dataset)
        if files:
            con.read_csv(files, all_varchar=True).write_parquet(str(out / f"{contract.dataset}.parquet"))
    return {"seconds": time.perf_counter() - start}


def main() -> None:
    phase, work = sys.argv[1], Path(sys.argv[2])
    result: dict[str, Any]
    if phase == "generate":
        result = generate(work, int(sys.argv[3]), int(sys.argv[4]))
    elif phase.startswith("web_"):
        result = web(phase, work, json.loads(sys.argv[3]) if len(sys.argv) > 3 else {})
    elif phase == "rows":
        result = {"rows": count_rows(work)}
    else:
        phases = {"ingest": ingest, "transform": transform, "floor": floor, "curate": curate}
        phases |= {"incremental": incremental, "dashboard": dashboard, "read_memory": read_memory}
        result = phases[phase](work)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
