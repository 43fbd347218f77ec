"""The ingest journal: manifest rows written before their raw objects are stored.

An ingest appends its rows to the manifest in batches (one Iceberg commit per row would be
slow and would bloat the table's history), so each row is first written here, one line per
file, before the file's object is stored. An ingest that dies leaves its journal behind, and
the next ingest, of any practice, takes it over: it appends the rows whose objects are
stored and that the manifest lacks, so no stored object stays without its row.

The journal lives in state_dir (0600 files in a 0700 folder). Each line is flushed to the
operating system before the object is written, which covers a process that dies; a machine
that loses power may lose the last lines.

Offboarding a practice asks here whether an ingest is running (it refuses while one is), and
takes the practice's rows out of the journals dead ingests left, so that no later ingest
appends them to the manifest again and none of the practice's file names stay in state_dir.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO

from practicelake.ingest.manifest import ManifestEntry, entry_from_json, entry_json
from practicelake.storage.private import create_private_file, private_folder

FOLDER = "ingest"


class IngestJournal:
    """One ingest's journal, locked while the ingest runs (the OS unlocks it if the process
    dies: that is how a journal is known to be left behind)."""

    def __init__(self, state_dir: Path, ingest_id: str) -> None:
        self.folder = state_dir / FOLDER
        self.path = self.folder / f"{ingest_id}.jsonl"
        self._handle: IO[str] | None = None
        self._taken: list[tuple[Path, IO[str]]] = []

    def __enter__(self) -> IngestJournal:
        hidden = self.folder / f".{self.path.name}"  # locked before any other ingest can see it
        handle = os.fdopen(create_private_file(hidden), "w", encoding="utf-8")
        fcntl.flock(handle, fcntl.LOCK_EX)
        os.rename(hidden, self.path)
        self._handle = handle
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        """Unlock; the journal stays unless finish() was called."""
        for _, handle in self._taken:
            handle.close()
        self._taken = []
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def add(self, entry: ManifestEntry) -> None:
        assert self._handle is not None, "the journal is used inside `with`"
        self._handle.write(entry_json(entry) + "\n")
        self._handle.flush()

    def left_behind(self) -> list[ManifestEntry]:
        """The rows of journals whose ingest died, taken over (locked) until finish()."""
        entries = []
        for path in sorted(self.folder.glob("*.jsonl")):
            if path == self.path:
                continue
            handle = path.open(encoding="utf-8")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # an ingest that is still running
                handle.close()
                continue
            self._taken.append((path, handle))
            for line in handle:
                try:
                    entries.append(entry_from_json(line))
                except (ValueError, KeyError, TypeError):  # the line being written when the ingest died
                    continue
        return entries

    def finish(self) -> None:
        """Every row is in the manifest: remove this journal and those taken over."""
        for path, _ in self._taken:
            path.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)


def running(state_dir: Path) -> list[Path]:
    """The journals of ingests running now (on this machine: a journal is locked by its process),
    those still hidden while their ingest starts included."""
    found = []
    for path in sorted((state_dir / FOLDER).glob("*.jsonl")):
        try:
            handle = path.open(encoding="utf-8")
        except FileNotFoundError:  # finished in the meantime
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                found.append(path)
    return found


def forget_practice(state_dir: Path, practice_id: str) -> int:
    """Take the practice's rows out of the journals dead ingests left (a journal left with no
    row is removed); how many rows. Journals of running ingests are left alone: offboarding
    refuses to start while there are any. A line that does not parse (the one being written
    when its ingest died) goes too: it cannot be told whose it was."""
    forgotten = 0
    for path in sorted((state_dir / FOLDER).glob("[!.]*.jsonl")):
        try:
            handle = path.open(encoding="utf-8")
        except FileNotFoundError:
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            kept, dropped = [], 0
            for line in handle:
                try:
                    mine = entry_from_json(line).practice_id == practice_id
                except (ValueError, KeyError, TypeError):
                    mine = True
                if mine:
                    dropped += 1
                else:
                    kept.append(line if line.endswith("\n") else line + "\n")
            if dropped:
                forgotten += dropped
                _rewrite(path, kept)
    return forgotten


def _rewrite(path: Path, lines: list[str]) -> None:
    """The journal with `lines` only, replaced in one step (removed when there are none)."""
    if not lines:
        path.unlink(missing_ok=True)
        return
    fd, tmp = tempfile.mkstemp(dir=private_folder(path.parent), prefix=f".{path.stem}-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.writelines(lines)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
