-- A/R ageing by payer at each month end: the month-end rows of ar_daily where the payer has
-- a visit with a balance.
select
    practice_id,
    as_of_date,
    payer_id,
    payer_type,
    visits_with_balance,
    ar_0_30,
    ar_31_60,
    ar_61_90,
    ar_91_120,
    ar_over_120,
    total_ar,
    credit_balances
from curated.ar_daily
where
    as_of_date = cast(date_trunc('month', as_of_date) + interval '1 month' - interval '1 day' as date)
    and (visits_with_balance > 0 or visits_with_credit > 0)
