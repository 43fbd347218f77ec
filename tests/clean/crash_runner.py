"""Run a transform (or a curate) that dies abruptly (os._exit, as a kill would) around its N-th catalog commit.

Usage: python crash_runner.py SETTINGS_JSON N before|after [transform|curate]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from pyiceberg.catalog.sql import SqlCatalog

from practicelake.pipeline import Lakehouse
from practicelake.settings import load_settings

KILLED = 137


def main() -> None:
    settings = load_settings(**json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))
    crash_at, when = int(sys.argv[2]), sys.argv[3]
    commit_table = SqlCatalog.commit_table
    commits = 0

    def dying_commit(self: SqlCatalog, *args: Any, **kwargs: Any) -> Any:
        nonlocal commits
        commits += 1
        if commits == crash_at and when == "before":
            os._exit(KILLED)  # data files written, commit never made
        result = commit_table(self, *args, **kwargs)
        if commits == crash_at and when == "after":
            os._exit(KILLED)
        return result

    SqlCatalog.commit_table = dying_commit  # type: ignore[method-assign]
    lakehouse = Lakehouse.open(settings)
    if sys.argv[4:] == ["curate"]:
        lakehouse.curate()
    else:
        lakehouse.transform()


if __name__ == "__main__":
    main()
