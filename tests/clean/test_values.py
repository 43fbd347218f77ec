"""Values read as their source meant them: offsets, dates without a time, daylight-saving
gaps, unknown types, values the engine cannot hold, and the practice's one time zone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa

from clean.lake import export, quarantine_rules, rows
from practicelake.contracts import BY_DATASET
from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings

HEADERS = {dataset: ",".join(contract.column_names) for dataset, contract in BY_DATASET.items()}


def appointment(n: int, booked: str, start: str, *, kind: str = "new", status: str = "completed", **times: str) -> str:
    columns = [
        "P002",
        f"A{n}",
        f"MRN{n:08d}",
        "DR1",
        "L1",
        booked,
        start,
        "15",
        kind,
        status,
        times.get("cancelled", ""),
        times.get("checked_in", ""),
        times.get("visit_start", ""),
        times.get("visit_end", ""),
        "",
    ]
    return ",".join(columns)


def appointment_file(root: Path, *lines: str) -> Path:
    return export(root, "P002", "2024-03", "appointments", HEADERS["appointments"], *lines)


def load(local: Settings, *paths: Path, practice: str = "P002") -> Lakehouse:
    lakehouse = Lakehouse.open(local)
    lakehouse.ingest(practice, list(paths))
    lakehouse.transform()
    return lakehouse


def appointments(lakehouse: Lakehouse) -> dict[str, dict[str, object]]:
    return {r["appointment_id"]: r for r in rows(lakehouse, "cleaned.appointment")}


def test_a_timestamp_with_an_offset_is_converted_by_that_offset(local: Settings, tmp_path: Path) -> None:
    """P002 is in New York (UTC-5 in March before the change): a naive time is local there."""
    path = appointment_file(
        tmp_path,
        appointment(1, "2024-03-01T08:00:00Z", "2024-03-05T10:00:00+02:00"),
        appointment(2, "2024-03-01 08:00:00 UTC", "2024-03-05 10:00:00-0800"),
        appointment(3, "2024-03-01 08:00:00", "2024-03-05 10:00:00"),
        appointment(4, "2024-03-01T08:00:00.250z", "2024-03-05T10:00-05:00"),
    )
    cleaned = appointments(load(local, path))
    assert cleaned["A1"]["booked_at"] == datetime(2024, 3, 1, 8, 0) and cleaned["A1"]["start_at"] == datetime(
        2024, 3, 5, 8, 0
    )
    assert cleaned["A2"]["booked_at"] == datetime(2024, 3, 1, 8, 0) and cleaned["A2"]["start_at"] == datetime(
        2024, 3, 5, 18, 0
    )
    assert cleaned["A3"]["booked_at"] == datetime(2024, 3, 1, 13, 0) and cleaned["A3"]["start_at"] == datetime(
        2024, 3, 5, 15, 0
    )
    assert cleaned["A4"]["booked_at"] == datetime(2024, 3, 1, 8, 0, 0, 250000)
    assert cleaned["A4"]["start_at"] == datetime(2024, 3, 5, 15, 0)
    assert all(r["start_time_known"] is True for r in cleaned.values())


def test_rules_compare_offset_and_local_times_as_instants(local: Settings, tmp_path: Path) -> None:
    """Booked at 14:00 UTC (09:00 in New York) for a start at 10:00 New York time: before it.
    Booked at 16:00 UTC (11:00 New York) for that start: after it, quarantined."""
    path = appointment_file(
        tmp_path,
        appointment(1, "2024-03-05T14:00:00Z", "2024-03-05 10:00:00"),
        appointment(2, "2024-03-05T16:00:00Z", "2024-03-05 10:00:00"),
    )
    lakehouse = load(local, path)
    assert set(appointments(lakehouse)) == {"A1"}
    assert quarantine_rules(lakehouse) == {3: ("booked_before_start", "booked_at")}


def test_a_date_only_start_is_a_start_whose_time_is_unknown(local: Settings, tmp_path: Path) -> None:
    path = appointment_file(
        tmp_path,
        appointment(1, "2024-03-05 16:38:08", "2024-03-05"),  # booked the same day: kept
        appointment(2, "2024-03-01T18:38:08Z", "2024-03-05"),
        appointment(3, "2024-03-06 09:00:00", "2024-03-05"),  # booked the day after: quarantined
        appointment(4, "2024-03-02", "2024-03-05 10:00:00"),  # booked on a day, start known
        appointment(5, "2024-03-02", "2024-03-05", checked_in="2024-03-05"),  # a check-in needs its time
    )
    lakehouse = load(local, path)
    cleaned = appointments(lakehouse)
    assert set(cleaned) == {"A1", "A2", "A4"}
    assert cleaned["A1"]["start_time_known"] is False and cleaned["A1"]["booked_time_known"] is True
    assert cleaned["A1"]["start_at"] == datetime(2024, 3, 5, 5, 0)  # the day's start in New York
    assert cleaned["A4"]["start_time_known"] is True and cleaned["A4"]["booked_time_known"] is False
    assert quarantine_rules(lakehouse) == {
        4: ("booked_before_start", "booked_at"),
        6: ("time_required", "checked_in_at"),
    }


def test_a_wall_time_the_clocks_skip_is_quarantined_not_clamped(local: Settings, tmp_path: Path) -> None:
    """New York skipped 02:00-03:00 on 10 March 2024 and repeated 01:00-02:00 on 3 November."""
    path = appointment_file(
        tmp_path,
        appointment(1, "2024-03-01 09:00:00", "2024-03-10 01:30:00"),
        appointment(2, "2024-03-01 09:00:00", "2024-03-10 02:30:00"),
        appointment(3, "2024-03-01 09:00:00", "2024-03-10 02:45:00"),
        appointment(4, "2024-03-01 09:00:00", "2024-03-10 03:30:00"),
        appointment(5, "2024-03-01 09:00:00", "2024-03-10 09:00:00", checked_in="2024-03-10 02:10:00"),
        appointment(6, "2024-03-01 09:00:00", "2024-03-10T02:30:00-05:00"),  # an instant: exists
        appointment(7, "2024-03-01 09:00:00", "2024-11-03 01:30:00"),  # repeated: the first one
        appointment(8, "2024-03-01 09:00:00", "2024-03-10"),  # a date alone
    )
    lakehouse = load(local, path)
    cleaned = appointments(lakehouse)
    assert set(cleaned) == {"A1", "A4", "A6", "A7", "A8"}
    assert quarantine_rules(lakehouse) == {
        3: ("nonexistent_local_time", "start_at"),
        4: ("nonexistent_local_time", "start_at"),
        6: ("nonexistent_local_time", "checked_in_at"),
    }
    assert cleaned["A1"]["start_at"] == datetime(2024, 3, 10, 6, 30)
    assert cleaned["A4"]["start_at"] == datetime(2024, 3, 10, 7, 30)
    assert cleaned["A6"]["start_at"] == datetime(2024, 3, 10, 7, 30)
    assert cleaned["A7"]["start_at"] == datetime(2024, 11, 3, 5, 30)  # 01:30 EDT
    assert cleaned["A8"]["start_at"] == datetime(2024, 3, 10, 5, 0)


def test_an_unknown_appointment_type_is_kept_as_unknown(local: Settings, tmp_path: Path) -> None:
    path = appointment_file(
        tmp_path,
        appointment(1, "2024-03-01 09:00:00", "2024-03-05 10:00:00", kind=""),
        appointment(2, "2024-03-01 09:00:00", "2024-03-05 10:00:00", kind="Telehealth consult"),
        appointment(3, "2024-03-01 09:00:00", "2024-03-05 10:00:00", kind="Follow Up"),
    )
    cleaned = appointments(load(local, path))
    types = {key: row["appointment_type"] for key, row in cleaned.items()}
    assert types == {"A1": None, "A2": "unknown", "A3": "follow-up"}


def test_values_the_engine_cannot_hold_are_quarantined(local: Settings, tmp_path: Path) -> None:
    charge = "P001,C{n},E1,MRN00000001,DR1,99213,,{units},{amount},2024-03-01,2024-03-02"
    path = export(
        tmp_path,
        "P001",
        "2024-03",
        "charges",
        HEADERS["charges"],
        charge.format(n=1, units=1, amount="120.00"),
        charge.format(n=2, units=1, amount="9999999999999999.99"),
        charge.format(n=3, units=1, amount="99999999999999999999.99"),
        charge.format(n=4, units=99999999999, amount="1.00"),
        charge.format(n=5, units=1, amount="9999999999.99"),
    )
    lakehouse = load(local, path, practice="P001")
    assert {r["charge_id"] for r in rows(lakehouse, "cleaned.charge")} == {"C1", "C5"}
    assert quarantine_rules(lakehouse) == {
        3: ("maximum", "amount"),
        4: ("type", "amount"),
        5: ("maximum", "units"),
    }


def test_the_settings_are_the_one_source_of_a_practices_zone(local: Settings, tmp_path: Path) -> None:
    """P001 is configured in Johannesburg. A practice row naming another zone (or one no
    engine knows), or another currency, is quarantined with its own rule."""
    rows_of = [
        "P001,Good,Africa/Johannesburg,ZAR,ZA",
    ]
    first = export(tmp_path, "P001", "2024-03", "practices", HEADERS["practices"], *rows_of)
    lakehouse = load(local, first, practice="P001")
    assert quarantine_rules(lakehouse) == {}
    second = export(
        tmp_path, "P001", "2024-04", "practices", HEADERS["practices"], "P001,Moved,America/New_York,ZAR,ZA"
    )
    third = export(tmp_path, "P001", "2024-05", "practices", HEADERS["practices"], "P001,Mars,Mars/Base,ZAR,ZA")
    fourth = export(
        tmp_path, "P001", "2024-06", "practices", HEADERS["practices"], "P001,Dollars,Africa/Johannesburg,usd,ZA"
    )
    lakehouse.ingest("P001", [second, third, fourth])
    lakehouse.transform()
    rules = sorted(q["rule"] for q in rows(lakehouse, "ops.quarantine"))
    assert rules == ["currency_mismatch", "time_zone_mismatch", "time_zone_mismatch"]
    (practice,) = rows(lakehouse, "cleaned.practice")
    assert (practice["name"], practice["time_zone"]) == ("Good", "Africa/Johannesburg")


def test_only_plain_wall_times_skip_the_offset_steps() -> None:
    """The offset steps are left out only for rows whose timestamps cannot hold an offset."""
    from practicelake.clean.files import _plain_wall_times

    plain = ["", "2024-03-05", "2024-3-5", "2024-03-05 10:00:00", "2024-03-05T10:00:00", "2024-03-05 10:00"]
    assert _plain_wall_times(pa.array(plain))
    assert _plain_wall_times(pa.array(plain).slice(2))
    for offset in ("2024-03-05T10:00-05", "2024-03-05 10:00Z", "2024-03-05 10:00:00Z", "2024-03-05 10:00:00 UTC"):
        assert not _plain_wall_times(pa.array([*plain, offset])), offset
        assert not _plain_wall_times(pa.array([offset, *plain]).slice(0, 1)), offset
