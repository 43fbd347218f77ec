"""When an HL7 v2 row was recorded (formats.base.RECORDED): the time of the latest message folded
into it, EVN-2 where the message has an EVN, else MSH-7, in the text forms the checks read, and
through the checks the instant in UTC the transform orders rows by across files."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from hl7_messages import PID, dft, ft1, message, siu
from hypothesis import given, settings
from hypothesis import strategies as st

from practicelake.clean.files import RawFile, RunContext, clean_chunk
from practicelake.clean.pseudonym import Pseudonyms
from practicelake.clean.read import asked, read_rows
from practicelake.contracts import BY_DATASET
from practicelake.formats.base import RECORDED
from practicelake.formats.hl7v2.reader import FORMAT

SAMPLES = Path(__file__).parents[2] / "fixtures" / "formats" / "hl7v2"
ZONE = "America/New_York"
APPOINTMENTS = BY_DATASET["appointments"]


def _recorded(text: str, dataset: str = "appointments") -> list[str | None]:
    parsed = FORMAT.read(text.encode(), dataset, asked(BY_DATASET[dataset]))
    assert parsed.bad_rows == []
    return list(parsed.rows[RECORDED].to_pylist())


def _utc(text: str, dataset: str = "appointments") -> list[datetime | None]:
    """The rows' recorded instants as the contract checks give them, for a practice in ZONE."""
    contract = BY_DATASET[dataset]
    parsed = read_rows(FORMAT, text.encode(), contract, "p1")
    context = RunContext("run1", lambda _: ZONE, lambda _: "USD", Pseudonyms(lambda _: b"k" * 32))
    with duckdb.connect() as con:
        cleaned = clean_chunk(con, contract, [RawFile("p1", "sha", date(2026, 1, 1), parsed)], context)
    assert cleaned.quarantined.num_rows == 0, cleaned.quarantined.to_pylist()
    return list(cleaned.accepted.sort_by("raw_line")[RECORDED].to_pylist())


def _wall_in_zone(*parts: int) -> datetime:
    """A wall time of ZONE as naive UTC, by the standard library (fold 0: the earlier reading of a
    repeated wall time, the offset before the change for a skipped one)."""
    return datetime(*parts, tzinfo=ZoneInfo(ZONE)).astimezone(UTC).replace(tzinfo=None)


def test_the_time_is_given_only_to_a_caller_that_asks_for_it() -> None:
    data = siu("S12", "202403011000").encode()
    assert RECORDED not in FORMAT.read(data, "appointments").rows.column_names
    assert RECORDED not in FORMAT.read(data, "appointments", ["appointment_id"]).rows.column_names
    assert FORMAT.read(data, "appointments", ["appointment_id", RECORDED]).rows.column_names == [
        "appointment_id",
        RECORDED,
        "raw_line",
    ]


BOOK = siu("S12", "202403011000-0500")
MOVE = siu("S13", "202403021000-0500", start="202403121400-0500")
CANCEL = siu("S15", "202403031000-0500", start="202403121400-0500")


@pytest.mark.parametrize("order", [(BOOK, MOVE, CANCEL), (CANCEL, BOOK, MOVE), (MOVE, CANCEL, BOOK)])
def test_a_folded_appointment_was_recorded_at_its_latest_message(order: tuple[str, ...]) -> None:
    assert _recorded("".join(order)) == ["2024-03-03 10:00:00-05:00"]


def test_evn_2_is_the_recorded_time_where_the_message_has_an_evn() -> None:
    # The message was built again two days after the event was entered: EVN-2 keeps the entry.
    rebuilt = message("EVN|A08|202403011000", PID, time="202403031200", kind="ADT^A08")
    assert _recorded(rebuilt, "patients") == ["2024-03-01 10:00:00"]
    charges = dft(ft1("1"), time="202403051000")  # dft() writes EVN-2 as the message time
    assert _recorded(charges.replace("EVN|P03|202403051000", "EVN|P03|202403041500"), "charges") == [
        "2024-03-04 15:00:00"
    ]
    without_evn_2 = message("EVN|A08|", PID, time="202403031200", kind="ADT^A08")
    assert _recorded(without_evn_2, "patients") == ["2024-03-03 12:00:00"]


@pytest.mark.parametrize(
    ("msh_7", "text"),
    [
        ("202403051000-0500", "2024-03-05 10:00:00-05:00"),  # an offset source
        ("20240305100000+0000", "2024-03-05 10:00:00+00:00"),
        ("202403051000", "2024-03-05 10:00:00"),  # a naive source: the practice's wall time
        ("20240305", "2024-03-05"),  # a date alone, as written (no recorded time, see below)
        ("202403100230", "2024-03-10 02:30:00"),  # a wall time New York skips, as written
        ("202411030130", "2024-11-03 01:30:00"),  # one it repeats
        ("20240305100000.1234-0500", "2024-03-05 10:00:00.1234-05:00"),
    ],
)
def test_text_forms(msh_7: str, text: str) -> None:
    assert _recorded(siu("S12", msh_7)) == [text]


def test_the_checks_give_the_instant_in_utc() -> None:
    times = ["202403051000-0500", "202403051000", "20240305", "202403100230", "202411030130", "202411030130-0500"]
    # S14 (a modification): an S12's time is also its booking time, which the checks judge.
    text = "".join(siu("S14", t, filler=f"A{i}") for i, t in enumerate(times))
    assert _utc(text) == [
        datetime(2024, 3, 5, 15, 0),
        _wall_in_zone(2024, 3, 5, 10, 0),
        None,  # a day is not a time: the row falls back to the order of its file
        _wall_in_zone(2024, 3, 10, 2, 30),  # skipped: read with the offset before the change
        _wall_in_zone(2024, 11, 3, 1, 30),  # repeated: the earlier instant
        datetime(2024, 11, 3, 6, 30),  # the later one, said by its offset
    ]
    assert _wall_in_zone(2024, 11, 3, 1, 30) == datetime(2024, 11, 3, 5, 30)


MSH_7 = re.compile(r"^MSH\|[^|]*\|(?:[^|]*\|){4}([0-9]{12})([+-][0-9]{4})\|", re.MULTILINE)


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("SIU*.hl7")), ids=lambda p: p.name)
def test_each_sample_was_recorded_at_its_msh_7(path: Path) -> None:
    match = MSH_7.search(path.read_text(encoding="latin-1"))
    assert match is not None
    wall, offset = match.groups()
    expected = datetime.strptime(wall + offset, "%Y%m%d%H%M%z")
    assert _recorded(path.read_text(encoding="latin-1")) == [f"{expected:%Y-%m-%d %H:%M:%S}{offset[:3]}:{offset[3:]}"]
    assert _utc(path.read_text(encoding="latin-1")) == [expected.astimezone(UTC).replace(tzinfo=None)]


EPOCH = datetime(2024, 3, 1, tzinfo=timezone(timedelta(hours=-5)))
events = st.lists(
    st.tuples(
        st.sampled_from(["A1", "A2", "A3"]),
        st.sampled_from(["S12", "S13", "S14", "S15", "S26"]),
        st.integers(0, 20),  # hours after EPOCH: few values, so that times repeat
        st.sampled_from(["-0500", "+0215", "Z"]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(events)
def test_each_appointment_was_recorded_at_the_latest_of_its_messages(
    drawn: list[tuple[str, str, int, str]],
) -> None:
    latest: dict[str, datetime] = {}
    text = ""
    for number, (key, event, hours, zone) in enumerate(drawn):
        offset = timedelta(hours=2, minutes=15) if zone == "+0215" else timedelta(hours=-5 if zone == "-0500" else 0)
        moment = (EPOCH + timedelta(hours=hours)).astimezone(timezone(offset))
        written = f"{moment:%Y%m%d%H%M%S}" + ("+0000" if zone == "Z" else zone)
        text += siu(event, written, filler=key, control=f"C{number}")
        latest[key] = max(latest.get(key, moment), moment)
    order = [key for key in dict.fromkeys(key for key, *_ in drawn)]
    parsed = FORMAT.read(text.encode(), "appointments", asked(APPOINTMENTS))
    assert parsed.rows_read == len(order)
    found = dict(zip(parsed.rows["appointment_id"].to_pylist(), parsed.rows[RECORDED].to_pylist(), strict=True))
    for key in order:
        recorded = datetime.strptime(found[key].replace(":", ""), "%Y-%m-%d %H%M%S%z")
        assert recorded == latest[key]
