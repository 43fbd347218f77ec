"""make bench: throughput and peak memory of generate, ingest and transform, each beside the
floor measured in the same run (plain DuckDB: the same CSVs -> Parquet), then the read path
and the dashboard's benchmarks (bench/web.py: page data, browser page loads, a load run).
Prints figures; no pass/fail on time, since this machine is shared and noisy.

Usage: python bench/run.py [--appointments N] [--practices N] [--keep] [bench/web.py's options]
(the issue's size: --appointments 10000000 --practices 100)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import web  # bench/web.py

PHASES = Path(__file__).with_name("phases.py")
CURATE_FLOOR = Path(__file__).with_name("curate.py")


def run_phase(*args: str, script: Path = PHASES) -> tuple[dict[str, float], float]:
    """Run one phase in its own process; return its JSON result and its peak RSS in MiB."""
    process = subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"phase {args[0]} failed with exit code {process.returncode}")
    return json.loads(output.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def measure(work: Path, appointments: int, practices: int) -> dict[str, tuple[dict[str, float], float]]:
    results = {"generate": run_phase("generate", str(work), str(appointments), str(practices))}
    results["rows"] = run_phase("rows", str(work))
    results["floor"] = run_phase("floor", str(work))
    for phase in ("ingest", "transform"):
        results[phase] = run_phase(phase, str(work))
    results["noop"] = run_phase("transform", str(work))
    results["curate floor"] = run_phase("floor", str(work), script=CURATE_FLOOR)
    results["curate"] = run_phase("curate", str(work))
    results["curate noop"] = run_phase("curate", str(work))
    results["incremental"] = run_phase("incremental", str(work))
    results["dashboard"] = run_phase("dashboard", str(work))
    results["read memory"] = run_phase("read_memory", str(work))
    return results


def report(appointments: int, practices: int, results: dict[str, tuple[dict[str, float], float]]) -> None:
    rows = results["rows"][0]["rows"]
    made = results["generate"][0]["appointments"]
    print(f"\n== {made:,.0f} appointments, {practices} practices, {rows:,.0f} rows in all CSV files ==")
    print(f"{'phase':<12}{'seconds':>10}{'rows/s':>14}{'peak MiB':>10}   note")
    gen_s = results["generate"][0]["seconds"]
    per_minute = made / gen_s * 60
    for phase in ("generate", "ingest", "floor", "transform", "noop"):
        (result, peak) = results[phase]
        seconds = result["seconds"]
        note = ""
        if phase == "generate":
            note = f"{per_minute:,.0f} appointments/minute (target >= 1,000,000)"
        if phase == "transform":
            note = f"{seconds / results['floor'][0]['seconds']:.2f} x floor (target <= 3)"
        if phase == "noop":
            note = f"{seconds / results['transform'][0]['seconds']:.1%} of the first run (target < 10%)"
        if phase == "floor":
            note = "plain DuckDB: read_csv -> Parquet, same files"
        print(f"{phase:<12}{seconds:>10.2f}{rows / seconds:>14,.0f}{peak:>10,.0f}   {note}")
    curated(results)


def curated(results: dict[str, tuple[dict[str, float], float]]) -> None:
    floor, floor_peak = results["curate floor"]
    note = "plain DuckDB: the same model SQL over the same cleaned rows in Parquet"
    print(f"{'curate floor':<12}{floor['seconds']:>10.2f}{'':>14}{floor_peak:>10,.0f}   {note}")
    full, peak = results["curate"]
    transform = results["transform"][0]["seconds"]
    note = (
        f"{full['seconds'] / floor['seconds']:.2f} x floor (target <= 1.5), {full['seconds'] / transform:.2f} x the "
        f"transform (target < 1), peak {peak / 1024:.2f} GiB (target < 3 at 10M)"
    )
    print(f"{'curate':<12}{full['seconds']:>10.2f}{'':>14}{peak:>10,.0f}   {note}")
    noop = results["curate noop"][0]["seconds"]
    print(f"{'curate noop':<12}{noop:>10.2f}{'':>14}{results['curate noop'][1]:>10,.0f}   nothing changed")
    late, peak = results["incremental"]
    share = late["seconds"] / full["seconds"]
    note = f"{share:.1%} of the full curate (target < 5%): one new monthly batch of one practice"
    print(f"{'incremental':<12}{late['seconds']:>10.2f}{'':>14}{peak:>10,.0f}   {note}")
    board = results["dashboard"][0]
    print(
        f"\ndashboard: {board['queries']:.0f} queries x 10, one practice, one year (cold first pass "
        f"{board['cold_seconds']:.2f} s)"
    )
    print(f"{'':<14}{'p50 ms':>10}{'p95 ms':>10}")
    print(f"{'practicelake':<14}{board['p50_ms']:>10.1f}{board['p95_ms']:>10.1f}   scoped, guarded, locked; Iceberg")
    print(f"{'floor':<14}{board['floor_p50_ms']:>10.1f}{board['floor_p95_ms']:>10.1f}   plain DuckDB over Parquet")
    ratio50, ratio95 = board["p50_ms"] / board["floor_p50_ms"], board["p95_ms"] / board["floor_p95_ms"]
    print(f"{'ratio':<14}{ratio50:>10.2f}{ratio95:>10.2f}   target <= 1.5 x floor and p95 < 150 ms")
    memory = results["read memory"][0]
    practices = f"{memory['practices']:.0f} practices"
    print(f"\nread path memory: the dashboard for each of {practices} in turn, through one QueryService")
    print(f"{'':<14}{'peak MiB':>10}")
    parts = f"serving {memory['serving_mib']:,.0f} + zygote {memory['zygote_mib']:,.0f} + query processes"
    print(f"{'practicelake':<14}{memory['tree_mib']:>10,.0f}   {parts} {memory['query_processes_mib']:,.0f} (RSS)")
    print(f"{'':<14}{memory['tree_pss_mib']:>10,.0f}   the same, PSS (pages shared with the zygote counted once)")
    print(f"{'floor':<14}{memory['floor_mib']:>10,.0f}   plain DuckDB over Parquet, the same queries")
    print(f"{'ratio':<14}{memory['ratio']:>10.2f}   RSS over the floor's")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--practices", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    web.add_options(parser)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="practicelake-bench-"))
    try:
        report(args.appointments, args.practices, measure(work, args.appointments, args.practices))
        web.report(web.measure(work, web.options_of(args)))
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
