"""The revenue cycle: charges, the claims that bill them, payments and adjustments."""

from practicelake.contracts.model import PRACTICE_ID, Column, Contract, Kind, Pii, Rule

# CPT (5 characters), HCPCS level II (a letter and four digits), or a 4-digit tariff code.
PROCEDURE_CODE = r"[0-9]{4}[0-9A-Z]?|[A-V][0-9]{4}"

CHARGE = Contract(
    entity="charge",
    dataset="charges",
    description="One billed line: a procedure done at a visit.",
    grain="one row per charge line",
    key="charge_id",
    columns=(
        PRACTICE_ID,
        Column("charge_id", Kind.STRING, "Charge line id in the source system.", required=True),
        Column("encounter_id", Kind.STRING, "The visit the procedure was done at.", required=True),
        Column("patient_id", Kind.STRING, "The patient.", required=True, pii=Pii.PATIENT_ID),
        Column("provider_id", Kind.STRING, "The rendering provider.", required=True),
        Column("procedure_code", Kind.STRING, "CPT/HCPCS or tariff code.", required=True, pattern=PROCEDURE_CODE),
        Column("modifier", Kind.STRING, "Procedure modifier.", pattern="[0-9A-Z]{2}"),
        Column("units", Kind.INTEGER, "Units billed.", required=True, minimum=1, maximum=9999),
        Column("amount", Kind.DECIMAL, "Charge amount (all units).", required=True, minimum=0),
        Column("service_date", Kind.DATE, "Date of service.", required=True),
        Column("posted_date", Kind.DATE, "Date the charge was entered.", required=True),
    ),
    rules=(Rule("posted_after_service", "posted_date >= service_date", "posted_date", "Posted on or after service."),),
)

CLAIM = Contract(
    entity="claim",
    dataset="claims",
    description="A bill sent to a payer for the charges of one visit.",
    grain="one row per claim",
    key="claim_id",
    columns=(
        PRACTICE_ID,
        Column("claim_id", Kind.STRING, "Claim id in the source system.", required=True),
        Column("encounter_id", Kind.STRING, "The visit billed.", required=True),
        Column("patient_id", Kind.STRING, "The patient.", required=True, pii=Pii.PATIENT_ID),
        Column("payer_id", Kind.STRING, "The payer billed.", required=True),
        Column("provider_id", Kind.STRING, "The billing provider.", required=True),
        Column("submitted_at", Kind.TIMESTAMP, "When the claim was first submitted.", required=True),
        Column("billed_amount", Kind.DECIMAL, "Total billed.", required=True, minimum=0),
        Column(
            "claim_status",
            Kind.STRING,
            "Where the claim is now.",
            required=True,
            allowed={
                s: s
                for s in (
                    "submitted",
                    "accepted",
                    "denied",
                    "paid",
                    "partially_paid",
                    "appealed",
                    "written_off",
                    "void",
                )
            },
        ),
        Column("first_adjudicated_at", Kind.TIMESTAMP, "When the payer first decided on it."),
        Column(
            "first_pass_outcome",
            Kind.STRING,
            "The payer's first decision; empty while pending.",
            allowed={s: s for s in ("paid", "partially_paid", "denied", "rejected")},
        ),
        Column("resubmissions", Kind.INTEGER, "Times the claim was corrected and sent again.", minimum=0, maximum=999),
    ),
    rules=(
        Rule(
            "adjudicated_after_submission",
            "first_adjudicated_at >= submitted_at",
            "first_adjudicated_at",
            "A payer decides after the claim is submitted.",
        ),
    ),
)

PAYMENT = Contract(
    entity="payment",
    dataset="payments",
    description="Money received: a payer's remittance line or a patient's payment.",
    grain="one row per payment",
    key="payment_id",
    columns=(
        PRACTICE_ID,
        Column("payment_id", Kind.STRING, "Payment id in the source system.", required=True),
        Column("claim_id", Kind.STRING, "The claim paid; empty for patient payments not tied to a claim."),
        Column("encounter_id", Kind.STRING, "The visit paid for."),
        Column("patient_id", Kind.STRING, "The patient.", pii=Pii.PATIENT_ID),
        Column("payer_id", Kind.STRING, "The paying payer; empty when the patient paid."),
        Column(
            "payment_source",
            Kind.STRING,
            "Who paid.",
            required=True,
            allowed={"payer": "payer", "patient": "patient"},
        ),
        Column("paid_at", Kind.TIMESTAMP, "When the money was received.", required=True),
        Column("amount", Kind.DECIMAL, "Amount received (negative for a refund).", required=True),
        Column(
            "method",
            Kind.STRING,
            "How it was paid.",
            allowed={s: s for s in ("eft", "card", "cash", "cheque", "check", "other")},
        ),
        Column("at_point_of_service", Kind.BOOLEAN, "Collected at the visit."),
        Column("remittance_ref", Kind.STRING, "EFT trace or cheque number of the remittance."),
    ),
)

ADJUSTMENT = Contract(
    entity="adjustment",
    dataset="adjustments",
    description="A change to what is owed: contractual write-down, denial, patient responsibility.",
    grain="one row per adjustment",
    key="adjustment_id",
    columns=(
        PRACTICE_ID,
        Column("adjustment_id", Kind.STRING, "Adjustment id in the source system.", required=True),
        Column("claim_id", Kind.STRING, "The claim adjusted."),
        Column("charge_id", Kind.STRING, "The charge line adjusted."),
        Column("payer_id", Kind.STRING, "The payer that made the adjustment."),
        Column(
            "group_code",
            Kind.STRING,
            "X12 claim adjustment group code.",
            required=True,
            allowed={g.lower(): g for g in ("CO", "PR", "OA", "PI", "CR")},
        ),
        Column("carc_code", Kind.STRING, "X12 claim adjustment reason code.", required=True, reference="carc"),
        Column("rarc_code", Kind.STRING, "X12 remittance advice remark code.", pattern="[A-Z]{1,2}[0-9]{1,3}"),
        Column("amount", Kind.DECIMAL, "Amount adjusted (positive reduces the balance).", required=True),
        Column("adjusted_on", Kind.DATE, "Date of the adjustment.", required=True),
    ),
)
