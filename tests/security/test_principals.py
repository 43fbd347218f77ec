"""The principal store, attacked: what a stolen store file reveals, and every way to sign in
or use a token that must fail, each with the same message."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from principals_helper import Clock, new_password, store_at

from practicelake.access.principals import (
    REFUSED_BEARER,
    REFUSED_LOGIN,
    AuthenticationError,
    PrincipalError,
    PrincipalStore,
)
from practicelake.errors import PracticelakeError


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> PrincipalStore:
    return store_at(tmp_path / "state" / "users.db", clock)


@pytest.fixture
def password(store: PrincipalStore) -> str:
    """alice's password; alice is staff in P001."""
    chosen = new_password()
    store.add_user("alice", chosen)
    store.grant("alice", "staff", "P001")
    return chosen


def refused_login(store: PrincipalStore, name: str, password: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        store.authenticate_password(name, password)
    return str(caught.value)


def refused_token(store: PrincipalStore, secret: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        store.authenticate_token(secret)
    return str(caught.value)


def stored_bytes(store: PrincipalStore) -> bytes:
    """Everything on disk beside the store: the database and any journal it left."""
    return b"".join(path.read_bytes() for path in store.path.parent.iterdir() if path.is_file())


def test_the_store_file_is_the_owners_only(store: PrincipalStore, password: str) -> None:
    assert store.path.stat().st_mode & 0o777 == 0o600
    assert store.path.parent.stat().st_mode & 0o077 == 0


def test_a_store_others_can_read_is_refused(store: PrincipalStore, password: str) -> None:
    store.path.chmod(0o644)
    with pytest.raises(PrincipalError, match="readable by others"):
        store.authenticate_password("alice", password)


def test_passwords_are_kept_only_as_argon2id_hashes(store: PrincipalStore, password: str) -> None:
    assert password.encode() not in stored_bytes(store)
    with sqlite3.connect(store.path) as con:
        (stored,) = con.execute("select password_hash from users where name = 'alice'").fetchone()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PasswordHasher().verify(stored, password)


def test_the_right_password_gives_the_users_roles(store: PrincipalStore, password: str) -> None:
    principal = store.authenticate_password("alice", password)
    assert (principal.name, principal.kind, dict(principal.roles)) == ("alice", "user", {"P001": "staff"})
    with pytest.raises(TypeError):
        principal.roles["*"] = "platform_admin"  # type: ignore[index]


def test_wrong_password_unknown_user_and_disabled_user_look_the_same(store: PrincipalStore, password: str) -> None:
    wrong = refused_login(store, "alice", password + "x")
    unknown = refused_login(store, "mallory", password)
    store.disable_user("alice")
    disabled = refused_login(store, "alice", password)  # the right password of a disabled user
    assert wrong == unknown == disabled == REFUSED_LOGIN
    assert password not in wrong
    assert issubclass(AuthenticationError, PracticelakeError)


@pytest.mark.parametrize(
    "name", ["ALICE", "alice ", "alice' --", "' or '1'='1", "alice\x00", "", "a" * 10_000, "*", "%"]
)
def test_lookalike_and_injected_names_are_refused(store: PrincipalStore, password: str, name: str) -> None:
    assert refused_login(store, name, password) == REFUSED_LOGIN
    assert [u.name for u in store.list_users()] == ["alice"]


def test_an_empty_password_is_refused(store: PrincipalStore, password: str) -> None:
    assert refused_login(store, "alice", "") == REFUSED_LOGIN


@pytest.mark.parametrize("name", ["Alice", "alice; drop table users", "", "a" * 65, "-alice", "ali ce"])
def test_user_names_outside_the_pattern_are_not_created(store: PrincipalStore, name: str) -> None:
    with pytest.raises(PrincipalError, match="user name"):
        store.add_user(name, new_password())
    assert store.list_users() == []


def test_short_passwords_and_duplicate_users_are_refused(store: PrincipalStore, password: str) -> None:
    with pytest.raises(PrincipalError, match="12 to 1024"):
        store.add_user("bob", "short")
    with pytest.raises(PrincipalError, match="exists"):
        store.add_user("alice", new_password())
    store.authenticate_password("alice", password)  # the first alice keeps her password


def test_a_weaker_hash_is_replaced_on_sign_in(tmp_path: Path) -> None:
    path = tmp_path / "users.db"
    weak = PrincipalStore(path, hasher=PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    password = new_password()
    weak.add_user("carol", password)
    PrincipalStore(path).authenticate_password("carol", password)
    with sqlite3.connect(path) as con:
        (stored,) = con.execute("select password_hash from users").fetchone()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_grant_and_revoke_change_what_the_next_sign_in_holds(store: PrincipalStore, password: str) -> None:
    assert store.grant("alice", "practice_owner", "P002") is True
    assert store.grant("alice", "practice_owner", "P002") is False  # held already: no change
    assert dict(store.authenticate_password("alice", password).roles) == {"P001": "staff", "P002": "practice_owner"}
    store.revoke("alice", "staff", "P001")
    assert dict(store.authenticate_password("alice", password).roles) == {"P002": "practice_owner"}
    with pytest.raises(PrincipalError, match="no role staff"):
        store.revoke("alice", "staff", "P001")


def test_grants_that_are_not_allowed(store: PrincipalStore, password: str) -> None:
    with pytest.raises(PrincipalError, match="revoke that role first"):
        store.grant("alice", "practice_owner", "P001")  # one role per practice: no silent upgrade
    with pytest.raises(PrincipalError, match="every practice only"):
        store.grant("alice", "analyst", "P002")
    with pytest.raises(PrincipalError, match="every practice only"):
        store.grant("alice", "platform_admin", "P002")
    with pytest.raises(PrincipalError, match="unknown role"):
        store.grant("alice", "root", "P002")
    with pytest.raises(PrincipalError, match="not a practice id"):
        store.grant("alice", "staff", "P002' or 1=1 --")
    with pytest.raises(PrincipalError, match="no user"):
        store.grant("mallory", "staff", "P001")
    assert dict(store.authenticate_password("alice", password).roles) == {"P001": "staff"}


def test_a_token_acts_as_its_owner_with_the_owners_current_roles(store: PrincipalStore, password: str) -> None:
    token_id, secret = store.create_token("alice", timedelta(days=30))
    principal = store.authenticate_token(secret)
    assert (principal.name, principal.kind, principal.token_id) == ("alice", "token", token_id)
    assert dict(principal.roles) == {"P001": "staff"}
    store.revoke("alice", "staff", "P001")
    assert dict(store.authenticate_token(secret).roles) == {}


def test_tokens_are_kept_only_as_sha256(store: PrincipalStore, password: str) -> None:
    token_id, secret = store.create_token("alice", timedelta(days=1))
    on_disk = stored_bytes(store)
    assert secret.encode() not in on_disk
    assert secret.removeprefix(f"plk_{token_id}_").encode() not in on_disk
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in on_disk
    assert all(token.token_id == token_id and not hasattr(token, "secret") for token in store.list_tokens())


def test_an_expired_token_is_refused(store: PrincipalStore, password: str, clock: Clock) -> None:
    _, secret = store.create_token("alice", timedelta(hours=1))
    clock.advance(timedelta(minutes=59))
    store.authenticate_token(secret)
    clock.advance(timedelta(minutes=1))  # expiry itself is past
    assert refused_token(store, secret) == REFUSED_BEARER


def test_a_revoked_token_is_refused_and_stays_revoked(store: PrincipalStore, password: str) -> None:
    token_id, secret = store.create_token("alice", timedelta(days=1))
    store.revoke_token(token_id)
    assert refused_token(store, secret) == REFUSED_BEARER
    with pytest.raises(PrincipalError, match="no active token"):
        store.revoke_token(token_id)
    assert store.list_tokens("alice")[0].revoked_at is not None


def test_a_disabled_users_tokens_are_refused(store: PrincipalStore, password: str) -> None:
    _, secret = store.create_token("alice", timedelta(days=1))
    store.disable_user("alice")
    assert refused_token(store, secret) == REFUSED_BEARER
    with pytest.raises(PrincipalError, match="disabled"):
        store.create_token("alice", timedelta(days=1))


def test_a_token_from_another_store_is_refused(store: PrincipalStore, password: str, tmp_path: Path) -> None:
    other = store_at(tmp_path / "other" / "users.db")
    other.add_user("alice", new_password())
    other.grant("alice", "practice_owner", "*")
    _, foreign = other.create_token("alice", timedelta(days=1))
    assert refused_token(store, foreign) == REFUSED_BEARER


def test_forged_tokens_are_refused(store: PrincipalStore, password: str) -> None:
    token_id, secret = store.create_token("alice", timedelta(days=1))
    last = secret[-1]
    forgeries = [
        secret[:-1] + ("A" if last != "A" else "B"),  # one character of the secret changed
        secret + "A",
        secret[:-1],
        f"plk_{token_id}_" + "A" * 43,  # a real id with a made-up secret
        f"plk_{token_id}",
        token_id,
        hashlib.sha256(secret.encode()).hexdigest(),  # the stored hash presented as the token
        secret.upper(),
        f" {secret}",
        "plk_' or '1'='1_" + "A" * 43,
        "",
    ]
    for forged in forgeries:
        message = refused_token(store, forged)
        assert message == REFUSED_BEARER and secret not in message
    store.authenticate_token(secret)


@pytest.mark.parametrize("lifetime", [timedelta(0), timedelta(seconds=-1), timedelta(days=367)])
def test_token_lifetimes_are_bounded(store: PrincipalStore, password: str, lifetime: timedelta) -> None:
    with pytest.raises(PrincipalError, match="expires within"):
        store.create_token("alice", lifetime)


def test_list_users_shows_state_and_grants(store: PrincipalStore, password: str) -> None:
    store.add_user("bob", new_password())
    store.grant("bob", "analyst", "*")
    store.disable_user("bob")
    users = {user.name: user for user in store.list_users()}
    assert [(g.practice_id, g.role) for g in users["alice"].grants] == [("P001", "staff")]
    assert users["bob"].disabled and not users["alice"].disabled
    assert [(g.practice_id, g.role) for g in users["bob"].grants] == [("*", "analyst")]
