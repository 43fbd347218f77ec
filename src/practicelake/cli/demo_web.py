"""The end of the demo: sign-ins for each role in the demo lakehouse, then the dashboard.

The sign-ins exist in the demo's own user store only, each with a random password printed
once (a later demo gives them new ones): no deployment has a default password. On a terminal
the dashboard is served until Ctrl-C; otherwise (a script, CI) the demo checks that the
Overview answers to a signed-in owner, over HTTPS, and exits."""

from __future__ import annotations

import re
import secrets
import ssl
import sys
import time

import httpx
from rich.console import Console
from rich.table import Table
from rich.text import Text

from practicelake.app import App
from practicelake.crypto.tls import certificate_files
from practicelake.errors import PracticelakeError

# (user, role, practices: "all" of the demo, "first" only, or "*" for a cross-practice role)
DEMO_USERS = (
    ("demo.owner", "practice_owner", "all"),
    ("demo.manager", "practice_manager", "first"),
    ("demo.frontdesk", "staff", "first"),
    ("demo.billing", "billing", "first"),
    ("demo.operator", "platform_admin", "*"),
    ("demo.analyst", "analyst", "*"),
)
SHOWN_ONCE = (
    "demo sign-ins, one per role, in the demo lakehouse only: passwords shown once (the next demo gives new ones)"
)
CSRF_FIELD = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


def demo_sign_ins(core: App, practice_ids: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Create (or give new passwords to) the demo's users: (user, role, password)."""
    known = {user.name for user in core.users.list_users()}
    made = []
    for name, role, where in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        if name in known:
            core.reset_password(name, password)
        else:
            core.add_user(name, password)
        practices = practice_ids if where == "all" else practice_ids[:1] if where == "first" else (None,)
        for practice_id in practices:
            core.grant(name, role, practice_id)
        made.append((name, role, password))
    return made


def sign_in_table(made: list[tuple[str, str, str]], url: str) -> Table:
    table = Table(title=f"sign in at {url}", title_justify="left")
    for column in ("user", "role", "password"):
        table.add_column(column)
    for name, role, password in made:
        table.add_row(name, role, password)
    return table


def check_overview(url: str, core: App, user: str, password: str, practice_id: str) -> float:
    """Sign in as `user` and load the Overview of `practice_id`; the seconds it took."""
    context = ssl.create_default_context(cafile=str(certificate_files(core.settings)[0]))
    started = time.perf_counter()
    with httpx.Client(base_url=url, verify=context, timeout=60) as client:
        form = client.get("/sign-in")
        token = CSRF_FIELD.search(form.text)
        if form.status_code != 200 or token is None:
            raise PracticelakeError(f"the sign-in page did not answer ({form.status_code})")
        signed = client.post("/sign-in", data={"user": user, "password": password, "csrf_token": token.group(1),
                                               "next": f"/p/{practice_id}/overview"})  # fmt: skip
        page = client.get(f"/p/{practice_id}/overview") if signed.status_code in (200, 303) else signed
        if page.status_code != 200 or "Overview" not in page.text:
            raise PracticelakeError(f"the Overview page did not answer as expected ({page.status_code})")
    return time.perf_counter() - started


def serve_demo(console: Console, core: App, practice_ids: tuple[str, ...]) -> None:
    from practicelake.web.app import create_app
    from practicelake.web.server import base_url, running, serve

    made = demo_sign_ins(core, practice_ids)
    app = create_app(core)
    settings = core.settings
    if sys.stdin.isatty():
        url = base_url(settings.web_host, settings.web_port)
        console.print(sign_in_table(made, url))
        console.print(Text(SHOWN_ONCE))
        console.print(Text(f"dashboard on {url} (a self-signed certificate: your browser asks once); Ctrl-C stops it"))
        serve(app, settings, settings.web_host, settings.web_port)
        return
    with running(app, settings) as url:
        console.print(sign_in_table(made, url))
        console.print(Text(SHOWN_ONCE))
        owner = next(password for name, role, password in made if role == "practice_owner")
        seconds = check_overview(url, core, "demo.owner", owner, practice_ids[0])
    stops = "not a terminal, so the demo stops here (run `make demo` in a terminal to browse it)"
    console.print(Text(f"the dashboard answered: signed in and loaded the Overview in {seconds:.2f} s; {stops}"))
