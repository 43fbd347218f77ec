"""A load run: `users` signed-in practice owners (made through the App, signed in through the
form) as asyncio tasks with one httpx client each, over HTTPS on 127.0.0.1 against the web
app in a process of its own (bench/web_server.py), verifying its self-signed certificate.
Each user loops over a mix of what a practice owner does (the overview, access and revenue
pages, the rows beneath a figure, the JSON API), on a period picked at random each time,
until the deadline or the request cap, whichever comes first. Every non-200 answer and
every exception is an error. The server's resident memory, with its children's (the query
processes), and their CPU time, are sampled from /proc (bench/web_tree.py).
"""

from __future__ import annotations

import asyncio
import random
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from practicelake.app import App
from practicelake.crypto.tls import certificate_files
from practicelake.dashboard.filters import PRESETS
from practicelake.settings import Settings
from web_site import bench_today, bench_user, measured_pages, percentiles
from web_tree import ProcessTree

SERVER = Path(__file__).with_name("web_server.py")
USERS = 50
SECONDS = 60.0
MOST_REQUESTS = 250_000
REQUEST_SECONDS = 30.0
START_SECONDS = 60.0
WINDOW_SECONDS = 10.0
SIGNING_IN = 4
CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')
MIX_PAGES = ("overview", "access", "revenue")
ROWS = "access_daily"
API_PAGE = "overview"
PERIODS = [name for name in PRESETS if name != "custom"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Tally:
    """What the users saw, shared by their tasks (one event loop: no lock needed)."""

    cap: int
    deadline: float
    sent: int = 0
    times: dict[str, list[float]] = field(default_factory=dict)
    started: list[tuple[float, float]] = field(default_factory=list)
    """(when, from the run's start, seconds) of every request."""
    begun: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)

    def more(self) -> bool:
        return self.sent < self.cap and time.perf_counter() < self.deadline

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def mix(practice_id: str, pages: set[str]) -> list[tuple[str, str]]:
    """(kind, path) of the requests a user loops over; pages without a builder are left out."""
    requests = [(f"page {key}", f"/p/{practice_id}/{key}") for key in MIX_PAGES if key in pages]
    requests.append((f"rows {ROWS}", f"/p/{practice_id}/rows/{ROWS}"))
    if API_PAGE in pages:
        requests.append((f"api {API_PAGE}", f"/api/v1/practices/{practice_id}/pages/{API_PAGE}"))
    return requests


async def sign_in(client: httpx.AsyncClient, name: str, password: str, turns: asyncio.Semaphore) -> None:
    """Through the form, as a browser does; a few at a time (each checks an argon2 hash)."""
    async with turns:
        form = await client.get("/sign-in")
        token = CSRF_TOKEN.search(form.text)
        if form.status_code != 200 or token is None:
            raise RuntimeError(f"sign-in form: status {form.status_code}")
        fields = {"user": name, "password": password, "csrf_token": token.group(1), "next": "/"}
        answer = await client.post("/sign-in", data=fields)
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in of {name}: status {answer.status_code}")


async def user(client: httpx.AsyncClient, requests: list[tuple[str, str]], seed: int, tally: Tally,
               think: float) -> None:  # fmt: skip
    rng = random.Random(seed)
    turn = seed  # each user starts at another point of the mix
    if think:  # people arrive over time, not at one instant: each user's first page within one pause
        await asyncio.sleep(rng.uniform(0.0, think))
    while tally.more():
        kind, path = requests[turn % len(requests)]
        turn += 1
        tally.sent += 1
        start = time.perf_counter()
        try:
            answer = await client.get(path, params={"period": rng.choice(PERIODS)})
            failure = None if answer.status_code == 200 else f"status {answer.status_code}"
        except httpx.HTTPError as exc:
            failure = type(exc).__name__
        took = time.perf_counter() - start
        tally.times.setdefault(kind, []).append(took)  # a failure's time too
        tally.started.append((start - tally.begun, took))
        if failure is not None:
            tally.error(f"{kind}: {failure}")
        if think:
            await asyncio.sleep(think)


async def drive(base: str, tls: ssl.SSLContext, accounts: list[tuple[str, str, str]], pages: set[str],
                options: Mapping[str, Any], tree: ProcessTree) -> tuple[Tally, float]:  # fmt: skip
    """Sign every user in, then run the load with `tree` watching the server."""
    timeout = httpx.Timeout(REQUEST_SECONDS)
    clients = [httpx.AsyncClient(base_url=base, verify=tls, timeout=timeout) for _ in accounts]
    try:
        turns = asyncio.Semaphore(SIGNING_IN)
        await asyncio.gather(*(sign_in(c, name, pw, turns) for c, (name, pw, _) in zip(clients, accounts, strict=True)))
        seconds = float(options.get("seconds", SECONDS))
        tally = Tally(int(options.get("most_requests", MOST_REQUESTS)), time.perf_counter() + seconds)
        think = float(options.get("think", 0.0))
        loops = [user(client, mix(practice, pages), index, tally, think)
                 for index, (client, (_, _, practice)) in enumerate(zip(clients, accounts, strict=True))]  # fmt: skip
        tree.start()
        start = tally.begun = time.perf_counter()
        try:
            await asyncio.gather(*loops)
        finally:
            tree.stop()
        return tally, time.perf_counter() - start
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def windows(started: list[tuple[float, float]], width: float) -> list[dict[str, Any]]:
    """The latencies of the requests started in each `width` seconds of the run."""
    found: dict[int, list[float]] = {}
    for when, took in started:
        found.setdefault(int(when // width), []).append(took)
    return [{"from": index * width, "count": len(times)} | percentiles(times) for index, times in sorted(found.items())]


def wait_until_serving(base: str, tls: ssl.SSLContext, server: subprocess.Popen[bytes]) -> None:
    give_up = time.monotonic() + START_SECONDS
    while time.monotonic() < give_up:
        if server.poll() is not None:
            raise RuntimeError(f"the web server exited with code {server.returncode}")
        try:
            if httpx.get(base + "/ready", verify=tls, timeout=2.0).status_code == 200:  # warmed up
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the web server did not answer within {START_SECONDS:.0f} s")


def measure(work: Path, settings: Settings, options: Mapping[str, Any]) -> dict[str, Any]:
    users = int(options.get("users", USERS))
    present, notes = measured_pages(operations=False)
    pages = {page.key for page in present}
    notes += [f"load mix: page {key} left out (no builder)" for key in MIX_PAGES if key not in pages]
    practices = sorted(settings.practices)
    with App(settings) as core:
        today = bench_today(core)
        accounts = [(f"bench-user-{i:03d}", "", practices[i % len(practices)]) for i in range(users)]
        accounts = [(name, bench_user(core, name, practice), practice) for name, _, practice in accounts]
    tls = ssl.create_default_context(cafile=str(certificate_files(settings)[0]))
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    log = (work / "web-server.log").open("ab")
    server = subprocess.Popen([sys.executable, str(SERVER), str(work), today.isoformat(), str(port)],
                              stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_until_serving(base, tls, server)
        tree = ProcessTree(server.pid)
        idle = tree.sample()
        tally, elapsed = asyncio.run(drive(base, tls, accounts, pages, options, tree))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    every = [seconds for times in tally.times.values() for seconds in times]
    return {
        "seconds": float(options.get("seconds", SECONDS)),
        "elapsed": elapsed,
        "capped": tally.sent >= tally.cap,
        "request_seconds": REQUEST_SECONDS,
        "users": users,
        "think_seconds": float(options.get("think", 0.0)),
        "requests": len(every),
        "per_second": len(every) / elapsed if elapsed else 0.0,
        "errors": sum(tally.errors.values()),
        "error_kinds": tally.errors,
        "all": percentiles(every),
        "windows": windows(tally.started, WINDOW_SECONDS),
        "window_seconds": WINDOW_SECONDS,
        "kinds": {kind: percentiles(times) | {"count": len(times)} for kind, times in sorted(tally.times.items())},
        "idle_mib": idle,
        "peak_mib": tree.peak_tree,
        "server_peak_mib": tree.peak_server,
        "children_peak_mib": tree.peak_children,
        "processes": tree.most_processes,
        "server_cpu_seconds": tree.cpu()[0],
        "children_cpu_seconds": tree.cpu()[1],
        "today": today.isoformat(),
        "notes": notes,
    }
