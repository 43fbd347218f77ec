"""One writer at a time per deployment: transform and curate both take this lock."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from practicelake.errors import LockedError


@contextmanager
def writer_lock(state_dir: Path) -> Iterator[None]:
    """Held for a whole run; the OS releases it if the process dies."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "writer.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(
                "another transform or curate is running (lock held on " + str(handle.name) + ")"
            ) from None
        yield
