-- One row per visit that money is tied to: an encounter, or the encounter that charges,
-- claims or payments name. Every revenue, A/R and productivity figure is attributed through
-- it, so a visit's charges, payments and adjustments always land on the same payer,
-- provider and service month.
with visit_ids as (
    select practice_id, encounter_id from cleaned.encounter
    union
    select practice_id, encounter_id from cleaned.charge
    union
    select practice_id, encounter_id from cleaned.claim
    union
    select practice_id, encounter_id from cleaned.payment where encounter_id is not null
),

lines as (
    select
        practice_id,
        encounter_id,
        min(service_date) as service_date,
        min(provider_id) as provider_id,
        min(patient_key) as patient_key,
        sum(amount) as charges,
        count(*) as charge_lines
    from cleaned.charge
    group by practice_id, encounter_id
),

ranked_claims as (
    select
        practice_id,
        encounter_id,
        payer_id,
        provider_id,
        patient_key,
        row_number() over (partition by practice_id, encounter_id order by submitted_at, claim_id) as claim_order
    from cleaned.claim
    where claim_status <> 'void'
),

-- The payer billed first is the visit's payer (its financial class).
primary_claim as (
    select practice_id, encounter_id, payer_id, provider_id, patient_key
    from ranked_claims
    where claim_order = 1
)

select
    v.practice_id,
    v.encounter_id,
    coalesce(l.service_date, e.encounter_date) as service_date,
    cast(date_trunc('month', coalesce(l.service_date, e.encounter_date)) as date) as service_month,
    -- The encounter names the rendering provider; a visit with no encounter row takes the
    -- provider of its charge lines, then of its claim.
    coalesce(e.provider_id, l.provider_id, c.provider_id) as provider_id,
    -- A visit with no claim (self-pay, or not billed yet) falls to the patient's primary payer.
    coalesce(c.payer_id, pt.primary_payer_id) as payer_id,
    coalesce(l.charges, 0) as charges,
    coalesce(l.charge_lines, 0) as charge_lines
from visit_ids as v
left join cleaned.encounter as e
    on e.practice_id = v.practice_id and e.encounter_id = v.encounter_id
left join lines as l
    on l.practice_id = v.practice_id and l.encounter_id = v.encounter_id
left join primary_claim as c
    on c.practice_id = v.practice_id and c.encounter_id = v.encounter_id
left join cleaned.patient as pt
    on pt.practice_id = v.practice_id
    and pt.patient_key = coalesce(e.patient_key, l.patient_key, c.patient_key)
