"""`practicelake users`, `tokens` and `permissions` as an operator meets them: passwords only
at a prompt, secrets printed once, every change on the audit log, before it is made and
without a secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from principals_helper import new_password, write_config
from typer.testing import CliRunner, Result

from practicelake.access.permissions import render_markdown
from practicelake.access.principals import AuthenticationError, PrincipalStore
from practicelake.audit.log import AuditLog, AuditRecord
from practicelake.cli.main import app
from practicelake.crypto.keystore import open_keys
from practicelake.errors import PracticelakeError, UnknownPracticeError
from practicelake.settings import load_settings

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


def store(config: Path) -> PrincipalStore:
    return PrincipalStore(config.parent / "state" / "users.db")


def admin_records(config: Path) -> list[AuditRecord]:
    settings = load_settings(config)
    return [r for r in AuditLog.open(settings, open_keys(settings).audit_key).show() if r.kind == "admin"]


def actions(config: Path, prefix: str = "") -> list[tuple[str, str, dict[str, Any]]]:
    """(action, target, the other details) of every admin record whose action starts with `prefix`."""
    found = []
    for record in admin_records(config):
        details = dict(record.details)
        action, target = details.pop("action"), details.pop("target")
        details.pop("attempt", None)
        if action.startswith(prefix):
            found.append((action, target, details))
    return found


def users(config: Path, *args: str, prompted: str | None = None) -> Result:
    return runner.invoke(app, ["users", *args, "--config", str(config)], input=prompted)


def tokens(config: Path, *args: str) -> Result:
    return runner.invoke(app, ["--config", str(config), "tokens", *args])  # --config before the command works too


def add(config: Path, name: str) -> str:
    password = new_password()
    result = users(config, "add", name, prompted=f"{password}\n{password}\n")
    assert result.exit_code == 0, result.output
    assert password not in result.output
    return password


def test_add_prompts_twice_and_the_user_can_sign_in(config: Path) -> None:
    password = add(config, "alice")
    assert store(config).authenticate_password("alice", password).name == "alice"
    assert (config.parent / "state" / "users.db").stat().st_mode & 0o777 == 0o600
    assert actions(config) == [("user.add", "alice", {})]
    assert admin_records(config)[0].actor.startswith("os:")


def test_a_password_is_never_an_argument(config: Path) -> None:
    result = users(config, "add", "alice", new_password())
    assert result.exit_code == 2
    assert store(config).list_users() == []


def test_mismatched_confirmation_creates_no_user(config: Path) -> None:
    result = users(config, "add", "alice", prompted=f"{new_password()}\n{new_password()}\n")
    assert result.exit_code != 0
    assert store(config).list_users() == [] and actions(config) == []


def test_grant_list_revoke(config: Path) -> None:
    password = add(config, "alice")
    add(config, "bob")
    assert users(config, "grant", "alice", "staff", "--practice", "P001").exit_code == 0
    assert users(config, "grant", "bob", "analyst").exit_code == 0  # cross-practice: '*' by default
    again = users(config, "grant", "bob", "analyst")
    assert again.exit_code == 0 and "already is analyst" in again.output  # no change, no record
    listed = users(config, "list").output
    assert "alice\tactive" in listed and "P001=staff" in listed and "*=analyst" in listed
    assert dict(store(config).authenticate_password("alice", password).roles) == {"P001": "staff"}
    assert users(config, "revoke", "alice", "staff", "-p", "P001").exit_code == 0
    assert dict(store(config).authenticate_password("alice", password).roles) == {}
    assert actions(config, "role.") == [
        ("role.grant", "alice", {"role": "staff", "practice_id": "P001"}),
        ("role.grant", "bob", {"role": "analyst", "practice_id": "*"}),
        ("role.revoke", "alice", {"role": "staff", "practice_id": "P001"}),
    ]
    grant_p001 = next(r for r in admin_records(config) if r.details["action"] == "role.grant")
    assert grant_p001.practices == ("P001",)


def test_grants_the_deployment_cannot_honour_are_refused(config: Path) -> None:
    add(config, "alice")
    unconfigured = users(config, "grant", "alice", "practice_owner", "--practice", "P999")
    assert isinstance(unconfigured.exception, UnknownPracticeError)
    no_practice = users(config, "grant", "alice", "staff")
    assert isinstance(no_practice.exception, PracticelakeError) and "--practice" in str(no_practice.exception)
    assert [a for a, _, _ in actions(config)] == ["user.add"]  # refused before anything was asked of the store
    unknown_user = users(config, "grant", "mallory", "staff", "-p", "P001")
    assert isinstance(unknown_user.exception, PracticelakeError)
    # Asked, then failed: both on record, the name that is no user's only as a fingerprint.
    asked, failed = actions(config)[1:]
    assert asked[0] == failed[0] == "role.grant" and asked[1].startswith("unknown:") and asked[1] == failed[1]
    assert failed[2]["result"] == "failed" and "no user named" in admin_records(config)[-1].details["reason"]
    assert b"mallory" not in load_settings(config).audit_log.read_bytes()


def test_disable_stops_sign_in(config: Path) -> None:
    password = add(config, "alice")
    assert users(config, "disable", "alice").exit_code == 0
    with pytest.raises(AuthenticationError):
        store(config).authenticate_password("alice", password)
    assert "alice\tdisabled" in users(config, "list").output
    assert actions(config)[-1][:2] == ("user.disable", "alice")


def test_a_token_secret_is_printed_once_and_revocation_ends_it(config: Path) -> None:
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
    assert [(a, t) for a, t, _ in actions(config)] == [
        ("user.add", "alice"),
        ("token.create", "alice"),  # asked for
        ("token.create", "alice"),  # done: the new token's id
        ("token.revoke", token.token_id),
    ]
    done = actions(config)[2][2]
    assert done == {"result": "done", "token_id": token.token_id, "expires_at": done["expires_at"]}


def test_a_whole_token_given_to_revoke_is_revoked_by_its_id(config: Path) -> None:
    add(config, "alice")
    secret = next(line for line in tokens(config, "create", "alice").output.splitlines() if line.startswith("plk_"))
    result = tokens(config, "revoke", secret)
    assert result.exit_code == 0, result.output
    with pytest.raises(AuthenticationError):
        store(config).authenticate_token(secret)
    assert secret.encode() not in load_settings(config).audit_log.read_bytes()


@pytest.mark.parametrize("days", ["0", "367", "-1"])
def test_token_lifetimes_outside_the_bounds_are_refused(config: Path, days: str) -> None:
    add(config, "alice")
    assert tokens(config, "create", "alice", "--days", days).exit_code == 2
    assert store(config).list_tokens() == []


def test_no_audit_record_holds_a_secret(config: Path) -> None:
    password = add(config, "alice")
    users(config, "grant", "alice", "practice_manager", "-p", "P002")
    created = tokens(config, "create", "alice").output
    secret = next(line for line in created.splitlines() if line.startswith("plk_"))
    users(config, "disable", "alice")
    recorded = load_settings(config).audit_log.read_bytes()
    assert len(admin_records(config)) == 5
    assert password.encode() not in recorded and secret.encode() not in recorded
    assert secret.removeprefix("plk_").split("_", 1)[1].encode() not in recorded


def test_permissions_prints_the_matrix() -> None:
    result = runner.invoke(app, ["permissions"])
    assert result.exit_code == 0
    assert result.output == render_markdown()
