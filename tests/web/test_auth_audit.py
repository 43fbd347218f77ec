"""Signing in on the audit log: success, failure, lockouts of an account and of an address,
sign-out and password change, each recorded, and no password, session id, CSRF token or API
token anywhere in the log file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from auth_helper import PRE_SESSION, Browser, Site, browser, make_site, new_password

ADDRESS = "198.51.100.23"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    made = make_site(tmp_path, sign_in_attempts=2, sign_in_attempts_per_address=4)
    made.user("mia")
    return made


def summary(record: dict[str, Any]) -> tuple[str, str, str, str]:
    details = record["details"]
    return details["action"], details["target"], record["actor"], record["outcome"]


def test_sign_in_sign_out_and_refusals_are_recorded(site: Site) -> None:
    wrong = new_password()
    with browser(site.app, ADDRESS) as client:
        client.sign_in("mia", wrong)
        client.sign_in("mia", site.passwords["mia"])
        token = client.form_token("/account/password")
        client.post("/sign-out", data={"csrf_token": token})
    records = site.admin_records("sign-")
    assert [summary(r) for r in records] == [
        ("sign-in", "mia", "mia", "denied"),
        ("sign-in", "mia", "mia", "allowed"),
        ("sign-out", "mia", "mia", "allowed"),
    ]
    assert records[0]["details"]["address"] == ADDRESS == records[1]["details"]["address"]
    assert records[0]["details"]["reason"] == "unknown user or wrong password"


def test_lockouts_of_an_account_and_of_an_address_are_recorded(site: Site) -> None:
    typed = "hunter2-typed-as-a-name"
    with browser(site.app, ADDRESS) as client:
        client.sign_in("mia", new_password())
        client.sign_in("mia", new_password())  # the account's second failure locks it
        client.sign_in("mia", site.passwords["mia"])  # refused: locked
        client.sign_in(typed, new_password())
        client.sign_in("someone-else", new_password())  # the address's fourth failure locks it
    lockouts = [r for r in site.admin_records("sign-in.lockout")]
    assert [(r["details"]["scope"], r["details"]["target"]) for r in lockouts] == [
        ("account", "mia"),
        ("address", ADDRESS),
    ]
    assert all(r["details"]["minutes"] == site.core.settings.lockout_minutes for r in lockouts)
    refusals = [r for r in site.admin_records("sign-in") if r["details"]["action"] == "sign-in"]
    assert [r["details"]["reason"] for r in refusals][2] == "locked out (account)"
    unknown = refusals[3]
    assert unknown["actor"].startswith("unknown:") and unknown["details"]["target"] == unknown["actor"]
    assert typed not in site.core.settings.audit_log.read_text(encoding="utf-8")


def test_a_password_change_is_recorded_as_the_users_own_action(site: Site) -> None:
    new = new_password()
    with browser(site.app, ADDRESS) as client:
        client.sign_in("mia", site.passwords["mia"])
        for current in (new_password(), site.passwords["mia"]):
            token = client.form_token("/account/password")
            client.post("/account/password", data={"current": current, "new": new, "confirm": new, "csrf_token": token})
    assert [summary(r) for r in site.admin_records("password.change")] == [
        ("password.change", "mia", "mia", "denied"),
        ("password.change", "mia", "mia", "allowed"),
    ]


def test_no_secret_reaches_the_audit_log(site: Site) -> None:
    secrets_seen: list[str] = []
    _, api_token = site.core.create_token("mia", days=1)
    secrets_seen += [site.passwords["mia"], api_token]
    with browser(site.app, ADDRESS) as client:
        wrong = new_password()
        client.sign_in("mia", wrong)
        client.sign_in(wrong, wrong)  # a password typed as the name
        secrets_seen.append(wrong)
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {api_token}"}).status_code == 200
        altered = api_token[:-1] + ("B" if api_token.endswith("A") else "A")
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {altered}"}).status_code == 401
        secrets_seen.append(altered)
    mia = Browser(site.app, ADDRESS)
    secrets_seen.append(mia.form_token("/sign-in"))
    secrets_seen.append(mia.client.cookies.get(PRE_SESSION) or "")
    assert mia.sign_in("mia", site.passwords["mia"]).status_code == 303
    secrets_seen.append(mia.session or "")
    csrf = mia.form_token("/account/password")
    secrets_seen.append(csrf)
    new = new_password()
    mia.post(
        "/account/password", data={"current": site.passwords["mia"], "new": new, "confirm": new, "csrf_token": csrf}
    )
    secrets_seen += [new, mia.session or ""]
    mia.post("/sign-out", data={"csrf_token": mia.form_token("/account/password")})
    mia.close()
    log = site.core.settings.audit_log.read_text(encoding="utf-8")
    refused_token = [r for r in site.admin_records("sign-in") if r["actor"].startswith("token:")]
    assert len(refused_token) == 1 and refused_token[0]["outcome"] == "denied"
    for secret in secrets_seen:
        assert len(secret) >= 16 and secret not in log
