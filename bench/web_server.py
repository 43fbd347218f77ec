"""The web app over the bench lake, served over HTTPS on 127.0.0.1 in a process of its own (so
that its memory, and its query processes', is its own) until SIGINT or SIGTERM: what
`practicelake serve` runs, with the clock put on the lake's last day (web_site.clock_on).

Usage: python bench/web_server.py WORKDIR TODAY PORT
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from phases import settings_for  # bench/phases.py
from practicelake.app import App
from practicelake.web.app import create_app
from practicelake.web.server import serve
from web_site import clock_on


def main() -> None:
    work, today, port = Path(sys.argv[1]), date.fromisoformat(sys.argv[2]), int(sys.argv[3])
    settings = settings_for(work)
    with App(settings) as core:
        serve(create_app(core, clock=clock_on(today)), settings, "127.0.0.1", port)


if __name__ == "__main__":
    main()
