"""A process and all its descendants (a web server, its zygote and query processes), sampled
from /proc while the load runs: the resident size of the tree at each sample, and the CPU time
each process used while it was watched."""

from __future__ import annotations

import os
import threading
from pathlib import Path

SAMPLE_SECONDS = 0.1
TICKS = os.sysconf("SC_CLK_TCK")


class ProcessTree(threading.Thread):
    """Samples the tree under `pid` every SAMPLE_SECONDS from `start()` until `stop()`."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.done = threading.Event()
        self.peak_tree = self.peak_server = self.peak_children = 0.0
        self.most_processes = 0
        self._first_cpu: dict[int, float] = {}
        self._last_cpu: dict[int, float] = {}

    def run(self) -> None:
        while not self.done.wait(SAMPLE_SECONDS):
            self.sample()

    def sample(self) -> float:
        """One sample; the tree's resident size now, in MiB."""
        children = descendants(self.pid)
        server, rest = rss(self.pid), sum(rss(pid) for pid in children)
        self.peak_server = max(self.peak_server, server)
        self.peak_children = max(self.peak_children, rest)
        self.peak_tree = max(self.peak_tree, server + rest)
        self.most_processes = max(self.most_processes, 1 + len(children))
        for pid in [self.pid, *children]:
            used = cpu_seconds(pid)
            if used is not None:
                self._first_cpu.setdefault(pid, used)
                self._last_cpu[pid] = used
        return server + rest

    def cpu(self) -> tuple[float, float]:
        """CPU seconds used while watched: by the process itself, and by its descendants."""
        used = {pid: self._last_cpu[pid] - self._first_cpu[pid] for pid in self._last_cpu}
        return used.get(self.pid, 0.0), sum(seconds for pid, seconds in used.items() if pid != self.pid)

    def stop(self) -> None:
        self.sample()
        self.done.set()
        self.join()


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):  # a child is listed under the thread that made it
        for child in (int(p) for p in _read(f"{task}/children").split()):
            found += [child, *descendants(child)]
    return found


def rss(pid: int) -> float:
    """VmRSS in MiB (0 for a process that is gone)."""
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of the process so far (proc(5): utime, stime); None if gone."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / TICKS
