"""make bench, source formats: each format's ingest and transform over the same records, beside
practicelake's CSV (the baseline) measured in the same run, and a year of 835 remittances of a
50-provider practice. Prints figures; no pass/fail on time (the machine is shared and noisy).

One synthetic practice's export (practicelake.synth) is written again as HL7 v2, FHIR R4 NDJSON,
X12 837P and X12 835 (bench/format_writers*.py); each format then goes into a lakehouse of its
own: `Lakehouse.ingest(..., source_format=NAME)`, then `Lakehouse.transform()`, each in its own
process so that its peak memory is its own. Records are what the transform's ledger counts
(ops.file_loads): every record of each dataset read, accepted or quarantined.

Usage: python bench/formats.py [--rows N] [--work DIR] [--remittance-claims N] [--keep]
(--rows: about N appointments; --remittance-claims 0 skips the year of 835s)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import traceback
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

PRACTICE = "P001"
BASELINE = "practicelake-csv"
FORMATS = (BASELINE, "hl7v2", "fhir-r4", "x12-837p", "x12-835")
REMITTANCES = "x12-835 year"  # the lake of the year of remittances, read as x12-835
CSV_DATASETS = ("patients", "appointments", "encounters", "charges", "claims", "payments", "adjustments")
TARGET_SECONDS = 60.0


# Phases: each runs in a process of its own and prints one JSON line ----------------------------


def settings_for(work: Path, lake: str) -> Any:
    from practicelake.settings import load_settings

    practices = tomllib.loads((work / "exports" / "practices.toml").read_text(encoding="utf-8"))["practices"]
    root = work / "lakes" / lake.replace(" ", "-")
    return load_settings(
        warehouse_uri=(root / "lakehouse").as_uri(),
        key_file=root / "keys.json",
        state_dir=root / "state",
        practices=practices,
        dev_mode=True,  # a throwaway lake: its key-encryption key is made on first use
    )


def generate(work: Path, rows: int) -> dict[str, Any]:
    from practicelake.synth import generate as run

    start = time.perf_counter()
    report = run(work / "exports", practices=1, years=2, seed=7, appointments=rows)
    return {"seconds": time.perf_counter() - start, "appointments": report.appointments}


def write(work: Path, remittance_claims: int) -> dict[str, Any]:
    """Every format's files, listed in files/<format>.json; a writer that fails is reported."""
    sys.path.insert(0, str(Path(__file__).parent))
    import format_writers as writers
    import format_writers_x12 as x12_writers

    practices = tomllib.loads((work / "exports" / "practices.toml").read_text(encoding="utf-8"))["practices"]
    export = writers.load_export(work / "exports", PRACTICE)
    currency = practices[PRACTICE]["currency"]
    out = work / "files"
    out.mkdir(parents=True, exist_ok=True)
    remitted = x12_writers.remitted_claims(export)
    jobs: dict[str, Callable[[], list[Path]]] = {
        BASELINE: lambda: [p for d in CSV_DATASETS for p in sorted((work / "exports" / PRACTICE).glob(f"*/{d}.csv"))],
        "hl7v2": lambda: writers.write_hl7(export, out / "hl7v2"),
        "fhir-r4": lambda: writers.write_fhir(export, out / "fhir-r4", currency),
        "x12-837p": lambda: x12_writers.write_837p(export, out / "x12-837p"),
        "x12-835": lambda: x12_writers.write_835(export, remitted, out / "x12-835"),
    }
    source = ""
    if remittance_claims:

        def year() -> list[Path]:
            nonlocal source
            files, source = year_of_remittances(export, remitted, remittance_claims, out / "x12-835-year")
            return files

        jobs[REMITTANCES] = year
    result: dict[str, Any] = {}
    for name, job in jobs.items():
        start = time.perf_counter()
        try:
            files = job()
        except Exception as error:  # a writer's failure is a line of the table, not the end of the run
            traceback.print_exc()
            result[name] = {"error": f"writer failed: {type(error).__name__}: {error}"}
            continue
        listed = out / f"{name.replace(' ', '-')}.json"
        listed.write_text(json.dumps([str(p) for p in files]), encoding="utf-8")
        size = sum(p.stat().st_size for p in files)
        result[name] = {"files": len(files), "bytes": size, "seconds": time.perf_counter() - start}
    if REMITTANCES in result:
        result[REMITTANCES]["source"] = source
    return result


def year_of_remittances(export: Any, remitted: list[Any], claims: int, out: Path) -> tuple[list[Path], str]:
    """A year of 835s of `claims` claims: bench/x12_remittances.py's (payers' own 835 files of
    5,000 claims, with reversals and provider adjustments) where it loads, else copies of the
    practice's own remitted claims moved into one year, a file a day (format_writers_x12)."""
    import format_writers_x12 as x12_writers

    try:
        import x12_remittances  # bench/x12_remittances.py
    except Exception as error:  # its reader missing or failing: the practice's own claims instead
        year = x12_writers.year_of_claims(remitted, claims)
        why = f"{type(error).__name__}: {error}"
        return x12_writers.write_835(export, year, out), f"copies of the practice's claims ({why[:80]})"
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for number, data in enumerate(x12_remittances.generate(claims), 1):
        path = out / f"remit_{number:04d}.835"
        path.write_bytes(data)
        files.append(path)
    return files, "bench/x12_remittances.py generate()"


def ingest(work: Path, name: str) -> dict[str, Any]:
    from practicelake.formats import registry
    from practicelake.pipeline import Lakehouse

    read_as = "x12-835" if name == REMITTANCES else name
    try:
        registry.get(read_as)
    except Exception as error:  # a format still being written is a line of the table
        return {"error": f"format not loadable: {type(error).__name__}: {error}"}
    files = [Path(p) for p in json.loads((work / "files" / f"{name.replace(' ', '-')}.json").read_text())]
    lakehouse = Lakehouse.open(settings_for(work, name))
    start = time.perf_counter()
    report = lakehouse.ingest(PRACTICE, files, source_format=read_as)
    seconds = time.perf_counter() - start
    reasons = sorted({str(e.reason) for e in report.failures})
    return {"seconds": seconds, "entries": len(report.entries), "failed": len(report.failures), "reasons": reasons[:3]}


def transform(work: Path, name: str) -> dict[str, Any]:
    from practicelake.pipeline import Lakehouse

    lakehouse = Lakehouse.open(settings_for(work, name))
    start = time.perf_counter()
    report = lakehouse.transform()
    seconds = time.perf_counter() - start
    datasets: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    reasons: set[str] = set()
    loads = report.ledger.loads.values() if report.ledger is not None else []
    for load in loads:
        counts = datasets[str(load["dataset"])]
        for column in ("rows_read", "rows_accepted", "rows_quarantined", "rows_duplicate"):
            counts[column] += int(load[column])  # type: ignore[call-overload]
        counts["files"] += 1
        if load["status"] == "failed":
            counts["failed"] += 1
            reasons.add(str(load["reason"]))
    file_loads = lakehouse.catalog.load_table("ops.file_loads").scan().to_arrow().num_rows
    return {
        "seconds": seconds,
        "datasets": datasets,
        "reasons": sorted(reasons)[:3],
        "file_loads": file_loads,
        "quarantine_rules": quarantine_rules(lakehouse),
    }


def quarantine_rules(lakehouse: Any) -> dict[str, int]:
    """The commonest reasons rows were quarantined (dataset: rule), to tell a writer's slip from
    a reader's."""
    if not lakehouse.catalog.table_exists("ops.quarantine"):
        return {}
    table = lakehouse.catalog.load_table("ops.quarantine").scan().to_arrow()
    if not table.num_rows:
        return {}
    names = ["entity", "rule", "column_name"]
    counts: dict[str, int] = defaultdict(int)
    for row in table.select(names).to_pylist():
        counts[":".join(str(row[n]) for n in names)] += 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1])[:4])


def phase(args: list[str]) -> None:
    name, work = args[0], Path(args[1])
    result: dict[str, Any]
    if name == "generate":
        result = generate(work, int(args[2]))
    elif name == "write":
        result = write(work, int(args[2]))
    elif name == "ingest":
        result = ingest(work, args[2])
    elif name == "transform":
        result = transform(work, args[2])
    else:
        raise SystemExit(f"no phase {name}")
    print(json.dumps(result))


# The run --------------------------------------------------------------------------------------


def run_phase(*args: str) -> tuple[dict[str, Any] | None, float, str]:
    """One phase in its own process: its JSON result (None if it failed), its peak RSS in MiB,
    and the last line of its error output."""
    command = [sys.executable, str(Path(__file__)), "phase", *args]
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        assert process.stdout is not None
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        lines = [line for line in errors.read().splitlines() if line.strip()]
    peak = usage.ru_maxrss / 1024
    if process.returncode != 0 or not output.strip():
        return None, peak, last_error(lines) or f"exit code {process.returncode}"
    return json.loads(output.strip().splitlines()[-1]), peak, ""


def last_error(lines: list[str]) -> str:
    """The exception line of a traceback (`Type: message`), else its last line."""
    raised = [line for line in lines if re.match(r"[A-Za-z_][\w.]*(Error|Exception|Exit)\b", line)]
    return (raised or lines or [""])[-1][:240]


def measure_format(work: Path, name: str, written: dict[str, Any]) -> dict[str, Any]:
    if "error" in written:
        return {"error": written["error"]}
    measured: dict[str, Any] = {"files": written["files"], "bytes": written["bytes"], "source": written.get("source")}
    for step in ("ingest", "transform"):
        result, peak, error = run_phase(step, str(work), name)
        if result is None:
            return measured | {"error": f"{step} failed: {error}"}
        if "error" in result:
            return measured | {"error": result["error"]}
        measured[step], measured[f"{step}_mib"] = result, peak
    return measured


def records(measured: dict[str, Any]) -> int:
    return sum(d["rows_read"] for d in measured["transform"]["datasets"].values())


def seconds(measured: dict[str, Any]) -> float:
    return float(measured["ingest"]["seconds"] + measured["transform"]["seconds"])


def report(made: dict[str, Any], results: dict[str, dict[str, Any]]) -> None:
    print(
        f"\n== source formats: one practice, {made['appointments']:,} appointments (generated in "
        f"{made['seconds']:.1f} s); the same records in each format =="
    )
    header = f"{'format':<18}{'dataset':<16}{'records':>10}{'accepted':>10}{'quarant.':>9}{'ingest s':>10}"
    print(header + f"{'transform s':>12}{'records/s':>11}{'x CSV':>7}{'peak MiB':>9}   files")
    base = results.get(BASELINE, {})
    base_rate = records(base) / seconds(base) if "transform" in base else None
    for name in FORMATS:
        measured = results.get(name, {})
        if "transform" not in measured:
            took = f"ingest {measured['ingest']['seconds']:.2f} s, " if "ingest" in measured else ""
            print(f"{name:<18}{'-':<16}{took}{measured.get('error', 'not measured')}")
            continue
        rate = records(measured) / seconds(measured)
        ratio = f"{rate / base_rate:.2f}" if base_rate else "-"
        peak = max(measured["ingest_mib"], measured["transform_mib"])
        datasets = measured["transform"]["datasets"]
        total = [sum(d[c] for d in datasets.values()) for c in ("rows_read", "rows_accepted", "rows_quarantined")]
        mib = measured["bytes"] / 2**20
        print(
            f"{name:<18}{'all':<16}{total[0]:>10,}{total[1]:>10,}{total[2]:>9,}{measured['ingest']['seconds']:>10.2f}"
            f"{measured['transform']['seconds']:>12.2f}{rate:>11,.0f}{ratio:>7}{peak:>9,.0f}   "
            f"{measured['files']} ({mib:,.1f} MiB)"
        )
        for dataset, counts in sorted(datasets.items()):
            failed = f"   {counts['failed']} file(s) failed" if counts.get("failed") else ""
            print(
                f"{'':<18}{dataset:<16}{counts['rows_read']:>10,}{counts['rows_accepted']:>10,}"
                f"{counts['rows_quarantined']:>9,}{failed}"
            )
        notes = measured["transform"]["reasons"] + measured["ingest"]["reasons"]
        for rule, count in measured["transform"]["quarantine_rules"].items():
            notes.append(f"quarantined {count:,}: {rule}")
        for note in notes:
            print(f"{'':<18}note: {note}")
    print("records/s: records read by the transform over ingest + transform seconds; x CSV: that rate over")
    print("practicelake CSV's, the baseline measured in this run; peak MiB: the larger of the two processes")
    remittances(results, base_rate)


def remittances(results: dict[str, dict[str, Any]], base_rate: float | None) -> None:
    measured = results.get(REMITTANCES)
    if measured is None:
        return
    claims = measured.get("claims", 0)
    print(f"\n== a year of 835 remittances of a 50-provider practice: {claims:,} claims ==")
    if measured.get("source"):
        print(f"  written by {measured['source']}")
    if "transform" not in measured:
        if "ingest" in measured:
            spent = measured["ingest"]["seconds"]
            print(f"  ingest {spent:.2f} s ({claims / spent:,.0f} claims/s, peak {measured['ingest_mib']:,.0f} MiB)")
        print(f"  {measured.get('error', 'not measured')}")
        return
    outcomes = measured["transform"]["datasets"].get("claim_outcomes", {}).get("rows_read", 0)
    took = seconds(measured)
    rate = records(measured) / took
    ratio = f", {rate / base_rate:.2f} x CSV's records/s" if base_rate else ""
    print(f"{'':<14}{'seconds':>10}{'claims/s':>10}{'peak MiB':>10}")
    peak = max(measured["ingest_mib"], measured["transform_mib"])
    print(
        f"{'ingest':<14}{measured['ingest']['seconds']:>10.2f}{claims / measured['ingest']['seconds']:>10,.0f}"
        f"{measured['ingest_mib']:>10,.0f}"
    )
    print(
        f"{'transform':<14}{measured['transform']['seconds']:>10.2f}"
        f"{claims / measured['transform']['seconds']:>10,.0f}{measured['transform_mib']:>10,.0f}"
    )
    print(f"{'both':<14}{took:>10.2f}{claims / took:>10,.0f}{peak:>10,.0f}   target: under {TARGET_SECONDS:.0f} s")
    print(
        f"  {measured['files']} files ({measured['bytes'] / 2**20:,.1f} MiB), {outcomes:,} claim outcomes read, "
        f"{records(measured):,} records in all ({rate:,.0f} records/s{ratio})"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "phase":
        phase(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000, help="appointments of the practice (about)")
    parser.add_argument("--work", type=Path, help="working folder (default: a new temporary one, removed)")
    parser.add_argument("--remittance-claims", type=int, default=250_000, help="claims of the year of 835s; 0 skips")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="practicelake-formats-"))
    if args.work is not None:
        shutil.rmtree(work / "lakes", ignore_errors=True)  # every run starts from fresh lakehouses
        shutil.rmtree(work / "files", ignore_errors=True)
        shutil.rmtree(work / "exports", ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
    try:
        made, _, error = run_phase("generate", str(work), str(args.rows))
        if made is None:
            raise SystemExit(f"generate failed: {error}")
        written, _, error = run_phase("write", str(work), str(args.remittance_claims))
        if written is None:
            raise SystemExit(f"writing the formats failed: {error}")
        names = list(FORMATS) + ([REMITTANCES] if args.remittance_claims else [])
        results = {}
        for name in names:
            results[name] = measure_format(work, name, written.get(name, {"error": "not written"}))
        if REMITTANCES in results:
            results[REMITTANCES]["claims"] = args.remittance_claims
        report(made, results)
    finally:
        if args.keep or args.work is not None:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
