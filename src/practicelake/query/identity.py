"""Who is reading: a user name and password, or an API token. A failed attempt is refused
with one message and recorded in the audit log (never the password or the token)."""

from __future__ import annotations

from collections.abc import Callable

from practicelake.access.principals import TOKEN, AuthenticationError, Principal, PrincipalStore
from practicelake.audit.log import admin_entry
from practicelake.query.reader import AuditSink

NO_IDENTITY = "say who you are: --user NAME (the password is asked), or an API token in PRACTICELAKE_TOKEN"


def identify(
    store: PrincipalStore, audit: AuditSink, *, user: str | None, password: str | None, token: str | None
) -> Principal:
    if token is not None:
        match = TOKEN.fullmatch(token)
        actor = f"token:{match.group(1)}" if match else "token:?"
        return _attempt(audit, actor, lambda: store.authenticate_token(token))
    if user is not None and password is not None:
        return _attempt(audit, user, lambda: store.authenticate_password(user, password))
    raise AuthenticationError(NO_IDENTITY)


def _attempt(audit: AuditSink, actor: str, authenticate: Callable[[], Principal]) -> Principal:
    try:
        principal = authenticate()
    except AuthenticationError as exc:
        audit(admin_entry(actor, [], None, action="sign-in", target=actor, allowed=False, reason=str(exc)))
        raise
    return principal
