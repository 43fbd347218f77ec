"""HL7 v2 dates and times (the DTM and DT data types, HL7 v2.8 2.A.22/2.A.21) in the text forms
the contract checks read.

DTM is `YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`. A date alone becomes `YYYY-MM-DD`; a
time becomes `YYYY-MM-DD HH:MM:SS` (missing minutes or seconds are zero), with the offset as
`+HH:MM` only when the message gives one: a time without one is the sender's wall time, and
no offset is ever added. A value less precise than a day, or not a DTM at all, is passed on
as written so that the contract's date check names it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

DTM = re.compile(
    r"(?P<year>\d{4})(?:(?P<month>\d{2})(?:(?P<day>\d{2})(?:(?P<hour>\d{2})(?:(?P<minute>\d{2})"
    r"(?:(?P<second>\d{2})(?:\.(?P<fraction>\d{1,4}))?)?)?)?)?)?(?P<offset>[+-]\d{4})?"
)


def parsed(value: str | None) -> datetime | None:
    """The moment a DTM names (aware when it carries an offset); None when it is not a DTM
    that names a day or a moment within one."""
    if value is None:
        return None
    match = DTM.fullmatch(value.strip())
    if match is None or match["day"] is None:
        return None
    part = match.groupdict()
    fraction = part["fraction"] or ""
    zone = None
    if part["offset"] is not None:
        sign = -1 if part["offset"][0] == "-" else 1
        hours, minutes = int(part["offset"][1:3]), int(part["offset"][3:5])
        if hours > 14 or minutes > 59:
            return None
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return datetime(
            int(part["year"]),
            int(part["month"]),
            int(part["day"]),
            int(part["hour"] or 0),
            int(part["minute"] or 0),
            int(part["second"] or 0),
            int(fraction.ljust(6, "0")) if fraction else 0,
            tzinfo=zone,
        )
    except ValueError:
        return None


def has_time(value: str | None) -> bool:
    match = DTM.fullmatch((value or "").strip())
    return match is not None and match["hour"] is not None


def timestamp_text(value: str | None) -> str | None:
    """A DTM as `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD HH:MM:SS+HH:MM`."""
    moment = parsed(value)
    if moment is None or value is None:
        return value
    if not has_time(value):
        return moment.date().isoformat()
    match = DTM.fullmatch(value.strip())
    assert match is not None
    text = f"{moment:%Y-%m-%d %H:%M:%S}"
    if match["fraction"]:
        text += "." + match["fraction"]
    if match["offset"]:
        text += f"{match['offset'][:3]}:{match['offset'][3:]}"
    return text


def date_text(value: str | None) -> str | None:
    """The day a DTM or DT names, as `YYYY-MM-DD` (the sender's own day, offset or not)."""
    moment = parsed(value)
    return value if moment is None else moment.date().isoformat()


def day(value: str | None) -> date | None:
    moment = parsed(value)
    return None if moment is None else moment.date()


def order_key(moments: list[datetime]) -> list[datetime]:
    """Sortable forms of the moments of one fold: instants when every one carries an offset,
    else the wall times as written (a naive time and an instant cannot be compared)."""
    if all(m.tzinfo is not None for m in moments):
        return moments
    return [m.replace(tzinfo=None) for m in moments]


def minutes_between(start: str | None, end: str | None) -> int | None:
    """Whole minutes from one DTM with a time to another, both with offsets or both without.
    With offsets the minutes are exact across a daylight-saving change; two wall times are
    subtracted as written (an appointment across the change itself is off by the hour)."""
    first, last = parsed(start), parsed(end)
    if first is None or last is None or not has_time(start) or not has_time(end):
        return None
    if (first.tzinfo is None) != (last.tzinfo is None):
        return None
    seconds = (last - first).total_seconds()
    return int(seconds // 60) if seconds % 60 == 0 else None
