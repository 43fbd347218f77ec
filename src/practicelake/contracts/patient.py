"""The patient: the one entity whose export is mostly identifiers. Only what the cleaned zone
may hold leaves raw: a keyed pseudonym, birth year, sex, a postal prefix and the payer."""

from practicelake.contracts.model import PRACTICE_ID, Column, Contract, Kind, Pii, Rule

PATIENT = Contract(
    entity="patient",
    dataset="patients",
    description="A person registered with the practice.",
    grain="one row per patient",
    key="patient_id",
    as_of="registered_on",
    columns=(
        PRACTICE_ID,
        Column("patient_id", Kind.STRING, "Medical record number.", required=True, pii=Pii.PATIENT_ID),
        Column("first_name", Kind.STRING, "Given name.", pii=Pii.DIRECT),
        Column("last_name", Kind.STRING, "Family name.", pii=Pii.DIRECT),
        Column("date_of_birth", Kind.DATE, "Date of birth.", required=True, pii=Pii.BIRTH_DATE),
        Column(
            "sex",
            Kind.STRING,
            "Administrative sex, as FHIR AdministrativeGender.",
            allowed={s: s for s in ("male", "female", "other", "unknown")},
        ),
        Column("phone", Kind.STRING, "Phone number.", pii=Pii.DIRECT),
        Column("email", Kind.STRING, "Email address.", pii=Pii.DIRECT),
        Column("address_line", Kind.STRING, "Street address.", pii=Pii.DIRECT),
        Column("city", Kind.STRING, "Town or city.", pii=Pii.DIRECT),
        Column("postal_code", Kind.STRING, "Postal code of the home address.", pii=Pii.POSTAL_CODE),
        Column("member_number", Kind.STRING, "Medical-aid or insurance member number.", pii=Pii.DIRECT),
        Column("primary_payer_id", Kind.STRING, "The payer billed first for this patient."),
        Column("registered_on", Kind.DATE, "Date the patient registered with the practice."),
        Column("notes", Kind.STRING, "Free-text notes.", pii=Pii.FREE_TEXT),
    ),
    rules=(
        Rule(
            "born_before_registration",
            "date_of_birth <= registered_on",
            "date_of_birth",
            "A patient is born before registering.",
        ),
        # Without a registration date, the record is as of the day the file was received.
        Rule(
            "born_before_record",
            "registered_on is not null or date_of_birth <= received_on",
            "date_of_birth",
            "A patient is born before the day the record was received.",
        ),
    ),
)
