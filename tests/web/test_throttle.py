"""Throttling of failed sign-ins: an account locked after its limit, an address locked after
its own limit across many account names, the lockout over by itself, kept across a restart,
and a right password during a lockout no use."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from auth_helper import Site, browser, make_site, new_password

from practicelake.web.app import create_app

LOCKED = "too many failed attempts: try again later"
ATTACKER = "198.51.100.66"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    made = make_site(tmp_path, sign_in_attempts=3, sign_in_attempts_per_address=6, lockout_minutes=15)
    made.user("mia")
    made.user("ben")
    return made


def test_an_account_is_locked_after_its_limit_and_a_right_password_does_not_help(site: Site) -> None:
    with browser(site.app, ATTACKER) as attacker:
        for attempt in range(3):
            refused = attacker.sign_in("mia", new_password())
            assert refused.status_code == 401
            assert (LOCKED in refused.text) == (attempt == 2)  # the third failure locks it
        right = attacker.sign_in("mia", site.passwords["mia"])
        wrong = attacker.sign_in("mia", new_password())
        assert right.status_code == wrong.status_code == 401
        assert right.text == wrong.text and LOCKED in right.text  # nothing tells which was right
        assert attacker.session is None
    with browser(site.app, "192.0.2.1") as elsewhere:  # the account, not only the address, is locked
        assert LOCKED in elsewhere.sign_in("mia", site.passwords["mia"]).text
        assert elsewhere.sign_in("ben", site.passwords["ben"]).status_code == 303


def test_the_lockout_ends_by_itself(site: Site) -> None:
    with browser(site.app) as client:
        for _ in range(3):
            client.sign_in("mia", new_password())
        site.clock.advance(timedelta(minutes=14, seconds=59))
        assert LOCKED in client.sign_in("mia", site.passwords["mia"]).text
        site.clock.advance(timedelta(seconds=1))
        assert client.sign_in("mia", site.passwords["mia"]).status_code == 303


def test_failures_are_counted_within_the_window_only(site: Site) -> None:
    with browser(site.app) as client:
        for _ in range(2):
            client.sign_in("mia", new_password())
        site.clock.advance(timedelta(minutes=16))  # those two are out of the window
        for _ in range(2):
            assert LOCKED not in client.sign_in("mia", new_password()).text
        assert client.sign_in("mia", site.passwords["mia"]).status_code == 303


def test_a_right_password_forgets_the_accounts_failures(site: Site) -> None:
    with browser(site.app) as client:
        for _ in range(2):
            client.sign_in("mia", new_password())
        assert client.sign_in("mia", site.passwords["mia"]).status_code == 303
    with browser(site.app) as client:
        for _ in range(2):
            assert LOCKED not in client.sign_in("mia", new_password()).text


def test_an_address_trying_many_accounts_is_locked_out(site: Site) -> None:
    with browser(site.app, ATTACKER) as attacker:
        for number in range(6):  # one try per name: no account reaches its own limit
            refused = attacker.sign_in(f"user{number}", new_password())
            assert refused.status_code == 401 and (LOCKED in refused.text) == (number == 5)
        blocked = attacker.sign_in("ben", site.passwords["ben"])
        assert blocked.status_code == 401 and LOCKED in blocked.text and attacker.session is None
    with browser(site.app, "192.0.2.1") as other_address:
        assert other_address.sign_in("ben", site.passwords["ben"]).status_code == 303
    site.clock.advance(timedelta(minutes=15))
    with browser(site.app, ATTACKER) as later:
        assert later.sign_in("ben", site.passwords["ben"]).status_code == 303


def test_the_address_keeps_its_failures_when_it_signs_in_to_an_account(site: Site) -> None:
    with browser(site.app, ATTACKER) as attacker:
        for number in range(5):
            attacker.sign_in(f"user{number}", new_password())
        assert attacker.sign_in("ben", site.passwords["ben"]).status_code == 303
        assert LOCKED in attacker.sign_in("user9", new_password()).text  # the sixth failure


def test_a_lockout_outlives_a_restart(site: Site) -> None:
    with browser(site.app) as client:
        for _ in range(3):
            client.sign_in("mia", new_password())
    restarted = create_app(site.core, clock=site.clock)
    with browser(restarted) as client:
        assert LOCKED in client.sign_in("mia", site.passwords["mia"]).text


def test_the_throttle_keeps_no_name_or_address_as_typed(site: Site) -> None:
    typed = "a password typed as the user name"
    with browser(site.app, ATTACKER) as client:
        client.sign_in(typed, new_password())
    path = site.core.settings.state_dir / "web" / "throttle.db"
    with closing(sqlite3.connect(path)) as con:
        subjects = [row[0] for row in con.execute("select subject from failures")]
    assert len(subjects) == 2 and all(len(subject) == 64 for subject in subjects)
    content = path.read_bytes()
    assert typed.encode() not in content and ATTACKER.encode() not in content


def test_a_wrong_current_password_counts_as_a_failure(site: Site) -> None:
    with browser(site.app) as client:
        assert client.sign_in("mia", site.passwords["mia"]).status_code == 303
        for attempt in range(3):
            token = client.form_token("/account/password")
            new = new_password()
            fields = {"current": new_password(), "new": new, "confirm": new, "csrf_token": token}
            refused = client.post("/account/password", data=fields)
            assert refused.status_code == 400 and (LOCKED in refused.text) == (attempt == 2)
        token = client.form_token("/account/password")
        fields = {"current": site.passwords["mia"], "new": "a new password", "confirm": "a new password"}
        assert LOCKED in client.post("/account/password", data=fields | {"csrf_token": token}).text
    with browser(site.app) as other:
        assert LOCKED in other.sign_in("mia", site.passwords["mia"]).text
