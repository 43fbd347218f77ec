-- Each visit's balance at each month end: charges posted, less payments received and
-- adjustments posted on or before that day. Group PR moves the balance to the patient and
-- leaves it owed. A denial later reversed in full (same claim and CARC) is left out on both
-- dates: the claim stayed receivable while it was reworked. Zero balances are left out.
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
        cast(date_trunc('month', entry_date) + interval '1 month' - interval '1 day' as date) as as_of_date,
        sum(balance_change) as balance_change,
        min(entry_date) as first_entry_date
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
    group by
        practice_id,
        encounter_id,
        cast(date_trunc('month', entry_date) + interval '1 month' - interval '1 day' as date)
),

first_change as (
    select
        practice_id,
        encounter_id,
        min(as_of_date) as as_of_date,
        max(as_of_date) as last_as_of_date,
        sum(balance_change) as final_balance,
        min(first_entry_date) as entry_date
    from changes
    group by practice_id, encounter_id
),

-- After its last entry a visit's balance stays as it is: a settled visit needs no more
-- month ends.
visit_month_ends as (
    select f.practice_id, f.encounter_id, m.as_of_date
    from first_change as f
    inner join curated.ar_month_end as m
        on m.practice_id = f.practice_id
        and m.as_of_date >= f.as_of_date
        and (m.as_of_date <= f.last_as_of_date or f.final_balance <> 0)
),

balances as (
    select
        g.practice_id,
        g.encounter_id,
        g.as_of_date,
        sum(coalesce(c.balance_change, 0)) over (
            partition by g.practice_id, g.encounter_id
            order by g.as_of_date
            rows between unbounded preceding and current row
        ) as balance
    from visit_month_ends as g
    left join changes as c
        on c.practice_id = g.practice_id and c.encounter_id = g.encounter_id and c.as_of_date = g.as_of_date
)

select
    b.practice_id,
    b.encounter_id,
    b.as_of_date,
    v.payer_id,
    v.provider_id,
    -- Age counts from the date of service (a visit known only from a payment: its first entry).
    date_diff('day', coalesce(v.service_date, f.entry_date), b.as_of_date) as age_days,
    b.balance
from balances as b
inner join first_change as f
    on f.practice_id = b.practice_id and f.encounter_id = b.encounter_id
left join curated.stg_billing_visit as v
    on v.practice_id = b.practice_id and v.encounter_id = b.encounter_id
where b.balance <> 0
