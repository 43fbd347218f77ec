-- Revenue by service period: each charge, payment and adjustment counts in the month its
-- visit was served, whenever it was posted or received, so a payment received in April
-- for a March visit raises March's collection rate (MGMA: "for the same service period").
with money as (
    select
        v.practice_id,
        v.service_month,
        v.payer_id,
        v.provider_id,
        count(distinct case when l.entry = 'charge' then v.encounter_id end) as billed_visits,
        sum(case when l.entry = 'charge' then l.amount else 0 end) as gross_charges,
        sum(case when l.entry = 'adjustment' and l.detail = 'contractual' then l.amount else 0 end)
            as contractual_adjustments,
        sum(case when l.entry = 'payment' and l.detail = 'payer' then l.amount else 0 end) as payer_payments,
        sum(case when l.entry = 'payment' and l.detail = 'patient' then l.amount else 0 end) as patient_payments,
        -- Net of reversals: a denial overturned on resubmission writes nothing off.
        sum(case when l.entry = 'adjustment' and l.detail = 'denial' then l.amount else 0 end) as denial_write_offs
    from curated.stg_billing_ledger as l
    inner join curated.stg_billing_visit as v
        on v.practice_id = l.practice_id and v.encounter_id = l.encounter_id
    where v.service_month is not null
    group by v.practice_id, v.service_month, v.payer_id, v.provider_id
),

totals as (
    select
        practice_id,
        service_month,
        payer_id,
        provider_id,
        billed_visits,
        gross_charges,
        contractual_adjustments,
        gross_charges - contractual_adjustments as adjusted_charges,
        payer_payments,
        patient_payments,
        payer_payments + patient_payments as payments,
        denial_write_offs
    from money
)

select
    practice_id,
    service_month,
    payer_id,
    provider_id,
    billed_visits,
    gross_charges,
    contractual_adjustments,
    adjusted_charges,
    payer_payments,
    patient_payments,
    payments,
    denial_write_offs,
    cast(payments as double) / nullif(cast(adjusted_charges as double), 0) as net_collection_rate,
    cast(payments as double) / nullif(cast(gross_charges as double), 0) as gross_collection_rate,
    cast(denial_write_offs as double) / nullif(cast(adjusted_charges as double), 0) as denial_write_off_rate
from totals
