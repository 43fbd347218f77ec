-- Days in A/R and the share of A/R over 90 days, at each month end, from ar_daily's payers
-- together.
with month_end as (
    select
        practice_id,
        as_of_date,
        sum(total_ar) as total_ar,
        sum(ar_over_90) as ar_over_90,
        sum(credit_balances) as credit_balances,
        sum(trailing_charges) as trailing_charges,
        max(window_days) as window_days
    from curated.ar_daily
    where as_of_date = cast(date_trunc('month', as_of_date) + interval '1 month' - interval '1 day' as date)
    group by practice_id, as_of_date
)

select
    practice_id,
    as_of_date,
    total_ar,
    ar_over_90,
    cast(ar_over_90 as double) / nullif(cast(total_ar as double), 0) as ar_over_90_share,
    credit_balances,
    trailing_charges,
    window_days,
    cast(total_ar as double) / nullif(cast(trailing_charges as double) / window_days, 0) as days_in_ar
from month_end
