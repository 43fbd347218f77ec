"""The dashboard's benchmarks, each in a process of its own (bench/phases.py), printed beside
their baselines and targets. Figures, not pass/fail: this machine is shared and noisy.

- page data (bench/web_pages.py): each page's data through the full read path, p50/p95,
  beside the same queries in plain DuckDB over Parquet (target p95 < 150 ms);
- browser (bench/web_browser.py): full page loads in chromium, navigation start to charts
  drawn (target p95 < 1 s);
- load (bench/web_load.py): signed-in users over HTTPS on 127.0.0.1 with the server in its
  own process: errors (target 0), latency (target p95 < 300 ms), the server's peak memory.

`make bench` runs them after the pipeline's phases (bench/run.py). On a bench folder that
`run.py --keep` left, they run alone, without rebuilding the lake:

Usage: python bench/web.py --work DIR [--only pages|browser|load ...] [--load-seconds 60]
       [--load-users 50] [--load-requests 250000] [--think 3] [--browser-loads 10]
       [--page-rounds 2] [--page-practices 4]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

PHASES = Path(__file__).with_name("phases.py")
PARTS = {"pages": "web_pages", "browser": "web_browser", "load": "web_load"}
PAGE_P95_MS, LOAD_P95_MS, BROWSER_P95_MS = 150.0, 300.0, 1000.0


def run_part(part: str, work: Path, options: dict[str, Any]) -> dict[str, Any]:
    """One part in its own process; its JSON result."""
    done = subprocess.run([sys.executable, str(PHASES), PARTS[part], str(work), json.dumps(options)],
                          stdout=subprocess.PIPE, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the dashboard's {part} benchmark failed with exit code {done.returncode}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(work: Path, options: dict[str, Any], parts: list[str] | None = None) -> dict[str, dict[str, Any]]:
    return {part: run_part(part, work, options) for part in parts or list(PARTS)}


def _notes(result: dict[str, Any]) -> None:
    for note in result.get("notes", []):
        print(f"  note: {note}")


def report_pages(result: dict[str, Any]) -> None:
    builds = len(result["practices"]) * len(result["periods"])
    print(f"\ndashboard page data: filter choices + page builder as a practice owner, {len(result['practices'])} "
          f"practices x {len(result['periods'])} periods ({', '.join(result['periods'])}), today {result['today']}; "
          f"{builds} builds a round, after a cold first build")  # fmt: skip
    _notes(result)
    head = f"{'page':<12}{'builds':>7}{'queries':>8}{'cold ms':>9}{'p50 ms':>9}{'p95 ms':>9}"
    print(head + f"{'floor p50':>11}{'floor p95':>11}{'x p50':>7}{'x p95':>7}")
    rows = [(key, page) for key, page in result["pages"].items()]
    for key, page in rows:
        ours, plain = page["ours"], page["floor"]
        print(f"{key:<12}{page['builds']:>7}{page['queries']:>8.1f}{page['cold_ms']:>9.0f}{ours['p50_ms']:>9.1f}"
              f"{ours['p95_ms']:>9.1f}{plain['p50_ms']:>11.1f}{plain['p95_ms']:>11.1f}"
              f"{_ratio(ours['p50_ms'], plain['p50_ms']):>7}{_ratio(ours['p95_ms'], plain['p95_ms']):>7}")  # fmt: skip
    ours, plain = result["all"]["ours"], result["all"]["floor"]
    print(f"{'all pages':<36}{ours['p50_ms']:>9.1f}{ours['p95_ms']:>9.1f}{plain['p50_ms']:>11.1f}"
          f"{plain['p95_ms']:>11.1f}{_ratio(ours['p50_ms'], plain['p50_ms']):>7}"
          f"{_ratio(ours['p95_ms'], plain['p95_ms']):>7}   target p95 < {PAGE_P95_MS:.0f} ms")  # fmt: skip
    for label, mine, theirs in (("first views", "first", "floor_first"), ("seen again", "again", "floor_again")):
        ours, plain = result["all"].get(mine), result["all"].get(theirs)
        if ours and plain:
            print(f"{'  ' + label:<36}{ours['p50_ms']:>9.1f}{ours['p95_ms']:>9.1f}{plain['p50_ms']:>11.1f}"
                  f"{plain['p95_ms']:>11.1f}{_ratio(ours['p50_ms'], plain['p50_ms']):>7}"
                  f"{_ratio(ours['p95_ms'], plain['p95_ms']):>7}")  # fmt: skip
    print(
        "first views: each page, practice and period built once after the cold build; seen again: the same builds "
        "repeated, which the query service answers from the answers it kept (the floor runs its queries again)"
    )
    print(f"floor: the same {result['queries']:,} queries with the same parameters in plain DuckDB over the curated "
          f"zone exported to Parquet; {result['differing_queries']} returned another number of rows")  # fmt: skip


def report_browser(result: dict[str, Any]) -> None:
    if not result["pages"]:
        _notes(result)
        return
    print(f"\nbrowser page loads: chromium over HTTPS on 127.0.0.1, {result['practice']}, a practice owner; "
          f"navigation start to load and every chart drawn; {result['loads']} loads a page after a first")  # fmt: skip
    _notes(result)
    print(f"{'page':<12}{'charts':>7}{'first ms':>10}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'errors':>8}")
    for key, page in result["pages"].items():
        first = f"{page['first_ms']:.0f}" if "first_ms" in page else "-"
        print(f"{key:<12}{page['charts']:>7}{first:>10}{page['p50_ms']:>9.0f}{page['p95_ms']:>9.0f}"
              f"{page['max_ms']:>9.0f}{page['errors']:>8}")  # fmt: skip
        if "error" in page:
            print(f"  {key}: {page['error']}")
    every = result["all"]
    print(f"{'all pages':<29}{every['p50_ms']:>9.0f}{every['p95_ms']:>9.0f}{every['max_ms']:>9.0f}"
          f"{'':>8}   target p95 < {BROWSER_P95_MS:,.0f} ms")  # fmt: skip


def report_load(result: dict[str, Any]) -> None:
    pause = f"a {result['think_seconds']:g} s pause" if result["think_seconds"] else "no pause"
    if result["think_seconds"]:
        pause += " (and before a user's first, each user's own: they arrive over the first pause)"
    print(f"\nload run: {result['users']} signed-in users over HTTPS on 127.0.0.1 for {result['seconds']:.0f} s "
          f"({result['elapsed']:.0f} s to the last answer), {pause} between a user's requests, the server in its "
          "own process")  # fmt: skip
    _notes(result)
    capped = ", stopped at the request cap" if result["capped"] else ""
    print(
        f"requests {result['requests']:,} ({result['per_second']:.1f}/s{capped}), errors {result['errors']} "
        f"(target 0: any answer but 200, or none within {result['request_seconds']:.0f} s); the latencies count "
        "the errors' too"
    )
    for kind, count in result["error_kinds"].items():
        print(f"  {kind}: {count}")
    print(f"{'request':<22}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for kind, figures in result["kinds"].items():
        print(f"{kind:<22}{figures['count']:>7}{figures['p50_ms']:>9.0f}{figures['p95_ms']:>9.0f}"
              f"{figures['max_ms']:>9.0f}")  # fmt: skip
    every = result["all"]
    for window in result["windows"]:
        begun = f"started {window['from']:.0f}-{window['from'] + result['window_seconds']:.0f} s"
        print(f"  {begun:<20}{window['count']:>7}{window['p50_ms']:>9.0f}{window['p95_ms']:>9.0f}"
              f"{window['max_ms']:>9.0f}")  # fmt: skip
    print(f"{'all':<29}{every['p50_ms']:>9.0f}{every['p95_ms']:>9.0f}{every['max_ms']:>9.0f}"
          f"   target p95 < {LOAD_P95_MS:.0f} ms")  # fmt: skip
    print(f"server memory (RSS, with its query processes): {result['idle_mib']:,.0f} MiB started and idle, "
          f"peak {result['peak_mib']:,.0f} MiB (server alone at most {result['server_peak_mib']:,.0f}, "
          f"its children at most {result['children_peak_mib']:,.0f}; {result['processes']} processes)")  # fmt: skip
    print(f"server CPU: {result['server_cpu_seconds']:.1f} s in the server process, "
          f"{result['children_cpu_seconds']:.1f} s in its query processes, over {result['elapsed']:.0f} s")  # fmt: skip


def report(results: dict[str, dict[str, Any]]) -> None:
    printers = {"pages": report_pages, "browser": report_browser, "load": report_load}
    for part, result in results.items():
        printers[part](result)


def _ratio(ours: float, floor: float) -> str:
    return f"{ours / floor:.2f}" if floor else "-"


def options_of(args: argparse.Namespace) -> dict[str, Any]:
    return {"seconds": args.load_seconds, "users": args.load_users, "most_requests": args.load_requests,
            "think": args.think, "loads": args.browser_loads, "repeats": args.page_rounds,
            "practices": args.page_practices}  # fmt: skip


def add_options(parser: argparse.ArgumentParser) -> None:
    """The dashboard benchmarks' options, shared with bench/run.py."""
    parser.add_argument("--load-seconds", type=float, default=60.0, help="length of the load run")
    parser.add_argument("--load-users", type=int, default=50, help="signed-in users of the load run")
    parser.add_argument("--load-requests", type=int, default=250_000, help="most requests of the load run, all users")
    parser.add_argument(
        "--think",
        type=float,
        default=3.0,
        help="pause between a user's requests, seconds (people read a page before the next; 0: back to back)",
    )
    parser.add_argument("--browser-loads", type=int, default=10, help="browser loads of each page")
    parser.add_argument("--page-rounds", type=int, default=2, help="rounds of page data builds")
    parser.add_argument("--page-practices", type=int, default=4, help="practices the page data is built for")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True, help="a bench folder that bench/run.py --keep left")
    parser.add_argument("--only", choices=list(PARTS), action="append", help="run only this part (repeatable)")
    add_options(parser)
    args = parser.parse_args()
    if not (args.work / "lakehouse").is_dir():
        raise SystemExit(f"{args.work} holds no bench lake: make one with python bench/run.py --keep")
    report(measure(args.work, options_of(args), args.only))


if __name__ == "__main__":
    main()
