"""Who holds the warehouse's writer lock: the record the lock keeps, and whether its
process is known to have ended."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path


def shown(moment: str) -> str:
    return datetime.fromisoformat(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class Record:
    """One state of the lock. Nothing in it is secret: it says who, where and until when."""

    holder: str  # random, one per acquisition
    kind: str  # transform, curate, offboard
    host: str
    pid: int
    acquired_at: str  # ISO 8601, UTC
    expires_at: str
    process: str | None = None  # see process_identity
    released: bool = False

    @classmethod
    def new(cls, kind: str, now: datetime, lease: timedelta) -> Record:
        return cls(
            holder=uuid.uuid4().hex,
            kind=kind,
            host=socket.gethostname(),
            pid=os.getpid(),
            acquired_at=now.isoformat(),
            expires_at=(now + lease).isoformat(),
            process=process_identity(os.getpid()),
        )

    def expired(self, now: datetime) -> bool:
        return self.released or datetime.fromisoformat(self.expires_at) <= now

    def free(self, now: datetime) -> bool:
        """Released, expired, or held by a process of this machine that has ended."""
        return self.expired(now) or ended(self)

    def describe(self) -> str:
        return f"{self.kind} on {self.host} (pid {self.pid}) since {shown(self.acquired_at)}"


def _machine() -> str | None:
    """This kernel's boot and this pid namespace: pids mean the same process only within both."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        return f"{boot}/{os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return None  # not Linux: a dead holder's lock is freed by its expiry only


def process_identity(pid: int) -> str | None:
    """Machine, pid and start time of a running process (a pid is reused, a start time is not);
    None if it is not running or /proc cannot tell."""
    machine = _machine()
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the name, in parentheses, may hold spaces
    if machine is None or fields[0] in ("Z", "X"):  # a zombie never writes again
        return None
    return f"{machine}/{pid}/{fields[19]}"  # field 22 of proc(5): start time since boot


def ended(record: Record) -> bool:
    """True only if the holder ran on this machine (same kernel boot and pid namespace) and its
    process is no longer running: a holder elsewhere is judged by its expiry alone."""
    return process_ended(record.process, record.pid)


def process_ended(identity: str | None, pid: int) -> bool:
    """True only if `identity` (from process_identity) is of this machine and no longer runs."""
    machine = _machine()
    if identity is None or machine is None or not identity.startswith(machine + "/"):
        return False
    return process_identity(pid) != identity
