-- Revenue-cycle activity by the month each event happened: the sums of revenue_activity_day
-- over the month's days, and the month's averages and rates as ratios of those sums.
with totals as (
    select
        practice_id,
        cast(date_trunc('month', day) as date) as month,
        payer_id,
        provider_id,
        sum(charge_lines_posted) as charge_lines_posted,
        sum(charges_posted) as charges_posted,
        sum(charge_lag_days_total) as charge_lag_days_total,
        sum(cash_collected) as cash_collected,
        sum(patient_payments) as patient_payments,
        sum(patient_payments_at_visit) as patient_payments_at_visit,
        sum(claims_submitted) as claims_submitted,
        sum(claims_decided) as claims_decided,
        sum(clean_claims) as clean_claims,
        sum(claims_adjudicated) as claims_adjudicated,
        sum(claims_initially_denied) as claims_initially_denied,
        sum(billed_adjudicated) as billed_adjudicated,
        sum(billed_initially_denied) as billed_initially_denied,
        sum(claims_first_paid) as claims_first_paid,
        sum(days_to_payment_total) as days_to_payment_total
    from curated.revenue_activity_day
    group by practice_id, cast(date_trunc('month', day) as date), payer_id, provider_id
    -- A month with adjustments only has none of this table's events.
    having
        sum(charge_lines_posted) + sum(claims_submitted) + sum(claims_adjudicated) + sum(claims_first_paid) > 0
        or sum(cash_collected) <> 0
        or sum(patient_payments) <> 0
)

select
    practice_id,
    month,
    payer_id,
    provider_id,
    charge_lines_posted,
    charges_posted,
    cast(charge_lag_days_total as double) / nullif(charge_lines_posted, 0) as charge_lag_days,
    cash_collected,
    patient_payments,
    patient_payments_at_visit,
    cast(patient_payments_at_visit as double) / nullif(cast(patient_payments as double), 0)
        as point_of_service_collection_rate,
    claims_submitted,
    claims_decided,
    clean_claims,
    cast(clean_claims as double) / nullif(claims_decided, 0) as clean_claim_rate,
    claims_adjudicated,
    claims_initially_denied,
    billed_adjudicated,
    billed_initially_denied,
    cast(claims_initially_denied as double) / nullif(claims_adjudicated, 0) as initial_denial_rate,
    cast(billed_initially_denied as double) / nullif(cast(billed_adjudicated as double), 0)
        as initial_denial_rate_by_amount,
    claims_first_paid,
    cast(days_to_payment_total as double) / nullif(claims_first_paid, 0) as days_to_payment
from totals
