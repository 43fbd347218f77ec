-- Revenue by service date: each charge, payment and adjustment counts on the day its visit
-- was served, whenever it was posted or received, so a payment received in April for a March
-- visit raises March's collection rate (MGMA: "for the same service period"). Every column is
-- a sum, so any run of days adds up to that run's exact figures.
with visit_money as (
    select
        practice_id,
        encounter_id,
        max(case when entry = 'charge' then 1 else 0 end) as billed,
        sum(case when entry = 'charge' then amount else 0 end) as gross_charges,
        sum(case when entry = 'adjustment' and detail = 'contractual' then amount else 0 end)
            as contractual_adjustments,
        sum(case when entry = 'payment' and detail = 'payer' then amount else 0 end) as payer_payments,
        sum(case when entry = 'payment' and detail = 'patient' then amount else 0 end) as patient_payments,
        -- Net of reversals: a denial overturned on resubmission writes nothing off.
        sum(case when entry = 'adjustment' and detail = 'denial' then amount else 0 end) as denial_write_offs
    from curated.stg_billing_ledger
    where encounter_id is not null
    group by practice_id, encounter_id
)

select
    v.practice_id,
    v.service_date,
    v.payer_id,
    p.payer_type,
    v.provider_id,
    count(*) as visits,
    -- An encounter with no charge line: the one kind of visit whose service date is its
    -- encounter date (stg_billing_visit).
    sum(case when v.charge_lines = 0 then 1 else 0 end) as encounters_without_charges,
    sum(coalesce(m.billed, 0)) as billed_visits,
    coalesce(sum(m.gross_charges), 0) as gross_charges,
    coalesce(sum(m.contractual_adjustments), 0) as contractual_adjustments,
    coalesce(sum(m.gross_charges), 0) - coalesce(sum(m.contractual_adjustments), 0) as adjusted_charges,
    coalesce(sum(m.payer_payments), 0) as payer_payments,
    coalesce(sum(m.patient_payments), 0) as patient_payments,
    coalesce(sum(m.payer_payments), 0) + coalesce(sum(m.patient_payments), 0) as payments,
    coalesce(sum(m.denial_write_offs), 0) as denial_write_offs
from curated.stg_billing_visit as v
left join visit_money as m
    on m.practice_id = v.practice_id and m.encounter_id = v.encounter_id
left join cleaned.payer as p
    on p.practice_id = v.practice_id and p.payer_id = v.payer_id
where v.service_date is not null
group by v.practice_id, v.service_date, v.payer_id, p.payer_type, v.provider_id
