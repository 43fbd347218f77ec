"""The generated practices behave like real ones, not uniform noise."""

from __future__ import annotations

import duckdb
import pytest
from export_checks import DIALECT, Export, render, sql
from sqlglot import exp

NO_SHOW = exp.condition("lower(status) IN ('no show', 'noshow', 'dna')", dialect=DIALECT)
CANCELLED = exp.condition("lower(status) IN ('cancelled', 'canceled', 'late cancel')", dialect=DIALECT)
# Every row of a dataset, with the practice and the batch (month folder) it came in.
EXPORTED = exp.select(
    "*",
    "regexp_extract(filename, '(P[0-9]+)/', 1) AS practice",
    "regexp_extract(filename, '/([0-9]{4}-[0-9]{2})/', 1) AS batch",
    dialect=DIALECT,
).from_("read_csv($files, header = true, filename = true, all_varchar = true)", dialect=DIALECT)


@pytest.fixture(scope="module")
def db(clean_export: Export) -> duckdb.DuckDBPyConnection:
    """The latest row of every key (what the cleaned zone keeps), typed, per dataset."""
    con = duckdb.connect()
    keys = {
        "appointments": "appointment_id", "encounters": "encounter_id", "claims": "claim_id", "charges": "charge_id",
        "payments": "payment_id", "adjustments": "adjustment_id", "patients": "patient_id", "payers": "payer_id",
        "provider_schedules": "schedule_id", "providers": "provider_id",
    }  # fmt: skip
    for dataset, key in keys.items():
        every = _all(dataset)
        con.execute(sql(EXPORTED.ctas(every)), {"files": [str(p) for p in clean_export.files(dataset)]})
        latest = render(
            "row_number() OVER (PARTITION BY practice, __key__ ORDER BY batch DESC) = 1",
            key=exp.column(key, quoted=True),
        )
        con.execute(sql(exp.select("*").from_(every).qualify(latest).ctas(exp.table_(dataset, quoted=True))))
    con.execute(
        """CREATE TABLE visits AS SELECT *, CAST(start_at AS TIMESTAMP) AS starts,
           CAST(booked_at AS TIMESTAMP) AS booked, CAST(cancelled_at AS TIMESTAMP) AS cancelled,
           CAST(checked_in_at AS TIMESTAMP) AS checked_in,
           CAST(visit_start_at AS TIMESTAMP) AS seen FROM appointments"""
    )
    return con


def _all(dataset: str) -> exp.Table:
    """The table of every exported row of `dataset`, where `dataset` keeps the latest of each key."""
    return exp.table_(dataset + "_all", quoted=True)


def _share(condition: exp.Expr) -> exp.Expr:
    """avg(CASE WHEN condition THEN 1.0 ELSE 0 END): the share of rows `condition` holds for."""
    return exp.func("avg", exp.case().when(condition, exp.Literal.number("1.0")).else_(exp.Literal.number(0)))


def _one(con: duckdb.DuckDBPyConnection, query: str | exp.Expr) -> float:
    row = con.execute(query if isinstance(query, str) else sql(query)).fetchone()
    assert row is not None
    return float(row[0])


def test_no_shows_rise_with_lead_time(db: duckdb.DuckDBPyConnection) -> None:
    band = render(
        """CASE WHEN starts - booked < INTERVAL 1 DAY THEN 0 WHEN starts - booked < INTERVAL 7 DAY THEN 1
                WHEN starts - booked < INTERVAL 30 DAY THEN 2 ELSE 3 END"""
    )
    rates = db.execute(
        sql(exp.select(band.as_("band"), _share(NO_SHOW)).from_("visits").group_by("band").order_by("band"))
    ).fetchall()
    shares = [r[1] for r in rates]
    assert len(shares) == 4
    assert shares == sorted(shares) and shares[3] > 2 * shares[0], shares
    overall = _one(db, exp.select(_share(NO_SHOW)).from_("visits"))
    assert 0.05 <= overall <= 0.15


def test_some_patients_miss_repeatedly(db: duckdb.DuckDBPyConnection) -> None:
    missed = exp.select("practice", "patient_id").from_("visits").where(NO_SHOW)
    repeaters = _one(
        db, exp.select("count(*)").from_(missed.group_by("practice", "patient_id").having("count(*) >= 3").subquery())
    )
    assert repeaters > 0


def test_mondays_are_busiest_and_weekends_quiet(db: duckdb.DuckDBPyConnection) -> None:
    by_day = dict(db.execute("SELECT isodow(starts), count(*) FROM visits GROUP BY ALL").fetchall())
    assert by_day[1] == max(by_day.values())
    assert by_day[1] > by_day.get(6, 0) and by_day.get(7, 0) == 0
    assert 0 < by_day.get(6, 0) < by_day[5]


def test_winter_peak_and_december_dip_per_session(db: duckdb.DuckDBPyConnection) -> None:
    per_session = db.execute(
        """WITH a AS (SELECT practice, month(starts) AS m, count(*) AS n FROM visits GROUP BY ALL),
                s AS (SELECT practice, month(CAST(schedule_date AS DATE)) AS m, count(*) AS k
                      FROM provider_schedules GROUP BY ALL)
           SELECT practice, m, n / k FROM a JOIN s USING (practice, m)"""
    ).fetchall()
    rate = {(p, m): r for p, m, r in per_session}
    for practice in {p for p, _ in rate}:
        winter, summer = ((6, 7), (1, 2)) if practice == "P001" else ((1, 2), (7, 8))
        assert sum(rate[practice, m] for m in winter) > sum(rate[practice, m] for m in summer), practice
        year = sum(rate[practice, m] for m in range(1, 13)) / 12
        assert rate[practice, 12] < year, practice


def test_cancellations_include_late_ones(db: duckdb.DuckDBPyConnection) -> None:
    late = _one(db, exp.select(_share(render("starts - cancelled < INTERVAL 1 DAY"))).from_("visits").where(CANCELLED))
    assert 0.1 <= late <= 0.6
    assert (
        _one(db, exp.select("count(*)").from_("visits").where(CANCELLED, "cancelled > starts OR cancelled < booked"))
        == 0
    )


def test_new_patient_share_lead_times_and_waits(db: duckdb.DuckDBPyConnection) -> None:
    new = _one(db, "SELECT avg(CASE WHEN lower(appointment_type) LIKE 'new%' THEN 1.0 ELSE 0 END) FROM visits")
    assert 0.12 <= new <= 0.28
    same_day = _one(db, "SELECT avg(CASE WHEN starts - booked < INTERVAL 1 DAY THEN 1.0 ELSE 0 END) FROM visits")
    months_ahead = _one(db, "SELECT count(*) FROM visits WHERE starts - booked > INTERVAL 90 DAY")
    assert 0.05 < same_day < 0.4 and months_ahead > 0
    median, tail = db.execute(
        "SELECT median(epoch(seen - checked_in)) / 60, quantile_cont(epoch(seen - checked_in) / 60, 0.95) FROM visits"
    ).fetchall()[0]
    assert 8 <= median <= 18 and tail > 2 * median


def test_only_fulfilled_appointments_have_encounters(db: duckdb.DuckDBPyConnection) -> None:
    statuses = db.execute(
        """SELECT DISTINCT lower(a.status) FROM encounters e
           JOIN appointments a ON a.practice = e.practice AND a.appointment_id = e.appointment_id"""
    ).fetchall()
    assert {s for (s,) in statuses} <= {"completed", "fulfilled", "checked out"}
    missing = _one(
        db,
        """SELECT count(*) FROM appointments a WHERE lower(status) IN ('completed', 'fulfilled', 'checked out')
           AND NOT EXISTS (SELECT 1 FROM encounters e
                           WHERE e.practice = a.practice AND e.appointment_id = a.appointment_id)""",
    )
    assert missing == 0


def test_denials_payer_lags_and_receivables(db: duckdb.DuckDBPyConnection) -> None:
    denied = _one(
        db,
        """SELECT avg(CASE WHEN first_pass_outcome = 'denied' THEN 1.0 ELSE 0 END) FROM claims
           WHERE first_pass_outcome IS NOT NULL""",
    )
    assert 0.05 <= denied <= 0.12
    lags = dict(
        db.execute(
            """SELECT lower(p.payer_type) IN ('government', 'medicare', 'medicaid'),
                      median(epoch(CAST(first_adjudicated_at AS TIMESTAMP) - CAST(submitted_at AS TIMESTAMP)))
               FROM claims c JOIN payers p USING (practice, payer_id) GROUP BY ALL"""
        ).fetchall()
    )
    assert lags[True] > lags[False]
    assert _one(db, "SELECT count(*) FROM claims WHERE claim_status IN ('submitted', 'accepted')") > 0
    codes = {tuple(r) for r in db.execute("SELECT DISTINCT group_code, carc_code FROM adjustments").fetchall()}
    assert {("CO", "45"), ("PR", "1"), ("PR", "2"), ("PR", "3")} <= codes


def test_patients_pay_at_the_desk_and_later(db: duckdb.DuckDBPyConnection) -> None:
    sources = db.execute(
        "SELECT lower(payment_source), at_point_of_service, count(*) FROM payments GROUP BY ALL"
    ).fetchall()
    seen = {(s, desk) for s, desk, _ in sources}
    assert ("patient", "true") in seen and ("patient", "false") in seen
    assert {s for s, _ in seen} == {"patient", "payer", "insurance"}  # systems name payer remittances differently
    self_paid = _one(
        db,
        """SELECT count(*) FROM payments m JOIN patients p USING (practice, patient_id)
           JOIN payers y ON y.practice = m.practice AND y.payer_id = p.primary_payer_id
           WHERE lower(y.payer_type) IN ('self-pay', 'self_pay', 'self pay') AND m.claim_id IS NULL""",
    )
    assert self_paid > 0


def test_corrections_are_re_exported_in_later_batches(db: duckdb.DuckDBPyConnection, clean_export: Export) -> None:
    for dataset, key in (("claims", "claim_id"), ("appointments", "appointment_id"), ("charges", "charge_id")):
        repeats = render("count(*) - count(DISTINCT (practice, __key__))", key=exp.column(key, quoted=True))
        again = _one(db, exp.select(repeats).from_(_all(dataset)))
        assert again > 0 and again == clean_export.report.corrections[dataset], dataset
    changed = _one(
        db,
        """SELECT count(*) FROM appointments_all a JOIN appointments b USING (practice, appointment_id)
           WHERE a.batch < b.batch AND a.status <> b.status""",
    )
    recoded = _one(
        db,
        """SELECT count(*) FROM charges_all a JOIN charges b USING (practice, charge_id)
           WHERE a.batch < b.batch AND a.procedure_code <> b.procedure_code""",
    )
    fte = _one(
        db,
        """SELECT count(*) FROM providers_all a JOIN providers b USING (practice, provider_id)
           WHERE a.batch < b.batch AND (a.fte <> b.fte OR a.active <> b.active)""",
    )
    assert changed > 0 and recoded > 0 and fte > 0


def test_patients_older_than_89_exist(db: duckdb.DuckDBPyConnection) -> None:
    old = _one(db, "SELECT count(*) FROM patients WHERE CAST(date_of_birth AS DATE) < DATE '1936-06-30'")
    assert old > 0
