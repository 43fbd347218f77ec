"""HL7 v2 messages written for the tests, segment by segment, with `|^~\\&` or other separators."""

from __future__ import annotations

PID = "PID|1||PAT1^^^GHH^MR~999^^^SSA^SS||DOE^JANE^Q||19800102|F|||1 Main St^Apt 2^Springfield^IL^62701||555-0100"


def segment(name: str, fields: dict[int, str]) -> str:
    """A segment with `fields` at their HL7 numbers, the others empty."""
    values = [""] * max(fields, default=0)
    for number, value in fields.items():
        values[number - 1] = value
    return "|".join((name, *values))


def message(*segments: str, time: str = "202403051000", kind: str = "SIU^S12", control: str = "C1") -> str:
    header = f"MSH|^~\\&|PMS|CLINIC|LAKE|PL|{time}||{kind}|{control}|P|2.5"
    return "\r".join((header, *segments)) + "\r"


def siu(
    event: str,
    time: str,
    *,
    filler: str = "A1",
    start: str = "202403111000",
    minutes: str = "30",
    status: str = "",
    provider: str = "DR1",
    location: str = "ROOM1",
    reason: str = "ROUTINE",
    control: str = "C1",
) -> str:
    """An SIU message in the v2.5 layout (start in TQ1-7, duration in AIS-7/8)."""
    sch = segment("SCH", {1: f"P{filler}", 2: filler, 7: reason, 8: "NORMAL", 25: status})
    return message(
        sch,
        segment("TQ1", {7: start}),
        PID,
        "RGS|1",
        segment("AIS", {1: "1", 3: "VISIT^Visit", 7: minutes, 8: "min"}),
        segment("AIL", {1: "1", 3: f"{location}^^^CLINIC"}),
        segment("AIP", {1: "1", 3: f"{provider}^SMITH^ANN"}),
        time=time,
        kind=f"SIU^{event}",
        control=control,
    )


def ft1(
    set_id: str = "1",
    *,
    charge: str = "T1",
    code: str = "99213^Office visit^C4",
    units: str = "1",
    extended: str = "75.50",
    unit: str = "",
    service: str = "20240305",
    posted: str = "20240306",
    kind: str = "CG",
    performer: str = "DR1",
    modifier: str = "",
) -> str:
    fields = {1: set_id, 2: charge, 4: service, 5: posted, 6: kind, 7: code, 10: units, 11: extended, 12: unit}
    return segment("FT1", fields | {20: performer, 25: code, 26: modifier})


def dft(*ft1: str, time: str = "202403051000", control: str = "D1", visit: str = "V1") -> str:
    return message(
        f"EVN|P03|{time}",
        PID,
        segment("PV1", {1: "1", 2: "O", 7: "ATT1^JONES", 19: visit}),
        *ft1,
        time=time,
        kind="DFT^P03",
        control=control,
    )


def adt(event: str, time: str, pid: str = PID, control: str = "A1") -> str:
    return message(f"EVN|{event}|{time}", pid, time=time, kind=f"ADT^{event}", control=control)
