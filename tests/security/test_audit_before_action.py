"""An administrative action whose audit record cannot be written is not carried out, and the
operator is told in one line; nothing typed where a name belongs reaches the log's bytes.

The log is made unwritable two ways that hold for root too: its last line damaged (the log
refuses to build on it) and its folder opened to others (the log refuses to write there)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakes import config_file, local_settings
from practicelake.access.principals import PrincipalStore
from practicelake.app import App
from practicelake.audit.log import AuditLog, admin_entry
from practicelake.cli.main import app
from practicelake.crypto.keystore import open_keys
from practicelake.errors import describe_failure, one_line
from practicelake.lakehouse.catalog import open_catalog
from practicelake.settings import Settings, load_settings
from query.curated_lake import VISIT_ROWS, VISITS, write_table

PASSWORD = "a test password, not a secret"
TYPED_PASSWORD = "correct-horse-battery-staple"  # a password that also looks like a user name
BREAKS = ["damaged end", "open folder"]


@dataclass
class Lake:
    settings: Settings
    config: Path
    token_id: str

    @property
    def store(self) -> PrincipalStore:
        return PrincipalStore(self.settings.users_db)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """A curated table, a user alice (staff in P001) with a token, P001's keys, a log with a record."""
    settings = local_settings(tmp_path)
    write_table(open_catalog(settings), "access_daily", VISITS, VISIT_ROWS)
    store = PrincipalStore(settings.users_db)
    store.add_user("alice", PASSWORD)
    store.grant("alice", "staff", "P001")
    token_id, _ = store.create_token("alice", timedelta(days=1))
    open_keys(settings).data_key("P001")
    App(settings).admin.record("setup", "test")
    export = tmp_path / "exports" / "payers.csv"
    export.parent.mkdir()
    export.write_text("practice_id,payer_id,name,payer_type\nP001,PAY1,X,insurer\n", encoding="utf-8")
    return Lake(settings, config_file(tmp_path / "practicelake.toml", settings), token_id)


def break_log(path: Path, how: str) -> None:
    if how == "damaged end":
        with path.open("ab") as log:
            log.write(b'{"seq": 99, "cut short')
    else:
        os.chmod(path.parent, 0o755)


def refused(config: Path, *args: str, typed: str | None = None) -> str:
    """Run the command; it must fail with a practicelake error. Its one line, as shown."""
    result = CliRunner().invoke(app, [*args, "--config", str(config)], input=typed)
    assert result.exception is not None and not isinstance(result.exception, SystemExit), result.output
    message = describe_failure(result.exception)
    assert message is not None, result.exception  # a user's error, never a traceback
    assert "the audit log cannot record it" in message or "audit log" in message, message
    assert one_line(message) == message
    assert "plk_" not in result.output
    return message


Check = Callable[[Lake], None]


def no_user_bob(lake: Lake) -> None:
    assert [u.name for u in lake.store.list_users()] == ["alice"]


def alice_active(lake: Lake) -> None:
    assert not lake.store.list_users()[0].disabled


def alice_staff_only(lake: Lake) -> None:
    assert [(g.practice_id, g.role) for g in lake.store.list_users()[0].grants] == [("P001", "staff")]


def one_live_token(lake: Lake) -> None:
    (token,) = lake.store.list_tokens()
    assert token.token_id == lake.token_id and token.revoked_at is None


def no_export(lake: Lake) -> None:
    folder = lake.config.parent
    assert not (folder / "bi.duckdb").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".bi.duckdb")]  # no partial copy left


def keys_kept(lake: Lake) -> None:
    open_keys(lake.settings).data_key("P001")  # not shredded


def nothing_ingested(lake: Lake) -> None:
    assert list(App(lake.settings).store.list("raw/")) == []


ACTIONS: dict[str, tuple[list[str], str | None, Check]] = {
    "user add": (["users", "add", "bob"], f"{PASSWORD}\n{PASSWORD}\n", no_user_bob),
    "user disable": (["users", "disable", "alice"], None, alice_active),
    "grant": (["users", "grant", "alice", "billing", "-p", "P002"], None, alice_staff_only),
    "revoke": (["users", "revoke", "alice", "staff", "-p", "P001"], None, alice_staff_only),
    "token create": (["tokens", "create", "alice"], None, one_live_token),
    "token revoke": (["tokens", "revoke", "TOKEN_ID"], None, one_live_token),
    "export": (["export", "BI"], None, no_export),
    "offboard": (["practice", "offboard", "P001", "--yes"], None, keys_kept),
    "ingest": (["ingest", "-p", "P001", "EXPORT"], None, nothing_ingested),
}


@pytest.mark.parametrize("how", BREAKS)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_an_action_the_log_cannot_record_is_not_carried_out(lake: Lake, action: str, how: str) -> None:
    args, typed, not_done = ACTIONS[action]
    folder = lake.config.parent
    replaced = {"TOKEN_ID": lake.token_id, "BI": str(folder / "bi.duckdb"), "EXPORT": str(folder / "exports")}
    break_log(lake.settings.audit_log, how)
    before = lake.settings.audit_log.read_bytes()
    refused(lake.config, *(replaced.get(arg, arg) for arg in args), typed=typed)
    not_done(lake)
    assert lake.settings.audit_log.read_bytes() == before


def test_the_refusal_reaches_the_operator_as_one_line(lake: Lake, tmp_path: Path) -> None:
    break_log(lake.settings.audit_log, "damaged end")
    config = ["--config", str(lake.config)]
    result = subprocess.run(
        [sys.executable, "-m", "practicelake", "users", "grant", "alice", "billing", "-p", "P002", *config],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ") and "its last line is damaged" in result.stderr
    alice_staff_only(lake)


@pytest.mark.parametrize("how", ["records signed by a lost key", "open folder"])
def test_init_does_not_make_a_key_the_log_could_not_record(tmp_path: Path, how: str) -> None:
    config = config_file(tmp_path / "practicelake.toml", local_settings(tmp_path), dev_mode=False)
    settings = load_settings(config)
    if how == "open folder":
        settings.audit_log.parent.mkdir(parents=True, mode=0o755)
        os.chmod(settings.audit_log.parent, 0o755)
    else:
        other_key = bytes(range(32))
        AuditLog(settings.audit_log, lambda: other_key).append(
            admin_entry("os:operator", [], None, action="init", target="key store")
        )
    refused(config, "init")
    assert not settings.kek_file.exists()


def test_init_with_a_key_and_a_damaged_log_changes_nothing(lake: Lake) -> None:
    kek = lake.settings.kek_file.read_bytes()
    break_log(lake.settings.audit_log, "damaged end")
    refused(lake.config, "init")
    assert lake.settings.kek_file.read_bytes() == kek


def test_a_failed_action_is_recorded_as_failed_after_its_request(lake: Lake) -> None:
    result = CliRunner().invoke(
        app, ["users", "revoke", "alice", "billing", "-p", "P001", "--config", str(lake.config)]
    )
    assert result.exception is not None
    asked, failed = App(lake.settings).audit_log.show()[-2:]
    assert asked.details["action"] == failed.details["action"] == "role.revoke"
    assert "result" not in asked.details
    assert failed.details["result"] == "failed" and failed.details["attempt"] == asked.seq
    assert "has no role billing" in failed.details["reason"]


def test_results_are_recorded_after_the_request(lake: Lake) -> None:
    target = lake.config.parent / "bi.duckdb"
    result = CliRunner().invoke(app, ["export", str(target), "--config", str(lake.config)])
    assert result.exit_code == 0, result.output
    asked, done = App(lake.settings).audit_log.show()[-2:]
    assert asked.details == {"action": "export", "target": str(target), "format": "duckdb"}
    assert done.details["result"] == "done" and done.details["attempt"] == asked.seq and done.details["rows"] == 4


@pytest.mark.parametrize(
    "typed_as_user",
    ["TOKEN", TYPED_PASSWORD, "Not A User Name!"],
)
def test_a_secret_typed_as_the_user_name_never_reaches_the_log(lake: Lake, typed_as_user: str) -> None:
    _, token = lake.store.create_token("alice", timedelta(days=1))
    typed = token if typed_as_user == "TOKEN" else typed_as_user
    for args, prompted in [
        (["sql", "select 1 as one", "--user", typed], "whatever was typed\n"),
        (["users", "grant", typed, "staff", "-p", "P001"], None),
        (["users", "disable", typed], None),
        (["tokens", "create", typed], None),
        (["tokens", "revoke", typed], None),
    ]:
        result = CliRunner().invoke(app, [*args, "--config", str(lake.config)], input=prompted, env={})
        assert result.exit_code != 0 or typed == token, args  # a whole token revokes itself, by its id
    logged = lake.settings.audit_log.read_bytes()
    assert typed.encode() not in logged
    assert token.encode() not in logged and token.split("_", 2)[2].encode() not in logged
    assert b"unknown:" in logged  # the attempts are there, as fingerprints
    actors = {record.actor for record in App(lake.settings).audit_log.show()}
    assert all(actor.startswith(("os:", "unknown:")) for actor in actors), actors


def test_the_same_text_gives_the_same_fingerprint_and_a_user_stays_named(lake: Lake) -> None:
    admin = App(lake.settings).admin
    assert admin.name(TYPED_PASSWORD) == admin.name(TYPED_PASSWORD) != admin.name(TYPED_PASSWORD + "x")
    assert admin.name("alice") == "alice" and admin.name("os:root") == "os:root"
    assert TYPED_PASSWORD not in admin.name(TYPED_PASSWORD)


def test_token_shaped_text_is_redacted_in_every_field() -> None:
    token = "plk_0123456789abcdef_" + "A" * 43
    entry = admin_entry(
        token, [token], [token], action="note", target=token, details={"said": f"x {token} y", token: [token]}
    )
    assert token not in repr(entry) and "plk_[redacted]" in entry.actor
    assert entry.details["said"] == "x plk_[redacted] y" and entry.details["plk_[redacted]"] == ["plk_[redacted]"]
    cut_short = admin_entry("os:operator", [], None, action="note", target="plk_0123456789abcdef_AAAA")
    assert cut_short.details["target"] == "plk_[redacted]"
