"""`practicelake users`, `practicelake tokens` and `practicelake permissions`: the principal
store and the permission matrix on the command line.

Whoever runs these commands can open the store's file, so they act as the operator; the
operating-system account is recorded as the actor. Passwords are prompted for, never taken
as arguments; a token's secret is printed once. Every change is recorded by `audit`.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from practicelake.access.permissions import render_markdown
from practicelake.access.principals import PrincipalError, PrincipalStore
from practicelake.access.roles import CROSS_PRACTICE_ROLES, EVERY_PRACTICE
from practicelake.audit.admin import record
from practicelake.settings import Settings, load_settings

users_app = typer.Typer(help="Users of the query service and their role per practice.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens: expiring, revocable, shown once.", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Settings file (default: ./practicelake.toml if present).")
]
PracticeOption = Annotated[
    str | None,
    typer.Option(
        "--practice", "-p", help="The practice; '*' for every practice (the only choice for cross-practice roles)."
    ),
]


@dataclass(frozen=True)
class AdminAction:
    """One administrative change, as the audit log records it. `details` never holds a secret."""

    actor: str
    action: str
    target: str
    details: Mapping[str, str] = field(default_factory=dict)


def audit(settings: Settings, action: AdminAction) -> None:
    """Append `action` to the audit log. Every command below calls this once, after its
    change is made."""
    practice = action.details.get("practice_id")
    practices = None if practice in (None, EVERY_PRACTICE) else [practice]
    record(settings, action.action, action.target, practices=practices, details=action.details, actor=action.actor)


def _actor() -> str:
    return "os:" + pwd.getpwuid(os.geteuid()).pw_name


def _open(config: Path | None) -> tuple[Settings, PrincipalStore]:
    settings = load_settings(config)
    return settings, PrincipalStore(settings.users_db)


def _practice(settings: Settings, role: str, practice: str | None, *, configured: bool) -> str:
    if practice is None:
        if role in CROSS_PRACTICE_ROLES:
            return EVERY_PRACTICE
        raise PrincipalError(f"give --practice for {role} ('*' for every practice)")
    if configured and practice != EVERY_PRACTICE:
        settings.practice(practice)  # refuses a practice the deployment does not serve
    return practice


@users_app.command("add")
def add_user(name: Annotated[str, typer.Argument(help="User name.")], config: ConfigOption = None) -> None:
    """Add a user; the password is asked for twice."""
    settings, store = _open(config)
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    store.add_user(name, password)
    audit(settings, AdminAction(_actor(), "user.add", name))
    typer.echo(f"added user {name}: grant a role with `practicelake users grant {name} ROLE --practice P`")


@users_app.command("list")
def list_users(config: ConfigOption = None) -> None:
    """Every user, whether they are disabled, and their role per practice."""
    _, store = _open(config)
    for user in store.list_users():
        roles = ", ".join(f"{g.practice_id}={g.role}" for g in user.grants) or "no roles"
        state = "disabled" if user.disabled else "active"
        typer.echo(f"{user.name}\t{state}\tsince {user.created_at:%Y-%m-%d}\t{roles}")


@users_app.command("disable")
def disable_user(name: Annotated[str, typer.Argument(help="User name.")], config: ConfigOption = None) -> None:
    """Stop a user signing in or using any of their tokens."""
    settings, store = _open(config)
    store.disable_user(name)
    audit(settings, AdminAction(_actor(), "user.disable", name))
    typer.echo(f"disabled user {name}")


@users_app.command("grant")
def grant(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[
        str, typer.Argument(help="platform_admin, practice_owner, practice_manager, staff, billing, analyst.")
    ],
    practice: PracticeOption = None,
    config: ConfigOption = None,
) -> None:
    """Give a user a role in a practice (see `practicelake permissions`)."""
    settings, store = _open(config)
    practice_id = _practice(settings, role, practice, configured=True)
    if not store.grant(name, role, practice_id):
        typer.echo(f"{name} already is {role} in practice {practice_id}")
        return
    audit(settings, AdminAction(_actor(), "role.grant", name, {"role": role, "practice_id": practice_id}))
    typer.echo(f"{name} is {role} in practice {practice_id}")


@users_app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Argument(help="The role to take away.")],
    practice: PracticeOption = None,
    config: ConfigOption = None,
) -> None:
    """Take a role in a practice away from a user."""
    settings, store = _open(config)
    practice_id = _practice(settings, role, practice, configured=False)
    store.revoke(name, role, practice_id)
    audit(settings, AdminAction(_actor(), "role.revoke", name, {"role": role, "practice_id": practice_id}))
    typer.echo(f"{name} is no longer {role} in practice {practice_id}")


@tokens_app.command("create")
def create_token(
    user: Annotated[str, typer.Argument(help="The user the token acts as.")],
    days: Annotated[int, typer.Option("--days", min=1, max=366, help="Days until the token expires.")] = 90,
    config: ConfigOption = None,
) -> None:
    """Create an API token for a user. Its secret is printed now and never again."""
    settings, store = _open(config)
    token_id, secret = store.create_token(user, timedelta(days=days))
    expires_at = next(t.expires_at for t in store.list_tokens(user) if t.token_id == token_id)
    audit(
        settings, AdminAction(_actor(), "token.create", token_id, {"owner": user, "expires_at": expires_at.isoformat()})
    )
    typer.echo(f"token {token_id} of {user}, expires {expires_at:%Y-%m-%d %H:%M} UTC")
    typer.echo(secret)
    typer.echo("Store the secret now: it is shown only once and cannot be recovered.")


@tokens_app.command("list")
def list_tokens(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
    config: ConfigOption = None,
) -> None:
    """Tokens by id (never their secrets), with expiry and revocation."""
    _, store = _open(config)
    for token in store.list_tokens(user):
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else f"expires {token.expires_at:%Y-%m-%d}"
        typer.echo(f"{token.token_id}\t{token.owner}\t{state}")


@tokens_app.command("revoke")
def revoke_token(token_id: Annotated[str, typer.Argument(help="The token's id.")], config: ConfigOption = None) -> None:
    """Revoke a token at once."""
    settings, store = _open(config)
    store.revoke_token(token_id)
    audit(settings, AdminAction(_actor(), "token.revoke", token_id))
    typer.echo(f"revoked token {token_id}")


def permissions() -> None:
    """Print the permission matrix (roles, datasets, hidden columns) as Markdown."""
    typer.echo(render_markdown(), nl=False)
