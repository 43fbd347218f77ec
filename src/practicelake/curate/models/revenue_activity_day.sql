-- Revenue-cycle activity by the day each event happened: charges by posted date, cash and
-- adjustments by the date received or posted, claims by submission, first adjudication and
-- first payment. Unlike revenue_service_day, a payment received in April for a March visit
-- is April cash. Averages are kept as their sums and counts, so that any run of days gives
-- its exact average.
with posted_lines as (
    select
        c.practice_id,
        c.posted_date as day,
        v.payer_id,
        v.provider_id,
        count(*) as charge_lines_posted,
        sum(c.amount) as charges_posted,
        sum(date_diff('day', c.service_date, c.posted_date)) as charge_lag_days_total
    from cleaned.charge as c
    inner join curated.stg_billing_visit as v
        on v.practice_id = c.practice_id and v.encounter_id = c.encounter_id
    group by c.practice_id, c.posted_date, v.payer_id, v.provider_id
),

cash as (
    select
        l.practice_id,
        l.entry_date as day,
        v.payer_id,
        v.provider_id,
        sum(case when l.entry = 'payment' then l.amount else 0 end) as cash_collected,
        sum(case when l.entry = 'payment' and l.detail = 'patient' then l.amount else 0 end) as patient_payments,
        -- At the visit: as the source marks it; unmarked, paid on the day of service.
        sum(
            case
                when
                    l.entry = 'payment'
                    and l.detail = 'patient'
                    and coalesce(l.at_point_of_service, l.entry_date = v.service_date, false)
                    then l.amount
                else 0
            end
        ) as patient_payments_at_visit,
        sum(case when l.entry = 'adjustment' and l.detail = 'contractual' then l.amount else 0 end)
            as contractual_adjustments_posted,
        sum(case when l.entry = 'adjustment' and l.detail = 'denial' then l.amount else 0 end)
            as denial_adjustments_posted
    from curated.stg_billing_ledger as l
    left join curated.stg_billing_visit as v
        on v.practice_id = l.practice_id and v.encounter_id = l.encounter_id
    where l.entry in ('payment', 'adjustment')
    group by l.practice_id, l.entry_date, v.payer_id, v.provider_id
),

submitted as (
    select
        practice_id,
        submitted_on as day,
        payer_id,
        provider_id,
        count(*) as claims_submitted,
        sum(case when first_pass_outcome is not null then 1 else 0 end) as claims_decided,
        -- Clean: paid (in full or in part) on the first submission, never corrected or resent.
        sum(case when first_pass_outcome in ('paid', 'partially_paid') and resubmissions = 0 then 1 else 0 end)
            as clean_claims
    from curated.stg_billing_claim
    group by practice_id, submitted_on, payer_id, provider_id
),

adjudicated as (
    select
        practice_id,
        coalesce(first_adjudicated_on, submitted_on) as day,
        payer_id,
        provider_id,
        count(*) as claims_adjudicated,
        sum(case when first_pass_outcome = 'denied' then 1 else 0 end) as claims_initially_denied,
        sum(billed_amount) as billed_adjudicated,
        sum(case when first_pass_outcome = 'denied' then billed_amount else 0 end) as billed_initially_denied
    from curated.stg_billing_claim
    -- A rejection is returned before adjudication (a front-end edit), so it is not a denial.
    where first_pass_outcome in ('paid', 'partially_paid', 'denied')
    group by practice_id, coalesce(first_adjudicated_on, submitted_on), payer_id, provider_id
),

first_paid as (
    select
        practice_id,
        first_paid_on as day,
        payer_id,
        provider_id,
        count(*) as claims_first_paid,
        sum(date_diff('day', submitted_on, first_paid_on)) as days_to_payment_total
    from curated.stg_billing_claim
    where first_paid_on is not null
    group by practice_id, first_paid_on, payer_id, provider_id
),

events as (
    select
        practice_id, day, payer_id, provider_id,
        charge_lines_posted, charges_posted, charge_lag_days_total,
        0 as cash_collected, 0 as patient_payments, 0 as patient_payments_at_visit,
        0 as contractual_adjustments_posted, 0 as denial_adjustments_posted,
        0 as claims_submitted, 0 as claims_decided, 0 as clean_claims,
        0 as claims_adjudicated, 0 as claims_initially_denied, 0 as billed_adjudicated, 0 as billed_initially_denied,
        0 as claims_first_paid, 0 as days_to_payment_total
    from posted_lines
    union all
    select
        practice_id, day, payer_id, provider_id,
        0, 0, 0,
        cash_collected, patient_payments, patient_payments_at_visit,
        contractual_adjustments_posted, denial_adjustments_posted,
        0, 0, 0,
        0, 0, 0, 0,
        0, 0
    from cash
    union all
    select
        practice_id, day, payer_id, provider_id,
        0, 0, 0,
        0, 0, 0,
        0, 0,
        claims_submitted, claims_decided, clean_claims,
        0, 0, 0, 0,
        0, 0
    from submitted
    union all
    select
        practice_id, day, payer_id, provider_id,
        0, 0, 0,
        0, 0, 0,
        0, 0,
        0, 0, 0,
        claims_adjudicated, claims_initially_denied, billed_adjudicated, billed_initially_denied,
        0, 0
    from adjudicated
    union all
    select
        practice_id, day, payer_id, provider_id,
        0, 0, 0,
        0, 0, 0,
        0, 0,
        0, 0, 0,
        0, 0, 0, 0,
        claims_first_paid, days_to_payment_total
    from first_paid
)

select
    practice_id,
    day,
    payer_id,
    provider_id,
    sum(charge_lines_posted) as charge_lines_posted,
    sum(charges_posted) as charges_posted,
    sum(charge_lag_days_total) as charge_lag_days_total,
    sum(cash_collected) as cash_collected,
    sum(patient_payments) as patient_payments,
    sum(patient_payments_at_visit) as patient_payments_at_visit,
    sum(contractual_adjustments_posted) as contractual_adjustments_posted,
    sum(denial_adjustments_posted) as denial_adjustments_posted,
    sum(claims_submitted) as claims_submitted,
    sum(claims_decided) as claims_decided,
    sum(clean_claims) as clean_claims,
    sum(claims_adjudicated) as claims_adjudicated,
    sum(claims_initially_denied) as claims_initially_denied,
    sum(billed_adjudicated) as billed_adjudicated,
    sum(billed_initially_denied) as billed_initially_denied,
    sum(claims_first_paid) as claims_first_paid,
    sum(days_to_payment_total) as days_to_payment_total
from events
group by practice_id, day, payer_id, provider_id
