"""`appointments` from SIU messages (HL7 v2.8 chapter 10): S12 new booking, S13 reschedule, S14
modification, S15 cancellation, S16 discontinuation, S17 deletion, S26 no-show. Each message
carries the appointment as the filler knows it then; the events of one appointment fold
(fold.py) into one row, the latest by message time winning. Every SIU message of these events
is folded into a row or is a bad row (rows_read: the appointments plus the bad messages).

| contract column  | HL7 v2.8 field                                                               |
|------------------|------------------------------------------------------------------------------|
| appointment_id   | SCH-2.1 filler appointment id (the scheduling system's own), else SCH-1.1    |
| patient_id       | PID-3 (patients.patient_id)                                                  |
| provider_id      | AIP-3.1 of the first AIP; without AIP, PV1-7.1 attending, else AIG-3.1       |
| location_id      | AIL-3.1 (point of care, its first subcomponent) of the first AIL              |
| start_at         | TQ1-7 (v2.7+), else SCH-11.4 (timing quantity, before v2.7), else AIS-4      |
| duration_minutes | AIS-7 in AIS-8 units, else SCH-9 in SCH-10 units, else TQ1-8 (or SCH-11.5) - start |
| appointment_type | SCH-7 (reason, table 0276) or SCH-8 (type, 0277) when it says new or follow-up |
| status           | the event; for S12/S13/S14 SCH-25 filler status (table 0278) where it maps   |
| booked_at        | the time of the appointment's S12 in the file                                |
| cancelled_at     | the time of the event that cancelled it                                      |
| notes            | NTE-3 of the NTE segments right after SCH (NTE-2 when it holds the text)     |
| (recorded_at)    | the time of the latest event folded (MSH-7, or EVN-2 where sent): lineage    |

Decisions: the filler id is the key because the filler (the scheduling system) owns the
appointment and every SIU message it sends carries it; the placer id belongs to the
requesting application and is often absent. A reschedule (S13) keeps its filler id, so it
moves the row's start (no id names the old slot). A discontinuation (S16: the remaining
occurrences, or the rest of an appointment in progress, will not happen) is `cancelled`, as
v2-to-FHIR maps filler status Dc; a deletion (S17) is `entered-in-error`. Durations without
units are minutes (the default of AIS-8 and SCH-10).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from practicelake.formats.base import BadRow
from practicelake.formats.hl7v2.fold import Event, State, fold
from practicelake.formats.hl7v2.messages import Message
from practicelake.formats.hl7v2.patients import patient_id
from practicelake.formats.hl7v2.segments import Segment
from practicelake.formats.hl7v2.times import minutes_between, timestamp_text

EVENTS = ("S12", "S13", "S14", "S15", "S16", "S17", "S26")
COLUMNS = (
    "appointment_id",
    "patient_id",
    "provider_id",
    "location_id",
    "booked_at",
    "start_at",
    "duration_minutes",
    "appointment_type",
    "status",
    "cancelled_at",
    "notes",
)
# The contract's allowed values (contracts.scheduling.APPOINTMENT_STATUS) for each event.
ENTERED_IN_ERROR = "entered-in-error"
BY_EVENT = {"S15": "cancelled", "S16": "cancelled", "S17": ENTERED_IN_ERROR, "S26": "noshow"}
# HL7 table 0278 filler status codes, as v2-to-FHIR maps them to FHIR appointment status.
FILLER_STATUS = {
    "pending": "pending",
    "waitlist": "waitlist",
    "booked": "booked",
    "overbook": "booked",
    "started": "arrived",
    "complete": "fulfilled",
    "cancelled": "cancelled",
    "dc": "cancelled",
    "deleted": ENTERED_IN_ERROR,
    "noshow": "noshow",
}
# Units of a duration (ISO+/UCUM codes and the words exports write), in minutes.
UNIT_MINUTES = {
    "s": Decimal(1) / 60,
    "sec": Decimal(1) / 60,
    "second": Decimal(1) / 60,
    "seconds": Decimal(1) / 60,
    "min": Decimal(1),
    "m": Decimal(1),
    "minute": Decimal(1),
    "minutes": Decimal(1),
    "h": Decimal(60),
    "hr": Decimal(60),
    "hour": Decimal(60),
    "hours": Decimal(60),
    "d": Decimal(1440),
    "day": Decimal(1440),
    "days": Decimal(1440),
}
# HL7 table 0105, source of comment (NTE-2): ancillary, orderer, other.
COMMENT_SOURCES = ("", "L", "P", "O")
TYPES = {
    "new": "new",
    "new patient": "new",
    "newpatient": "new",
    "followup": "follow-up",
    "follow-up": "follow-up",
    "follow up": "follow-up",
    "established": "follow-up",
}


def _duration(amount: str | None, unit: str | None) -> str | None:
    """`amount` of `unit` in minutes, as written when whole; None when either cannot be read."""
    if amount is None:
        return None
    factor = UNIT_MINUTES.get((unit or "min").strip().lower())
    try:
        minutes = Decimal(amount) * factor if factor is not None else None
    except InvalidOperation:
        return None
    if minutes is None or not minutes.is_finite():
        return None
    return str(int(minutes)) if minutes == minutes.to_integral_value() else None


def _first(segments: list[Segment], number: int, component: int = 1) -> str | None:
    return next((v for v in (s.value(number, component) for s in segments) if v is not None), None)


def _start(message: Message, sch: Segment) -> tuple[str | None, str | None]:
    """The start and end (DTM) as the message's version gives them."""
    tq1 = message.first("TQ1")
    if tq1 is not None and tq1.value(7) is not None:
        return tq1.value(7), tq1.value(8)
    if sch.value(11, 4) is not None:
        return sch.value(11, 4), sch.value(11, 5)
    return _first(message.every("AIS"), 4), None


def _minutes(message: Message, sch: Segment, start: str | None, end: str | None) -> str | None:
    for ais in message.every("AIS"):
        if ais.value(7) is not None:
            return _duration(ais.value(7), ais.value(8))
    if sch.value(9) is not None:
        return _duration(sch.value(9), sch.value(10))
    between = minutes_between(start, end)
    return None if between is None else str(between)


def _type(sch: Segment) -> str | None:
    for number in (7, 8):
        for component in (1, 2):
            found = TYPES.get((sch.value(number, component) or "").lower())
            if found:
                return found
    return None


def _notes(message: Message) -> str | None:
    notes: list[str] = []
    for segment in message.segments:
        if segment.name != "NTE":
            if notes or segment.name not in ("SCH", "TQ1"):
                break
            continue
        text = segment.value(3)
        if text is None and (segment.value(2) or "").upper() not in COMMENT_SOURCES:
            text = segment.value(2)  # the comment written one field early, as some senders do
        if text:
            notes.append(text)
    return " ".join(notes) or None


def event_of(message: Message) -> Event | BadRow:
    if not message.readable:
        return BadRow(message.position, "its MSH declares no valid encoding characters", "hl7_structure")
    schedules = message.every("SCH")
    if len(schedules) != 1:
        return BadRow(message.position, f"SIU message with {len(schedules)} SCH segments, expected 1", "hl7_structure")
    sch = schedules[0]
    key = sch.value(2) or sch.value(1)
    if key is None:
        return BadRow(message.position, "SCH-1 and SCH-2 give no appointment id", "hl7_structure")
    start, end = _start(message, sch)
    provider = _first(message.every("AIP"), 3)
    if provider is None and not message.every("AIP"):
        pv1 = message.first("PV1")
        provider = (pv1.value(7) if pv1 is not None else None) or _first(message.every("AIG"), 3)
    values = {
        "appointment_id": key,
        "patient_id": patient_id(message.first("PID")),
        "provider_id": provider,
        "location_id": _first(message.every("AIL"), 3),
        "start_at": timestamp_text(start),
        "duration_minutes": _minutes(message, sch, start, end),
        "appointment_type": _type(sch),
        "notes": _notes(message),
    }
    return Event(message, key, values)


def _status(event: Event) -> str:
    if event.trigger in BY_EVENT:
        return BY_EVENT[event.trigger]
    sch = event.message.first("SCH")
    filler = (sch.value(25) if sch is not None else None) or ""
    return FILLER_STATUS.get(filler.lower(), "booked")


def _apply(state: State, event: Event) -> None:
    status = _status(event)
    if status == "cancelled":
        if state.get("status") != "cancelled":
            state["cancelled_at"] = timestamp_text(event.time)
    else:
        state.pop("cancelled_at", None)
    state["status"] = status
    if event.trigger == "S12" and state.get("booked_at") is None:
        state["booked_at"] = timestamp_text(event.time)


def read(messages: list[Message]) -> tuple[list[State], list[int], list[BadRow]]:
    """One row per appointment (with the position of its latest message), and the bad messages."""
    events: list[Event] = []
    bad: list[BadRow] = []
    for message in messages:
        found = event_of(message)
        if isinstance(found, BadRow):
            bad.append(found)
        else:
            events.append(found)
    rows, positions, unordered = fold(events, _apply)
    return rows, positions, bad + unordered
