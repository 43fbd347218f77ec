"""Administrative actions into the audit log: who on this machine did what to which target."""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterable, Mapping

from practicelake.audit.log import AuditLog, admin_entry
from practicelake.crypto.keystore import open_keys
from practicelake.settings import Settings


def operator() -> str:
    """The operating-system account running the command (not read from the environment)."""
    return "os:" + pwd.getpwuid(os.geteuid()).pw_name


def record(
    settings: Settings,
    action: str,
    target: str,
    *,
    practices: Iterable[str] | None = None,
    details: Mapping[str, object] | None = None,
    actor: str | None = None,
    allowed: bool = True,
    reason: str = "",
) -> None:
    """Append one admin record; raises if the log cannot take it (the caller's action stands)."""
    entry = admin_entry(
        actor or operator(), [], practices, action=action, target=target,
        details=dict(details or {}), allowed=allowed, reason=reason,
    )  # fmt: skip
    AuditLog.open(settings, open_keys(settings).audit_key).append(entry)
