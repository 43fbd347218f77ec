-- The month ends A/R is measured at: every month from the practice's first ledger entry to
-- its last, including months without entries.
with recursive span as (
    select
        practice_id,
        cast(date_trunc('month', min(entry_date)) as date) as first_month,
        cast(date_trunc('month', max(entry_date)) as date) as last_month
    from curated.stg_billing_ledger
    group by practice_id
),

months as (
    select practice_id, first_month as month, last_month
    from span
    union all
    select practice_id, cast(month + interval '1 month' as date) as month, last_month
    from months
    where month < last_month
)

select
    practice_id,
    cast(month + interval '1 month' - interval '1 day' as date) as as_of_date
from months
