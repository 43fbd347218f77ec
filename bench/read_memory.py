"""The read path's memory: the peak RSS of one QueryService (its serving process, its zygote
and its query processes, sampled together) serving the ten dashboard queries for every
practice in turn, beside the same queries in plain DuckDB over the same tables exported to
Parquet, run in a process of its own in the same run.

Resident sizes count the pages a zygote shares with the query processes it forked once per
process, so the sum overstates the tree a little; PSS (shared pages split between their
processes) is given beside it.

Usage: python bench/read_memory.py WORKDIR (after bench/run.py --keep has made a lakehouse
there). Prints one JSON line.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import duckdb

from dashboard import QUERIES  # bench/dashboard.py
from practicelake.curate.export import export
from practicelake.lakehouse.catalog import open_catalog
from practicelake.query import QueryService, Scope
from practicelake.query.zygote import zygote
from practicelake.settings import Settings

SAMPLE_SECONDS = 0.02


class TreeSampler(threading.Thread):
    """Samples the resident size of this process, its zygote and its query processes."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.done = threading.Event()
        self.peak_rss = self.peak_pss = 0.0
        self.peaks: dict[str, float] = {"serving": 0.0, "zygote": 0.0, "query processes": 0.0}
        self.high_water: dict[int, float] = {}  # each query process's own peak (VmHWM)

    def run(self) -> None:
        while not self.done.wait(SAMPLE_SECONDS):
            self.sample()

    def sample(self) -> None:
        zygote_pid = zygote().process.pid
        workers = [int(pid) for pid in _read(f"/proc/{zygote_pid}/task/{zygote_pid}/children").split()]
        parts = {"serving": _status("self", "VmRSS"), "zygote": _status(zygote_pid, "VmRSS")}
        parts["query processes"] = sum(_status(pid, "VmRSS") for pid in workers)
        for pid in workers:
            self.high_water[pid] = max(self.high_water.get(pid, 0.0), _status(pid, "VmHWM"))
        for name, mib in parts.items():
            self.peaks[name] = max(self.peaks[name], mib)
        self.peak_rss = max(self.peak_rss, sum(parts.values()))
        pss = sum(_pss(pid) for pid in ["self", zygote_pid, *workers])
        self.peak_pss = max(self.peak_pss, pss)

    def stop(self) -> None:
        self.sample()
        self.done.set()
        self.join()


def measure(work: Path, settings: Settings) -> dict[str, float]:
    catalog = open_catalog(settings)
    practices = sorted(settings.practices)
    with QueryService(catalog, workers=1) as probe:  # gone before the measured service starts
        last = probe.run("select max(day) as last from access_daily", Scope.every_practice())["last"][0].as_py()
    until = date(last.year - 1, 12, 31) if (last.month, last.day) != (12, 31) else last
    since = date(until.year, 1, 1)
    sampler = TreeSampler()
    with QueryService(catalog) as service:
        sampler.start()
        start = time.perf_counter()
        for practice in practices:
            parameters = {"practice": practice, "since": since, "until": until}
            for sql in QUERIES.values():
                service.run(sql, Scope.of([practice]), parameters)
        seconds = time.perf_counter() - start
        sampler.stop()
    serving_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    folder = Path(tempfile.mkdtemp(prefix="read-memory-floor-", dir=work)) / "parquet"
    export(catalog, folder, "parquet")
    floor = subprocess.run(
        [sys.executable, __file__, "floor", str(folder), since.isoformat(), until.isoformat(), json.dumps(practices)],
        capture_output=True,
        text=True,
        check=True,
    )
    plain = json.loads(floor.stdout.strip().splitlines()[-1])
    return {
        "seconds": seconds,
        "queries": len(QUERIES) * len(practices),
        "practices": len(practices),
        "serving_mib": max(serving_peak, sampler.peaks["serving"]),
        "zygote_mib": sampler.peaks["zygote"],
        "query_processes_mib": sampler.peaks["query processes"],
        "query_processes_high_water_mib": sum(sampler.high_water.values()),
        "tree_mib": sampler.peak_rss,
        "tree_pss_mib": sampler.peak_pss,
        "floor_mib": plain["peak_mib"],
        "floor_seconds": plain["seconds"],
        "ratio": sampler.peak_rss / plain["peak_mib"],
    }


def floor(folder: Path, since: date, until: date, practices: list[str]) -> dict[str, float]:
    """The same queries for every practice in plain DuckDB over the Parquet copy."""
    con = duckdb.connect()
    for file in sorted(folder.glob("*.parquet")):
        con.read_parquet(str(file)).create_view(file.stem)
    start = time.perf_counter()
    for practice in practices:
        parameters: dict[str, object] = {"practice": practice, "since": since, "until": until}
        for sql in QUERIES.values():
            used = {name: value for name, value in parameters.items() if "$" + name in sql}
            con.execute(sql, used).to_arrow_table()
    seconds = time.perf_counter() - start
    con.close()
    return {"seconds": seconds, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _status(pid: int | str, field: str) -> float:
    """A /proc/PID/status size in MiB (0 for a process that is gone)."""
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pss(pid: int | str) -> float:
    for line in _read(f"/proc/{pid}/smaps_rollup").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    if sys.argv[1] == "floor":
        since, until = date.fromisoformat(sys.argv[3]), date.fromisoformat(sys.argv[4])
        print(json.dumps(floor(Path(sys.argv[2]), since, until, json.loads(sys.argv[5]))))
        return
    from phases import settings_for  # bench/phases.py

    work = Path(sys.argv[1])
    print(json.dumps(measure(work, settings_for(work))))


if __name__ == "__main__":
    main()
