"""Appointment -> appointments, Encounter -> encounters, Schedule + Slot -> provider_schedules.

Appointment (R4 14.6):
- appointment_id: id. status: Appointment.status as written (it is FHIR appointment-status,
  the contract's own vocabulary).
- start_at/booked_at: start (instant) and created (dateTime), offset kept; a `created` date
  alone stays a date (the contract records that its time is not known).
- duration_minutes: end - start (elapsed, so across a daylight-saving change it is the real
  length), else minutesDuration.
- participant.actor: the first Patient -> patient_id, the first Practitioner (or the
  practitioner of a PractitionerRole) -> provider_id, the first Location -> location_id.
- appointment_type: appointmentType coded in v2-0276: FOLLOWUP -> follow-up; v2-0276 has no
  "new patient" code, so its other codes (ROUTINE, WALKIN, CHECKUP, EMERGENCY) are written as
  they are, which the contract stores as unknown.
- cancelled_at: R4 has no cancellation date; the R5 cross-version extension
  (`extension-Appointment.cancellationDate`) is read where present. cancelationReason has no
  contract column and stays in raw.
- notes: comment (free text, raw zone only).

Encounter (R4 11.3): encounter_id id; appointment_id appointment[0]; patient_id subject;
provider_id the participant of type PPRF (primary performer), else ATND, else the first
Practitioner; location_id location[0]; encounter_date the day of period.start; diagnosis codes
the ICD-10 codings of reasonCode and of the Conditions diagnosis[] references (rank order).
An Encounter that did not take place (planned, cancelled, entered-in-error) is not a visit:
a bad row that says so. Encounter.class is no CMS place-of-service code: not mapped.

Schedule + Slot (R4 14.4, 14.5): one row per Schedule whose actor is a Practitioner (or a
PractitionerRole) and per day of its Slots: the first slot's start to the last slot's end,
slot_minutes the most common slot length, held_slots the busy-unavailable ones. Slot times are
read as written in their own offset (a scheduling system writes its local time), so a Slot in
`Z` is taken as that wall time. A Schedule of a Location or a device alone is no provider's
time, and Slots in entered-in-error are no bookable time: neither is mapped.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping

from practicelake.formats.fhir.datatypes import (
    Resource,
    Row,
    Unmappable,
    codes,
    date,
    listed,
    minutes_between,
    moment,
    part,
    text,
    timestamp,
)
from practicelake.formats.fhir.references import Index, Target

FOLLOW_UP = {"FOLLOWUP": "follow-up"}  # v2-0276 appointment reason codes
CANCELLATION_DATE = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.cancellationDate"
ICD_10 = ("http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm")
NOT_A_VISIT = frozenset({"planned", "cancelled", "entered-in-error"})
PERFORMER_ORDER = ("PPRF", "ATND", "PART")  # v3-ParticipationType, primary performer first


def provider(index: Index, target: Target) -> str | None:
    """A Practitioner's id; for a PractitionerRole, that of its practitioner."""
    if target.type == "PractitionerRole" and target.resource is not None:
        return index.key(target.resource.get("practitioner"), target.resource) or target.key
    return target.key if target.type in ("Practitioner", "PractitionerRole") else None


def appointment(resource: Resource, index: Index) -> list[Row]:
    actors: dict[str, str] = {}
    for participant in listed(resource, "participant"):
        if not isinstance(participant, Mapping):
            continue
        target = index.resolve(participant.get("actor"), resource)
        kind = "Practitioner" if target.type == "PractitionerRole" else target.type
        key = provider(index, target) if kind == "Practitioner" else target.key
        if kind and key:
            actors.setdefault(kind, key)
    duration = minutes_between(resource.get("start"), resource.get("end"))
    if duration is None and resource.get("minutesDuration") is not None:
        duration = str(resource["minutesDuration"])
    kind_codes = [code for _, code in codes(resource.get("appointmentType"))]
    return [
        {
            "appointment_id": text(resource.get("id")),
            "patient_id": actors.get("Patient"),
            "provider_id": actors.get("Practitioner"),
            "location_id": actors.get("Location"),
            "booked_at": timestamp(resource.get("created")),
            "start_at": timestamp(resource.get("start")),
            "duration_minutes": duration,
            "appointment_type": FOLLOW_UP.get(kind_codes[0], kind_codes[0]) if kind_codes else None,
            "status": text(resource.get("status")),
            "cancelled_at": _extension(resource, CANCELLATION_DATE),
            "notes": text(resource.get("comment")),
        }
    ]


def _extension(resource: Resource, url: str) -> str | None:
    for extension in listed(resource, "extension"):
        if isinstance(extension, Mapping) and extension.get("url") == url:
            return timestamp(extension.get("valueDateTime") or extension.get("valueInstant"))
    return None


def encounter(resource: Resource, index: Index) -> list[Row]:
    status = resource.get("status")
    if status in NOT_A_VISIT:
        raise Unmappable(f"an Encounter with status {status} did not take place", "not_a_visit")
    period = part(resource, "period")
    appointments = listed(resource, "appointment")
    return [
        {
            "encounter_id": text(resource.get("id")),
            "appointment_id": index.key(appointments[0], resource) if appointments else None,
            "patient_id": index.key(resource.get("subject"), resource),
            "provider_id": _performer(resource, index),
            "location_id": next(
                (
                    index.key(place.get("location"), resource)
                    for place in listed(resource, "location")
                    if isinstance(place, Mapping)
                ),
                None,
            ),
            "encounter_date": date(period.get("start")),
            "diagnosis_codes": "|".join(_diagnoses(resource, index)) or None,
        }
    ]


def _performer(resource: Resource, index: Index) -> str | None:
    ranked: list[tuple[int, str]] = []
    for order, participant in enumerate(listed(resource, "participant")):
        if not isinstance(participant, Mapping):
            continue
        key = provider(index, index.resolve(participant.get("individual"), resource))
        if key is None:
            continue
        types = [code for concept in listed(participant, "type") for _, code in codes(concept)]
        rank = min((PERFORMER_ORDER.index(t) for t in types if t in PERFORMER_ORDER), default=len(PERFORMER_ORDER))
        ranked.append((rank * 10_000 + order, key))
    return min(ranked)[1] if ranked else None


def _diagnoses(resource: Resource, index: Index) -> list[str]:
    found: list[str] = []
    ranked = sorted(
        (d for d in listed(resource, "diagnosis") if isinstance(d, Mapping)),
        key=lambda d: int(d["rank"]) if isinstance(d.get("rank"), int) else 1 << 30,
    )
    concepts = [index.resolve(d.get("condition"), resource).resource for d in ranked]
    sources = [c.get("code") for c in concepts if c is not None] + listed(resource, "reasonCode")
    for concept in sources:
        for system, code in codes(concept):
            if system in ICD_10 and code not in found:
                found.append(code)
    return found


def provider_schedules(
    schedules: list[tuple[int, Resource]], slots: list[Resource], index: Index
) -> list[tuple[int, Row]]:
    """A row per practitioner Schedule and day of its Slots, each with the Schedule's position."""
    by_schedule: dict[str, list[Resource]] = defaultdict(list)
    for slot in slots:
        target = index.resolve(slot.get("schedule"), slot)
        if target.key and slot.get("status") != "entered-in-error":
            by_schedule[target.key].append(slot)
    rows: list[tuple[int, Row]] = []
    for position, schedule in schedules:
        actors = [index.resolve(a, schedule) for a in listed(schedule, "actor")]
        practitioner = next((provider(index, a) for a in actors if provider(index, a)), None)
        if practitioner is None:
            continue
        location = next((a.key for a in actors if a.type == "Location"), None)
        days: dict[str, list[Resource]] = defaultdict(list)
        for slot in by_schedule.get(str(schedule.get("id")), []):
            day = date(slot.get("start"))
            if day is not None:
                days[day].append(slot)
        for day, of_day in sorted(days.items()):
            rows.append((position, _session(schedule, practitioner, location, day, of_day)))
    return rows


def _session(schedule: Resource, practitioner: str, location: str | None, day: str, slots: list[Resource]) -> Row:
    # Each slot's time of day as written in its own offset (see the module's docstring).
    starts = [m.replace(tzinfo=None) for m in (moment(s.get("start")) for s in slots) if m is not None]
    ends = [m.replace(tzinfo=None) for m in (moment(s.get("end")) for s in slots) if m is not None]
    lengths = Counter(minutes_between(s.get("start"), s.get("end")) for s in slots)
    lengths.pop(None, None)
    return {
        "schedule_id": f"{schedule.get('id')}-{day}",
        "provider_id": practitioner,
        "location_id": location,
        "schedule_date": day,
        "start_time": min(starts).strftime("%H:%M") if starts else None,
        "end_time": max(ends).strftime("%H:%M") if ends else None,
        "slot_minutes": lengths.most_common(1)[0][0] if lengths else None,
        "held_slots": str(sum(1 for s in slots if s.get("status") == "busy-unavailable")),
    }
