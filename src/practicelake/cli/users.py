"""`practicelake users`, `practicelake tokens` and `practicelake permissions`: the principal
store and the permission matrix on the command line.

Whoever runs these commands can open the store's file, so they act as the operator; the
operating-system account is recorded as the actor. Passwords are prompted for, never taken
as arguments; a token's secret is printed once. Every change is put on the audit log by the
App before it is made: when the log cannot take the record, nothing changes.
"""

from __future__ import annotations

from typing import Annotated

import typer

from practicelake.access.permissions import render_markdown
from practicelake.cli.context import ConfigOption, opened

users_app = typer.Typer(help="Users of the query service and their role per practice.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens: expiring, revocable, shown once.", no_args_is_help=True)

PracticeOption = Annotated[
    str | None,
    typer.Option(
        "--practice", "-p", help="The practice; '*' for every practice (the only choice for cross-practice roles)."
    ),
]


@users_app.command("add")
def add_user(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="User name.")], config: ConfigOption = None
) -> None:
    """Add a user; the password is asked for twice."""
    core = opened(ctx)
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    core.add_user(name, password)
    typer.echo(f"added user {name}: grant a role with `practicelake users grant {name} ROLE --practice P`")


@users_app.command("list")
def list_users(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Every user, whether they are disabled, and their role per practice."""
    for user in opened(ctx).users.list_users():
        roles = ", ".join(f"{g.practice_id}={g.role}" for g in user.grants) or "no roles"
        state = "disabled" if user.disabled else "active"
        typer.echo(f"{user.name}\t{state}\tsince {user.created_at:%Y-%m-%d}\t{roles}")


@users_app.command("disable")
def disable_user(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="User name.")], config: ConfigOption = None
) -> None:
    """Stop a user signing in or using any of their tokens."""
    opened(ctx).disable_user(name)
    typer.echo(f"disabled user {name}")


@users_app.command("grant")
def grant(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[
        str, typer.Argument(help="platform_admin, practice_owner, practice_manager, staff, billing, analyst.")
    ],
    practice: PracticeOption = None,
    config: ConfigOption = None,
) -> None:
    """Give a user a role in a practice (see `practicelake permissions`)."""
    practice_id, changed = opened(ctx).grant(name, role, practice)
    if not changed:
        typer.echo(f"{name} already is {role} in practice {practice_id}")
        return
    typer.echo(f"{name} is {role} in practice {practice_id}")


@users_app.command("revoke")
def revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Argument(help="The role to take away.")],
    practice: PracticeOption = None,
    config: ConfigOption = None,
) -> None:
    """Take a role in a practice away from a user."""
    practice_id = opened(ctx).revoke(name, role, practice)
    typer.echo(f"{name} is no longer {role} in practice {practice_id}")


@tokens_app.command("create")
def create_token(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user the token acts as.")],
    days: Annotated[int, typer.Option("--days", min=1, max=366, help="Days until the token expires.")] = 90,
    config: ConfigOption = None,
) -> None:
    """Create an API token for a user. Its secret is printed now and never again."""
    token, secret = opened(ctx).create_token(user, days)
    typer.echo(f"token {token.token_id} of {user}, expires {token.expires_at:%Y-%m-%d %H:%M} UTC")
    typer.echo(secret)
    typer.echo("Store the secret now: it is shown only once and cannot be recovered.")


@tokens_app.command("list")
def list_tokens(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
    config: ConfigOption = None,
) -> None:
    """Tokens by id (never their secrets), with expiry and revocation."""
    for token in opened(ctx).users.list_tokens(user):
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else f"expires {token.expires_at:%Y-%m-%d}"
        typer.echo(f"{token.token_id}\t{token.owner}\t{state}")


@tokens_app.command("revoke")
def revoke_token(
    ctx: typer.Context, token_id: Annotated[str, typer.Argument(help="The token's id.")], config: ConfigOption = None
) -> None:
    """Revoke a token at once."""
    typer.echo(f"revoked token {opened(ctx).revoke_token(token_id)}")


def permissions() -> None:
    """Print the permission matrix (roles, datasets, hidden columns) as Markdown."""
    typer.echo(render_markdown(), nl=False)
