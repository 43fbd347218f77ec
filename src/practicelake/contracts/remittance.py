"""What a payer decided on a claim: an 835's CLP, a FHIR ClaimResponse or ExplanationOfBenefit.

Kept apart from the claim itself (which the practice's system or an 837 describes): a claim is
decided once or several times (a reversal and its correction, a secondary payer), each
decision a row of its own."""

from practicelake.contracts.model import PRACTICE_ID, Column, Contract, Kind, Pii

# X12 835 CLP02 (claim status codes), as FHIR ClaimResponse.outcome reads them.
OUTCOME = {s: s for s in ("paid", "partially_paid", "denied", "reversed", "forwarded", "not_ours", "pending")}

CLAIM_OUTCOME = Contract(
    entity="claim_outcome",
    dataset="claim_outcomes",
    description="A payer's decision on a claim, as its remittance or claim response states it.",
    grain="one row per decision of a payer on a claim",
    key="outcome_id",
    columns=(
        PRACTICE_ID,
        Column(
            "outcome_id",
            Kind.STRING,
            "The decision's id: the payer's claim control number, with the claim id and status.",
            required=True,
        ),
        Column("claim_id", Kind.STRING, "The practice's claim id (835 CLP01; what a response answers).", required=True),
        Column("payer_id", Kind.STRING, "The payer that decided.", required=True),
        Column("patient_id", Kind.STRING, "The patient.", pii=Pii.PATIENT_ID),
        Column("status_code", Kind.STRING, "The status as the source codes it (835 CLP02).", required=True),
        Column("outcome", Kind.STRING, "What the decision means for the claim.", required=True, allowed=OUTCOME),
        Column("billed_amount", Kind.DECIMAL, "Total charge of the claim as decided.", required=True),
        Column("paid_amount", Kind.DECIMAL, "Amount the payer paid.", required=True),
        Column("patient_responsibility", Kind.DECIMAL, "Amount left for the patient to pay."),
        Column("adjusted_amount", Kind.DECIMAL, "Sum of the decision's adjustments (CAS), claim and lines."),
        Column("adjudicated_on", Kind.DATE, "When the payer decided (the remittance's date).", required=True),
        Column("payer_received_on", Kind.DATE, "When the payer received the claim."),
        Column("service_from", Kind.DATE, "First day of service on the claim."),
        Column("service_to", Kind.DATE, "Last day of service on the claim."),
        Column("payer_claim_ref", Kind.STRING, "The payer's claim control number."),
        Column("remittance_ref", Kind.STRING, "EFT trace or cheque number of the remittance."),
    ),
)
