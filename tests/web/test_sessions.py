"""Server-side sessions: a new id at every sign-in, idle and absolute expiry on the app's
clock, sign-out, the user checked again at every request, and a store that keeps no id."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from auth_helper import Site, browser, make_site, signed_in

from practicelake.web.app import create_app


@pytest.fixture
def site(tmp_path: Path) -> Site:
    made = make_site(tmp_path, session_idle_minutes=30, session_hours=12)
    made.user("mia")
    made.user("ben")
    return made


def sessions_file(site: Site) -> Path:
    return site.core.settings.state_dir / "web" / "sessions.db"


def stored_hashes(site: Site) -> list[str]:
    with closing(sqlite3.connect(sessions_file(site))) as con:
        return [row[0] for row in con.execute("select id_hash from sessions order by id_hash")]


def test_a_planted_session_id_is_never_the_one_after_sign_in(site: Site) -> None:
    with browser(site.app) as client:
        client.plant("planted-by-an-attacker")
        client.sign_in("mia", site.passwords["mia"])
        assert client.session not in (None, "planted-by-an-attacker")
        assert hashlib.sha256(b"planted-by-an-attacker").hexdigest() not in stored_hashes(site)


def test_an_attackers_own_session_planted_in_a_browser_ends_at_the_victims_sign_in(site: Site) -> None:
    attacker = signed_in(site, "ben")
    planted = attacker.session
    assert planted is not None
    with browser(site.app) as victim:
        victim.plant(planted)
        assert victim.get("/api/v1/me").json()["name"] == "ben"
        victim.sign_in("mia", site.passwords["mia"])
        assert victim.session != planted
        assert victim.get("/api/v1/me").json()["name"] == "mia"
    assert attacker.get("/api/v1/me").status_code == 401  # the planted session is gone
    attacker.close()


def test_each_sign_in_gets_a_new_id_and_only_its_hash_is_kept(site: Site) -> None:
    ids = []
    for _ in range(3):
        client = signed_in(site, "mia")
        assert client.session is not None and len(client.session) >= 43  # 256 bits, base64url
        ids.append(client.session)
        client.close()
    assert len(set(ids)) == 3
    assert stored_hashes(site) == sorted(hashlib.sha256(i.encode()).hexdigest() for i in ids)
    content = sessions_file(site).read_bytes()
    assert not any(i.encode() in content for i in ids)


def test_the_sessions_file_is_its_owners_only(site: Site) -> None:
    signed_in(site, "mia").close()
    assert stat.S_IMODE(sessions_file(site).stat().st_mode) == 0o600
    assert stat.S_IMODE(sessions_file(site).parent.stat().st_mode) == 0o700


def test_a_session_unused_for_the_idle_time_ends(site: Site) -> None:
    client = signed_in(site, "mia")
    for _ in range(3):  # used every 29 minutes, it lives on
        site.clock.advance(timedelta(minutes=29))
        assert client.get("/account/password").status_code == 200
    site.clock.advance(timedelta(minutes=30))
    assert client.get("/account/password").status_code == 303
    assert stored_hashes(site) == []
    client.close()


def test_a_session_ends_at_its_absolute_end_however_used(site: Site) -> None:
    client = signed_in(site, "mia")
    for _ in range(12 * 3 - 1):
        site.clock.advance(timedelta(minutes=20))
        assert client.get("/api/v1/me").status_code == 200
    site.clock.advance(timedelta(minutes=20))  # 12 hours after sign-in
    assert client.get("/api/v1/me").status_code == 401
    client.close()


def test_sign_out_deletes_the_session(site: Site) -> None:
    client = signed_in(site, "mia")
    old = client.session
    assert old is not None
    token = client.form_token("/account/password")
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"
    assert client.session is None and stored_hashes(site) == []
    client.plant(old)  # the old id, kept by someone, is worth nothing
    assert client.get("/api/v1/me").status_code == 401
    client.close()


def test_a_disabled_users_session_and_token_stop_at_once(site: Site) -> None:
    client = signed_in(site, "mia")
    _, secret = site.core.create_token("mia", days=1)
    bearer = {"Authorization": f"Bearer {secret}"}
    with browser(site.app) as api:
        assert client.get("/api/v1/me").status_code == 200
        assert api.get("/api/v1/me", headers=bearer).status_code == 200
        site.core.disable_user("mia")
        assert client.get("/api/v1/me").status_code == 401
        assert client.get("/account/password").status_code == 303
        assert api.get("/api/v1/me", headers=bearer).status_code == 401
    client.close()


def test_a_role_revoked_is_gone_from_the_next_request(site: Site) -> None:
    client = signed_in(site, "mia")
    assert client.get("/api/v1/me").json()["grants"] == [{"practice_id": "P001", "role": "practice_owner"}]
    site.core.revoke("mia", "practice_owner", "P001")
    assert client.get("/api/v1/me").json()["grants"] == []
    client.close()


def test_a_password_change_ends_every_other_session_and_renews_its_own(site: Site) -> None:
    laptop, phone, other_user = signed_in(site, "mia"), signed_in(site, "mia"), signed_in(site, "ben")
    before = laptop.session
    new = "a new password for mia, long enough"
    token = laptop.form_token("/account/password")
    changed = laptop.post(
        "/account/password", data={"current": site.passwords["mia"], "new": new, "confirm": new, "csrf_token": token}
    )
    assert changed.status_code == 200 and "Your password is changed." in changed.text
    assert laptop.session not in (None, before)
    assert token not in changed.text  # the renewed session has a token of its own
    assert laptop.get("/api/v1/me").status_code == 200
    assert phone.get("/api/v1/me").status_code == 401
    assert other_user.get("/api/v1/me").status_code == 200
    laptop.plant(before or "")
    assert laptop.get("/api/v1/me").status_code == 401
    with browser(site.app) as client:
        assert client.sign_in("mia", site.passwords["mia"]).status_code == 401
        assert client.sign_in("mia", new).status_code == 303
    for opened in (laptop, phone, other_user):
        opened.close()


def test_a_password_changed_elsewhere_ends_the_session(site: Site) -> None:
    client = signed_in(site, "mia")
    site.core.change_password("mia", site.passwords["mia"], "changed from the command line")
    assert client.get("/api/v1/me").status_code == 401
    client.close()


def test_sessions_outlive_a_restart_of_the_web_app(site: Site) -> None:
    client = signed_in(site, "mia")
    session = client.session
    assert session is not None
    with browser(create_app(site.core, clock=site.clock)) as restarted:
        restarted.plant(session)
        assert restarted.get("/api/v1/me").json()["name"] == "mia"
    client.close()
