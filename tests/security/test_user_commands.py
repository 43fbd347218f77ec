"""`practicelake users`, `tokens` and `permissions` as an operator meets them: passwords only
at a prompt, secrets printed once, every change handed to the audit log without a secret."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from practicelake.cli import users as user_commands
from principals_helper import new_password, write_config
from typer.testing import CliRunner, Result

from practicelake.access.permissions import render_markdown
from practicelake.access.principals import AuthenticationError, PrincipalStore
from practicelake.cli.users import AdminAction, tokens_app, users_app
from practicelake.errors import PracticelakeError, UnknownPracticeError
from practicelake.settings import Settings

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def audited(monkeypatch: pytest.MonkeyPatch) -> list[AdminAction]:
    records: list[AdminAction] = []

    def record(settings: Settings, action: AdminAction) -> None:
        records.append(action)

    monkeypatch.setattr(user_commands, "audit", record)
    return records


def store(config: Path) -> PrincipalStore:
    return PrincipalStore(config.parent / "state" / "users.db")


def users(config: Path, *args: str, prompted: str | None = None) -> Result:
    return runner.invoke(users_app, [*args, "--config", str(config)], input=prompted)


def tokens(config: Path, *args: str) -> Result:
    return runner.invoke(tokens_app, [*args, "--config", str(config)])


def add(config: Path, name: str) -> str:
    password = new_password()
    result = users(config, "add", name, prompted=f"{password}\n{password}\n")
    assert result.exit_code == 0, result.output
    assert password not in result.output
    return password


def test_add_prompts_twice_and_the_user_can_sign_in(config: Path, audited: list[AdminAction]) -> None:
    password = add(config, "alice")
    assert store(config).authenticate_password("alice", password).name == "alice"
    assert (config.parent / "state" / "users.db").stat().st_mode & 0o777 == 0o600
    assert [(a.action, a.target, dict(a.details)) for a in audited] == [("user.add", "alice", {})]
    assert audited[0].actor.startswith("os:")


def test_a_password_is_never_an_argument(config: Path) -> None:
    result = users(config, "add", "alice", new_password())
    assert result.exit_code == 2
    assert store(config).list_users() == []


def test_mismatched_confirmation_creates_no_user(config: Path, audited: list[AdminAction]) -> None:
    result = users(config, "add", "alice", prompted=f"{new_password()}\n{new_password()}\n")
    assert result.exit_code != 0
    assert store(config).list_users() == [] and audited == []


def test_grant_list_revoke(config: Path, audited: list[AdminAction]) -> None:
    password = add(config, "alice")
    add(config, "bob")
    assert users(config, "grant", "alice", "staff", "--practice", "P001").exit_code == 0
    assert users(config, "grant", "bob", "analyst").exit_code == 0  # cross-practice: '*' by default
    listed = users(config, "list").output
    assert "alice\tactive" in listed and "P001=staff" in listed and "*=analyst" in listed
    assert dict(store(config).authenticate_password("alice", password).roles) == {"P001": "staff"}
    assert users(config, "revoke", "alice", "staff", "-p", "P001").exit_code == 0
    assert dict(store(config).authenticate_password("alice", password).roles) == {}
    assert [(a.action, a.target, dict(a.details)) for a in audited if a.action.startswith("role.")] == [
        ("role.grant", "alice", {"role": "staff", "practice_id": "P001"}),
        ("role.grant", "bob", {"role": "analyst", "practice_id": "*"}),
        ("role.revoke", "alice", {"role": "staff", "practice_id": "P001"}),
    ]


def test_grants_the_deployment_cannot_honour_are_refused(config: Path, audited: list[AdminAction]) -> None:
    add(config, "alice")
    unconfigured = users(config, "grant", "alice", "practice_owner", "--practice", "P999")
    assert isinstance(unconfigured.exception, UnknownPracticeError)
    no_practice = users(config, "grant", "alice", "staff")
    assert isinstance(no_practice.exception, PracticelakeError) and "--practice" in str(no_practice.exception)
    unknown_user = users(config, "grant", "mallory", "staff", "-p", "P001")
    assert isinstance(unknown_user.exception, PracticelakeError)
    assert [a.action for a in audited] == ["user.add"]


def test_disable_stops_sign_in(config: Path, audited: list[AdminAction]) -> None:
    password = add(config, "alice")
    assert users(config, "disable", "alice").exit_code == 0
    with pytest.raises(AuthenticationError):
        store(config).authenticate_password("alice", password)
    assert "alice\tdisabled" in users(config, "list").output
    assert audited[-1].action == "user.disable"


def test_a_token_secret_is_printed_once_and_revocation_ends_it(config: Path, audited: list[AdminAction]) -> None:
    add(config, "alice")
    created = tokens(config, "create", "alice", "--days", "7")
    assert created.exit_code == 0, created.output
    secret = next(line for line in created.output.splitlines() if line.startswith("plk_"))
    assert "expires 2" in created.output
    token = store(config).authenticate_token(secret)
    assert token.kind == "token"
    listed = tokens(config, "list").output
    assert token.token_id is not None and token.token_id in listed and secret not in listed
    assert tokens(config, "revoke", token.token_id).exit_code == 0
    with pytest.raises(AuthenticationError):
        store(config).authenticate_token(secret)
    assert [a.action for a in audited] == ["user.add", "token.create", "token.revoke"]
    assert audited[1].target == token.token_id and set(audited[1].details) == {"owner", "expires_at"}


@pytest.mark.parametrize("days", ["0", "367", "-1"])
def test_token_lifetimes_outside_the_bounds_are_refused(config: Path, days: str) -> None:
    add(config, "alice")
    assert tokens(config, "create", "alice", "--days", days).exit_code == 2
    assert store(config).list_tokens() == []


def test_no_audit_record_holds_a_secret(config: Path, audited: list[AdminAction]) -> None:
    password = add(config, "alice")
    users(config, "grant", "alice", "practice_manager", "-p", "P002")
    created = tokens(config, "create", "alice").output
    secret = next(line for line in created.splitlines() if line.startswith("plk_"))
    users(config, "disable", "alice")
    recorded = repr(audited)
    assert len(audited) == 4
    assert password not in recorded and secret not in recorded
    assert secret.removeprefix("plk_").split("_", 1)[1] not in recorded


def test_permissions_prints_the_matrix() -> None:
    app = typer.Typer()
    app.command()(user_commands.permissions)
    result = runner.invoke(app, [])
    assert result.exit_code == 0
    assert result.output == render_markdown()
