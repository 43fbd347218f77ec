-- Each visit's balance between one ledger date and the next: charges posted, less payments
-- received and adjustments posted on or before the day. Group PR moves the balance to the
-- patient and leaves it owed. A denial later reversed in full (same claim and CARC) is left
-- out on both dates: the claim stayed receivable while it was reworked. Zero balances are
-- left out.
with overturned_denials as (
    select practice_id, claim_id, carc_code
    from curated.stg_billing_ledger
    where entry = 'adjustment' and detail = 'denial' and claim_id is not null
    group by practice_id, claim_id, carc_code
    having sum(amount) = 0
),

changes as (
    select
        practice_id,
        encounter_id,
        entry_date,
        sum(balance_change) as balance_change
    from curated.stg_billing_ledger as l
    where
        encounter_id is not null
        and not exists (
            select 1
            from overturned_denials as o
            where
                o.practice_id = l.practice_id
                and o.claim_id = l.claim_id
                and o.carc_code = l.carc_code
                and l.entry = 'adjustment'
                and l.detail = 'denial'
        )
    group by practice_id, encounter_id, entry_date
),

running as (
    select
        practice_id,
        encounter_id,
        entry_date as valid_from,
        lead(entry_date) over (partition by practice_id, encounter_id order by entry_date) as valid_until,
        sum(balance_change) over (
            partition by practice_id, encounter_id
            order by entry_date
            rows between unbounded preceding and current row
        ) as balance,
        min(entry_date) over (partition by practice_id, encounter_id) as first_entry_date
    from changes
)

select
    r.practice_id,
    r.encounter_id,
    v.payer_id,
    v.provider_id,
    -- Age counts from the date of service (a visit known only from a payment: its first entry).
    coalesce(v.service_date, r.first_entry_date) as aged_from,
    r.valid_from,
    r.valid_until,
    r.balance
from running as r
left join curated.stg_billing_visit as v
    on v.practice_id = r.practice_id and v.encounter_id = r.encounter_id
where r.balance <> 0
