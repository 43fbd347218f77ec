-- Every money entry of the revenue cycle on one ledger: charge lines, payments and
-- adjustments, each with the visit it belongs to, its practice-local date and its effect
-- on the amount owed to the practice.
with local_payment as (
    select
        p.practice_id,
        coalesce(p.encounter_id, c.encounter_id) as encounter_id,
        p.claim_id,
        p.payer_id,
        p.payment_source,
        p.amount,
        p.at_point_of_service,
        cast(p.paid_at at time zone 'UTC' at time zone pr.time_zone as date) as entry_date
    from cleaned.payment as p
    inner join reference.practice_settings as pr
        on pr.practice_id = p.practice_id
    left join cleaned.claim as c
        on c.practice_id = p.practice_id and c.claim_id = p.claim_id
),

classified_adjustment as (
    select
        a.practice_id,
        coalesce(c.encounter_id, ch.encounter_id) as encounter_id,
        a.claim_id,
        coalesce(a.payer_id, c.payer_id) as payer_id,
        a.group_code,
        a.carc_code,
        a.amount,
        a.adjusted_on as entry_date,
        case
            -- X12 group PR moves what is owed from the payer to the patient: still owed.
            when a.group_code = 'PR' then 'patient_responsibility'
            -- CARCs of category "contractual" in contracts/reference/carc.csv.
            when a.carc_code in ('23', '42', '45', '253', 'A2', 'A7') then 'contractual'
            -- Patient-responsibility CARCs under another group: a write-off, not a denial.
            when a.carc_code in ('1', '2', '3', '142') then 'other'
            else 'denial'
        end as category
    from cleaned.adjustment as a
    left join cleaned.claim as c
        on c.practice_id = a.practice_id and c.claim_id = a.claim_id
    left join cleaned.charge as ch
        on ch.practice_id = a.practice_id and ch.charge_id = a.charge_id
)

select
    practice_id,
    encounter_id,
    cast(null as varchar) as claim_id,
    cast(null as varchar) as payer_id,
    'charge' as entry,
    cast(null as varchar) as detail,
    cast(null as varchar) as group_code,
    cast(null as varchar) as carc_code,
    cast(null as boolean) as at_point_of_service,
    posted_date as entry_date,
    amount,
    amount as balance_change
from cleaned.charge

union all

select
    practice_id,
    encounter_id,
    claim_id,
    payer_id,
    'payment' as entry,
    payment_source as detail,
    cast(null as varchar) as group_code,
    cast(null as varchar) as carc_code,
    at_point_of_service,
    entry_date,
    amount,
    -amount as balance_change
from local_payment

union all

select
    practice_id,
    encounter_id,
    claim_id,
    payer_id,
    'adjustment' as entry,
    category as detail,
    group_code,
    carc_code,
    cast(null as boolean) as at_point_of_service,
    entry_date,
    amount,
    case when category = 'patient_responsibility' then 0 else -amount end as balance_change
from classified_adjustment
