"""Where query processes come from: a zygote, a fresh interpreter that forks one per request.

Forking the serving process itself is unsafe (DuckDB's and Arrow's threads may hold locks the
child would inherit, held forever), and starting each query process as a new interpreter
costs over a second of imports. The zygote is started once per serving process with fork and
exec, imports PRELOAD with the settings that keep their libraries from starting threads (it
checks it runs one thread before it forks anything), and forks a query process in a few
milliseconds; DuckDB, which starts a thread on import, is imported in the query process. A
query process runs nothing of the serving process's main module.

The zygote ends when the serving process does (its control socket closes). Its children are
reaped by the kernel; the serving process watches and kills each through a pidfd."""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import traceback
import weakref
from pathlib import Path

# Imported once, before any fork. None starts a thread on import given QUIET (DuckDB does,
# so it is imported in each query process, after the fork).
PRELOAD = (
    "numpy",
    "pyarrow",
    "pyarrow.compute",
    "pyarrow.ipc",
    "sqlglot",
    "sqlglot.optimizer.scope",
    "sqlalchemy",
    "pydantic",
    "boto3",
    "pyiceberg.catalog.sql",
    "pyiceberg.table",
    "pyiceberg.io.pyarrow",
    "practicelake.settings",
    "practicelake.curate.snapshots",
)
# Read by the libraries when they load: OpenBLAS (under numpy) would start a thread per core,
# and Arrow's jemalloc a background thread.
QUIET = {"OPENBLAS_NUM_THREADS": "1", "JE_ARROW_MALLOC_CONF": "background_thread:false"}
PID_BYTES = 8
FORK_SECONDS = 30.0  # a fork takes milliseconds; a zygote this slow is stuck


class Zygote:
    """The serving process's handle on its zygote. Thread-safe."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self.process = subprocess.Popen(  # noqa: S603  (this interpreter, fixed code)
                # Run as a script: importing it through its package would import DuckDB.
                [sys.executable, __file__, str(theirs.fileno()), json.dumps(sys.path)],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # a stray print must not land in the serving process's output
            )
        self.owner = os.getpid()
        ours.settimeout(FORK_SECONDS)
        self._control = ours
        self._lock = threading.Lock()
        weakref.finalize(self, _close, ours, self.process)

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def fork(self) -> tuple[int, socket.socket]:
        """A new query process: its pid and this side of its socket (the other is its only one)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with theirs, self._lock:
            try:
                socket.send_fds(self._control, [b"fork"], [theirs.fileno()])
                answer = self._control.recv(PID_BYTES)
                if len(answer) != PID_BYTES:
                    raise OSError("the zygote is gone")
            except OSError:
                # A late answer would be taken for the next request's: this zygote is done.
                ours.close()
                self.close()
                raise
        return int.from_bytes(answer, "big"), ours

    def close(self) -> None:
        _close(self._control, self.process)


def _close(control: socket.socket, process: subprocess.Popen[bytes]) -> None:
    """End the zygote: it stops when its control socket closes."""
    control.close()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


_current: Zygote | None = None
_starting = threading.Lock()


def zygote() -> Zygote:
    """This process's zygote, started on first use (and again if it died, or after a fork:
    a forked child must not share its parent's)."""
    global _current
    with _starting:
        if _current is None or not _current.alive():
            _current = Zygote()
        return _current


def main() -> None:
    """The zygote's life: preload, then fork a query process for every socket it is sent."""
    sys.path[:] = json.loads(sys.argv[2])  # the serving process's, not this script's folder
    control = socket.socket(fileno=int(sys.argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the serving process to act on
    os.environ.update(QUIET)
    for name in PRELOAD:
        importlib.import_module(name)
    if _threads() != 1 or "duckdb" in sys.modules:
        sys.exit("practicelake: the query process zygote runs more than one thread after its imports")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the query processes
    while True:
        try:
            _, fds, _, _ = socket.recv_fds(control, 16, 1)
        except OSError:
            return
        if not fds:
            return  # the serving process closed its end
        pid = os.fork()
        if pid == 0:
            control.close()
            _child(fds[0])
        os.close(fds[0])
        control.send(pid.to_bytes(PID_BYTES, "big"))


def _child(fd: int) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    code = 1
    try:
        from practicelake.query import worker

        worker.main(fd)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _threads() -> int:
    tasks = Path("/proc/self/task")
    return len(list(tasks.iterdir())) if tasks.exists() else threading.active_count()


if __name__ == "__main__":
    main()
