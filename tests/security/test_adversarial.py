"""An attacker at the read path: every attempt below is refused (or sees only its own
practice's rows) and leaves an access record in the audit log.

Five people on a lakehouse of two practices: staff, a practice manager and billing staff of
P001, an analyst, and a platform admin. Each tries what their role must not allow.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlglot import exp

from clean.generated import ingest_all, small_export
from lakes import local_settings
from practicelake.access.principals import AuthenticationError, Principal, PrincipalStore
from practicelake.audit.log import AuditLog
from practicelake.errors import PracticelakeError
from practicelake.pipeline import Lakehouse
from practicelake.query import QueryService
from practicelake.query.identity import identify
from practicelake.query.reader import Reader

PASSWORD = "correct horse battery staple"  # a test account on a throwaway store
AUDIT_KEY = b"k" * 32  # a test key for a throwaway log
PEOPLE = {
    "sam": ("staff", "P001"),
    "mia": ("practice_manager", "P001"),
    "bob": ("billing", "P001"),
    "ana": ("analyst", "*"),
    "ada": ("platform_admin", "*"),
}

REFUSED = [
    # staff: no money, no billing, no benchmarks
    ("sam", "select gross_charges from revenue_service_month"),
    ("sam", "select * from revenue_activity_month"),
    ("sam", "select * from ar_ageing"),
    ("sam", "select charges, collections from productivity_provider_month"),
    ("sam", "select sum(charges) from revenue_payer_mix"),
    ("sam", "select * from denial_reasons"),
    ("sam", "select * from benchmark_access_monthly"),
    ("sam", "select practice_id from access_daily union select practice_id from revenue_service_month"),
    ("sam", "select * from access_daily where day in (select service_month from revenue_service_month)"),
    ("sam", "with access_daily as (select * from revenue_service_month) select * from access_daily"),
    # a manager of P001 reaching out of the curated zone or out of DuckDB
    ("mia", "select * from curated.access_daily"),
    ("mia", "select * from main.access_daily"),
    ("mia", "select * from cleaned.appointment"),
    ("mia", "select * from ops.quarantine"),
    ("mia", "select * from read_parquet('lakehouse/iceberg/curated/access_daily/data/*/*.parquet')"),
    ("mia", "select * from read_csv('/etc/passwd')"),
    ("mia", "select * from glob('**')"),
    ("mia", "select * from iceberg_scan('lakehouse/iceberg/curated/access_daily')"),
    ("mia", "select * from 'lakehouse/catalog.db'"),
    ("mia", "attach 'lakehouse/catalog.db' as catalog"),
    ("mia", "copy access_daily to '/tmp/stolen.csv'"),
    ("mia", "install httpfs"),
    ("mia", "load httpfs"),
    ("mia", "set enable_external_access = true"),
    ("mia", "pragma database_list"),
    ("mia", "select * from duckdb_settings()"),
    ("mia", "select * from duckdb_tables()"),
    ("mia", "select * from information_schema.tables"),
    ("mia", "select * from pg_catalog.pg_class"),
    ("mia", "select 1; drop table access_daily"),
    ("mia", "select 1 -- comment\n; attach 'x.db'"),
    ("mia", "/* hidden */ select * from access_daily; select * from flow_daily"),
    ("mia", "with flow_daily as (select * from cleaned.appointment) select * from flow_daily"),
    ("mia", "select getenv('HOME')"),
    ("mia", "select current_setting('memory_limit')"),
    ("mia", "select * from access_daily at (version => 1)"),
    ("mia", "select * from query('select * from revenue_service_month')"),
    ("mia", 'select * from "Information_Schema"."Tables"'),
    ("mia", "select * from access_daily a, access_daily b, access_daily c"),  # too many rows
    ("mia", "export database '/tmp/stolen'"),
    ("mia", "call pragma_database_list()"),
    # billing: the revenue cycle only
    ("bob", "select * from access_daily"),
    ("bob", "select * from flow_daily"),
    ("bob", "select * from benchmark_revenue_monthly"),
    # analyst: benchmarks only (whose rows name no practice: see below)
    ("ana", "select * from access_daily"),
    ("ana", "select * from revenue_service_month"),
    ("ana", "select * from ar_summary"),
    ("ana", "select * from stg_appointment"),
    # platform admin: operations, not KPI data
    ("ada", "select * from access_daily"),
    ("ada", "select * from revenue_service_month"),
    ("ada", "select * from benchmark_ar_monthly"),
]

OWN_ROWS_ONLY = [
    ("mia", "select distinct practice_id from access_daily where practice_id = 'P002'"),
    ("mia", "select distinct practice_id from access_daily"),
    ("mia", "select practice_id from access_daily union all select practice_id from revenue_service_month"),
    ("mia", "select distinct practice_id from \"ACCESS_DAILY\" where practice_id <> 'P001' or true"),
    ("mia", "select distinct practice_id from (select * from flow_daily) as f"),
    ("sam", "select distinct practice_id from access_weekly"),
    ("bob", "select distinct practice_id from ar_summary"),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Reader, AuditLog, dict[str, Principal], PrincipalStore]:
    root = tmp_path_factory.mktemp("adversarial")
    truth = small_export(root / "exports", practices=2, appointments=1500, seed=4)
    lakehouse = Lakehouse.open(local_settings(root))
    ingest_all(lakehouse, root / "exports", truth)
    lakehouse.transform()
    lakehouse.curate()
    store = PrincipalStore(root / "users.db")
    for name, (role, practice) in PEOPLE.items():
        store.add_user(name, PASSWORD)
        store.grant(name, role, practice)
    log = AuditLog(root / "audit" / "audit.log", key=lambda: AUDIT_KEY)
    reader = Reader(QueryService(lakehouse.catalog, freshness_seconds=0), log.append)
    principals = {name: store.authenticate_password(name, PASSWORD) for name in PEOPLE}
    return reader, log, principals, store


@pytest.mark.parametrize(("who", "sql"), REFUSED, ids=[f"{w}-{i}" for i, (w, _) in enumerate(REFUSED)])
def test_refused_and_audited(
    world: tuple[Reader, AuditLog, dict[str, Principal], PrincipalStore], who: str, sql: str
) -> None:
    reader, log, principals, _ = world
    before = len(log.show())
    with pytest.raises(PracticelakeError):
        reader.read(principals[who], sql)
    records = log.show()
    assert len(records) == before + 1
    record = records[-1]
    assert record.actor == who and record.kind == "access" and record.outcome == "denied"
    assert sql not in json.dumps(record.details)  # a fingerprint, never the text


@pytest.mark.parametrize(("who", "sql"), OWN_ROWS_ONLY)
def test_only_own_practice_rows_and_audited(
    world: tuple[Reader, AuditLog, dict[str, Principal], PrincipalStore], who: str, sql: str
) -> None:
    reader, log, principals, _ = world
    result = reader.read(principals[who], sql)
    assert set(result.column("practice_id").to_pylist()) <= {"P001"}
    record = log.show()[-1]
    assert record.actor == who and record.outcome == "allowed" and record.details["rows"] == result.num_rows


def test_what_each_role_may_read_is_served(
    world: tuple[Reader, AuditLog, dict[str, Principal], PrincipalStore],
) -> None:
    reader, _, principals, _ = world
    assert (
        reader.read(principals["mia"], "select sum(gross_charges) as charges from revenue_service_month").num_rows == 1
    )
    staff = reader.read(principals["sam"], "select * from access_daily")
    assert staff.num_rows > 0 and set(staff["practice_id"].to_pylist()) == {"P001"}
    assert set(reader.relations(principals["ana"])) == {
        "benchmark_access_monthly", "benchmark_revenue_monthly", "benchmark_ar_monthly"
    }  # fmt: skip
    for name in reader.relations(principals["ana"]):  # a benchmark row belongs to no practice
        query = exp.select("practice_id").distinct().from_(exp.to_identifier(name, quoted=True)).sql("duckdb")
        named = reader.read(principals["ana"], query)
        assert set(named["practice_id"].to_pylist()) <= {"*"}


def test_identity_attacks_are_refused_and_audited(
    world: tuple[Reader, AuditLog, dict[str, Principal], PrincipalStore], tmp_path: Path
) -> None:
    _, log, _, store = world
    _, expired = store.create_token("mia", timedelta(seconds=1))
    revoked_id, revoked_secret = store.create_token("mia", timedelta(days=1))
    store.revoke_token(revoked_id)
    store.add_user("gone", PASSWORD)
    store.disable_user("gone")
    other = PrincipalStore(tmp_path / "other.db")
    other.add_user("mia", PASSWORD)
    _, foreign = other.create_token("mia", timedelta(days=1))
    import time

    time.sleep(1.1)
    attempts = [
        {"user": None, "password": None, "token": expired},
        {"user": None, "password": None, "token": revoked_secret},
        {"user": None, "password": None, "token": foreign},
        {"user": None, "password": None, "token": "plk_0000000000000000_" + "A" * 43},
        {"user": "gone", "password": PASSWORD, "token": None},
        {"user": "mia", "password": "not her password", "token": None},
        {"user": "nobody", "password": PASSWORD, "token": None},
    ]
    for attempt in attempts:
        before = len(log.show())
        with pytest.raises(AuthenticationError):
            identify(store, log.append, **attempt)
        record = log.show()[-1]
        assert len(log.show()) == before + 1 and record.outcome == "denied"
        assert PASSWORD not in json.dumps(record.__dict__, default=str)
        for secret in (expired, revoked_secret, foreign):
            assert secret not in json.dumps(record.__dict__, default=str)
    with pytest.raises(AuthenticationError, match="say who you are"):
        identify(store, log.append, user=None, password=None, token=None)


def test_the_log_still_verifies(world: tuple[Reader, AuditLog, dict[str, Principal], PrincipalStore]) -> None:
    _, log, _, _ = world
    assert log.verify().intact
