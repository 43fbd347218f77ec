-- Claims with their practice-local dates and the first payer payment on each.
with first_payment as (
    select practice_id, claim_id, min(entry_date) as first_paid_on
    from curated.stg_billing_ledger
    where entry = 'payment' and detail = 'payer' and claim_id is not null and amount > 0
    group by practice_id, claim_id
)

select
    c.practice_id,
    c.claim_id,
    c.encounter_id,
    c.payer_id,
    coalesce(v.provider_id, c.provider_id) as provider_id,
    c.billed_amount,
    c.claim_status,
    c.first_pass_outcome,
    coalesce(c.resubmissions, 0) as resubmissions,
    cast(c.submitted_at at time zone 'UTC' at time zone pr.time_zone as date) as submitted_on,
    cast(c.first_adjudicated_at at time zone 'UTC' at time zone pr.time_zone as date) as first_adjudicated_on,
    f.first_paid_on
from cleaned.claim as c
inner join reference.practice_settings as pr
    on pr.practice_id = c.practice_id
left join curated.stg_billing_visit as v
    on v.practice_id = c.practice_id and v.encounter_id = c.encounter_id
left join first_payment as f
    on f.practice_id = c.practice_id and f.claim_id = c.claim_id
-- A void claim was never a bill.
where c.claim_status <> 'void'
