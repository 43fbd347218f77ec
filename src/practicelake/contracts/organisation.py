"""The practice itself and what it is made of: locations, providers, schedules, payers."""

from practicelake.contracts.model import PRACTICE_ID, Column, Contract, Kind, Rule

PRACTICE = Contract(
    entity="practice",
    dataset="practices",
    description="The practice as its own system describes it.",
    grain="one row per practice",
    key="practice_id",
    columns=(
        PRACTICE_ID,
        Column("name", Kind.STRING, "Trading name of the practice.", required=True),
        Column("time_zone", Kind.STRING, "IANA time zone of the practice.", required=True),
        Column("currency", Kind.STRING, "ISO 4217 currency of its money columns.", required=True, pattern="[A-Z]{3}"),
        Column("country", Kind.STRING, "ISO 3166-1 alpha-2 country code.", pattern="[A-Z]{2}"),
    ),
    # The settings are the one source of a practice's zone and currency: the transform reads
    # the export's times in the configured zone, and the curated models use it too.
    rules=(
        Rule(
            "time_zone_mismatch",
            "lower(time_zone) = lower(expected_time_zone)",
            "time_zone",
            "The exported time zone differs from the practice's time zone in the settings.",
        ),
        Rule(
            "currency_mismatch",
            "upper(currency) = expected_currency",
            "currency",
            "The exported currency differs from the practice's currency in the settings.",
        ),
    ),
)

LOCATION = Contract(
    entity="location",
    dataset="locations",
    description="A site where the practice sees patients.",
    grain="one row per location",
    key="location_id",
    columns=(
        PRACTICE_ID,
        Column("location_id", Kind.STRING, "Location id in the source system.", required=True),
        Column("name", Kind.STRING, "Name of the site.", required=True),
        Column("postal_code", Kind.STRING, "Postal code of the site (a business address, not a patient's)."),
        Column("opened_on", Kind.DATE, "Date the site opened."),
    ),
)

PROVIDER = Contract(
    entity="provider",
    dataset="providers",
    description="A clinician who sees patients and bills under the practice.",
    grain="one row per provider",
    key="provider_id",
    columns=(
        PRACTICE_ID,
        Column("provider_id", Kind.STRING, "Provider id in the source system.", required=True),
        Column(
            "display_name", Kind.STRING, "Name shown on schedules (workforce data, not patient data).", required=True
        ),
        Column("specialty", Kind.STRING, "Clinical specialty.", required=True),
        Column("fte", Kind.NUMBER, "Clinical full-time equivalent, 0 to 1.5; empty when unknown.", minimum=0),
        Column("active", Kind.BOOLEAN, "Whether the provider still practises here."),
    ),
    rules=(Rule("fte_at_most_1_5", "fte <= 1.5", "fte", "A clinical FTE above 1.5 is a data error."),),
)

PROVIDER_SCHEDULE = Contract(
    entity="provider_schedule",
    dataset="provider_schedules",
    description="The hours a provider is bookable on one day, cut into slots.",
    grain="one row per provider, location and day",
    key="schedule_id",
    columns=(
        PRACTICE_ID,
        Column("schedule_id", Kind.STRING, "Schedule id in the source system.", required=True),
        Column("provider_id", Kind.STRING, "The provider whose time this is.", required=True),
        Column("location_id", Kind.STRING, "Where the session is held."),
        Column("schedule_date", Kind.DATE, "Practice-local date of the session.", required=True),
        Column("start_time", Kind.TIME, "Practice-local start of the session.", required=True),
        Column("end_time", Kind.TIME, "Practice-local end of the session.", required=True),
        Column("slot_minutes", Kind.INTEGER, "Length of one bookable slot.", required=True, minimum=1, maximum=24 * 60),
        Column(
            "held_slots",
            Kind.INTEGER,
            "Slots held or frozen (not bookable by the front desk).",
            minimum=0,
            maximum=24 * 60,
        ),
    ),
    rules=(Rule("end_after_start", "end_time > start_time", "end_time", "A session ends after it starts."),),
)

PAYER = Contract(
    entity="payer",
    dataset="payers",
    description="Who pays for care: a medical scheme, an insurer, the government, or the patient.",
    grain="one row per payer",
    key="payer_id",
    columns=(
        PRACTICE_ID,
        Column("payer_id", Kind.STRING, "Payer id in the source system.", required=True),
        Column("name", Kind.STRING, "Name of the payer.", required=True),
        Column(
            "payer_type",
            Kind.STRING,
            "Kind of payer.",
            required=True,
            allowed={s: s for s in ("medical_scheme", "insurer", "government", "self_pay")},
        ),
    ),
)
