"""Full page loads in a real browser: the web app served over HTTPS on 127.0.0.1 (in a thread of
this process) over the bench lake, Debian's chromium driven by Playwright, signed in through
the form as a practice owner. Each page is loaded `loads` times after a first load (a cold
browser cache and cold tables, shown apart), and timed in the browser from the navigation's
start until the load event has fired and every chart's canvas has been drawn by Chart.js
(dashboard.js draws each one from its JSON data island), at the next animation frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page as Tab
from playwright.sync_api import sync_playwright

from practicelake.app import App
from practicelake.dashboard.pages import visible_pages
from practicelake.settings import Settings
from practicelake.web.app import create_app
from practicelake.web.server import running
from web_site import bench_today, bench_user, clock_on, measured_pages, percentiles

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]  # fmt: skip
DESKTOP = {"width": 1366, "height": 900}
LOADS = 10
USER = "bench-browser"
PAGE_SECONDS = 30
# Truthy (the time since the navigation started, in ms) once the page has loaded and every
# canvas on it holds a Chart.js chart: Chart.js draws a chart as it is made (no animation).
DRAWN = """() => {
  if (document.readyState !== "complete") return false;
  const canvases = Array.from(document.querySelectorAll("canvas"));
  if (canvases.length && (typeof Chart === "undefined" || !canvases.every((c) => Chart.getChart(c)))) return false;
  return performance.now();
}"""


def load(tab: Tab, url: str) -> tuple[float, int]:
    """One page load: milliseconds from navigation start to charts drawn, and its charts."""
    response = tab.goto(url, wait_until="commit")
    if response is None or response.status != 200:
        raise RuntimeError(f"status {response.status if response else 'none'}")
    drawn = tab.wait_for_function(DRAWN, polling="raf", timeout=PAGE_SECONDS * 1000)
    charts: int = tab.evaluate("() => document.querySelectorAll('canvas').length")
    return float(drawn.json_value()), charts


def sign_in(tab: Tab, base: str, password: str) -> None:
    tab.goto(base + "/sign-in", wait_until="load")
    tab.fill("#user", USER)
    tab.fill("#password", password)
    with tab.expect_navigation():
        tab.click("button[type=submit]")
    if "/sign-in" in tab.url:
        raise RuntimeError("the bench user could not sign in")


def measure(work: Path, settings: Settings, options: Mapping[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        return {"seconds": 0.0, "pages": {}, "notes": [f"no browser at {CHROMIUM}: page loads not measured"]}
    loads = int(options.get("loads", LOADS))
    pages, notes = measured_pages(operations=True)
    with App(settings) as core:
        practice_id = sorted(settings.practices)[0]
        password = bench_user(core, USER, practice_id)
        principal = core.users.authenticate_password(USER, password)
        shown = {page.key for page in visible_pages(principal, practice_id)}
        pages = [page for page in pages if page.key in shown]
        app = create_app(core, clock=clock_on(bench_today(core)))
        with running(app, settings) as base, sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context = browser.new_context(ignore_https_errors=True, viewport=DESKTOP, locale="en-US")  # type: ignore[arg-type]
            tab = context.new_page()
            sign_in(tab, base, password)
            per_page: dict[str, dict[str, Any]] = {}
            every: list[float] = []
            for round_ in range(loads + 1):
                for page in pages:
                    found = per_page.setdefault(page.key, {"times": [], "errors": 0, "charts": 0})
                    try:
                        ms, found["charts"] = load(tab, f"{base}/p/{practice_id}/{page.key}")
                    except (PlaywrightError, RuntimeError) as exc:
                        found["errors"] += 1
                        found.setdefault("error", f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
                        continue
                    if round_ == 0:
                        found["first_ms"] = ms
                    else:
                        found["times"].append(ms / 1000)
                        every.append(ms / 1000)
            browser.close()
    for found in per_page.values():
        found |= percentiles(found.pop("times"))
    return {"seconds": sum(every), "pages": per_page, "all": percentiles(every), "loads": loads,
            "practice": practice_id, "notes": notes}  # fmt: skip
