"""A user changing their own password (App.change_password) and what it rests on in the
principal store: set_password, and the credential stamp that tells a session its password
is gone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from principals_helper import new_password

from lakes import local_settings
from practicelake.access.principals import AuthenticationError, PrincipalError, PrincipalStore
from practicelake.app import App


@pytest.fixture
def core(tmp_path: Path) -> App:
    return App(local_settings(tmp_path))


def password_records(core: App) -> list[dict[str, Any]]:
    lines = core.settings.audit_log.read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["details"]["action"] == "password.change"]


def signs_in(store: PrincipalStore, name: str, password: str) -> bool:
    try:
        store.authenticate_password(name, password)
    except AuthenticationError:
        return False
    return True


def test_a_user_changes_their_password(core: App) -> None:
    old, new = new_password(), new_password()
    core.add_user("mia", old)
    stamp = core.users.credential_stamp("mia")
    core.change_password("mia", old, new)
    assert signs_in(core.users, "mia", new) and not signs_in(core.users, "mia", old)
    assert core.users.credential_stamp("mia") not in (None, stamp)
    [record] = password_records(core)
    assert record["actor"] == "mia" and record["outcome"] == "allowed" and record["details"]["target"] == "mia"
    log = core.settings.audit_log.read_text(encoding="utf-8")
    assert old not in log and new not in log


def test_a_wrong_current_password_changes_nothing_and_is_recorded(core: App) -> None:
    old, guess = new_password(), new_password()
    core.add_user("mia", old)
    stamp = core.users.credential_stamp("mia")
    with pytest.raises(AuthenticationError):
        core.change_password("mia", guess, new_password())
    assert signs_in(core.users, "mia", old) and core.users.credential_stamp("mia") == stamp
    [record] = password_records(core)
    assert record["outcome"] == "denied" and guess not in json.dumps(record)


def test_a_new_password_of_the_wrong_length_is_refused_before_any_record(core: App) -> None:
    old = new_password()
    core.add_user("mia", old)
    for new in ("short", "x" * 1025):
        with pytest.raises(PrincipalError, match="12 to 1024 characters"):
            core.change_password("mia", old, new)
    assert signs_in(core.users, "mia", old) and password_records(core) == []


def test_a_disabled_user_cannot_change_their_password(core: App) -> None:
    old = new_password()
    core.add_user("mia", old)
    core.disable_user("mia")
    with pytest.raises(AuthenticationError):
        core.change_password("mia", old, new_password())
    assert core.users.credential_stamp("mia") is None and password_records(core)[0]["outcome"] == "denied"


def test_the_credential_stamp(tmp_path: Path) -> None:
    store = PrincipalStore(tmp_path / "users.db")
    store.add_user("mia", new_password())
    store.add_user("ben", new_password())
    first = store.credential_stamp("mia")
    assert first is not None and first == store.credential_stamp("mia")  # stable while nothing changes
    assert store.credential_stamp("ben") != first
    assert store.credential_stamp("nobody") is None
    same_again = new_password()
    store.set_password("mia", same_again)
    second = store.credential_stamp("mia")
    store.set_password("mia", same_again)  # the same password again still gets a new salt, so a new stamp
    assert len({first, second, store.credential_stamp("mia")}) == 3
    with pytest.raises(PrincipalError, match="no user named"):
        store.set_password("nobody", new_password())
    with pytest.raises(PrincipalError, match="12 to 1024"):
        store.set_password("mia", "short")
