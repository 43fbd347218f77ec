-- The days A/R is measured at: every day of every month from the practice's first ledger
-- entry or service date to its last ledger entry, days without entries included.
with recursive span as (
    select
        practice_id,
        cast(date_trunc('month', min(first_day)) as date) as first_day,
        cast(date_trunc('month', max(last_day)) + interval '1 month' - interval '1 day' as date) as last_day
    from (
        select practice_id, min(entry_date) as first_day, max(entry_date) as last_day
        from curated.stg_billing_ledger
        group by practice_id
        union all
        -- A charge served before anything was posted still counts in the days in A/R window.
        select practice_id, min(service_date) as first_day, max(cast(null as date)) as last_day
        from cleaned.charge
        group by practice_id
    ) as bounds
    group by practice_id
    having max(last_day) is not null
),

days as (
    select practice_id, first_day as as_of_date, last_day
    from span
    union all
    select practice_id, cast(as_of_date + interval '1 day' as date) as as_of_date, last_day
    from days
    where as_of_date < last_day
)

select
    practice_id,
    as_of_date,
    -- Days since 1970-01-01: the ageing arithmetic is done on these whole numbers.
    date_diff('day', date '1970-01-01', as_of_date) as day_number,
    cast(date_trunc('month', as_of_date) + interval '1 month' - interval '1 day' as date) = as_of_date as month_end
from days
