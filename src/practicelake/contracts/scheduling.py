"""Appointments and the visits (encounters) they lead to."""

from practicelake.contracts.model import PRACTICE_ID, Column, Contract, Kind, Pii, Rule

# FHIR R4 Appointment.status (http://hl7.org/fhir/appointmentstatus). A late cancellation is a
# cancellation: whether it was late is derived from cancelled_at and start_at. How each source
# spells its statuses is its format's business (formats/mappings/practicelake.toml for
# practicelake's own CSV).
APPOINTMENT_STATUS = {
    s: s
    for s in (
        "proposed",
        "pending",
        "booked",
        "arrived",
        "checked-in",
        "fulfilled",
        "noshow",
        "cancelled",
        "waitlist",
        "entered-in-error",
    )
}

APPOINTMENT = Contract(
    entity="appointment",
    dataset="appointments",
    description="A booked slot with a provider, whatever became of it.",
    grain="one row per appointment (a reschedule is a new appointment)",
    key="appointment_id",
    columns=(
        PRACTICE_ID,
        Column("appointment_id", Kind.STRING, "Appointment id in the source system.", required=True),
        Column("patient_id", Kind.STRING, "The patient booked.", required=True, pii=Pii.PATIENT_ID),
        Column("provider_id", Kind.STRING, "The provider booked.", required=True),
        Column("location_id", Kind.STRING, "Where the appointment is."),
        Column(
            "booked_at",
            Kind.TIMESTAMP,
            "When the booking was made; empty when the source does not know, a date alone when it knows the day only.",
            time_known="booked_time_known",
        ),
        Column(
            "start_at",
            Kind.TIMESTAMP,
            "Scheduled start; a date alone when the source gives the day only (no time-of-day KPI uses it then).",
            required=True,
            time_known="start_time_known",
        ),
        Column("duration_minutes", Kind.INTEGER, "Scheduled length.", required=True, minimum=1, maximum=24 * 60),
        Column(
            "appointment_type",
            Kind.STRING,
            "New patient or follow-up; empty, or a type of the source's own, when not known (stored as unknown).",
            unlisted="unknown",
            allowed={"new": "new", "follow-up": "follow-up"},
        ),
        Column("status", Kind.STRING, "Status, as FHIR appointment-status.", required=True, allowed=APPOINTMENT_STATUS),
        Column("cancelled_at", Kind.TIMESTAMP, "When the appointment was cancelled."),
        Column("checked_in_at", Kind.TIMESTAMP, "When the patient checked in.", needs_time=True),
        Column("visit_start_at", Kind.TIMESTAMP, "When the provider started the visit.", needs_time=True),
        Column("visit_end_at", Kind.TIMESTAMP, "When the visit ended.", needs_time=True),
        Column("notes", Kind.STRING, "Free-text booking notes.", pii=Pii.FREE_TEXT),
    ),
    rules=(
        # A start known by its day only is booked on or before that day.
        Rule(
            "booked_before_start",
            "case when start_time_known and booked_time_known then booked_at <= start_at "
            "else cast(booked_at as date) <= cast(start_at as date) end",
            "booked_at",
            "A booking is made before its start.",
        ),
        Rule("cancelled_after_booking", "cancelled_at >= booked_at", "cancelled_at", "Cancelled after it was booked."),
        Rule("visit_after_check_in", "visit_start_at >= checked_in_at", "visit_start_at", "Seen after checking in."),
        Rule(
            "visit_ends_after_start", "visit_end_at >= visit_start_at", "visit_end_at", "A visit ends after it starts."
        ),
    ),
)

ENCOUNTER = Contract(
    entity="encounter",
    dataset="encounters",
    description="A visit that took place: who saw whom, for what.",
    grain="one row per visit",
    key="encounter_id",
    columns=(
        PRACTICE_ID,
        Column("encounter_id", Kind.STRING, "Encounter id in the source system.", required=True),
        Column("appointment_id", Kind.STRING, "The appointment it fulfilled; empty for walk-ins."),
        Column("patient_id", Kind.STRING, "The patient seen.", required=True, pii=Pii.PATIENT_ID),
        Column("provider_id", Kind.STRING, "The rendering provider.", required=True),
        Column("location_id", Kind.STRING, "Where the visit took place."),
        Column("encounter_date", Kind.DATE, "Practice-local date of the visit.", required=True),
        Column("place_of_service", Kind.STRING, "CMS place-of-service code.", pattern="[0-9]{2}"),
        Column(
            "diagnosis_codes",
            Kind.CODE_LIST,
            "ICD-10 diagnosis codes, primary first, separated by '|'.",
            pattern=r"[A-TV-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?",
        ),
        Column("notes", Kind.STRING, "Free-text visit notes.", pii=Pii.FREE_TEXT),
    ),
)
