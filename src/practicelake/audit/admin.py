"""Administrative actions into the audit log: the one way such a record is written, and
written before the action is carried out.

`AdminLog.acting(action, target)` appends the record and only then lets the action run (the
`with` block): when the record cannot be written, nothing is done. When the action then fails,
a second record says so: the same action and target, `result` "failed", `attempt` (the number
of the first record) and the reason. An action with results worth keeping (rows exported, keys
destroyed) adds them on success in a record with `result` "done". So a record alone is an
action that was asked for and allowed; a later record of the same attempt says how it ended,
and an action without results that did not fail has no second record.

Nothing secret reaches a field. The actor is written as itself only when it is this machine's
operator (`os:<account>`), a token by its public id (`token:<id>`), or a user the store knows;
anything else (a password typed where the user name belongs, a token pasted there) becomes
`unknown:<fingerprint>`, an HMAC under the audit key: repeated attempts with the same text can
be told apart, and none of the text can be read back. Token-shaped text in any field is
redacted by the record itself (`audit.record.redact`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pwd
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from practicelake.audit.log import AuditKey, AuditLog, AuditLogError, AuditRecord, admin_entry
from practicelake.audit.record import AuditEntry
from practicelake.errors import describe_failure, one_line
from practicelake.settings import Settings

AuditSink = Callable[[AuditEntry], object]
"""Takes an entry onto the log: `AuditLog.append`, or a list's append in a test."""
KnownUser = Callable[[str], bool]

OPERATOR = re.compile(r"os:[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
TOKEN_ACTOR = re.compile(r"token:([0-9a-f]{16}|\?)")
UNKNOWN = "unknown"
REASON_CHARACTERS = 300


def operator() -> str:
    """The operating-system account running the command (not read from the environment)."""
    return "os:" + pwd.getpwuid(os.geteuid()).pw_name


@dataclass
class Outcome:
    """What an action tells its record on success: `done(...)` its results, if it has any."""

    results: dict[str, Any] | None = field(default=None)

    def done(self, **results: Any) -> None:
        self.results = results


class AdminLog:
    """Writes administrative records onto an audit log (`append`). `key` gives the audit key,
    for the fingerprint of an actor that is no known name; `known` says whether a text is
    the name of a user of the principal store."""

    def __init__(self, append: AuditSink, *, key: AuditKey | None = None, known: KnownUser | None = None) -> None:
        self._append = append
        self._key = key
        self._known = known or (lambda name: False)

    @classmethod
    def open(cls, settings: Settings, key: AuditKey, *, known: KnownUser | None = None) -> AdminLog:
        """Onto the audit log of `settings`, opened at each append (a cheap check of its path)."""

        def append(entry: AuditEntry) -> AuditRecord:
            return AuditLog.open(settings, key).append(entry)

        return cls(append, key=key, known=known)

    def name(self, text: str) -> str:
        """`text` as the log may hold it when it names who acted or whom it concerns: the
        operator, a token's id or a known user as themselves; anything else as `unknown`
        and a keyed fingerprint, never its text."""
        if OPERATOR.fullmatch(text) or TOKEN_ACTOR.fullmatch(text) or self._known(text):
            return text
        if self._key is None:
            return UNKNOWN
        fingerprint = hmac.new(self._key(), b"actor\n" + text.encode("utf-8", "surrogateescape"), hashlib.sha256)
        return f"{UNKNOWN}:{fingerprint.hexdigest()[:16]}"

    def record(
        self,
        action: str,
        target: str,
        *,
        actor: str | None = None,
        practices: Iterable[str] | None = None,
        details: Mapping[str, object] | None = None,
        allowed: bool = True,
        reason: str = "",
    ) -> AuditRecord | None:
        """Append one record now (the actor: this machine's operator unless named); raises
        when the log cannot take it. The record, when the log gives it back."""
        entry = admin_entry(
            self.name(actor or operator()), [], practices, action=action, target=target,
            details=dict(details or {}), allowed=allowed, reason=reason,
        )  # fmt: skip
        written = self._append(entry)
        return written if isinstance(written, AuditRecord) else None

    @contextmanager
    def acting(
        self,
        action: str,
        target: str,
        *,
        actor: str | None = None,
        practices: Iterable[str] | None = None,
        details: Mapping[str, object] | None = None,
        names: Iterable[str] = (),
    ) -> Iterator[Outcome]:
        """Record the action, then run the `with` block that carries it out. Nothing runs when
        the record cannot be written; a failure of the block is recorded (if the log still
        takes it) and raised; results given to `Outcome.done` are recorded after it. `names`:
        texts the caller was given as names (a user, a token id), shown in a failure's reason
        only as `name` shows them."""
        scope = None if practices is None else list(practices)
        try:
            first = self.record(action, target, actor=actor, practices=scope, details=details)
        except Exception as exc:
            problem = describe_failure(exc)
            if problem is None:
                raise
            raise AuditLogError(f"{action} not done: the audit log cannot record it: {one_line(problem)}") from exc
        attempt = {} if first is None else {"attempt": first.seq}
        outcome = Outcome()
        try:
            yield outcome
        except BaseException as exc:
            reason = self._hide(one_line(describe_failure(exc) or type(exc).__name__), names)
            with suppress(Exception):  # best effort: the action's own error is the one to raise
                self.record(action, target, actor=actor, practices=scope, details={"result": "failed", **attempt},
                            reason=reason)  # fmt: skip
            raise
        if outcome.results is not None:
            try:
                self.record(action, target, actor=actor, practices=scope,
                            details={"result": "done", **attempt, **outcome.results})  # fmt: skip
            except Exception as exc:
                problem = one_line(describe_failure(exc) or type(exc).__name__)
                raise AuditLogError(f"{action} done, but its result could not be recorded: {problem}") from exc

    def _hide(self, reason: str, names: Iterable[str]) -> str:
        """`reason` with each of `names` as `name` shows it: quoted as errors quote it, or
        bare when it is long enough not to be mistaken for a part of a word."""
        for given in sorted(set(names), key=len, reverse=True):
            shown = self.name(given)
            if shown != given:
                reason = reason.replace(repr(given), shown)
                reason = reason.replace(given, shown) if len(given) > 3 else reason
        return reason[:REASON_CHARACTERS]
