"""Run a curate that dies abruptly (os._exit, as a kill would) just before it commits a table.

Usage: python curate_until.py SETTINGS_JSON TABLE
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from practicelake.pipeline import Lakehouse
from practicelake.settings import load_settings

KILLED = 137


def main() -> None:
    settings = load_settings(**json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))
    table = sys.argv[2]

    def step(name: str) -> None:
        if name.endswith(": " + table):  # "<practices>: <table>" comes before the table's commit
            os._exit(KILLED)

    Lakehouse.open(settings).curate(on_step=step)


if __name__ == "__main__":
    main()
