"""An appointment export as public data sets write it (a booking instant in UTC, the day of
the appointment without a time, no appointment type) gives the data's own no-show rate and
lead times once curated, and says it does not know the new-patient counts."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

from clean.lake import export, rows
from practicelake.contracts import BY_DATASET
from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings

HEADER = ",".join(BY_DATASET["appointments"].column_names)


def public_style_export(root: Path, count: int = 400) -> tuple[Path, list[tuple[int, bool]]]:
    """Appointments booked 0-20 days ahead; same-day bookings rarely fail to come, as in the
    real data. Returns the file and, per appointment, its lead time in days and whether it
    was a no-show."""
    rng = random.Random(7)
    lines, truth = [], []
    for n in range(count):
        day = date(2016, 4, 29) + timedelta(days=rng.randrange(40))
        lead = 0 if rng.random() < 0.35 else rng.randrange(1, 21)
        # Booked during the practice's working day (New York), written as the UTC instant.
        booked_local = datetime.combine(day - timedelta(days=lead), datetime.min.time()) + timedelta(
            hours=rng.randrange(8, 17), minutes=rng.randrange(60)
        )
        booked_utc = booked_local + timedelta(hours=4)  # EDT is UTC-4 in April-June
        no_show = rng.random() < (0.05 if lead == 0 else 0.3)
        status = "No-Show" if no_show else "Fulfilled"
        lines.append(
            f"P002,A{n},MRN{n % 150:08d},DR{n % 3},,{booked_utc:%Y-%m-%dT%H:%M:%SZ},{day.isoformat()},15,,{status},,,,,"
        )
        truth.append((lead, no_show))
    return export(root, "P002", "2016-06", "appointments", HEADER, *lines), truth


def test_public_style_export_gives_its_own_no_show_rate(local: Settings, tmp_path: Path) -> None:
    path, truth = public_style_export(tmp_path)
    lakehouse = Lakehouse.open(local)
    lakehouse.ingest("P002", [path])
    lakehouse.transform()
    assert rows(lakehouse, "ops.quarantine") == []  # same-day bookings are kept
    lakehouse.curate()
    daily = rows(lakehouse, "curated.access_daily")
    no_shows = sum(r["no_shows"] for r in daily)
    kept = sum(r["kept_appointments"] for r in daily)
    expected = sum(no_show for _, no_show in truth) / len(truth)
    assert (no_shows, kept) == (sum(n for _, n in truth), sum(not n for _, n in truth))
    assert abs(no_shows / (no_shows + kept) - expected) < 1e-12
    # No type in the export: unknown wherever someone came, not 0.
    assert all(
        r["new_patient_visits"] is None and r["new_patient_ratio"] is None for r in daily if r["kept_appointments"]
    )
    # Lead time in whole days, the same-day ones 0: the median of each day matches the data.
    by_day: dict[tuple[str, date], list[int]] = {}
    for line, (lead, _) in enumerate(truth):
        row = path.read_text().splitlines()[line + 1].split(",")
        by_day.setdefault((row[3], date.fromisoformat(row[6])), []).append(lead)
    for r in daily:
        leads = sorted(by_day[(r["provider_id"], r["day"])])
        middle = len(leads) // 2
        median = leads[middle] if len(leads) % 2 else (leads[middle - 1] + leads[middle]) / 2
        assert r["lead_time_p50_days"] == median


def test_curated_hours_use_the_zone_of_the_settings(local: Settings, tmp_path: Path) -> None:
    """P001 is configured in Johannesburg; its export's practice row says New York. The row
    is quarantined, and check-ins at 08:00 and 15:00 Johannesburg time count at 8 and 15."""
    practice = export(
        tmp_path,
        "P001",
        "2024-03",
        "practices",
        ",".join(BY_DATASET["practices"].column_names),
        "P001,Clinic,America/New_York,ZAR,ZA",
    )
    line = "P001,A{n},MRN0000000{n},DR1,,2024-03-01 09:00:00,2024-03-05 {hour}:00:00,15,new,completed,,"
    line += "2024-03-05 {hour}:00:00,2024-03-05 {hour}:10:00,2024-03-05 {hour}:20:00,"
    appointments = export(
        tmp_path, "P001", "2024-03", "appointments", HEADER, line.format(n=1, hour="08"), line.format(n=2, hour="15")
    )
    lakehouse = Lakehouse.open(local)
    lakehouse.ingest("P001", [practice, appointments])
    lakehouse.transform()
    assert [q["rule"] for q in rows(lakehouse, "ops.quarantine")] == ["time_zone_mismatch"]
    lakehouse.curate()
    hours = sorted(r["hour"] for r in rows(lakehouse, "curated.flow_arrivals"))
    assert hours == [8, 15]
