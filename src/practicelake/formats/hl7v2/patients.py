"""`patients` from ADT^A04 (register a patient) and ADT^A08 (update patient information): each
patient's latest message by its time (EVN-2, else MSH-7) wins, field by field over the earlier
ones; `registered_on` is the day of the patient's A04.

| contract column  | HL7 v2.8 field                                                          |
|------------------|-------------------------------------------------------------------------|
| patient_id       | PID-3.1 of the repetition whose type (PID-3.5) is MR, else the first    |
| last_name        | PID-5.1.1 (family name's surname), of the first repetition              |
| first_name       | PID-5.2 (given name)                                                    |
| date_of_birth    | PID-7, its day                                                          |
| sex              | PID-8 by HL7 table 0001: M male, F female, O/A/N other, U unknown      |
| address_line     | PID-11.1.1 (street), with PID-11.2 (other designation) after a comma    |
| city             | PID-11.3                                                                |
| postal_code      | PID-11.5                                                                |
| phone            | PID-13.1 of the first repetition, else its PID-13.12 unformatted number |
| email            | PID-13.4 of the first repetition that has one (telecom use NET)         |
| registered_on    | the day of the A04's time                                               |
| (recorded_at)    | the time of the latest message folded (EVN-2, else MSH-7): lineage      |
"""

from __future__ import annotations

from practicelake.formats.base import BadRow
from practicelake.formats.hl7v2.fold import Event, fold
from practicelake.formats.hl7v2.messages import Message
from practicelake.formats.hl7v2.segments import Segment
from practicelake.formats.hl7v2.times import date_text

EVENTS = ("A04", "A08")
COLUMNS = (
    "patient_id",
    "first_name",
    "last_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "address_line",
    "city",
    "postal_code",
    "registered_on",
)
# HL7 table 0001 (administrative sex) -> FHIR AdministrativeGender; A (ambiguous) and N (not
# applicable) are `other` in the v2-to-FHIR concept map, X (v2.9, non-binary) too.
SEX = {"M": "male", "F": "female", "O": "other", "A": "other", "N": "other", "X": "other", "U": "unknown"}


def patient_id(pid: Segment | None) -> str | None:
    """The medical record number: the PID-3 identifier of type MR, else the first one."""
    if pid is None:
        return None
    identifiers = pid.repetitions(3)
    for raw in identifiers:
        if (pid.part(raw, 5) or "").upper() == "MR" and pid.part(raw) is not None:
            return pid.part(raw)
    return next((v for v in (pid.part(raw) for raw in identifiers) if v is not None), None)


def _address(pid: Segment) -> tuple[str | None, str | None, str | None]:
    street, other = pid.value(11, 1), pid.value(11, 2)
    line = ", ".join(p for p in (street, other) if p) or None
    return line, pid.value(11, 3), pid.value(11, 5)


def _email(pid: Segment) -> str | None:
    return next((e for e in (pid.part(raw, 4) for raw in pid.repetitions(13)) if e), None)


def event_of(message: Message) -> Event | BadRow:
    if not message.readable:
        return BadRow(message.position, "its MSH declares no valid encoding characters", "hl7_structure")
    pid = message.first("PID")
    if pid is None:
        return BadRow(message.position, "ADT message without a PID segment", "hl7_structure")
    key = patient_id(pid)
    if key is None:
        return BadRow(message.position, "PID-3 gives no patient identifier", "hl7_structure")
    sex = pid.value(8)
    line, city, postal = _address(pid)
    values = {
        "patient_id": key,
        "first_name": pid.value(5, 2),
        "last_name": pid.value(5, 1),
        "date_of_birth": date_text(pid.value(7)),
        "sex": SEX.get(sex.upper(), sex) if sex else None,
        "phone": pid.value(13, 1) or pid.value(13, 12),
        "email": _email(pid),
        "address_line": line,
        "city": city,
        "postal_code": postal,
    }
    return Event(message, key, values)


def _registered(state: dict[str, str | None], event: Event) -> None:
    if event.trigger == "A04" and state.get("registered_on") is None:
        state["registered_on"] = date_text(event.time)


def read(messages: list[Message]) -> tuple[list[dict[str, str | None]], list[int], list[BadRow]]:
    """One row per patient (with the position of its latest message), and the bad messages."""
    events: list[Event] = []
    bad: list[BadRow] = []
    for message in messages:
        found = event_of(message)
        if isinstance(found, BadRow):
            bad.append(found)
        else:
            events.append(found)
    rows, positions, unordered = fold(events, _registered)
    return rows, positions, bad + unordered
