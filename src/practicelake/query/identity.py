"""Who is reading: a user name and password, or an API token. A failed attempt is refused
with one message and recorded in the audit log: the user by name only when the store knows
them (a password typed as the user name is never written down), a token by its public id."""

from __future__ import annotations

from collections.abc import Callable

from practicelake.access.principals import TOKEN, USER_NAME, AuthenticationError, Principal, PrincipalStore
from practicelake.audit.admin import AdminLog, AuditSink

NO_IDENTITY = "say who you are: --user NAME (the password is asked), or an API token in PRACTICELAKE_TOKEN"


def identify(
    store: PrincipalStore, audit: AdminLog | AuditSink, *, user: str | None, password: str | None, token: str | None
) -> Principal:
    """The principal the token or the user's password stands for. `audit` takes the record
    of a refusal: the administrative log (`App.admin`), or a bare sink, which then learns
    from `store` which names are users."""
    admin = audit if isinstance(audit, AdminLog) else AdminLog(audit, known=lambda name: is_user(store, name))
    if token is not None:
        match = TOKEN.fullmatch(token)
        actor = f"token:{match.group(1)}" if match else "token:?"
        return _attempt(admin, actor, lambda: store.authenticate_token(token))
    if user and password is not None:
        return _attempt(admin, user, lambda: store.authenticate_password(user, password))
    raise AuthenticationError(NO_IDENTITY)


def is_user(store: PrincipalStore, name: str) -> bool:
    """Whether `name` is a user of the store (disabled or not)."""
    return USER_NAME.fullmatch(name) is not None and any(found.name == name for found in store.list_users())


def _attempt(admin: AdminLog, actor: str, authenticate: Callable[[], Principal]) -> Principal:
    try:
        principal = authenticate()
    except AuthenticationError as exc:
        admin.record("sign-in", admin.name(actor), actor=actor, allowed=False, reason=str(exc))
        raise
    return principal
