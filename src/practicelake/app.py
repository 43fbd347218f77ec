"""practicelake opened from one Settings, once: what the command line and the web app drive.

`App` holds the object store, catalog, key store, audit log, principal store, the pipeline
(`Lakehouse`) and the read path (`QueryService`, `Reader`). Each is opened on first use and
then shared: the query service keeps its caches and sessions for the life of the App, and is
safe to use from the threads of a web server. `close()`, or the end of a `with` block, closes
what was opened.

The administrative actions are methods here, each put on the audit log before it is carried
out (`AdminLog.acting`): a record that cannot be written stops the action. Checks that change
nothing (a practice the deployment does not serve, a role already held) come first and are
not actions.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

from pyiceberg.catalog import Catalog

from practicelake.access.principals import (
    MAX_PASSWORD,
    MIN_PASSWORD,
    TOKEN,
    TOKEN_ID,
    USER_NAME,
    AuthenticationError,
    PrincipalError,
    PrincipalStore,
    TokenInfo,
)
from practicelake.access.roles import CROSS_PRACTICE_ROLES, EVERY_PRACTICE
from practicelake.audit.admin import AdminLog
from practicelake.audit.log import AuditKey, AuditLog, AuditLogError
from practicelake.clean.reconcile import LakeStatus, lake_status
from practicelake.crypto import keystore
from practicelake.crypto.keystore import KeyStore, open_keys
from practicelake.curate import export as bi_export
from practicelake.errors import PracticelakeError
from practicelake.lakehouse.catalog import open_catalog
from practicelake.pipeline import Lakehouse
from practicelake.pipeline.offboard import OffboardReport, offboard
from practicelake.query.identity import is_user
from practicelake.query.reader import Reader
from practicelake.query.service import QueryService
from practicelake.query.session import Limits
from practicelake.settings import Settings, load_settings
from practicelake.storage import ObjectStore, open_store

T = TypeVar("T")


class App:
    """practicelake over `settings`. `audit_key` replaces the key store's audit key (a
    deployment that keeps it elsewhere); `limits` bound every query of the read path."""

    def __init__(self, settings: Settings, *, audit_key: AuditKey | None = None, limits: Limits | None = None) -> None:
        self.settings = settings
        self._audit_key = audit_key
        self._limits = limits
        self._lock = threading.RLock()
        self._opened: dict[str, object] = {}

    @classmethod
    def open(cls, config: Path | None = None, **overrides: Any) -> App:
        """The App of a settings file (default: ./practicelake.toml if present) and `overrides`."""
        return cls(load_settings(config, **overrides))

    def _once(self, name: str, opener: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._opened:
                self._opened[name] = opener()
            return cast(T, self._opened[name])

    # what it holds

    @property
    def store(self) -> ObjectStore:
        return self._once("store", lambda: open_store(self.settings))

    @property
    def catalog(self) -> Catalog:
        return self._once("catalog", lambda: open_catalog(self.settings))

    @property
    def keys(self) -> KeyStore:
        return self._once("keys", lambda: open_keys(self.settings))

    @property
    def audit_key(self) -> AuditKey:
        return self._audit_key or self.keys.audit_key

    @property
    def audit_log(self) -> AuditLog:
        return self._once("audit_log", lambda: AuditLog.open(self.settings, self.audit_key))

    @property
    def users(self) -> PrincipalStore:
        return self._once("users", lambda: PrincipalStore(self.settings.users_db))

    @property
    def admin(self) -> AdminLog:
        """The one way an administrative action goes on record (audit.admin)."""
        return self._once("admin", lambda: AdminLog(self.audit_log.append, key=self.audit_key, known=self.is_user))

    @property
    def lakehouse(self) -> Lakehouse:
        return self._once(
            "lakehouse",
            lambda: Lakehouse.open(
                self.settings, store=self.store, catalog=self.catalog, keys=self.keys, admin=self.admin
            ),
        )

    @property
    def query_service(self) -> QueryService:
        return self._once("query_service", lambda: QueryService(self.catalog, limits=self._limits))

    @property
    def reader(self) -> Reader:
        return self._once(
            "reader", lambda: Reader(self.query_service, self.audit_log.append, self.audit_log.append_all)
        )

    def is_user(self, name: str) -> bool:
        return is_user(self.users, name)

    def status(self, practice: str | None = None) -> LakeStatus:
        """What `practicelake status` and the data-health page show."""
        return lake_status(self.catalog, self.store, practice)

    # administrative actions, each recorded before it is carried out

    def add_user(self, name: str, password: str, *, actor: str | None = None) -> None:
        """`actor`: who asks (a signed-in manager); the operator of this machine by default."""
        target = name if USER_NAME.fullmatch(name) else self.admin.name(name)  # the store refuses it
        with self.admin.acting("user.add", target, actor=actor, names=[name]):
            self.users.add_user(name, password)

    def disable_user(self, name: str, *, actor: str | None = None) -> None:
        with self.admin.acting("user.disable", self.admin.name(name), actor=actor, names=[name]):
            self.users.disable_user(name)

    def change_password(self, name: str, current: str, new: str) -> None:
        """The user `name` replaces their password, proving the current one first. A wrong
        current password (or a disabled user) is refused with AuthenticationError and recorded
        as refused; a new password of the wrong length is refused before anything is recorded.
        The user is the actor: this is their own action, not the operator's."""
        if not MIN_PASSWORD <= len(new) <= MAX_PASSWORD:
            raise PrincipalError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
        target = self.admin.name(name)
        try:
            self.users.authenticate_password(name, current)
        except AuthenticationError as exc:
            self.admin.record("password.change", target, actor=name, allowed=False, reason=str(exc))
            raise
        with self.admin.acting("password.change", target, actor=name, names=[name]):
            self.users.set_password(name, new)

    def reset_password(self, name: str, new: str, *, actor: str | None = None) -> None:
        """Give `name` a new password without the current one (the operator's action, or a
        manager's); every session of theirs ends with it."""
        with self.admin.acting("password.reset", self.admin.name(name), actor=actor, names=[name]):
            self.users.set_password(name, new)

    def grant(self, name: str, role: str, practice: str | None, *, actor: str | None = None) -> tuple[str, bool]:
        """Give `name` `role` in `practice` (None: every practice, for a cross-practice role).
        The practice granted, and False when the user held the role there already."""
        practice_id = self._practice_of(role, practice, configured=True)
        held = [user for user in self.users.list_users() if user.name == name]
        if held and any(g.practice_id == practice_id and g.role == role for g in held[0].grants):
            return practice_id, False
        details = {"role": role, "practice_id": practice_id}
        target = self.admin.name(name)
        scope = _scope(practice_id)
        with self.admin.acting("role.grant", target, actor=actor, practices=scope, details=details, names=[name]):
            changed = self.users.grant(name, role, practice_id)
        return practice_id, changed

    def revoke(self, name: str, role: str, practice: str | None, *, actor: str | None = None) -> str:
        practice_id = self._practice_of(role, practice, configured=False)
        details = {"role": role, "practice_id": practice_id}
        target = self.admin.name(name)
        scope = _scope(practice_id)
        with self.admin.acting("role.revoke", target, actor=actor, practices=scope, details=details, names=[name]):
            self.users.revoke(name, role, practice_id)
        return practice_id

    def create_token(self, user: str, days: int) -> tuple[TokenInfo, str]:
        """A new token of `user`: its description and its secret, which nothing keeps."""
        target = self.admin.name(user)
        with self.admin.acting("token.create", target, details={"days": days}, names=[user]) as outcome:
            token_id, secret = self.users.create_token(user, timedelta(days=days))
            token = next(t for t in self.users.list_tokens(user) if t.token_id == token_id)
            outcome.done(token_id=token_id, expires_at=token.expires_at.isoformat())
        return token, secret

    def revoke_token(self, token: str) -> str:
        """Revoke a token named by its id (or by the whole token); the id."""
        whole = TOKEN.fullmatch(token)
        token_id = whole.group(1) if whole else token
        target = token_id if TOKEN_ID.fullmatch(token_id) else self.admin.name(token_id)
        with self.admin.acting("token.revoke", target, names=[token_id] if target != token_id else []):
            self.users.revoke_token(token_id)
        return token_id

    def export(self, out: Path, fmt: bi_export.Format, practices: list[str] | None = None) -> dict[str, int]:
        """Copy the curated zone for a BI tool: it leaves practicelake's scoping, so who made it,
        of what, is on record first."""
        if fmt not in ("duckdb", "parquet"):
            raise PracticelakeError(f"--format must be duckdb or parquet, not {fmt!r}")
        for practice_id in practices or ():
            self.settings.practice(practice_id)
        bi_export.check_target(out)
        details = {"format": fmt}
        with self.admin.acting("export", str(out), practices=practices or None, details=details) as outcome:
            counts = bi_export.export(self.catalog, out, fmt, practices)
            outcome.done(rows=sum(counts.values()))
        return counts

    def offboard(self, practice_id: str) -> OffboardReport:
        """Crypto-shred the practice and delete its rows (pipeline.offboard), once on record."""
        self.settings.practice(practice_id)
        with self.admin.acting("offboard", practice_id, practices=[practice_id]) as outcome:

            def done(report: OffboardReport) -> None:
                outcome.done(
                    shredded=report.keys_destroyed,
                    rows_deleted=sum(report.rows_deleted.values()),
                    grants_revoked=report.grants_revoked,
                    files_removed=report.files_removed,
                )

            return offboard(self.settings, self.catalog, self.store, practice_id, on_done=done)

    def init_keys(self) -> str:
        """Make the key provider ready (crypto.keystore.init_keys); what it did.

        Its record needs the audit key, which the key-encryption key wraps: while there is none
        yet, the log is checked to be able to start (no records signed by a lost key, a folder
        of its own) before the key is created, and the record follows it."""
        details = {"provider": self.settings.key_provider}
        if self.settings.key_provider == "local" and not self.settings.kek_file.exists():
            _check_log_can_start(self.settings.audit_log)
            said = keystore.init_keys(self.settings)
            try:
                self.admin.record("init", "key store", details=details)
            except Exception as exc:
                raise AuditLogError(f"{said}; but the audit log could not record it: {exc}") from exc
            return said
        with self.admin.acting("init", "key store", details=details):
            return keystore.init_keys(self.settings)

    def _practice_of(self, role: str, practice: str | None, *, configured: bool) -> str:
        if practice is None:
            if role in CROSS_PRACTICE_ROLES:
                return EVERY_PRACTICE
            raise PrincipalError(f"give --practice for {role} ('*' for every practice)")
        if configured and practice != EVERY_PRACTICE:
            self.settings.practice(practice)  # refuses a practice the deployment does not serve
        return practice

    # closing

    def close(self) -> None:
        """Close what was opened (the query service's sessions); the App can open them again."""
        with self._lock:
            service = self._opened.pop("query_service", None)
            self._opened.pop("reader", None)
        if isinstance(service, QueryService):
            service.close()

    def __enter__(self) -> App:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _scope(practice_id: str) -> list[str] | None:
    return None if practice_id == EVERY_PRACTICE else [practice_id]


def _check_log_can_start(path: Path) -> None:
    """Refuse, before a first key is made, a log that could not take its first record."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise AuditLogError(f"{path} is not a plain file: the audit log must be one")
    if path.exists() and path.stat().st_size > 0:
        raise AuditLogError(
            f"audit log {path} holds records signed by a key this key store does not have: "
            "restore the key-encryption key and key store it belongs with, or move the log away"
        )
    folder = path.parent
    if folder.exists():
        mode = folder.stat().st_mode & 0o777
        if mode & 0o077:
            raise AuditLogError(f"audit log folder {folder} is open to others (mode {mode:o}): chmod 700 it")
        if not os.access(folder, os.W_OK):
            raise AuditLogError(f"audit log folder {folder} is not writable")
