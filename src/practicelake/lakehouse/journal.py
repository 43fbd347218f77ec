"""The run journal: what makes a transform (or a curate) all-or-nothing across tables.

Before its first commit a run records every table's current snapshot. If the run dies
part-way, the next run finds the journal unfinished and puts each table back on the
snapshot it had, so a re-run starts from exactly the state the dead run started from.
Until then, `Journal.before_unfinished()` says what that state is (`practicelake status`
reports as of it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysTrue

from practicelake.lakehouse.catalog import current_snapshot_id
from practicelake.storage import ObjectStore
from practicelake.storage.zones import JOURNAL_FOLDER

PREFIX = JOURNAL_FOLDER  # the ops zone's location holds this folder (storage.zones)


class Journal:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def start(self, run_id: str, snapshots: dict[str, int | None]) -> None:
        record = {"run_id": run_id, "started_at": datetime.now(UTC).isoformat(), "snapshots": snapshots}
        if not self.store.put_new(f"{PREFIX}/{run_id}/started.json", json.dumps(record).encode()):
            raise RuntimeError(f"run id {run_id} was used before")

    def finish(self, run_id: str) -> None:
        self.store.put_new(f"{PREFIX}/{run_id}/finished.json", datetime.now(UTC).isoformat().encode())

    def unfinished(self) -> list[dict[str, object]]:
        keys = set(self.store.list(PREFIX + "/"))
        runs = []
        for key in sorted(keys):
            if not key.endswith("/started.json"):
                continue
            folder = key.removesuffix("started.json")
            if folder + "finished.json" in keys or folder + "rolled_back.json" in keys:
                continue
            runs.append(json.loads(self.store.get(key)))
        return runs

    def before_unfinished(self) -> dict[str, int | None]:
        """Each table an unfinished run wrote, at the snapshot the oldest of them found it at:
        what the next run's recovery puts back. Empty when every run finished."""
        snapshots: dict[str, int | None] = {}
        for run in reversed(self.unfinished()):  # newest first: the oldest's snapshot wins
            recorded = run["snapshots"]
            assert isinstance(recorded, dict)
            snapshots.update(recorded)
        return snapshots

    def recover(self, catalog: Catalog) -> list[str]:
        """Roll back every unfinished run, newest first; returns their ids."""
        rolled_back = []
        for run in reversed(self.unfinished()):
            snapshots = run["snapshots"]
            assert isinstance(snapshots, dict)
            for identifier, snapshot_id in snapshots.items():
                table = catalog.load_table(identifier)
                if current_snapshot_id(table) == snapshot_id:
                    continue
                if snapshot_id is None:
                    table.delete(AlwaysTrue())
                else:
                    with table.manage_snapshots() as snapshots_update:
                        snapshots_update.set_current_snapshot(snapshot_id=snapshot_id)
            run_id = str(run["run_id"])
            self.store.put_new(f"{PREFIX}/{run_id}/rolled_back.json", datetime.now(UTC).isoformat().encode())
            rolled_back.append(run_id)
        return rolled_back


def command_of(run: Mapping[str, object]) -> str:
    """transform or curate, from the tables the run recorded (only a curate writes curated ones)."""
    snapshots = run.get("snapshots")
    tables = snapshots if isinstance(snapshots, dict) else {}
    return "curate" if any(str(name).startswith("curated.") for name in tables) else "transform"
